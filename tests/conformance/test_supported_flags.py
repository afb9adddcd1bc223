"""§5 supported flags: defaults, 0 = no information, the inheritance rule,
and memoryview forwarding (slices and casts too, never EXCLUSIVE)."""
import array
import io
import mmap
import sys

import pytest

import bufferflags as bf

from ._support import (EXCLUSIVE, IMMUTABLE, LOCKED_FLAGS, MEMORYVIEW_MESSAGE,
                       WRITABLE, assert_fresh, mode_of)
from .conftest import DATA, HAS_PEP688, BACKEND

IMM = bf.BufferFlags.IMMUTABLE
EXC = bf.BufferFlags.EXCLUSIVE
NONE = bf.BufferFlags(0)


def _defaults():
    """§5 defaults table, column chosen by the backend."""
    native = BACKEND.native
    return [
        ("bytes", bytes, b"x", IMM),
        ("bytearray", bytearray, bytearray(b"x"), LOCKED_FLAGS if native else NONE),
        ("array.array", array.array, array.array("B", b"x"),
         LOCKED_FLAGS if native else NONE),
        ("LockingBytearray", bf.LockingBytearray, bf.LockingBytearray(b"x"), LOCKED_FLAGS),
        ("mmap", mmap.mmap, None, NONE),
        ("int", int, 5, NONE),
        ("object", object, object(), NONE),
        ("str", str, "x", NONE),
    ]


@pytest.mark.parametrize("name,tp,instance,expected", _defaults(),
                         ids=[d[0] for d in _defaults()])
def test_s5_defaults(name, tp, instance, expected):
    """§5 defaults, for the type and for an instance; the answer is a
    BufferFlags."""
    got = bf.supported_flags(tp)
    assert isinstance(got, bf.BufferFlags)
    assert got == expected
    if instance is None and tp is mmap.mmap:
        instance = mmap.mmap(-1, 4)
    assert bf.supported_flags(instance) == expected


def test_s5_memoryview_type_forwards_immutable():
    assert bf.supported_flags(memoryview) == IMM


def test_s5_unsupported_fixture_supports_nothing(unsupported):
    assert bf.supported_flags(unsupported) == NONE
    assert bf.supported_flags(type(unsupported)) == NONE


# ---- inheritance --------------------------------------------------------------
class BytesSub(bytes):
    pass


class BytesSubSub(BytesSub):
    pass


class BytesBufferOverride(bytes):
    def __buffer__(self, flags):
        return super().__buffer__(flags & ~(IMMUTABLE | EXCLUSIVE))


class BytesBufferOverrideSub(BytesBufferOverride):
    pass


class BytesReleaseOverride(bytes):
    def __release_buffer__(self, view):
        pass


class LockingSub(bf.LockingBytearray):
    pass


class LockingBufferOverride(bf.LockingBytearray):
    def __buffer__(self, flags):
        return memoryview(bytes(8))


class BytearraySub(bytearray):
    pass


def _inheritance_cases():
    hooks = HAS_PEP688   # on 3.11 a Python __buffer__ is never used: exports as the base
    return [
        ("bytes-subclass", BytesSub, IMM),
        ("bytes-subsubclass", BytesSubSub, IMM),
        ("bytes-overriding-__buffer__", BytesBufferOverride, NONE if hooks else IMM),
        ("subclass-of-overrider", BytesBufferOverrideSub, NONE if hooks else IMM),
        ("LockingBytearray-subclass", LockingSub, LOCKED_FLAGS),
        ("LockingBytearray-overriding-__buffer__", LockingBufferOverride,
         NONE if hooks else LOCKED_FLAGS),
        ("bytearray-subclass", BytearraySub, LOCKED_FLAGS if BACKEND.native else NONE),
    ] + ([("bytes-overriding-__release_buffer__", BytesReleaseOverride, NONE)]
         if hooks else [])


@pytest.mark.parametrize("name,tp,expected", _inheritance_cases(),
                         ids=[c[0] for c in _inheritance_cases()])
def test_s5_inheritance(name, tp, expected):
    """§5 inheritance: T has D's flags only if it exports exactly as D
    (same slots and, 3.12+, the same __buffer__/__release_buffer__)."""
    assert bf.supported_flags(tp) == expected


