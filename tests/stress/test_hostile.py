"""Hostile input against a locked exporter (issue 5): each case has a defined
outcome (the §2/§3 result or a clear error) and leaves no export behind.

tests/conformance/test_requests.py checks a few spellings of each §2 rule
with their messages; here every request value 0..0xFFFF is classified and
tried, plus ints outside the C int range.  The shim's base-class bypasses and
__class__ refusals (§7.3) are documented in tests/shim/test_shim.py; here:
__class__ assignment between subclasses natively, subclasses whose hooks
raise, release from another thread, double release, deallocation around an
acquisition.
"""
import array
import gc
import glob
import os
import subprocess
import sys
import threading

import pytest

import bufferflags as bf

from tests.conformance._support import (EXCLUSIVE, EXCLUSIVE_IMPLEMENTED,
                                        IMMUTABLE, KNOWN_MASK, REFUSED, RO,
                                        TABLE_3_1, WRITABLE, assert_fresh,
                                        assert_nothing_held, mode_of)
from tests.conformance.conftest import BACKEND, DATA, HAS_PEP688

from .conftest import report

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

LOCKED = {t.__name__: t for t in BACKEND.locked_types}
if BACKEND.native:
    LOCKED["array"] = lambda data: array.array("B", data)

native_only = pytest.mark.skipif(not BACKEND.native,
                                 reason="plain bytearray/array are locked natively only")
# The locked base class user code subclasses: bytearray natively, the shim's
# LockingBytearray on stock interpreters.
BASE = bytearray if BACKEND.native else bf.LockingBytearray
pep688 = pytest.mark.skipif(not HAS_PEP688, reason="Python-level buffer hooks: 3.12+")


# The bits the interpreter knows: where it implements only PyBUF_IMMUTABLE,
# 0x800 is one more unknown bit, named with the others (§2 rule 1).
INTERPRETER_KNOWN = KNOWN_MASK if EXCLUSIVE_IMPLEMENTED else KNOWN_MASK & ~EXCLUSIVE


def classify(flags):
    """§2: 'unknown', 'contradictory' or the request kind of `flags`;
    'not-implemented' for one whose only unknown bit is EXCLUSIVE where
    the interpreter does not implement it."""
    if flags in (0x100, 0x200):
        return "internal"              # exactly PyBUF_READ/PyBUF_WRITE
    if flags < 0 or flags & ~KNOWN_MASK:
        return "unknown"
    if flags & ~INTERPRETER_KNOWN:
        return "not-implemented"
    if flags & IMMUTABLE and flags & WRITABLE:
        return "contradictory"
    if flags & EXCLUSIVE:
        return "exclusive_write" if flags & WRITABLE else "exclusive_read"
    if flags & IMMUTABLE:
        return "immutable"
    return "writable" if flags & WRITABLE else "plain"


def _state(obj):
    if not BACKEND.native:
        from bufferflags._backend import native
        return native.lock_state(obj)
    return None


def _sweep(obj, request, stats):
    """Every value 0..0xFFFF through `request(obj, flags)` on a FREE object."""
    fresh_state = _state(obj)
    for flags in range(0x10000):
        kind = classify(flags)
        try:
            mv = request(obj, flags)
        except SystemError:
            # exactly PyBUF_READ/PyBUF_WRITE: left to the interpreter and
            # the exporter, as before the new flags (§2 rule 1)
            assert kind == "internal", (hex(flags), kind)
            stats[kind] += 1
        except BufferError as e:
            assert kind in ("unknown", "contradictory", "not-implemented"), (
                hex(flags), kind, e)
            if kind == "unknown":
                assert str(e) == "unknown buffer request flags 0x%x" % (
                    flags & ~INTERPRETER_KNOWN)
            elif kind == "not-implemented":
                # the interpreter's unknown-bits refusal, or acquire()'s
                # saying why (tests/conformance/test_immutable_only.py)
                assert type(e) is BufferError, (hex(flags), e)
                assert (str(e) == "unknown buffer request flags 0x800"
                        or "does not implement PyBUF_EXCLUSIVE" in str(e)), e
            stats[kind] += 1
        else:
            assert kind not in ("unknown", "contradictory",
                                "not-implemented"), hex(flags)
            try:
                if kind != "internal":  # else an older stock exporter grants it
                    readonly = TABLE_3_1["FREE"][kind][0] == RO
                    assert mv.readonly is readonly, (hex(flags), kind)
                    assert mv.tobytes() == DATA
            finally:
                mv.release()
            stats[kind] += 1
        if flags % 0x101 == 0 or _state(obj) != fresh_state:
            assert mode_of(obj) == "FREE", hex(flags)     # nothing leaked
    assert_fresh(obj, DATA)


