"""The state word in ob_exports against C code that does not know it, and
against other threads (issue 20).

* Raw pins: C code (stock 3.13's join(), upstream's searches since gh-142560,
  third-party extensions) does ``ob_exports++ ... ob_exports--`` around a
  read.  Done here through ctypes on the real field.  Whatever is taken and
  released inside a pin, the word ends at 0 when the pin ends: nothing held
  means FREE, resizable, every request grantable (semantics §3).
* Threads: a check-only write against PyByteArray_Resize() from another
  thread, memoryview.release() against an export of the same view, and
  ``dst[...] = src`` against a resize of src.  Each is bounded in seconds
  (BUFFERFLAGS_STRESS_SECONDS scales them in `make stress`); on the
  free-threaded build they crashed or raised spurious conflicts before.
"""
import array
import ctypes
import os
import sys
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bufferflags as bf

from tests.conftest import EXCLUSIVE_IMPLEMENTED

pytestmark = pytest.mark.skipif(
    not bf.NATIVE, reason="needs the patched interpreter")

IMMUTABLE, EXCLUSIVE, WRITABLE = 0x400, 0x800, 0x1
SECONDS = float(os.environ.get("BUFFERFLAGS_STRESS_SECONDS", "5")) / 5
FREE_THREADED = not getattr(sys, "_is_gil_enabled", lambda: True)()

# The layout of pycore_buflock.h: mode in the two bits below the sign bit,
# then the holds that keep the mode, then the reads in progress.
WORD_BITS = 8 * ctypes.sizeof(ctypes.c_ssize_t)
MODE_SHIFT = WORD_BITS - 3
HOLDS_SHIFT = MODE_SHIFT // 2
MODES = ("FREE", "SHARED", "IMMUTABLE", "EXCLUSIVE")

TYPES = {
    "bytearray": lambda data: bytearray(data),
    "array": lambda data: array.array("B", data),
}


def ob_exports(obj):
    """The state word itself: ob_exports is the last field of both
    PyByteArrayObject and arrayobject."""
    size = ctypes.sizeof(ctypes.c_ssize_t)
    return ctypes.c_ssize_t.from_address(
        id(obj) + type(obj).__basicsize__ - size)


def decode(obj):
    word = ob_exports(obj).value
    assert word >= 0, hex(word)
    return (MODES[word >> MODE_SHIFT],
            (word >> HOLDS_SHIFT) & ((1 << (MODE_SHIFT - HOLDS_SHIFT)) - 1),
            word & ((1 << HOLDS_SHIFT) - 1))


class RawPin:
    """``ob_exports++`` on entry, ``ob_exports--`` on exit, as C code does."""

    def __init__(self, obj):
        self.field = ob_exports(obj)

    def __enter__(self):
        self.field.value += 1
        return self

    def __exit__(self, *exc):
        self.field.value -= 1


# The guarantees this interpreter can grant (no EXCLUSIVE where only
# PyBUF_IMMUTABLE is implemented).
GUARANTEE_REQUESTS = (IMMUTABLE,) + ((EXCLUSIVE, EXCLUSIVE | WRITABLE)
                                     if EXCLUSIVE_IMPLEMENTED else ())


def assert_free(obj, data):
    """Nothing held: word 0, every request grantable, resizable."""
    assert ob_exports(obj).value == 0, hex(ob_exports(obj).value)
    for flags in GUARANTEE_REQUESTS:
        bf.acquire(obj, flags).release()
    with memoryview(obj) as m:
        assert m.readonly is False
    obj.append(33)
    assert bytes(obj) == bytes(data) + b"!"
    obj.pop()


@pytest.fixture(params=list(TYPES))
def make(request):
    return TYPES[request.param]


@pytest.mark.parametrize("inner", [0, IMMUTABLE, WRITABLE, 0x11C])
def test_export_inside_a_raw_pin_leaves_nothing_behind(make, inner):
    """Issue 20.4: the word was left at SHARED|0 or IMMUTABLE|0 -- append
    and every new flag refused with nothing held, and SystemError at
    dealloc."""
    obj = make(b"pinned")
    with RawPin(obj):
        assert decode(obj) == ("FREE", 0, 1)
        m = bf.acquire(obj, inner)
        m.release()
        assert decode(obj) == ("FREE", 0, 1)
    assert_free(obj, b"pinned")


@pytest.mark.exclusive
def test_a_raw_pin_is_a_read_in_progress(make):
    """A pin blocks what a read blocks: resizes and EXCLUSIVE; it lets
    IMMUTABLE and in-place writes through (§3.1, reads in progress)."""
    obj = make(b"pinned")
    with RawPin(obj):
        with pytest.raises(BufferError):
            obj.append(0)
        with pytest.raises(bf.BufferConflictError) as info:
            bf.acquire(obj, EXCLUSIVE)
        assert str(info.value) == (
            "%s: cannot export PyBUF_EXCLUSIVE while 1 read is in progress"
            % type(obj).__name__)
        with bf.acquire(obj, IMMUTABLE):
            with pytest.raises(bf.BufferConflictError):
                obj[0] = 0
        obj[0] = ord("P")
    assert_free(obj, b"Pinned")