@pytest.mark.skipif(not HAS_PEP688, reason="PEP 688 hooks are 3.12+")
def test_s5_override_never_granted_immutable():
    """§5: a subclass overriding __buffer__ never inherits a guarantee it may
    not keep: the request is refused before its hook runs (§2 rule 3)."""
    calls = []

    class Spy(bytes):
        def __buffer__(self, flags):
            calls.append(flags)
            return super().__buffer__(0)

    with pytest.raises(BufferError) as info:
        bf.acquire(Spy(b"abc"), IMMUTABLE)
    assert str(info.value).startswith("Spy does not support PyBUF_IMMUTABLE")
    assert calls == []
    with bf.acquire(Spy(b"abc"), 0) as m:     # old flags work as today
        assert m.tobytes() == b"abc"
    assert calls == [0]


def test_s5_subclass_of_bytes_granted_immutable():
    with bf.view(BytesSub(b"abc"), immutable=True) as v:
        assert v.readonly and v.tobytes() == b"abc"
    with pytest.raises(BufferError):
        bf.view(BytesSub(b"abc"), exclusive=True)


def test_s5_locking_subclass_is_locked():
    """A LockingBytearray subclass exporting as its base inherits both flags
    and the locking."""
    obj = LockingSub(DATA)
    with bf.view(obj, immutable=True):
        with pytest.raises(BufferError) as info:
            obj.append(0)
        assert str(info.value) == \
            "LockingSub: cannot modify while 1 immutable export is held"
    assert_fresh(obj, DATA)


# ---- memoryview forwarding ----------------------------------------------------
def test_s5_view_of_immutable_view_forwards():
    """§5: view(view(b"..."), immutable=True) works."""
    inner = bf.view(b"abcdef", immutable=True)
    assert bf.supported_flags(inner) == IMM
    outer = bf.view(inner, immutable=True)
    assert outer.readonly is True and outer.tobytes() == b"abcdef"
    assert bf.supported_flags(outer) == IMM
    with bf.acquire(inner, IMMUTABLE) as raw:
        assert raw.readonly and raw.tobytes() == b"abcdef"
    outer.release()
    inner.release()


@pytest.mark.parametrize("make", [
    lambda: memoryview(b"abcdef"),
    lambda: memoryview(bytearray(b"abcdef")),
    lambda: io.BytesIO(b"abcdef").getbuffer(),
    lambda: bf.view(b"abcdef"),
    lambda: memoryview(bf.LockingBytearray(b"abcdef")),
    lambda: bf.view(bf.LockingBytearray(b"abcdef"), writable=True),
    lambda: bf.view(bf.LockingBytearray(b"abcdef"), exclusive=True, writable=True),
], ids=["memoryview(bytes)", "memoryview(bytearray)", "BytesIO.getbuffer",
        "view(bytes)-plain", "memoryview(LockingBytearray)",
        "view(LockingBytearray,writable)", "view(LockingBytearray,exclusive-writable)"])
def test_s5_memoryview_of_non_immutable_export_refused(make):
    """§5, §6: a memoryview whose export was not granted IMMUTABLE refuses it
    with 'memoryview: cannot export PyBUF_IMMUTABLE: the underlying export is
    not immutable'; supported_flags() of it is empty."""
    m = make()
    try:
        assert bf.supported_flags(m) == NONE
        with pytest.raises(BufferError) as info:
            bf.view(m, immutable=True)
        assert str(info.value).startswith(MEMORYVIEW_MESSAGE)
        with pytest.raises(BufferError) as info:
            bf.acquire(m, IMMUTABLE)
        assert str(info.value) == MEMORYVIEW_MESSAGE
        for derived in (m[1:3], m.cast("B"), memoryview(m)):
            with pytest.raises(BufferError):
                bf.acquire(derived, IMMUTABLE)
            derived.release()
    finally:
        m.release()


@pytest.mark.parametrize("derive", [
    lambda v: v[1:4], lambda v: v[::2], lambda v: v.cast("B"), lambda v: v.cast("c"),
    lambda v: v[1:5].cast("c"), memoryview, lambda v: v.toreadonly(),
], ids=["slice", "extended-slice", "cast-B", "cast-c", "slice-cast", "memoryview(view)",
        "toreadonly"])
