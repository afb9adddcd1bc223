"""§5 declarations nobody can forge (issue 21), from Python, on both backends.

* A type's supported flags are fixed when it is created: assigning or
  deleting ``__buffer_flags__`` afterwards is refused natively, and grants
  nothing on the shim (which reads no attributes, only what register()
  confirmed against the class body).
* A class body's declaration is capped by the C-level base it exports
  through: an mmap.mmap subclass gets nothing, a bytes subclass at most
  IMMUTABLE.
* The checked Python entry point: natively ``memoryview(obj, flags=...)``,
  on the shim ``bufferflags.acquire()``, applies the checks to every
  exporter, Python classes included.

Types made in C (which inherit nothing) are in tests/capi/test_declarations.py.
"""
import ctypes
import mmap

import pytest

import bufferflags as bf

from ._support import FULL_RO, IMMUTABLE, LOCKED_FLAGS, WRITABLE
from .conftest import BACKEND, DATA, HAS_PEP688

IMM = bf.BufferFlags.IMMUTABLE
EXC = bf.BufferFlags.EXCLUSIVE
NONE = bf.BufferFlags(0)


def checked_view(obj, flags):
    """The checked Python entry point of the backend."""
    if BACKEND.native:
        return memoryview(obj, flags=flags)
    return bf.acquire(obj, FULL_RO | flags)


class WritableExporter:
    """A Python exporter of mutable memory that declares nothing."""

    def __init__(self, data):
        self.data = bytearray(data)

    def __buffer__(self, flags):
        return memoryview(self.data)


def _forgeable():
    cases = [("ctypes-array", ctypes.c_char * len(DATA),
              lambda tp: tp.from_buffer_copy(DATA)),
             ("mmap-subclass", type("MmapSub", (mmap.mmap,), {}),
              lambda tp: tp(-1, len(DATA)))]
    if HAS_PEP688:
        cases.append(("python-__buffer__", type("Exporter", (WritableExporter,), {}),
                      lambda tp: tp(DATA)))
    return cases


@pytest.mark.parametrize("name,tp,make", _forgeable(),
                         ids=[c[0] for c in _forgeable()])
def test_s5_assigning_a_declaration_after_creation_grants_nothing(name, tp, make):
    """`T.__buffer_flags__ = IMMUTABLE` from outside the class: refused
    natively (TypeError naming the type), and on either backend the flag
    stays refused and the memory writable."""
    obj = make(tp)
    if BACKEND.native:
        with pytest.raises(TypeError) as info:
            tp.__buffer_flags__ = int(IMMUTABLE)
        assert repr(tp.__name__) in str(info.value)
        assert "fixed when" in str(info.value)
        with pytest.raises(TypeError):
            del tp.__buffer_flags__
        assert "__buffer_flags__" not in tp.__dict__
    else:
        tp.__buffer_flags__ = int(IMMUTABLE)   # an attribute the shim never reads
    assert bf.supported_flags(tp) == NONE
    with pytest.raises(BufferError) as info:
        bf.view(obj, immutable=True)
    assert not isinstance(info.value, bf.BufferConflictError)
    with pytest.raises(BufferError):
        checked_view(obj, IMMUTABLE)
    with memoryview(obj) as mv:
        if mv.ndim:
            mv.cast("B")[0] = ord("H")           # nothing froze it


def test_s5_register_needs_the_class_body():
    """register() confirms a class body's declaration; it cannot make one
    (TypeError on both backends, changing nothing)."""
    class Undeclared(mmap.mmap):
        pass

    class Declared(bytes):
        __buffer_flags__ = int(IMMUTABLE)

    with pytest.raises(TypeError) as info:
        bf.register(Undeclared, IMM)
    assert "'Undeclared'" in str(info.value)
    assert "class body" in str(info.value)
    with pytest.raises(TypeError) as info:
        bf.register(Declared, IMM | EXC)
    assert "declares PyBUF_IMMUTABLE" in str(info.value)
    bf.register(Declared, IMM)
    bf.register(Declared, IMM)                 # confirming twice is fine
    assert bf.supported_flags(Declared) == IMM
    with pytest.raises(TypeError) as info:
        bf.unregister(Declared)
    assert "fixed when" in str(info.value)
    assert bf.supported_flags(Declared) == IMM