@pytest.mark.exclusive
def test_a_pin_taken_under_exclusive_outlives_it(make):
    """A pin taken while an exclusive export is held (C code that pins
    without looking) stays a read when the exclusive holder leaves: the mode
    ends with its hold."""
    obj = make(b"pinned")
    ex = bf.acquire(obj, EXCLUSIVE | WRITABLE)
    pin = RawPin(obj).__enter__()
    assert decode(obj) == ("EXCLUSIVE", 1, 1)
    ex.release()
    assert decode(obj) == ("FREE", 0, 1)
    with bf.acquire(obj, IMMUTABLE):
        pass
    pin.__exit__()
    assert_free(obj, b"pinned")


KINDS = {"plain": 0, "writable": WRITABLE, "immutable": IMMUTABLE,
         "exclusive": EXCLUSIVE, "exclusive-write": EXCLUSIVE | WRITABLE}


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(list(TYPES)), st.lists(st.one_of(
    st.tuples(st.just("pin"), st.just(0)),
    st.tuples(st.just("unpin"), st.just(0)),
    st.tuples(st.just("export"), st.sampled_from(list(KINDS))),
    st.tuples(st.just("release"), st.integers(0, 7)),
    st.tuples(st.just("write"), st.just(0)),
    st.tuples(st.just("resize"), st.just(0)),
), max_size=30))
def test_property_every_interleaving_ends_free(type_name, steps):
    """Random interleavings of raw pins, exports of every kind, releases in
    any order, in-place writes and resizes.  After each step the word is
    what semantics §3 says (mode, holds, reads); when everything is
    released, it is 0 and every request is grantable again."""
    obj = TYPES[type_name](b"interleave")
    pins, held = 0, []           # held: (memoryview, kind)
    for what, arg in steps:
        mode, holds, reads = decode(obj)
        assert (holds == 0) == (mode == "FREE") and reads == pins
        if what == "pin":
            ob_exports(obj).value += 1
            pins += 1
        elif what == "unpin" and pins:
            ob_exports(obj).value -= 1
            pins -= 1
        elif what == "export":
            flags = KINDS[arg]
            if arg.startswith("exclusive"):
                # an unknown bit where EXCLUSIVE is not implemented
                grantable = EXCLUSIVE_IMPLEMENTED and mode == "FREE" and not pins
            elif arg == "immutable":
                grantable = mode in ("FREE", "IMMUTABLE")
            elif arg == "writable":
                grantable = mode in ("FREE", "SHARED")
            else:
                grantable = mode != "EXCLUSIVE"
            try:
                m = bf.acquire(obj, flags)
            except BufferError:
                assert not grantable, (arg, mode, holds, reads)
            else:
                assert grantable, (arg, mode, holds, reads)
                held.append(m)
                new_mode = decode(obj)[0]
                assert decode(obj) == (new_mode, holds + 1, reads)
                if mode == "FREE":
                    assert new_mode == {"plain": "SHARED",
                                        "writable": "SHARED",
                                        "immutable": "IMMUTABLE"}.get(
                                            arg, "EXCLUSIVE")
                else:
                    assert new_mode == mode
        elif what == "release" and held:
            held.pop(arg % len(held)).release()
            after = decode(obj)
            assert after[1:] == (holds - 1, reads)
            assert after[0] == (mode if holds > 1 else "FREE")
        elif what == "write":
            try:
                obj[0] = obj[0] if mode != "EXCLUSIVE" else 0
            except BufferError:
                assert mode in ("IMMUTABLE", "EXCLUSIVE")
            else:
                assert mode in ("FREE", "SHARED")
            assert decode(obj) == (mode, holds, reads)
        elif what == "resize":
            try:
                obj.append(0)
            except BufferError:
                assert holds or reads
            else:
                assert not (holds or reads)
                del obj[-1]
            assert decode(obj) == (mode, holds, reads)
    for m in held:
        m.release()
    ob_exports(obj).value -= pins
    assert_free(obj, b"interleave")


# ---- threads ------------------------------------------------------------------

class Py_buffer(ctypes.Structure):
    _fields_ = [("buf", ctypes.c_void_p), ("obj", ctypes.c_void_p),
                ("len", ctypes.c_ssize_t), ("itemsize", ctypes.c_ssize_t),
                ("readonly", ctypes.c_int), ("ndim", ctypes.c_int),
                ("format", ctypes.c_char_p), ("shape", ctypes.c_void_p),
                ("strides", ctypes.c_void_p), ("suboffsets", ctypes.c_void_p),
                ("internal", ctypes.c_void_p)]