@pytest.mark.parametrize("source", ["bytes", "locked-immutable", "locked-exclusive-read"])
def test_s5_slices_and_casts_forward(locked_type, source, derive):
    """§5: every slice or cast of an immutable export shares it and forwards
    IMMUTABLE; the locked exporter stays held until all are released."""
    if source == "bytes":
        obj = b"abcdef"
        v = bf.view(obj, immutable=True)
    else:
        obj = locked_type(b"abcdef")
        v = bf.view(obj, immutable=True) if source == "locked-immutable" \
            else bf.view(obj, exclusive=True)
    d = derive(v)
    assert bf.supported_flags(d) == IMM
    fwd = bf.view(d, immutable=True)
    assert fwd.readonly is True
    assert fwd.tobytes() == derive(memoryview(b"abcdef")).tobytes()
    fwd.release()
    d.release()
    v.release()
    if source != "bytes":
        assert_fresh(obj, b"abcdef")


@pytest.mark.exclusive
def test_s5_memoryview_never_reexports_exclusive(locked):
    """§5: a memoryview never re-exports EXCLUSIVE, even of an exclusive
    export; it forwards IMMUTABLE of an exclusive read."""
    with bf.view(locked, exclusive=True) as v:
        assert bf.supported_flags(v) == IMM
        for flags in (EXCLUSIVE, EXCLUSIVE | IMMUTABLE, EXCLUSIVE | WRITABLE):
            with pytest.raises(BufferError) as info:
                bf.acquire(v, flags)
            assert str(info.value).startswith(
                "memoryview does not support PyBUF_EXCLUSIVE"), str(info.value)
        with pytest.raises(BufferError):
            bf.view(v, exclusive=True)
        with bf.view(v, immutable=True) as again:
            assert again.tobytes() == DATA
        assert mode_of(locked) == "EXCLUSIVE"
    assert_fresh(locked, DATA)


def test_s5_forwarded_view_keeps_the_lock(locked):
    """A forwarded immutable view keeps the exporter immutable while held."""
    outer = bf.view(locked, immutable=True)
    inner = bf.view(outer[2:], immutable=True)
    with pytest.raises(BufferError):
        locked[2] = 0
    inner.release()
    assert mode_of(locked) == "IMMUTABLE"
    outer.release()
    assert_fresh(locked, DATA)


# ---- register() / unregister() ------------------------------------------------
class MmapSub(mmap.mmap):
    """A user class exporting as mmap, which supports no new flag on either
    backend: what it honours is only what is registered for it."""


class MmapSubChild(MmapSub):
    pass


class PythonExporter:
    """A user class exporting through a Python-level __buffer__ (3.12+).
    It passes the request on to bytes through bf.acquire(), so what it
    grants is immutable on both backends (a plain memoryview(self.data)
    would not forward IMMUTABLE, §5; nor, on the shim, would
    self.data.__buffer__(flags), whose stock memoryview does not record the
    request: test_agreement.py)."""

    def __init__(self, data):
        self.data = data

    def __buffer__(self, flags):
        return bf.acquire(self.data, flags)


def _registrable():
    cases = [("bytes-subclass", type("Declared", (bytes,),
                                     {"__buffer_flags__": IMMUTABLE}),
              lambda tp: tp(b"abcd"))]
    if HAS_PEP688:
        cases.append(("python-__buffer__",
                      type("Declared", (PythonExporter,),
                           {"__buffer_flags__": IMMUTABLE}),
                      lambda tp: tp(b"abcd")))
    return cases


@pytest.mark.parametrize("name,tp,make", _registrable(),
                         ids=[c[0] for c in _registrable()])
def test_s5_register_confirms_the_class_body(name, tp, make):
    """§5: a class body declares IMMUTABLE; register() confirms it (the
    shim cannot watch class bodies being created), and the declaration is
    then honoured and fixed: unregister() is refused and changes nothing."""
    obj = make(tp)
    bf.register(tp, IMM)
    assert bf.supported_flags(tp) == IMM
    assert bf.supported_flags(obj) == IMM
    with bf.view(obj, immutable=True) as v:
        assert v.readonly is True and v.tobytes() == b"abcd"
    with bf.acquire(obj, IMMUTABLE) as v:
        assert v.readonly is True
    with pytest.raises(TypeError):
        bf.unregister(tp)
    assert bf.supported_flags(tp) == IMM