@pytest.mark.parametrize("name", list(LOCKED))
def test_every_flag_value_via_acquire(name):
    stats = report("hostile-flags-acquire[%s]" % name)
    _sweep(LOCKED[name](DATA), bf.acquire, stats)


@native_only
@pytest.mark.parametrize("name", list(LOCKED))
def test_every_flag_value_via_dunder_buffer(name):
    """The C-level request without bufferflags in between (§2 is applied by
    the interpreter itself)."""
    stats = report("hostile-flags-__buffer__[%s]" % name)
    _sweep(LOCKED[name](DATA), lambda o, f: o.__buffer__(f), stats)


OUT_OF_RANGE = [2**31, 2**32, 2**40, 2**63, 2**64, 2**100,
                -2**31 - 1, -2**40, -2**64]
NEGATIVE_IN_RANGE = [-1, -2, -0x400, -0x800, -2**31]


@pytest.mark.parametrize("name", list(LOCKED))
def test_flags_outside_c_int(name):
    """> INT_MAX or < INT_MIN cannot be a C request: OverflowError (a clear
    error, not a wrapped value that might look valid); negative ints in
    range have unknown bits: BufferError.  Nothing is held afterwards."""
    obj = LOCKED[name](DATA)
    calls = [bf.acquire]
    if BACKEND.native:
        calls.append(lambda o, f: o.__buffer__(f))
    for call in calls:
        for flags in OUT_OF_RANGE:
            # 2**32 + 0x400 would wrap to IMMUTABLE if truncated
            for value in (flags, flags + IMMUTABLE if flags > 0 else flags):
                with pytest.raises(OverflowError):
                    call(obj, value)
        for flags in NEGATIVE_IN_RANGE:
            with pytest.raises(BufferError):
                call(obj, flags)
    assert_fresh(obj, DATA)


# ---- subclasses with hostile hooks (PEP 688, 3.12+) -----------------------

class Boom(Exception):
    pass


@pep688
def test_buffer_hook_raising_leaves_nothing_held():
    class Raising(BASE):
        def __buffer__(self, flags):
            raise Boom

    class RaisingAfterAcquire(BASE):
        def __buffer__(self, flags):
            m = super().__buffer__(flags)     # acquired, then dropped
            del m
            raise Boom

    for tp in (Raising, RaisingAfterAcquire):
        obj = tp(DATA)
        for attempt in (lambda: memoryview(obj), lambda: bytes(obj),
                        lambda: bf.acquire(obj, 0)):
            with pytest.raises(Boom):
                attempt()
        gc.collect()
        obj.append(1)                          # nothing held: resize allowed
        obj.pop()
        obj[0] = obj[0]                        # nor an in-place write
        assert list(obj) == list(DATA)


@pep688
def test_release_hook_raising_is_unraisable_and_releases():
    """An exception in __release_buffer__ cannot propagate (PEP 688: it is
    unraisable) and the base export is released whatever the override does:
    CPython releases the buffer that __buffer__ returned after calling the
    hook.  So the object is FREE afterwards, even when the override never
    calls super().__release_buffer__ -- no leak, no crash."""
    seen = []

    class ReleaseAfter(BASE):
        def __release_buffer__(self, view):
            super().__release_buffer__(view)
            raise Boom

    class ReleaseNever(BASE):
        def __release_buffer__(self, view):
            raise Boom

    old = sys.unraisablehook
    sys.unraisablehook = lambda u: seen.append(u.exc_type)
    try:
        for tp in (ReleaseAfter, ReleaseNever):
            del seen[:]
            obj = tp(DATA)
            m = memoryview(obj)
            with pytest.raises(BufferError):
                obj.append(1)                  # held: SHARED
            m.release()
            assert Boom in seen, tp
            obj.append(1)                      # released: resize allowed
            obj.pop()
            with bf.acquire(obj, 0) as m2:     # and exportable again
                assert m2.tobytes() == DATA
    finally:
        sys.unraisablehook = old


