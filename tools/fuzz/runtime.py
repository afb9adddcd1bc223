"""Executes one fuzz program inside the interpreter under test and prints its trace.

Run as a script (``python runtime.py [--flags] PROGRAM``) by the runner, one fresh
process per program and interpreter, so that a crash ends only that run and
nothing leaks from one program into the next.  Stdlib only (plus
``bufferflags`` in ``--flags`` mode): it must import on baseline, patched and
the shim's stock venvs alike.

The trace is JSON lines on stdout, written as they happen so that a crash
still shows the statement that was running:

* ``{"start": i}`` before statement ``i``;
* ``{"i": i, "ok": canon}`` or ``{"i": i, "exc": type, "msg": msg}`` after it,
  with ``"cb"``: the hostile callbacks that ran inside it and what their
  actions did, and in ``--flags`` mode ``"viol"``: §3 invariants broken;
* ``{"final": {name: canon}, "resizable": {...}, "viol": [...]}`` at the end.

The names a program uses (``Idx``, ``Buf``, ``It``, ``Eq``, ``Sep``, ``Raw``,
``codec``, ``audit``, ``deep``, ``gen_raise``, ``walk``, ``V``, ``rel``,
``hw``, ``probe``) are defined here; an *action* is a tuple such as
``('clear', 'o1')`` that a hostile object runs on the program's objects.
"""
from __future__ import annotations

import array
import codecs
import gc
import io
import json
import os
import pickle
import re
import sys
import zlib
from typing import Any, Callable

__all__ = ["main", "canon", "run_action"]

FLAGS = False          # --flags: views with the new flags, §3 invariants checked
G: dict[str, Any] = {}  # the program's namespace
K: list[Any] = []       # views kept by hostile objects ('keep' actions, codecs, raw streams)
LOG: list[list[Any]] = []   # callback events of the running statement
VIEWS: list[dict[str, Any]] = []  # flags mode: held views and their snapshots
VIOL: list[str] = []    # flags mode: broken invariants of the running statement
MAX_LOG = 200
_ADDR = re.compile(r"0x[0-9a-fA-F]+")


def _log(*event: Any) -> None:
    if len(LOG) < MAX_LOG:
        LOG.append(list(event))


def canon(x: Any, depth: int = 0) -> Any:
    """A JSON value that is equal on two interpreters exactly when x is."""
    if depth > 8:
        return "..."
    if x is None or isinstance(x, (bool, float)):
        return repr(x)
    if isinstance(x, int):
        return repr(int(x)) if abs(x) < 10**40 else "int~%d" % x.bit_length()
    if isinstance(x, (bytes, bytearray)):
        data = bytes(x)
        body = repr(data) if len(data) <= 64 else "%d:%s..%s:%d" % (
            len(data), data[:16].hex(), data[-16:].hex(), zlib.crc32(data))
        return "%s(%s)" % (type(x).__name__, body)
    if isinstance(x, str):
        return repr(x) if len(x) <= 64 else "str:%d:%r" % (len(x), x[:32])
    if isinstance(x, array.array):
        return "array(%s,%s)" % (x.typecode, canon(x.tobytes()))
    if isinstance(x, memoryview):
        try:
            return "mv(ro=%s,%s)" % (x.readonly, canon(x.tobytes()))
        except ValueError:
            return "mv(released)"
    if isinstance(x, io.BytesIO):
        try:
            return "BytesIO(%s@%d)" % (canon(x.getvalue()), x.tell())
        except (ValueError, BufferError) as e:
            return "BytesIO(%s)" % type(e).__name__
    if isinstance(x, (list, tuple)):
        items = [canon(i, depth + 1) for i in x[:32]]
        if len(x) > 32:
            items.append("+%d" % (len(x) - 32))
        return [type(x).__name__] + items
    if isinstance(x, dict):
        return ["dict"] + sorted("%s=%s" % (k, canon(v, depth + 1)) for k, v in list(x.items())[:32] if k != "__builtins__")
    return "<%s>" % type(x).__name__


def _exc(e: BaseException) -> dict[str, str]:
    return {"exc": type(e).__name__, "msg": _ADDR.sub("0x?", str(e))[:200]}


# -- actions ------------------------------------------------------------------

def _resize(o: Any, n: int) -> None:
    if isinstance(o, io.BytesIO):
        o.seek(0)
        o.truncate(n)
        o.write(bytes(min(n, 1 << 22)))
        return
    if len(o) > n:
        del o[n:]
    else:
        o.extend(bytes(n - len(o)))


