"""bufferflags.view() (issue 2 §2) and every release path (§3: release is
count - 1, exact; §6: use of a released view is a ValueError)."""
import array
import gc
import hashlib
import mmap
import struct
import weakref

import pytest

import bufferflags as bf

from ._support import (EXCLUSIVE, IMMUTABLE, WRITABLE, assert_fresh,
                       count_of, mode_of, unsupported_message_prefix)
from .conftest import DATA, HAS_PEP688

# kwargs -> (readonly, mode of a locked exporter while held)
VIEW_KINDS = [
    ({"immutable": True}, True, "IMMUTABLE"),
    ({"exclusive": True}, True, "EXCLUSIVE"),
    ({"exclusive": True, "immutable": True}, True, "EXCLUSIVE"),
    ({"exclusive": True, "writable": True}, False, "EXCLUSIVE"),
    ({"writable": True}, False, "SHARED"),
]
VIEW_IDS = ["-".join(sorted(k)) for k, _, _ in VIEW_KINDS]

# every way of holding an export of a locked object, for the release paths
HOLDERS = [
    ("view-" + "-".join(sorted(k)), (lambda k: lambda o: bf.view(o, **k))(k), mode)
    for k, _, mode in VIEW_KINDS
] + [
    ("acquire-immutable", lambda o: bf.acquire(o, IMMUTABLE), "IMMUTABLE"),
    ("acquire-exclusive-writable", lambda o: bf.acquire(o, EXCLUSIVE | WRITABLE),
     "EXCLUSIVE"),
    ("memoryview", memoryview, "SHARED"),
]
HOLDER_IDS = [n for n, _, _ in HOLDERS]


# ---- what view() grants ------------------------------------------------------
@pytest.mark.parametrize("kwargs,readonly,mode", VIEW_KINDS, ids=VIEW_IDS)
def test_view_grants(locked, kwargs, readonly, mode):
    v = bf.view(locked, **kwargs)
    assert isinstance(v, memoryview)
    assert v.readonly is readonly
    assert v.tobytes() == DATA and len(v) == len(DATA)
    assert mode_of(locked) == mode
    v.release()
    assert_fresh(locked, DATA)


def test_view_default_is_readonly(locked):
    """view() without flags: read-only, nothing locked after release."""
    v = bf.view(locked)
    assert v.readonly is True
    with pytest.raises(TypeError):
        v[0] = 0
    assert mode_of(locked) != "EXCLUSIVE"
    v.release()
    assert_fresh(locked, DATA)
    with bf.view(b"abc") as v:
        assert v.readonly is True and v.tobytes() == b"abc"


@pytest.mark.parametrize("kwargs,readonly,mode", VIEW_KINDS, ids=VIEW_IDS)
def test_view_result_exports_the_buffer(locked, kwargs, readonly, mode):
    """Issue 2 §2: the result itself exports the buffer (memoryview(v),
    bytes(v), hashlib, struct all work) without touching the exporter's
    state."""
    with bf.view(locked, **kwargs) as v:
        assert memoryview(v).tobytes() == DATA
        assert bytes(v) == DATA
        assert hashlib.sha256(v).digest() == hashlib.sha256(DATA).digest()
        assert struct.unpack_from("5s", v) == (DATA[:5],)
        assert mode_of(locked) == mode
    assert_fresh(locked, DATA)


def test_view_writable_writes(locked):
    with bf.view(locked, writable=True) as v:
        v[0:5] = b"HELLO"
        assert bytes(locked[:5]) == b"HELLO"   # SHARED: own reads allowed
    assert_fresh(locked, b"HELLO" + DATA[5:])


# ---- argument errors ------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [
    {"immutable": True, "writable": True},
    {"immutable": True, "writable": True, "exclusive": True},
    {"immutable": True, "writable": True, "fallback": "copy"},
], ids=["immutable-writable", "immutable-writable-exclusive", "with-fallback"])
def test_view_contradictory_arguments_valueerror(locked, kwargs):
    """§6: immutable=True, writable=True is a ValueError; nothing acquired."""
    with pytest.raises(ValueError):
        bf.view(locked, **kwargs)
    assert_fresh(locked, DATA)
    with pytest.raises(ValueError):
        bf.view(b"abc", **kwargs)