@pep688
def test_overriding_buffer_hook_never_grants_immutable():
    """A subclass whose __buffer__ would hand out writable memory for an
    IMMUTABLE request is refused by §2 rule 3 before the hook runs."""
    calls = []

    class Liar(BASE):
        def __buffer__(self, flags):
            calls.append(flags)
            return super().__buffer__(flags & ~(IMMUTABLE | EXCLUSIVE))

    obj = Liar(DATA)
    for flags in (IMMUTABLE, EXCLUSIVE, EXCLUSIVE | WRITABLE):
        with pytest.raises(BufferError):
            bf.acquire(obj, flags)
        with pytest.raises(BufferError):
            bf.view(obj, immutable=True)
    assert all(not f & (IMMUTABLE | EXCLUSIVE) for f in calls)
    obj.append(1)                              # nothing was left held
    obj.pop()
    assert list(obj) == list(DATA)


def test_class_assignment_keeps_the_lock():
    """__class__ assignment between layout-compatible bytearray subclasses
    (allowed by CPython) does not reset the lock: the state lives in the
    object, and the new class's methods are the guarded base methods."""
    class A(BASE):
        pass

    class B(BASE):
        def poke(self):
            self[0] = 0

    obj = A(DATA)
    with bf.view(obj, immutable=True) as v:
        obj.__class__ = B
        with pytest.raises(BufferError):
            obj.poke()
        with pytest.raises(BufferError):
            obj.append(1)
        with pytest.raises(BufferError):
            BASE.__setitem__(obj, 0, 0)        # the locked class's own method
        obj.__class__ = A
        assert v.tobytes() == DATA
    assert_fresh(obj, DATA)


# ---- releases from elsewhere, twice, and deallocation ----------------------

@pytest.mark.parametrize("name", list(LOCKED))
def test_release_from_another_thread(name):
    obj = LOCKED[name](DATA)
    views = [bf.view(obj, immutable=True) for _ in range(3)]
    views.append(bf.acquire(views[0], IMMUTABLE))   # a forward
    done = []

    def release():
        for v in reversed(views):
            v.release()
            v.release()                     # double release: no-op
        done.append(True)

    t = threading.Thread(target=release)
    t.start()
    t.join(30)
    assert done and not t.is_alive()
    assert_fresh(obj, DATA)


@pytest.mark.parametrize("name", list(LOCKED))
def test_double_release_never_double_counts(name):
    """§3: a release is count - 1 -- and a memoryview releases its export
    once, however often release() is called, with or without `with`."""
    obj = LOCKED[name](DATA)
    a = bf.view(obj, immutable=True)
    b = bf.view(obj, immutable=True)
    with a:
        pass
    a.release()
    a.release()
    with pytest.raises(ValueError):
        with a:
            pass
    # b is still held: if a had been counted twice, the count would be 0
    with pytest.raises(BufferError):
        obj.append(1)
    assert b.tobytes() == DATA
    b.release()
    assert_fresh(obj, DATA)


@pytest.mark.exclusive
@pytest.mark.parametrize("name", list(LOCKED))
def test_object_deleted_while_held(name):
    """del of the exporter while a view is held: the view keeps it alive and
    the lock held; the last release frees everything (no crash, no leak)."""
    import weakref
    obj = LOCKED[name](DATA)
    try:
        ref = weakref.ref(obj)
    except TypeError:
        ref = None
    v = bf.view(obj, exclusive=True, writable=True)
    d = v[2:]
    del obj
    gc.collect()
    if ref is not None:
        assert ref() is not None
    v[0] = 0x41
    v.release()
    assert d.tobytes() == DATA[2:]
    d.release()
    gc.collect()
    if ref is not None:
        assert ref() is None


@pytest.mark.parametrize("name", list(LOCKED))
def test_views_taken_before_locking_block_the_lock(name):
    """A plain view taken before anyone asks for a guarantee (SHARED) and a
    slice of it: IMMUTABLE and EXCLUSIVE are refused until both are gone."""
    obj = LOCKED[name](DATA)
    m = memoryview(obj)
    s = m[1:]
    m.release()
    for flags in (IMMUTABLE, EXCLUSIVE, EXCLUSIVE | WRITABLE):
        with pytest.raises(BufferError):
            bf.acquire(obj, flags)
    s[0] = s[0]
    s.release()
    with bf.view(obj, immutable=True) as v:
        assert v.readonly
    assert_fresh(obj, DATA)


