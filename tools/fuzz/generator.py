"""Seeded random straight-line programs over the buffer-protocol types.

A program is a list of one-line Python statements (``Program.lines``) so it can
be printed, rerun on any interpreter with ``runtime.py`` and minimised line by
line.  The hostile helpers it names (``Idx``, ``Buf``, ``It``, ...) live in
``runtime.py``; an action such as ``('clear', 'o1')`` is what they do to the
program's objects when CPython calls them.  The same seed always gives the same
program, so a finding is reproducible from its seed alone.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["Program", "generate"]

DATA = [b"abc", b"", b"a,b,,c", b"  xy  ", b"%s-%d", b"x = 1\n", b"abcabcab", b"\x00\x01\x02\x03\x04\x05\x06\x07",
        b"q" * 300]
SOURCES = [b"x = 1\n", b"1 + 2", b"(lambda: 3)()", b"'\xc3\xa9'"]
HUGE = ["10**20", "-10**20", "9223372036854775807", "-9223372036854775808", "2**31", "-2**63 - 1", "2**64"]
DEPTHS = [2, 10, 1000, 100000, 300000]


@dataclass
class Program:
    """One generated program: its seed, mode and statement lines."""
    seed: int
    flags: bool
    lines: list[str] = field(default_factory=list)

    def source(self) -> str:
        return "\n".join(self.lines) + "\n"


def _lit(data: bytes) -> str:
    """A bytes literal, long runs of one byte written as a product."""
    if len(data) > 16 and len(set(data)) == 1:
        return "%r * %d" % (data[:1], len(data))
    return repr(data)


class _Gen:
    def __init__(self, seed: int, flags: bool, shim: bool) -> None:
        self.r = random.Random(seed)
        self.flags, self.shim = flags, shim
        self.objs: dict[str, str] = {}     # name -> kind
        self.n_r = 0
        self.n_v = 0
        self.codecs: list[str] = []
        self.view_tgts: list[str] = []     # flags mode: objects views were asked of
        self.live: dict[str, str] = {}     # flags mode: view name -> object, not yet released

    # -- leaves ---------------------------------------------------------
    def pick(self, kinds: tuple[str, ...] | None = None) -> str:
        names = [n for n, k in self.objs.items() if kinds is None or k in kinds]
        return self.r.choice(names) if names else "o0"

    def act(self, subject: str | None = None) -> str:
        r = self.r
        tgt = subject if subject and r.random() < 0.5 else self.pick()
        choices = [f"('clear', '{tgt}')", f"('resize', '{tgt}', {r.choice([0, 1, 5, 100, 1 << 16, 1 << 22])})",
                   f"('write', '{tgt}')", f"('keep', '{tgt}')", "('release',)", "('raise',)", "('readkept',)",
                   "('nop',)"]
        if self.flags:
            pool = list(self.live.values()) or self.view_tgts
            held = r.choice(pool) if pool and r.random() < 0.7 else tgt
            choices += [f"('view_i', '{tgt}')", f"('view_x', '{tgt}')", f"('probe', '{held}')"] * 2
        return r.choice(choices)

    def when(self) -> int:
        return self.r.choice([0, 0, 0, 1, 2, -1])

    def int_(self, small: tuple[int, int] = (-3, 10), subject: str | None = None) -> str:
        r = self.r
        x = r.random()
        if x < 0.55:
            return str(r.randint(*small))
        if x < 0.7:
            return r.choice(HUGE)
        if x < 0.78:
            return f"len({self.pick()})"
        return f"Idx({r.randint(*small)}, {self.act(subject)}, {self.when()})"

    def bytes_(self, subject: str | None = None) -> str:
        r = self.r
        x = r.random()
        if x < 0.35:
            return repr(r.choice([b"a", b"", b"ab", b"\x00", b"%s", b",", b"abc", b" "]))
        if x < 0.55:
            return subject if subject and r.random() < 0.5 else self.pick()
        if x < 0.65:
            return f"memoryview({self.pick()})"
        data = repr(r.choice([b"a", b"ab", b""])) if r.random() < 0.5 else repr(self.pick())
        return f"Buf({data}, {self.act(subject)}, {self.when()}, {r.random() < 0.4})"

    def sub(self, subject: str) -> str:
        r = self.r
        x = r.random()
        if x < 0.15:
            return str(r.choice([97, 0, 256, -1]))
        if x < 0.25:
            return f"Idx(97, {self.act(subject)}, {self.when()})"
        return self.bytes_(subject)

    def subt(self, subject: str) -> str:
        r = self.r
        x = r.random()
        if x < 0.2:
            return f"deep({r.choice(DEPTHS)}, {self.bytes_(subject)})"
        if x < 0.35:
            return "(%s, %s)" % (self.bytes_(subject), self.bytes_(subject))
        return self.bytes_(subject)

    def iterable(self, subject: str | None = None) -> str:
        r = self.r
        x = r.random()
        if x < 0.2:
            return repr([r.randint(0, 255) for _ in range(r.randint(0, 4))])
        if x < 0.45:
            items = repr([r.randint(0, 255) for _ in range(r.randint(0, 5))]) if r.random() < 0.7 else repr(self.pick())
            return f"It({items}, {self.act(subject)}, {self.when()})"
        if x < 0.6:
            # Not an array's own iterator: stock's a.extend(iter(a)) grows
            # until memory runs out (patched: doubles once; see the report).
            tgt = subject if subject and r.random() < 0.6 else self.pick()
            if self.objs.get(tgt) == "array":
                tgt = self.pick(("bytes", "bytearray", "bytesio", "mv"))
            return f"iter({tgt})"
        if x < 0.75:
            return f"gen_raise({[r.randint(0, 255) for _ in range(4)]!r}, {r.randint(0, 3)})"
        if x < 0.85:
            return f"range({self.int_((0, 5), subject)})"
        return self.bytes_(subject)

    def codec(self) -> str:
        return self.r.choice(self.codecs) if self.codecs else "'latin-1'"

    # -- statements -----------------------------------------------------
    def stmt(self) -> str:
        r = self.r
        s = self.pick()
        kind = self.objs[s]
        x = r.random()
        if self.flags and x < 0.35:
            return self.flag_stmt()
        if x < 0.3:
            return self.generic(s)
        if kind in ("bytes", "bytearray"):
            return self.bytes_stmt(s, kind)
        if kind == "array":
            return self.array_stmt(s)
        if kind == "bytesio":
            return self.bytesio_stmt(s)
        return self.mv_stmt(s)

    def flag_stmt(self) -> str:
        r = self.r
        views = [f"v{i}" for i in range(self.n_v)]
        x = r.random()
        if x < 0.4 or not views:
            name = f"v{self.n_v}"
            self.n_v += 1
            tgt = self.pick(("bytearray", "array")) if r.random() < 0.8 else self.pick()
            self.view_tgts.append(tgt)
            self.live[name] = tgt
            return f"{name} = V('{tgt}', {r.choice(['i', 'x', 'x'])!r})"
        v = r.choice(views)
        if x < 0.5:
            self.live.pop(v, None)
            return f"rel({v})"
        if x < 0.6:
            return f"hw({v}, {r.randint(-1, 2)}, {r.randint(0, 255)})"
        if x < 0.95:
            held = list(self.live.values()) or self.view_tgts
            tgt = r.choice(held) if held and r.random() < 0.9 else self.pick()
            return f"probe({tgt!r})"
        return f"{v}.tobytes()"

    def generic(self, s: str) -> str:
        r = self.r
        o = self.pick()
        c = r.choice([
            lambda: f"bytes({s})", lambda: f"bytearray({s})", lambda: f"array.array('B', {s})",
            lambda: f"list({s})", lambda: f"walk({s}, {self.act(s)}, {r.randint(0, 3)})",
            lambda: f"hash(bytes({s}))", lambda: f"int.from_bytes({s}, 'big')",
            lambda: f"pickle.dumps({s}, {r.randint(0, 5)})",
            lambda: f"pickle.loads(pickle.dumps({s}, {r.randint(0, 5)}))",
            lambda: f"{s} == {o}", lambda: f"{s} < {o}", lambda: f"{s} + {o}", lambda: f"{s} * {self.int_((0, 3), s)}",
            lambda: f"{s}[{self.int_(subject=s)}]", lambda: f"{s}[{self.int_(subject=s)}:{self.int_(subject=s)}]",
            lambda: f"{s}[{self.int_(subject=s)}:{self.int_(subject=s)}:{self.int_(subject=s)}]",
            lambda: f"r{self.new_r()} = memoryview({s})",
            lambda: f"io.BytesIO({s}).getvalue()",
            lambda: f"io.BytesIO(b'zzzz').readinto({s})",
            lambda: self.buffered(s),
            lambda: self.buffered(s),
            lambda: f"pickle.load(io.BufferedReader(Raw(pickle.dumps(bytearray(b'abcdefgh' * {r.choice([1, 100])}), {r.choice([2, 5])}), {self.act(s)}, {r.random() < 0.5}, {r.randint(0, 2)}), {r.choice([1, 8])}))",
            lambda: f"str({s}, {self.codec()})", lambda: f"'abc'.encode({self.codec()})",
            lambda: f"exec({s}, {{}})", lambda: f"compile({s}, 'f', 'exec')", lambda: f"eval({s}, {{}})",
        ])
        return c()

    def new_r(self) -> int:
        self.n_r += 1
        return self.n_r - 1

    def buffered(self, s: str) -> str:
        r = self.r
        raw = f"Raw({r.choice([b'', b'zz', b'w' * 64])!r}, {self.act(s)}, {r.random() < 0.5}, {r.randint(0, 2)})"
        size = r.choice([1, 8, 8192])
        if r.random() < 0.5:
            op = r.choice([f"readinto({s})", f"read({self.int_((-1, 80), s)})", f"read1({self.int_((-1, 80), s)})",
                           "readline()", "peek()"])
            return f"io.BufferedReader({raw}, {size}).{op}"
        op = r.choice([f"write({s})", f"write({self.bytes_(s)})"])
        if r.random() < 0.5:
            name = f"r{self.new_r()}"
            return f"{name} = io.BufferedWriter({raw}, {size}); {name}.{op}; {name}.flush()"
        return f"io.BufferedWriter({raw}, {size}).{op}"

    def bytes_stmt(self, s: str, kind: str) -> str:
        r = self.r
        b = lambda: self.bytes_(s)  # noqa: E731
        i = lambda: self.int_(subject=s)  # noqa: E731
        reads = [
            lambda: f"{s}.find({self.sub(s)})", lambda: f"{s}.find({self.sub(s)}, {i()}, {i()})",
            lambda: f"{s}.count({self.sub(s)})", lambda: f"{s}.index({self.sub(s)})",
            lambda: f"{s}.rfind({self.sub(s)})", lambda: f"{s}.startswith({self.subt(s)})",
            lambda: f"{s}.endswith({self.subt(s)}, {i()})", lambda: f"{self.subt(s)} in {s}",
            lambda: f"{s}.find({self.subt(s)})", lambda: f"{s}.count({self.subt(s)})",
            lambda: f"{s}.strip({b()})", lambda: f"{s}.lstrip({b()})", lambda: f"{s}.rstrip({b()})",
            lambda: f"{s}.split({b()})", lambda: f"{s}.split({b()}, {i()})", lambda: f"{s}.rsplit({b()})",
            lambda: f"{s}.join([{b()}, {b()}])", lambda: f"{s}.join(It([{b()}, {b()}], {self.act(s)}, {self.when()}))",
            lambda: f"{s}.replace({b()}, {b()})", lambda: f"{s}.replace({b()}, {b()}, {i()})",
            lambda: f"{s}.translate({r.choice(['None', 'bytes(range(256))', 'bytes(range(255, -1, -1))'])}, {b()})",
            lambda: f"{s}.translate({b()})",
            lambda: f"{s}.partition({b()})", lambda: f"{s}.rpartition({b()})",
            lambda: f"{s}.hex()", lambda: f"{s}.hex(Sep({r.choice([':', '-', ''])!r}, {self.act(s)}), {i()})",
            lambda: f"{s}.hex({b()})",
            lambda: f"{s} % ({b()}, {i()})", lambda: f"{s} % {b()}", lambda: f"{s} % (Idx(1, {self.act(s)}),)",
            lambda: f"{s}.decode({self.codec()})", lambda: f"{s}.center({i()}, {b()})",
            lambda: f"{s}.upper()", lambda: f"{s}.splitlines()", lambda: f"{s}.expandtabs({i()})",
            lambda: f"{s} == {b()}", lambda: f"{b()} == {s}", lambda: f"{s} >= {b()}",
            lambda: f"{s} + {b()}", lambda: f"{s} * {i()}",
        ]
        if kind == "bytes":
            return r.choice(reads)()
        writes = [
            lambda: f"{s}[{i()}] = {i()}", lambda: f"{s}[{i()}:{i()}] = {b()}",
            lambda: f"{s}[{i()}:{i()}:{i()}] = {b()}", lambda: f"{s}[{i()}:{i()}] = {self.iterable(s)}",
            lambda: f"del {s}[{i()}:{i()}]", lambda: f"del {s}[{i()}]",
            lambda: f"{s}.extend({self.iterable(s)})", lambda: f"{s}.append({i()})",
            lambda: f"{s}.insert({i()}, {i()})", lambda: f"{s}.pop()", lambda: f"{s}.pop({i()})",
            lambda: f"{s}.remove({i()})", lambda: f"{s}.clear()", lambda: f"{s}.reverse()",
            lambda: f"{s}.__init__({self.iterable(s)})", lambda: f"{s}.__init__({i()})",
            lambda: f"{s}.__init__({r.choice(['iter(' + s + ')', s, 'memoryview(' + s + ')'])})",
            lambda: f"{s}.__init__('abc', {self.codec()})",
            lambda: f"{s} += {b()}", lambda: f"{s} *= {i()}",
        ]
        return r.choice(reads + writes + writes)()

    def array_stmt(self, s: str) -> str:
        r = self.r
        i = lambda: self.int_(subject=s)  # noqa: E731
        eq = lambda: f"Eq({r.randint(0, 3)}, {self.act(s)}, {self.when()})"  # noqa: E731
        c = r.choice([
            lambda: f"{s}.extend({self.iterable(s)})", lambda: f"{s}.extend({self.pick(('array',))})",
            lambda: f"{s}.frombytes({self.bytes_(s)})", lambda: f"{s}.fromlist([{i()}, {i()}])",
            lambda: f"{s}.append({i()})", lambda: f"{s}.insert({i()}, {i()})", lambda: f"{s}.pop()",
            lambda: f"{s}.pop({i()})", lambda: f"{s}.remove({eq()})", lambda: f"{s}.count({eq()})",
            lambda: f"{s}.index({eq()})", lambda: f"{eq()} in {s}", lambda: f"{s}.tobytes()",
            lambda: f"{s}.tolist()", lambda: f"{s}.byteswap()", lambda: f"{s}.reverse()",
            lambda: f"{s}[{i()}:{i()}] = {self.pick(('array',))}", lambda: f"{s}[{i()}] = {i()}",
            lambda: f"del {s}[{i()}:{i()}]", lambda: f"{s} + {self.pick(('array',))}",
            lambda: f"{s} == {self.pick(('array',))}", lambda: f"{s} += {self.pick(('array',))}",
            lambda: f"{s} *= {i()}", lambda: f"array.array({s}.typecode, {s})",
            lambda: f"{s}.tofile(io.BufferedWriter(Raw(b'', {self.act(s)}, {r.random() < 0.5}), 8))",
        ])
        return c()

    def bytesio_stmt(self, s: str) -> str:
        r = self.r
        return r.choice([
            lambda: f"{s}.write({self.bytes_(s)})", lambda: f"{s}.readinto({self.pick()})",
            lambda: f"{s}.getvalue()", lambda: f"{s}.seek({self.int_((0, 5), s)})",
            lambda: f"{s}.truncate({self.int_((0, 5), s)})", lambda: f"r{self.new_r()} = {s}.getbuffer()",
            lambda: f"{s}.read({self.int_((-1, 5), s)})", lambda: f"{s}.writelines([{self.bytes_(s)}])",
        ])()

    def mv_stmt(self, s: str) -> str:
        r = self.r
        return r.choice([
            lambda: f"{s}.release()", lambda: f"{s}[{self.int_(subject=s)}]", lambda: f"{s}.tobytes()",
            lambda: f"{s}[0:2] = {self.bytes_(s)}", lambda: f"{s}.cast('B').tolist()", lambda: f"{s}.hex()",
            lambda: f"bytes({s})",
        ])()

    def program(self, seed: int) -> Program:
        r = self.r
        p = Program(seed, self.flags)
        ba = "bf.LockingBytearray" if self.shim else "bytearray"
        for n in range(r.randint(2, 5)):
            kind = r.choice(["bytes", "bytearray", "bytearray", "bytearray", "array", "array", "bytesio", "mv"])
            if kind == "mv" and (not self.objs or self.flags):   # flags: no export held all along
                kind = "bytearray"
            name = f"o{n}"
            data = r.choice(DATA + SOURCES)
            if kind == "bytes":
                p.lines.append(f"{name} = {_lit(data)}")
            elif kind == "bytearray":
                p.lines.append(f"{name} = {ba}({_lit(data)})")
            elif kind == "array":
                tc = r.choice("BBBbid")
                init = _lit(data) if tc in "Bb" else repr([r.randint(0, 9) for _ in range(r.randint(0, 4))])
                p.lines.append(f"{name} = array.array({tc!r}, {init})")
            elif kind == "bytesio":
                p.lines.append(f"{name} = io.BytesIO({_lit(data)})")
            else:
                p.lines.append(f"{name} = memoryview({self.pick(('bytes', 'bytearray', 'array'))})")
            self.objs[name] = kind
        for k in range(r.randint(0, 2)):
            p.lines.append(f"c{k} = codec({self.act()}, {r.random() < 0.5}, {self.pick() if r.random() < 0.2 else None!r})")
            self.codecs.append(f"c{k}")
        if r.random() < 0.4:
            p.lines.append(f"audit({r.choice(['compile', 'exec'])!r}, {self.act()})")
        for _ in range(r.randint(4, 20)):
            p.lines.append(self.stmt())
        return p


def generate(seed: int, flags: bool = False, shim: bool = False) -> Program:
    """The program of `seed`; flags=True adds views and §3 probes, shim=True
    makes the locked objects bufferflags.LockingBytearray."""
    return _Gen(seed, flags, shim).program(seed)