def run_action(act: tuple[Any, ...] | None) -> None:
    """Run one hostile action, logging its outcome; only 'raise' propagates."""
    if not act:
        return
    name, *args = act
    if name == "raise":
        _log("act", "raise")
        raise ValueError("hostile")
    try:
        out: Any = "ok"
        o = G.get(args[0]) if args and isinstance(args[0], str) else None
        if name == "nop":
            return
        if name == "clear":
            if isinstance(o, io.BytesIO):
                o.seek(0)
                o.truncate(0)
            elif isinstance(o, (bytearray, array.array)):
                del o[:]
            else:
                out = "n/a"
        elif name == "resize":
            if isinstance(o, (bytearray, array.array, io.BytesIO)):
                _resize(o, args[1])
            else:
                out = "n/a"
        elif name == "write":
            if isinstance(o, io.BytesIO):
                o.seek(0)
                o.write(b"#")
            elif isinstance(o, array.array) and len(o):
                o[0] = 35 if o.typecode not in "fd" else 35.0
            elif isinstance(o, (bytearray, memoryview)) and len(o):
                o[0:1] = b"#"
            else:
                out = "n/a"
        elif name == "keep":
            m = memoryview(o)
            K.append(m)
        elif name == "release":
            if K:
                K.pop().release()
            else:
                out = "n/a"
        elif name == "readkept":
            out = canon(K[-1].tobytes()[:16]) if K else "n/a"
        elif name == "view_i":
            _take_view(args[0], "i", keep_in_K=True)
        elif name == "view_x":
            _take_view(args[0], "x", keep_in_K=True)
        elif name == "probe":
            out = probe(o)
        else:
            out = "unknown"
        _log("act", name, *args[:1], out)
    except Exception as e:  # noqa: BLE001 - the outcome is the datum
        _log("act", name, *args[:1], type(e).__name__)
    if FLAGS:
        check_views("inside " + name)


class _Hostile:
    """Runs its action on the calls numbered `when` (-1: every call, at most 8)."""

    tag = "h"

    def __init__(self, act: tuple[Any, ...] | None = None, when: int = 0) -> None:
        self._act, self._when, self._n = act, when, 0

    def _fire(self, what: str) -> None:
        n = self._n
        self._n += 1
        _log(self.tag, what, n)
        if self._when == n or (self._when == -1 and n < 8):
            run_action(self._act)


class Idx(_Hostile):
    """An integer argument whose __index__ runs the action first."""
    tag = "idx"

    def __init__(self, v: int, act: tuple[Any, ...] | None = None, when: int = 0) -> None:
        super().__init__(act, when)
        self.v = v

    def __index__(self) -> int:
        self._fire("index")
        return self.v

    __int__ = __index__

    def __float__(self) -> float:
        self._fire("float")
        return float(self.v)


class Buf(_Hostile):
    """A bytes-like argument: __buffer__ and __release_buffer__ run the action."""
    tag = "buf"

    def __init__(self, data: Any, act: tuple[Any, ...] | None = None, when: int = 0,
                 on_release: bool = False) -> None:
        super().__init__(act, when)
        self.data, self.on_release = data, on_release

    def __buffer__(self, flags: int) -> memoryview:
        if not self.on_release:
            self._fire("buffer")
        else:
            _log(self.tag, "buffer")
        data = G[self.data] if isinstance(self.data, str) else self.data
        return memoryview(data)

    def __release_buffer__(self, view: memoryview) -> None:
        if self.on_release:
            self._fire("release")
        else:
            _log(self.tag, "release")


class Sep(str):
    """A str separator (hex, join) whose __len__ runs the action."""

    def __new__(cls, s: str, act: tuple[Any, ...] | None = None) -> "Sep":
        self = super().__new__(cls, s)
        self._act = act
        return self

    def __len__(self) -> int:
        _log("sep", "len")
        run_action(self._act)
        return str.__len__(self)


class It(_Hostile):
    """An iterable: __len__/__length_hint__ and __next__ run the action."""
    tag = "it"

    def __init__(self, items: Any, act: tuple[Any, ...] | None = None, when: int = 0) -> None:
        super().__init__(act, when)
        self.items = list(G[items]) if isinstance(items, str) else list(items)
        self.i = 0

    def __iter__(self) -> "It":
        return self

    def __len__(self) -> int:
        self._fire("len")
        return len(self.items)

    def __length_hint__(self) -> int:
        return len(self.items)

    def __next__(self) -> Any:
        self._fire("next")
        if self.i >= len(self.items):
            raise StopIteration
        self.i += 1
        return self.items[self.i - 1]