@pytest.mark.parametrize("name", list(LOCKED))
def test_resize_around_an_acquisition(name):
    """Resizes before and after a hold are allowed and the view sees the
    size it was granted; resizes during the hold are refused without trace."""
    obj = LOCKED[name](DATA)
    obj.extend(array.array("B", b"+++") if name == "array" else b"+++")
    v = bf.view(obj, immutable=True)
    for resize in (lambda: obj.extend(b"x" if name != "array" else array.array("B", b"x")),
                   lambda: obj.pop(), lambda: obj.__delitem__(slice(0, 2)),
                   lambda: obj.insert(0, 1), lambda: obj.__imul__(2)):
        with pytest.raises(BufferError):
            resize()
    assert v.tobytes() == DATA + b"+++" == bytes(obj)
    v.release()
    del obj[-3:]
    assert_fresh(obj, DATA)


@native_only
@pytest.mark.parametrize("request_flags", [0, WRITABLE, IMMUTABLE, EXCLUSIVE])
def test_python_code_never_runs_inside_a_resize(request_flags):
    """§3.2: arguments first.  array.fromlist() used to convert its items
    (``__index__``) inside its resize, where every request was refused with
    "being resized"; it converts them first now, so a request made there is
    granted on the old contents, and the resize follows once it is
    released."""
    a = array.array("i", [1, 2, 3])
    seen = []

    class Sneaky:
        def __index__(self):
            with bf.acquire(a, request_flags) as m:
                seen.append(m.tobytes())
            return 7

    a.fromlist([Sneaky()])
    assert seen == [array.array("i", [1, 2, 3]).tobytes()]
    assert a.tolist() == [1, 2, 3, 7]
    assert_nothing_held(a)


@pytest.mark.parametrize("call", ["acquire", "view"])
def test_refused_acquire_does_not_keep_the_view_alive(call):
    obj = BACKEND.locked_types[0](DATA)
    mv = memoryview(obj)                  # plain: does not forward IMMUTABLE
    before = sys.getrefcount(mv)
    enabled = gc.isenabled()
    gc.disable()
    try:
        with pytest.raises(BufferError):
            if call == "acquire":
                bf.acquire(mv, IMMUTABLE)
            else:
                bf.view(mv, immutable=True)
        assert sys.getrefcount(mv) == before
        del mv
        with bf.view(obj, immutable=True):   # the plain export is gone
            pass
    finally:
        if enabled:
            gc.enable()
        gc.collect()


@pytest.mark.parametrize("flags", [IMMUTABLE | 0x100, IMMUTABLE | 0x200,
                                   EXCLUSIVE | 0x100, EXCLUSIVE | 0x200,
                                   EXCLUSIVE | IMMUTABLE | 0x100], ids=hex)
def test_new_bits_with_read_or_write_only(flags):
    """§2: only the exact values 0x100/0x200 are refused by rule 1; with a
    new bit they are ordinary requests, granted read-only on a FREE object.
    Run in a subprocess: on the affected interpreter this can crash."""
    code = """if 1:
        import bufferflags as bf
        from tests.conformance._support import assert_fresh
        from tests.conformance.conftest import BACKEND, DATA
        obj = BACKEND.locked_types[0](DATA)
        m = bf.acquire(obj, %d)
        with m:
            assert m.readonly and m.tobytes() == DATA and m.ndim == 1
        if not BACKEND.native:
            from bufferflags._backend import native
            assert native.lock_state(obj) == (0, 0, 0)
        assert_fresh(obj, DATA)
        del obj
    """ % flags
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [ROOT] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                       capture_output=True, timeout=120)
    assert r.returncode == 0 and not r.stderr, (r.returncode, r.stderr[-600:])


STOCK_VENVS = sorted(glob.glob(os.path.join(ROOT, "build", "venv", "3.*", "bin", "python")))


@pytest.mark.skipif(not STOCK_VENVS, reason="no stock venvs (make venvs)")
@pytest.mark.parametrize("python", STOCK_VENVS, ids=lambda p: os.path.basename(
    os.path.dirname(os.path.dirname(p))))
def test_shim_imports_on_every_stock_venv(python):
    """Regression: load_bytearray_base read PyByteArray_Type.tp_dict, NULL
    for static builtin types on 3.12+, and `import bufferflags` segfaulted
    on stock 3.12/3.13 (found by this suite, fixed in ba0bd87)."""
    # The venv must find its installed package, not the source tree that
    # test-native puts on PYTHONPATH (it holds no compiled extension).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run([python, "-c", "import bufferflags as bf; "
                        "bf.view(bf.LockingBytearray(b'x'), immutable=True).release()"],
                       cwd="/", env=env, capture_output=True, timeout=120)
    assert r.returncode == 0, (r.returncode, r.stderr[-500:])