@pytest.mark.parametrize("tp", [int, MmapSub, PythonExporter],
                         ids=["int", "mmap-subclass", "python-class"])
def test_s5_unregister_is_refused(tp):
    """A declaration is fixed when the class is created: unregister() is a
    TypeError on both backends, for any type, and changes nothing."""
    before = bf.supported_flags(tp)
    with pytest.raises(TypeError) as info:
        bf.unregister(tp)
    assert repr(tp.__name__) in str(info.value)
    assert bf.supported_flags(tp) == before == NONE


@pytest.mark.parametrize("tp", [bytes, memoryview])
def test_s5_builtin_declarations_cannot_change(tp):
    """The built-in declarations can be neither withdrawn nor replaced: a
    refused unregister() or register() changes nothing (TypeError on both
    backends; natively these are immutable types)."""
    with pytest.raises(TypeError):
        bf.unregister(tp)
    with pytest.raises(TypeError):
        bf.register(tp, IMM | EXC)
    assert bf.supported_flags(tp) == IMM
    with bf.view(b"abc", immutable=True) as inner:
        assert bf.supported_flags(inner) == IMM
        with bf.view(inner, immutable=True) as outer:  # forwarding still works
            assert outer.tobytes() == b"abc"
        with pytest.raises(BufferError):
            bf.view(inner, exclusive=True)
    with pytest.raises(BufferError):
        bf.view(memoryview(b"abc"), immutable=True)


# ---- what a registered Python exporter returns (§5, memoryview forwards) ----
def _returned_views():
    """What a registered Python exporter's __buffer__ returns, and whether
    an IMMUTABLE request is granted: the request reaches the returned
    memoryview, which forwards IMMUTABLE only if its export was granted it."""
    return [
        ("readonly-view-of-bytearray",
         lambda data, flags: memoryview(data).toreadonly(), False),
        ("memoryview-of-locked", lambda data, flags: memoryview(data), False),
        ("readonly-memoryview-of-locked",
         lambda data, flags: memoryview(data).toreadonly(), False),
        ("view-writable-of-locked",
         lambda data, flags: bf.view(data, writable=True).toreadonly(), False),
        ("view-immutable-of-locked",
         lambda data, flags: bf.view(data, immutable=True), True),
        ("locked-buffer-with-the-flags",
         lambda data, flags: data.__buffer__(flags), True),
    ]


def _python_exporter(returned, flags=IMMUTABLE):
    class Exporter:
        __buffer_flags__ = flags     # declared in the class body (§5)

        def __init__(self, data):
            self.data = data
            self.views = []

        def __buffer__(self, flags):
            mv = returned(self.data, flags)
            self.views.append(mv)
            return mv
    return Exporter


@pytest.mark.skipif(not HAS_PEP688, reason="PEP 688 hooks are 3.12+")
@pytest.mark.parametrize("name,returned,granted", _returned_views(),
                         ids=[c[0] for c in _returned_views()])
def test_s5_registered_python_exporter_forwards_only_immutable_exports(
        locked_type, name, returned, granted):
    """§5: a registered Python exporter declares IMMUTABLE, but what it
    grants is its memoryview's forwarding: a read-only view of mutable
    memory is refused with the memoryview message, and the memory stays
    writable; an immutable export is granted and keeps the memory frozen."""
    tp = _python_exporter(returned)
    data = (bytearray if name == "readonly-view-of-bytearray" else locked_type)(DATA)
    obj = tp(data)
    bf.register(tp, IMM)
    try:
        if granted:
            with bf.view(obj, immutable=True) as v:
                assert v.readonly and v.tobytes() == DATA
                with pytest.raises(BufferError):
                    data[0] = 0
            assert bytes(data) == DATA
        else:
            with pytest.raises(BufferError) as info:
                bf.view(obj, immutable=True)
            assert str(info.value).startswith(MEMORYVIEW_MESSAGE), str(info.value)
            with pytest.raises(BufferError):
                bf.acquire(obj, IMMUTABLE)
            data[0] = ord("H")                      # nothing froze it
            assert bytes(data) == b"H" + DATA[1:]
    finally:
        for mv in obj.views:
            mv.release()
    if isinstance(data, locked_type):
        assert_fresh(data, bytes(data))