class Eq(_Hostile):
    """An operand whose __eq__ (array.count/index/remove, `in`) runs the action."""
    tag = "eq"

    def __init__(self, v: Any, act: tuple[Any, ...] | None = None, when: int = 0) -> None:
        super().__init__(act, when)
        self.v = v

    def __eq__(self, other: object) -> bool:
        self._fire("eq")
        return bool(other == self.v)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __index__(self) -> int:
        self._fire("index")
        return int(self.v)


def gen_raise(items: list[Any], after: int) -> Any:
    """A generator that yields `after` items and then raises ValueError."""
    for n, x in enumerate(items):
        if n == after:
            raise ValueError("gen")
        yield x
    raise ValueError("gen")


def deep(n: int, leaf: Any) -> Any:
    """A tuple nested n deep around leaf: ((((leaf,),),),)."""
    t = (leaf,)
    for _ in range(n - 1):
        t = (t,)
    return t


def walk(obj: Any, act: tuple[Any, ...] | None, at: int) -> list[Any]:
    """Iterate obj, running the action before step `at`; the items seen."""
    out = []
    for n, x in enumerate(obj):
        if n == at:
            run_action(act)
        out.append(x)
        if n > 4096:
            break
    return out


class Raw(io.RawIOBase):
    """A Python raw stream: readinto/write run the action and may keep the view."""

    def __init__(self, data: bytes = b"", act: tuple[Any, ...] | None = None,
                 keep: bool = False, when: int = 0) -> None:
        super().__init__()
        self.data, self.act, self.keep, self.when, self.n = bytes(data), act, keep, when, 0
        self.pos = 0
        self.sink = bytearray()

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def _fire(self, what: str, b: memoryview) -> None:
        _log("raw", what, self.n, len(b))
        if self.n == self.when:
            run_action(self.act)
        self.n += 1
        if self.keep:
            K.append(b)

    def readinto(self, b: Any) -> int:
        self._fire("readinto", b)
        chunk = self.data[self.pos:self.pos + len(b)]
        b[:len(chunk)] = chunk
        self.pos += len(chunk)
        return len(chunk)

    def write(self, b: Any) -> int:
        self._fire("write", b)
        self.sink += bytes(b)
        return len(b)


_CODECS = [0]


def codec(act: tuple[Any, ...] | None = None, keep: bool = False,
          encode_to: str | None = None) -> str:
    """Register a Python codec whose decoder runs the action (and may keep its
    input); its encoder returns the program object `encode_to` if given."""
    _CODECS[0] += 1
    name = "fz%d" % _CODECS[0]

    def decode(inp: Any, errors: str = "strict") -> tuple[str, int]:
        _log("codec", "decode", len(inp))
        run_action(act)
        if keep:
            K.append(inp)
        data = bytes(inp)
        return data.decode("latin-1"), len(data)

    def encode(s: str, errors: str = "strict") -> tuple[Any, int]:
        _log("codec", "encode")
        run_action(act)
        if encode_to is not None:
            return G[encode_to], len(s)
        return s.encode("latin-1"), len(s)

    info = codecs.CodecInfo(encode, decode, name=name)
    codecs.register(lambda n: info if n == name else None)
    return name


_AUDIT: dict[str, Any] = {"on": False, "cb": None}


def _audit_hook(event: str, args: tuple[Any, ...]) -> None:
    cb = _AUDIT["cb"]
    if cb is None or not _AUDIT["on"] or event != cb[0]:
        return
    if event == "exec" and args and args[0] is _AUDIT.get("own"):
        return                      # the runtime running the statement itself
    _AUDIT["on"] = False            # no recursion, and once per statement
    try:
        _log("audit", event)
        run_action(cb[1])
    finally:
        _AUDIT["on"] = True


def audit(event: str, act: tuple[Any, ...] | None) -> None:
    """Make the (only, process-wide) audit hook run `act` on `event`."""
    _AUDIT["cb"] = (event, act)


# -- flags mode ---------------------------------------------------------------

def _take_view(name: str, kind: str, keep_in_K: bool = False) -> memoryview:
    import bufferflags as bf
    o = G[name]
    if kind == "i":
        v = bf.view(o, immutable=True)
    else:
        v = bf.view(o, exclusive=True, writable=True)
    VIEWS.append({"v": v, "name": name, "kind": kind, "snap": v.tobytes()})
    if keep_in_K:
        K.append(v)
    return v


def V(name: str, kind: str) -> memoryview:
    """Flags mode: an IMMUTABLE ('i') or EXCLUSIVE writable ('x') view of G[name]."""
    return _take_view(name, kind)


def rel(v: Any) -> None:
    """Release a view (or anything with release())."""
    v.release()