# PyObject_GetBuffer() on a memoryview reaches memory_getbuf(); memoryview(m)
# would register a new view with m's managed buffer instead.  Own function
# objects (pythonapi[...]): pythonapi.X is shared with other test modules.
_get_buffer = ctypes.pythonapi["PyObject_GetBuffer"]
_get_buffer.argtypes = [ctypes.py_object, ctypes.POINTER(Py_buffer),
                        ctypes.c_int]
_get_buffer.restype = ctypes.c_int
_release_buffer = ctypes.pythonapi["PyBuffer_Release"]
_release_buffer.argtypes = [ctypes.POINTER(Py_buffer)]
_release_buffer.restype = None

_resize = ctypes.pythonapi["PyByteArray_Resize"]
_resize.argtypes = [ctypes.py_object, ctypes.c_ssize_t]
_resize.restype = ctypes.c_int


def _race(*workers, seconds=SECONDS):
    """Run each worker(stop) in its own thread for `seconds`; return the
    exceptions they raised."""
    stop = threading.Event()
    errors = []

    def run(worker):
        try:
            worker(stop)
        except BaseException as e:        # reported, not swallowed
            errors.append(e)
            stop.set()

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    return errors


def test_thread_check_only_writes_against_pybytearray_resize():
    """Issue 20.1: ba[i] = v, same-size and extended-slice writes only check
    the state; PyByteArray_Resize() from another thread reallocated between
    their check and their write (lost writes, then a crash) until it took
    the object's critical section."""
    ba = bytearray(b"x" * 64)
    counts = {"writes": 0, "resizes": 0}

    def writer(stop):
        while not stop.is_set():
            for i in range(32):
                ba[i] = i
            ba[0:8] = b"abcdefgh"
            ba[0:16:2] = b"ABCDEFGH"
            counts["writes"] += 1

    def resizer(stop):
        while not stop.is_set():
            assert _resize(ba, 1 << 16) == 0
            assert _resize(ba, 64) == 0
            counts["resizes"] += 1

    assert _race(writer, resizer) == []
    assert counts["writes"] and counts["resizes"]
    assert len(ba) == 64 and ob_exports(ba).value == 0
    assert bytes(ba[16:32]) == bytes(range(16, 32))


def _is_released(m):
    try:
        m.nbytes
    except ValueError:
        return True
    return False


def test_thread_memoryview_release_against_export():
    """Issue 20.2: release() read the export count, then released; an export
    of the same view taken in between (PyObject_GetBuffer() on the view)
    survived the release.  Per round, one thread exports m and releases the
    export in a tight loop while another calls m.release() until it
    succeeds: an export granted must never find m released."""
    ba = bytearray(b"r" * 4096)
    start = threading.Barrier(3, timeout=30)
    done = threading.Barrier(3, timeout=30)
    box = {}
    survived = []
    rounds = 0

    def each_round(play):
        """A worker: play(m) once per round, until the view is None."""
        def worker():
            while True:
                start.wait()
                m = box.get("m")
                if m is None:
                    return
                play(m)
                done.wait()
        return worker

    @each_round
    def releaser(m):
        while True:
            try:
                m.release()
                return
            except BufferError:            # exported just now: again
                pass

    @each_round
    def exporter(m):
        view = Py_buffer()
        while True:
            try:
                _get_buffer(m, ctypes.byref(view), 0)
            except ValueError:             # released: the round is over
                return
            if _is_released(m):
                survived.append(box["round"])
            _release_buffer(ctypes.byref(view))

    threads = [threading.Thread(target=releaser),
               threading.Thread(target=exporter)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + SECONDS
    try:
        while time.monotonic() < deadline:
            box["round"] = rounds
            box["m"] = memoryview(ba)
            start.wait()
            done.wait()
            assert ob_exports(ba).value == 0
            rounds += 1
    finally:
        box["m"] = None
        start.wait()
        for t in threads:
            t.join()
    assert survived == [], "an export survived memoryview.release()"
    assert rounds > 0


def test_thread_slice_assignment_from_a_bytearray_being_resized():
    """Issue 20.3: dst[...] = src held only dst's critical section and only
    checked src: another thread's resize of src was seen as a conflict (a
    spurious BufferConflictError between two plain threads) or its memory
    read after it was freed.  src's section is taken too, as upstream.
    (array slice assignment took both already.)"""
    src = bytearray(b"s" * 16)
    dst = bytearray(b"d" * 16)
    counts = {"copies": 0}

    def copier(stop):
        while not stop.is_set():
            dst[:] = src
            dst[0:16] = src
            counts["copies"] += 1

    def resizer(stop):
        while not stop.is_set():
            src.extend(b"t" * 4096)
            del src[16:]

    assert _race(copier, resizer) == []
    assert counts["copies"] > 0
    assert set(bytes(dst)) <= {ord("s"), ord("t")}
    assert ob_exports(src).value == 0