@pytest.mark.parametrize("obj", [object(), "text", 12, None, [1, 2], 1.5], ids=repr)
@pytest.mark.parametrize("kwargs", [{}, {"immutable": True}, {"exclusive": True},
                                    {"writable": True},
                                    {"immutable": True, "fallback": "copy"}],
                         ids=["plain", "immutable", "exclusive", "writable",
                              "immutable-fallback-copy"])
def test_view_non_buffer_typeerror(obj, kwargs):
    """§6: a non-buffer is a TypeError (also with fallback='copy')."""
    with pytest.raises(TypeError):
        bf.view(obj, **kwargs)


def test_view_bad_fallback_valueerror(locked):
    """§6: any other fallback is an argument error (ValueError)."""
    with pytest.raises(ValueError):
        bf.view(locked, immutable=True, fallback="bogus")
    assert_fresh(locked, DATA)


@pytest.mark.parametrize("kwargs,flagname", [
    ({"immutable": True}, "PyBUF_IMMUTABLE"),
    ({"exclusive": True}, "PyBUF_EXCLUSIVE"),
    ({"exclusive": True, "writable": True}, "PyBUF_EXCLUSIVE"),
], ids=["immutable", "exclusive", "exclusive-writable"])
def test_view_unsupported_buffererror_with_hint(unsupported, kwargs, flagname):
    """Issue 2 §2, §6: BufferError naming the type and the flag, with a hint
    (LockingBytearray, or fallback="copy")."""
    with pytest.raises(BufferError) as info:
        bf.view(unsupported, **kwargs)
    msg = str(info.value)
    assert msg.startswith(unsupported_message_prefix(type(unsupported), flagname)), msg
    assert "fallback" in msg and "copy" in msg, msg
    if isinstance(unsupported, bytearray):
        assert "LockingBytearray" in msg, msg


@pytest.mark.exclusive
def test_view_bytes_exclusive_refused():
    """§5: bytes never supports EXCLUSIVE."""
    with pytest.raises(BufferError) as info:
        bf.view(b"abc", exclusive=True)
    assert str(info.value).startswith(
        "bytes does not support PyBUF_EXCLUSIVE (supported: PyBUF_IMMUTABLE)")


# ---- fallback="copy" ----------------------------------------------------------
def _modify(obj):
    obj[0] = (obj[0] + 1) % 256


@pytest.mark.parametrize("kwargs", [{"immutable": True}, {"exclusive": True},
                                    {"immutable": True, "exclusive": True}],
                         ids=["immutable", "exclusive", "immutable-exclusive"])
def test_view_fallback_copy_of_unsupported(unsupported, kwargs):
    """fallback='copy': an immutable view of a private copy -- read-only,
    same contents, unaffected by later changes of the original, and itself
    forwarding IMMUTABLE (§5)."""
    v = bf.view(unsupported, fallback="copy", **kwargs)
    assert isinstance(v, memoryview)
    assert v.readonly is True
    assert v.tobytes() == DATA
    assert bf.IMMUTABLE in bf.supported_flags(v)
    with bf.view(v, immutable=True) as again:
        assert again.tobytes() == DATA
    if not isinstance(unsupported, bytes):
        _modify(unsupported)                  # the original is not locked
        assert bytes(unsupported) != DATA
        assert v.tobytes() == DATA            # the copy is private
        if isinstance(unsupported, bytearray):
            unsupported.append(1)             # not even exported
    v.release()
    with pytest.raises(ValueError):
        v.tobytes()


def test_view_fallback_copy_not_used_for_supported(locked):
    """fallback='copy' on a type that supports the flag locks the object
    itself (no copy): mutations are refused while the view is held."""
    with bf.view(locked, immutable=True, fallback="copy") as v:
        assert v.readonly is True
        with pytest.raises(BufferError):
            locked[0] = 0
        assert mode_of(locked) == "IMMUTABLE"
    assert_fresh(locked, DATA)