def hw(v: memoryview, i: int, val: int) -> None:
    """The holder of an exclusive view writes through it (the snapshot follows)."""
    v[i] = val
    for rec in VIEWS:
        if rec["v"] is v:
            rec["snap"] = v.tobytes()


def _live(rec: dict[str, Any]) -> bool:
    try:
        rec["v"].nbytes
        return True
    except ValueError:
        return False


def check_views(where: str) -> None:
    """§3: bytes under an immutable or exclusive view changed only by its holder."""
    for rec in VIEWS:
        if not _live(rec):
            continue
        now = rec["v"].tobytes()
        if now != rec["snap"]:
            VIOL.append("%s: bytes of %s under a held %s view changed %s -> %s" % (
                where, rec["name"], "IMMUTABLE" if rec["kind"] == "i" else "EXCLUSIVE",
                canon(rec["snap"]), canon(now)))
            rec["snap"] = now


def _held(o: Any) -> set[str]:
    return {rec["kind"] for rec in VIEWS if _live(rec) and G.get(rec["name"]) is o}


# What others may try on a held object; the exception types §6/§7.6 allow.
_READS: list[tuple[str, Callable[[Any], Any], tuple[str, ...]]] = [
    ("bytes", lambda o: bytes(o), ()),
    ("memoryview", lambda o: memoryview(o).tobytes(), ()),
    ("index", lambda o: o[0], ("IndexError",)),
    ("slice", lambda o: o[0:2], ()),
    ("find", lambda o: o.find(b"a") if not isinstance(o, array.array) else o.count(1), ()),
    # same length: an unequal length may answer without reading
    ("eq", lambda o: o == (bytes(len(o)) if not isinstance(o, array.array)
                           else array.array(o.typecode, bytes(len(o) * o.itemsize))), ()),
    ("iter", lambda o: list(iter(o)), ()),
    ("concat", lambda o: b"" + o, ("TypeError",)),
    ("join", lambda o: b"".join([o]), ("TypeError",)),
    ("hex", lambda o: o.hex() if hasattr(o, "hex") else o.tobytes(), ()),
    ("pickle", lambda o: pickle.dumps(o, 2), ()),
    ("str-codec", lambda o: str(o, "latin-1"), ("TypeError",)),
    ("bytesio", lambda o: io.BytesIO(o).getvalue(), ()),
]
_WRITES: list[tuple[str, Callable[[Any], Any], tuple[str, ...]]] = [
    ("setitem", lambda o: o.__setitem__(0, o[0]), ("IndexError",)),
    ("setslice", lambda o: o.__setitem__(slice(0, 0), o[0:0]), ()),
    ("append", lambda o: o.append(1), ()),
    ("clear", lambda o: o.__delitem__(slice(None)), ()),
    ("reverse", lambda o: o.reverse(), ()),
    ("readinto", lambda o: io.BytesIO(b"zz").readinto(o), ("TypeError",)),
]


def probe(o: Any) -> str:
    """Others read and write o (an object or its name): refused exactly
    where §3.2 refuses them."""
    if isinstance(o, str):
        o = G.get(o)
    held = _held(o)
    if not held or not isinstance(o, (bytearray, array.array)):
        return "free"
    if "x" in held:
        if not len(o):
            return "empty"     # issue 19 item 5: empty objects are reported apart
        cases = _READS + _WRITES
    else:
        cases = _WRITES
    for what, fn, also in cases:
        try:
            fn(o)
        except BufferError:
            continue
        except Exception as e:  # noqa: BLE001
            if type(e).__name__ in also:
                continue
            VIOL.append("probe %s under %s: %s %s" % (what, "".join(sorted(held)), type(e).__name__, e))
            continue
        VIOL.append("probe %s under %s: succeeded" % (what, "".join(sorted(held))))
    return "held:" + "".join(sorted(held))


# -- self-test injection -------------------------------------------------------

def _inject(what: str, line: str, rec: dict[str, Any]) -> None:
    """A planted difference for the fuzzer's self-test (--inject): every
    int result of a statement calling .find() is off by one ('find'); a
    statement calling .count() kills the process with SIGSEGV ('crash')."""
    if what == "find" and ".find(" in line and rec.get("ok", "x").lstrip("-").isdigit():
        rec["ok"] = str(int(rec["ok"]) + 1)
    elif what == "crash" and ".count(" in line:
        import signal
        os.kill(os.getpid(), signal.SIGSEGV)


# -- running ------------------------------------------------------------------

def _emit(rec: dict[str, Any]) -> None:
    os.write(1, (json.dumps(rec) + "\n").encode())