@pytest.mark.parametrize("base,declared,effective,supported", [
    (mmap.mmap, IMM, NONE, "none"),
    (bytes, EXC, NONE, "PyBUF_IMMUTABLE"),
    # a class body declaring EXCLUSIVE needs an interpreter that knows it
    pytest.param(bytes, IMM | EXC, IMM, "PyBUF_IMMUTABLE",
                 marks=pytest.mark.exclusive),
], ids=["mmap-immutable", "bytes-exclusive", "bytes-both"])
def test_s5_a_declaration_is_capped_by_the_base_it_exports_through(
        base, declared, effective, supported):
    """A subclass that exports through its C base's buffer procs cannot
    promise more than that base: an mmap's file can change underneath
    (§7.5), nothing can stop bytes(x) or x.find() reading a bytes."""
    Sub = type("Sub", (base,), {"__buffer_flags__": int(declared)})
    with pytest.raises(TypeError) as info:
        bf.register(Sub, declared)
    message = str(info.value)
    assert "'Sub'" in message and repr(base.__name__) in message, message
    assert message.endswith("which supports " + supported), message
    assert bf.supported_flags(Sub) == effective
    obj = Sub(-1, 4) if base is mmap.mmap else Sub(b"abcd")
    if not effective & IMM:
        with pytest.raises(BufferError):
            bf.view(obj, immutable=True)
    with pytest.raises(BufferError):
        bf.view(obj, exclusive=True)


def test_s5_python_subclass_of_a_locked_type_still_inherits(locked_type):
    """The rule that stays: a Python subclass exporting exactly as its
    declaring base inherits its declaration, and keeps it."""
    Sub = type("Sub", (locked_type,), {})
    assert bf.supported_flags(Sub) == LOCKED_FLAGS
    obj = Sub(DATA)
    with bf.view(obj, immutable=True) as v:
        with pytest.raises(bf.BufferConflictError):
            obj[0] = 0
        assert v.tobytes() == DATA


@pytest.mark.skipif(not HAS_PEP688, reason="PEP 688 hooks are 3.12+")
def test_s2_checked_entry_point_refuses_an_undeclared_python_exporter():
    """The checked entry point refuses IMMUTABLE from a Python exporter that
    declares nothing, before its __buffer__ runs; calling its __buffer__
    directly runs only its own code (and hands out a writable view: the
    PEP says not to use it for a guarantee)."""
    obj = WritableExporter(DATA)
    with pytest.raises(BufferError) as info:
        checked_view(obj, IMMUTABLE)
    assert str(info.value).startswith(
        "WritableExporter does not support PyBUF_IMMUTABLE"), str(info.value)
    raw = obj.__buffer__(int(IMMUTABLE))
    assert not raw.readonly                    # nothing checked this call
    raw.release()
    obj.data[0] = ord("H")
    assert bytes(obj.data) == b"H" + DATA[1:]


def test_s2_checked_entry_point_grants_and_holds(locked_type):
    """memoryview(obj, flags=IMMUTABLE) (natively; acquire() on the shim)
    is a real IMMUTABLE export: writes are refused while it is held, it
    forwards IMMUTABLE, and releasing it frees the object."""
    obj = locked_type(DATA)
    with checked_view(obj, IMMUTABLE) as v:
        assert v.readonly and v.tobytes() == DATA
        with pytest.raises(bf.BufferConflictError):
            obj[0] = 0
        with bf.view(v, immutable=True) as again:
            assert again.tobytes() == DATA
    obj[0] = ord("H")
    assert bytes(obj) == b"H" + DATA[1:]


@pytest.mark.exclusive
@pytest.mark.skipif(not BACKEND.native, reason="the memoryview keyword is native")
def test_s2_memoryview_flags_keyword():
    """memoryview(obj, flags=...) ORs flags into PyBUF_FULL_RO; WRITABLE
    asks for a writable view; flags must be an int; without flags it is
    the memoryview of before."""
    ba = bytearray(DATA)
    with memoryview(ba, flags=WRITABLE | EXC) as v:
        v[0] = ord("H")
        with pytest.raises(bf.BufferConflictError):
            len(bytes(ba))
    assert ba[:1] == b"H"
    with memoryview(b"abc", flags=IMMUTABLE) as v:
        assert v.readonly and v.format == "B"
    with pytest.raises(TypeError):
        memoryview(ba, flags="IMMUTABLE")
    with pytest.raises(BufferError):
        memoryview(ba, flags=IMMUTABLE | WRITABLE)
    assert memoryview(ba).readonly is False