@pytest.mark.parametrize("kwargs", [{"immutable": True}, {"exclusive": True}],
                         ids=["immutable", "exclusive"])
def test_view_fallback_copy_conflict_still_raises(locked, kwargs):
    """A conflict is not 'unsupported': fallback='copy' still raises."""
    m = memoryview(locked)
    with pytest.raises(BufferError):
        bf.view(locked, fallback="copy", **kwargs)
    assert mode_of(locked) == "SHARED" and count_of(locked) == 1
    m.release()
    assert_fresh(locked, DATA)


def test_view_fallback_copy_bytes():
    with bf.view(b"abc", immutable=True, fallback="copy") as v:
        assert v.readonly and v.tobytes() == b"abc"


class _MmapWithBytes(mmap.mmap):
    """An unsupported exporter whose __bytes__ is not its buffer."""

    def __bytes__(self):
        return b"not the buffer"


class _IntLikeExporter(int):
    """An int (bytes() of it is that many zero bytes) that exports a buffer
    through a Python-level __buffer__ (3.12+)."""

    def __buffer__(self, flags):
        return memoryview(b"the buffer")


def _mmap_with_bytes(data):
    m = _MmapWithBytes(-1, len(data))
    m.write(data)
    return m


def _copy_sources():
    sources = [
        ("array-d", lambda: array.array("d", [1.5, -2.25, 1e300])),
        ("array-i", lambda: array.array("i", [1, -2, 3, 2**31 - 1])),
        ("memoryview-3d", lambda: memoryview(bytearray(range(24))).cast("B", (2, 3, 4))),
        ("memoryview-2d-int", lambda: memoryview(bytearray(range(24))).cast("i", (2, 3))),
        ("memoryview-0d", lambda: memoryview(bytearray(8)).cast("d", ())),
        ("mmap-with-__bytes__", lambda: _mmap_with_bytes(DATA)),
    ]
    if HAS_PEP688:
        sources.append(("int-like-exporter", lambda: _IntLikeExporter(3)))
    return sources


@pytest.mark.parametrize("kwargs", [{"immutable": True}, {"exclusive": True}],
                         ids=["immutable", "exclusive"])
@pytest.mark.parametrize("name,make", _copy_sources(),
                         ids=[n for n, _ in _copy_sources()])
def test_view_fallback_copy_is_the_buffer_exactly(name, make, kwargs):
    """fallback='copy' copies the buffer, not bytes(obj): the same bytes,
    format, itemsize and shape, and the copy still forwards IMMUTABLE."""
    obj = make()
    with memoryview(obj) as source:
        expected = (source.tobytes(), source.format, source.itemsize,
                    source.shape, source.tolist())
    v = bf.view(obj, fallback="copy", **kwargs)
    try:
        assert (v.tobytes(), v.format, v.itemsize, v.shape, v.tolist()) == expected
        assert v.readonly is True and v.nbytes == len(expected[0])
        assert bf.IMMUTABLE in bf.supported_flags(v)
        with bf.view(v, immutable=True) as again:
            assert again.tobytes() == expected[0] and again.format == expected[1]
    finally:
        v.release()


# ---- release paths ------------------------------------------------------------
@pytest.mark.parametrize("name,hold,mode", HOLDERS, ids=HOLDER_IDS)
def test_release_explicit(locked, name, hold, mode):
    v = hold(locked)
    assert mode_of(locked) == mode
    v.release()
    assert_fresh(locked, DATA)


@pytest.mark.parametrize("name,hold,mode", HOLDERS, ids=HOLDER_IDS)
def test_release_with(locked, name, hold, mode):
    with hold(locked) as v:
        assert isinstance(v, memoryview)
        assert mode_of(locked) == mode
    assert_fresh(locked, DATA)
    with pytest.raises(ValueError):
        v[0]