@pytest.mark.exclusive
@pytest.mark.skipif(not HAS_PEP688, reason="PEP 688 hooks are 3.12+")
def test_s5_python_exporter_never_supports_exclusive(locked_type):
    """§5: a memoryview never re-exports EXCLUSIVE, so a class whose
    __buffer__ is defined in Python (and returns one) never supports it,
    whatever its class body declares: register() refuses to confirm it,
    the supported flags say IMMUTABLE only, and the request is refused
    before __buffer__ runs."""
    tp = _python_exporter(lambda data, flags: data.__buffer__(flags),
                          IMMUTABLE | EXCLUSIVE)
    data = locked_type(DATA)
    obj = tp(data)
    with pytest.raises(TypeError) as info:
        bf.register(tp, IMM | EXC)
    assert "never re-exports PyBUF_EXCLUSIVE" in str(info.value), str(info.value)
    if BACKEND.native:      # the interpreter read the class body: capped
        assert bf.supported_flags(tp) == IMM
    with pytest.raises(BufferError) as info:
        bf.view(obj, exclusive=True)
    assert "does not support PyBUF_EXCLUSIVE" in str(info.value), str(info.value)
    assert obj.views == []                      # __buffer__ never ran
    assert_fresh(data, DATA)


# ---- register() refuses types that cannot keep the promise --------------------
def _unregistrable():
    """Types whose buffers only their implementation can vouch for (built-in
    or other immutable types), and the shim's own LockingBytearray (whose
    declaration is built in): register() refuses them on both backends."""
    return [
        ("bytearray", bytearray), ("array.array", array.array),
        ("mmap", mmap.mmap), ("int", int), ("io.BytesIO", io.BytesIO),
        ("bytes", bytes), ("memoryview", memoryview), ("str", str),
        ("LockingBytearray", bf.LockingBytearray),
    ]


@pytest.mark.parametrize("flags,names", [
    (IMM, "PyBUF_IMMUTABLE"), (EXC, "PyBUF_EXCLUSIVE"),
    (IMM | EXC, "PyBUF_IMMUTABLE|PyBUF_EXCLUSIVE"),
], ids=["immutable", "exclusive", "both"])
@pytest.mark.parametrize("name,tp", _unregistrable(),
                         ids=[c[0] for c in _unregistrable()])
def test_s5_register_refuses_types_that_cannot_keep_it(name, tp, flags, names):
    """§5: register() of a type that cannot keep the promise is a TypeError
    naming the type and the flags, and changes nothing."""
    before = bf.supported_flags(tp)
    with pytest.raises(TypeError) as info:
        bf.register(tp, flags)
    message = str(info.value)
    assert repr(tp.__name__) in message and names in message, message
    assert bf.supported_flags(tp) == before


def test_s5_readonly_mmap_stays_unsupported(tmp_path):
    """§7.5: a read-only mmap is never immutable: its file can change."""
    path = tmp_path / "data"
    path.write_bytes(DATA)
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        with pytest.raises(TypeError):
            bf.register(mmap.mmap, IMM)
        with pytest.raises(BufferError) as info:
            bf.view(m, immutable=True)
        assert str(info.value).startswith("mmap does not support PyBUF_IMMUTABLE")
        path.write_bytes(DATA.upper())               # the file changes under it
        assert m[:5] == DATA[:5].upper()


@pytest.mark.exclusive
def test_s5_locking_bytearray_keeps_both_flags():
    """Natively LockingBytearray is a bytearray subclass: a refused
    register() must not have replaced its declaration (EXCLUSIVE stays)."""
    with pytest.raises(TypeError):
        bf.register(bf.LockingBytearray, IMM)
    with pytest.raises(TypeError):
        bf.unregister(bf.LockingBytearray)
    assert bf.supported_flags(bf.LockingBytearray) == LOCKED_FLAGS
    with bf.view(bf.LockingBytearray(DATA), exclusive=True) as v:
        assert v.tobytes() == DATA