def _state() -> dict[str, Any]:
    """The contents of the program's objects o0, o1, ... after a statement."""
    out = {}
    for k in sorted(G):
        if k[:1] == "o" and k[1:].isdigit():
            try:
                out[k] = canon(G[k])
            except Exception as e:  # noqa: BLE001 - e.g. refused under EXCLUSIVE
                out[k] = "<%s>" % type(e).__name__
    out["#kept"] = len(K)
    return out


def _finish() -> dict[str, Any]:
    names = sorted(k for k in G if k[:1] in "orv" and k[1:].isdigit())
    final = {}
    for k in names:
        try:
            final[k] = canon(G[k])
        except Exception as e:  # noqa: BLE001
            final[k] = "<%s>" % type(e).__name__
    final["#kept"] = len(K)
    # Release everything the program holds, then every locked object must be
    # resizable again (and natively grant EXCLUSIVE): no leaked exports.
    for v in K + [rec["v"] for rec in VIEWS] + [G[k] for k in names]:
        if isinstance(v, memoryview):
            try:
                v.release()
            except (ValueError, BufferError):
                pass
    K.clear()
    VIEWS.clear()
    sys.last_exc = sys.last_value = sys.last_traceback = None  # type: ignore[attr-defined]
    gc.collect()
    resizable = {}
    for k in names:
        o = G[k]
        if isinstance(o, (bytearray, array.array)):
            try:
                del o[:]
                o.extend(o.__class__(b"xyz") if isinstance(o, bytearray) else array.array(o.typecode, [1, 2, 3]))
                if FLAGS:
                    import bufferflags as bf
                    if bf.supported_flags(o) & bf.EXCLUSIVE:
                        bf.view(o, exclusive=True, writable=True).release()
                resizable[k] = "ok"
            except Exception as e:  # noqa: BLE001
                resizable[k] = type(e).__name__
                if FLAGS:
                    VIOL.append("after releasing everything %s is not free: %s: %s" % (k, type(e).__name__, e))
    return {"final": final, "resizable": resizable}


def main(argv: list[str]) -> int:
    global FLAGS
    FLAGS = "--flags" in argv
    path = argv[-1]
    with open(path, encoding="utf-8") as f:
        lines = [ln.rstrip("\n") for ln in f if ln.strip() and not ln.startswith("#")]
    bufferflags = None
    if FLAGS:                   # differential programs never use it
        import bufferflags
    G.update({"__builtins__": __builtins__, "array": array, "io": io, "pickle": pickle, "sys": sys,
              "Idx": Idx, "Buf": Buf, "Sep": Sep, "It": It, "Eq": Eq, "Raw": Raw, "codec": codec,
              "audit": audit, "deep": deep, "gen_raise": gen_raise, "walk": walk, "V": V,
              "rel": rel, "hw": hw, "probe": probe, "bf": bufferflags})
    inject = argv[argv.index("--inject") + 1] if "--inject" in argv else None
    try:   # `ba * 2**31` or stock's a.extend(iter(a)) must be a MemoryError, not swap.
        import resource   # RLIMIT_DATA: RLIMIT_AS crashes free-threaded 3.13 (mimalloc's reservations)
        resource.setrlimit(resource.RLIMIT_DATA, (1 << 30, 1 << 30))
    except (ImportError, ValueError, OSError):
        pass
    sys.addaudithook(_audit_hook)
    sys.setrecursionlimit(10000)
    for i, line in enumerate(lines):
        try:
            code, is_expr = compile(line, "<fuzz:%d>" % i, "eval"), True
        except SyntaxError:
            code, is_expr = compile(line, "<fuzz:%d>" % i, "exec"), False
        _emit({"start": i})
        LOG.clear()
        VIOL.clear()
        _AUDIT["on"], _AUDIT["own"] = True, code
        try:
            r = eval(code, G)
            rec: dict[str, Any] = {"i": i, "ok": canon(r) if is_expr else "-"}
        except BaseException as e:  # noqa: BLE001
            rec = {"i": i, **_exc(e)}
            e = None  # type: ignore[assignment]
        finally:
            _AUDIT["on"] = False
        if inject:
            _inject(inject, line, rec)
        if FLAGS:
            check_views("after")
            rec["held"] = sum(_live(v) for v in VIEWS)
        rec["cb"] = list(LOG)
        rec["st"] = _state()
        if VIOL:
            rec["viol"] = list(VIOL)
        _emit(rec)
    LOG.clear()
    VIOL.clear()
    end = _finish()
    if VIOL:
        end["viol"] = list(VIOL)
    _emit(end)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