class _Boom(Exception):
    pass


@pytest.mark.parametrize("name,hold,mode", HOLDERS, ids=HOLDER_IDS)
def test_release_on_exception_in_with(locked, name, hold, mode):
    with pytest.raises(_Boom):
        with hold(locked):
            assert mode_of(locked) == mode
            raise _Boom
    assert_fresh(locked, DATA)


@pytest.mark.parametrize("name,hold,mode", HOLDERS, ids=HOLDER_IDS)
def test_release_on_gc(locked, name, hold, mode):
    v = hold(locked)
    assert mode_of(locked) == mode
    del v
    gc.collect()
    assert_fresh(locked, DATA)


@pytest.mark.parametrize("name,hold,mode", HOLDERS, ids=HOLDER_IDS)
def test_release_on_gc_of_a_cycle(locked, name, hold, mode):
    cycle = [hold(locked)]
    cycle.append(cycle)
    del cycle
    gc.collect()
    assert_fresh(locked, DATA)


@pytest.mark.parametrize("name,hold,mode", HOLDERS, ids=HOLDER_IDS)
def test_release_on_gc_of_a_cycle_through_the_object(locked_type, name, hold, mode):
    """The object keeps its own view (obj.view = view(obj)): only the
    collector can end that export, and it must free both."""
    subclass = type("Holder", (locked_type,), {})
    obj = subclass(DATA)
    obj.view = hold(obj)
    gone = weakref.ref(obj)
    del obj
    gc.collect()
    assert gone() is None, "the object and its view were never collected"


FORWARDS = [
    ("view-of-view", lambda o: bf.view(bf.view(o, immutable=True), immutable=True)),
    ("view-of-slice", lambda o: bf.view(bf.view(o, immutable=True)[2:], immutable=True)),
    ("view-of-exclusive-read", lambda o: bf.view(bf.view(o, exclusive=True),
                                                 immutable=True)),
    ("three-deep", lambda o: bf.view(bf.view(bf.view(o, immutable=True),
                                             immutable=True)[1:], immutable=True)),
    ("acquire-of-view", lambda o: bf.acquire(bf.view(o, immutable=True), IMMUTABLE)),
]
FORWARD_IDS = [n for n, _ in FORWARDS]


@pytest.mark.parametrize("name,forward", FORWARDS, ids=FORWARD_IDS)
def test_release_on_gc_of_a_cycle_through_a_forwarded_view(locked_type, name,
                                                           forward):
    """The object keeps a forwarded view of itself (§5): the collector must
    free both, and collecting never crashes, however often it runs."""
    subclass = type("Holder", (locked_type,), {})
    for _ in range(20):
        obj = subclass(DATA)
        obj.fwd = forward(obj)
        gone = weakref.ref(obj)
        del obj
        gc.collect()
        assert gone() is None, "the object and its forwarded view were never collected"


@pytest.mark.parametrize("name,forward", FORWARDS, ids=FORWARD_IDS)
def test_gc_of_a_forwarded_view_cycle_unlocks_the_object(locked, name, forward):
    """A cycle holding a forwarded view of a locked object that is not in
    the cycle: collecting it ends the export, and the object is fresh."""
    for _ in range(20):
        cycle = [forward(locked)]
        cycle.append(cycle)
        del cycle
        gc.collect()
        assert_fresh(locked, DATA)


class _PythonHolder:
    """A Python object that exports its locked data (3.12+) and keeps a
    forwarded view of itself."""

    __buffer_flags__ = int(bf.IMMUTABLE)

    def __init__(self, data):
        self.data = data

    def __buffer__(self, flags):
        return self.data.__buffer__(flags)


@pytest.mark.skipif(not HAS_PEP688, reason="PEP 688 hooks are 3.12+")
@pytest.mark.parametrize("name,forward", FORWARDS[:2], ids=FORWARD_IDS[:2])
def test_release_on_gc_of_a_cycle_through_a_python_exporter(locked_type, name,
                                                            forward):
    bf.register(_PythonHolder, bf.IMMUTABLE)
    for _ in range(20):
        data = locked_type(DATA)
        holder = _PythonHolder(data)
        holder.fwd = forward(holder)
        gone = weakref.ref(holder)
        with pytest.raises(BufferError):
            data[0] = 0
        del holder
        gc.collect()
        assert gone() is None, "the holder and its view were never collected"
        assert_fresh(data, DATA)


@pytest.mark.parametrize("name,hold,mode", HOLDERS, ids=HOLDER_IDS)
def test_double_release_is_harmless(locked, name, hold, mode):
    """A second release of the same view changes nothing: with a second
    holder still there, the state stays held (no counter drift, §3)."""
    if mode == "EXCLUSIVE":
        v = hold(locked)
        v.release()
        v.release()
        assert_fresh(locked, DATA)
        return
    first, second = hold(locked), hold(locked)
    first.release()
    first.release()
    assert mode_of(locked) == mode
    assert count_of(locked) == 1
    second.release()
    second.release()
    assert_fresh(locked, DATA)


USES = [
    ("getitem", lambda v: v[0]),
    ("slice", lambda v: v[1:2]),
    ("tobytes", lambda v: v.tobytes()),
    ("bytes", bytes),
    ("len", len),
    ("memoryview", memoryview),
    ("hashlib", hashlib.sha256),
    ("view", bf.view),
    ("view-immutable", lambda v: bf.view(v, immutable=True)),
    ("acquire", lambda v: bf.acquire(v, 0)),
    ("cast", lambda v: v.cast("B")),
]


@pytest.mark.parametrize("use_name,use", USES, ids=[n for n, _ in USES])
@pytest.mark.parametrize("name,hold,mode", HOLDERS, ids=HOLDER_IDS)
def test_use_after_release_valueerror(locked, name, hold, mode, use_name, use):
    """§6: use of a released view is a ValueError (as memoryview)."""
    v = hold(locked)
    v.release()
    with pytest.raises(ValueError):
        use(v)
    assert_fresh(locked, DATA)


@pytest.mark.parametrize("derive", [
    lambda v: v[2:5], lambda v: v[::2], lambda v: v.cast("B"),
    lambda v: v.cast("c"), memoryview, lambda v: v.toreadonly(),
], ids=["slice", "extended-slice", "cast-B", "cast-c", "memoryview(view)",
        "toreadonly"])
@pytest.mark.parametrize("name,hold,mode", HOLDERS, ids=HOLDER_IDS)
def test_derived_views_keep_the_export_alive(locked, name, hold, mode, derive):
    """Slices/casts of a view share its export: releasing the view keeps the
    state held until they are released too (explicitly or by gc)."""
    v = hold(locked)
    d = derive(v)
    v.release()
    assert mode_of(locked) == mode
    with pytest.raises(ValueError):
        v[0]
    assert d.tobytes() == derive(memoryview(DATA)).tobytes()
    if mode == "IMMUTABLE":
        with pytest.raises(BufferError):
            locked.append(0)
    d.release()
    assert_fresh(locked, DATA)
    # the same when the view and the slice are dropped (no explicit release)
    v = hold(locked)
    d = derive(v)
    del v
    assert mode_of(locked) == mode
    del d
    assert_fresh(locked, DATA)


def test_view_flags_are_keyword_only(locked):
    with pytest.raises(TypeError):
        bf.view(locked, True)
    assert_fresh(locked, DATA)


def test_view_fallback_copy_refuses_a_layout_it_cannot_keep():
    """A format memoryview.cast() cannot express (ctypes' '<d') is refused
    with BufferError naming it, never flattened to bytes."""
    ctypes = pytest.importorskip("ctypes")
    obj = (ctypes.c_double * 2)(1.5, 2.5)
    fmt = memoryview(obj).format
    with pytest.raises(BufferError) as info:
        bf.view(obj, immutable=True, fallback="copy")
    assert repr(fmt) in str(info.value), str(info.value)
