"""§5 declarations of types made in C (issue 21), on both backends.

A type made in C -- static, or by PyType_FromSpec() -- has the declaration
its module initialisation writes into its dict, or none: it inherits
nothing, so an extension written before the PEP that subclasses bytearray
(natively; LockingBytearray on the shim) and reaches the memory through
PyByteArray_AS_STRING() is never vouched for by its base.  A declaration
that is false (a writable buffer granted for PyBUF_IMMUTABLE) gets nothing:
SystemError, and the export is released.
"""
from pathlib import Path

import pytest

import bufferflags as bf

from ._build import build_extension

HERE = Path(__file__).resolve().parent
DATA = b"declared in C"
IMM = bf.BufferFlags.IMMUTABLE
EXC = bf.BufferFlags.EXCLUSIVE
NONE = bf.BufferFlags(0)
LOCKED = bytearray if bf.NATIVE else bf.LockingBytearray


@pytest.fixture(scope="module")
def ext(tmp_path_factory):
    built = build_extension(HERE / "_subtypes.c", "_subtypes",
                            tmp_path_factory.mktemp("subtypes"))
    assert "warning" not in built.warnings, built.warnings
    return built.module


@pytest.mark.parametrize("immutabletype", [False, True],
                         ids=["mutable-heap-type", "immutable-heap-type"])
def test_s5_c_subclass_that_declares_nothing_inherits_nothing(ext, immutabletype):
    Sub = ext.subclass(LOCKED, "_subtypes.Sub", immutabletype, -1)
    PySub = type("PySub", (Sub,), {})     # and nothing below it either
    for tp in (Sub, PySub):
        assert bf.supported_flags(tp) == NONE
        obj = tp(DATA)
        with pytest.raises(BufferError) as info:
            bf.view(obj, immutable=True)
        assert not isinstance(info.value, bf.BufferConflictError)
        assert str(info.value).startswith(
            "%s does not support PyBUF_IMMUTABLE" % tp.__name__), info.value
        with pytest.raises(BufferError):
            bf.view(obj, exclusive=True)
        obj[0] = ord("D")                     # nothing is held
        assert bytes(obj) == b"D" + DATA[1:]


def test_s5_static_c_subclass_inherits_nothing(ext):
    tp = ext.StaticByteArraySub
    assert bf.supported_flags(tp) == NONE
    with pytest.raises(BufferError):
        bf.view(tp(DATA), immutable=True)


@pytest.mark.exclusive
@pytest.mark.parametrize("immutabletype", [False, True],
                         ids=["mutable-heap-type", "immutable-heap-type"])
def test_s5_c_subclass_that_declares_has_it(ext, immutabletype):
    """The subclass's module initialisation writes its declaration; a
    mutable heap type is confirmed with register() as a class body would be
    (the shim cannot see the dict being written); an immutable one needs
    nothing more, and register() refuses it (only its implementation
    declares)."""
    Sub = ext.subclass(LOCKED, "_subtypes.Declared", immutabletype, int(IMM | EXC))
    if immutabletype:
        with pytest.raises(TypeError):
            bf.register(Sub, IMM | EXC)
    else:
        bf.register(Sub, IMM | EXC)
    assert bf.supported_flags(Sub) == IMM | EXC
    obj = Sub(DATA)
    with bf.view(obj, exclusive=True, writable=True) as v:
        v[0] = ord("X")
        with pytest.raises(bf.BufferConflictError):
            obj[1] = 0
    assert bytes(obj) == b"X" + DATA[1:]


def test_s5_false_declaration_gets_nothing(ext):
    """A type declaring IMMUTABLE whose buffer is writable: the grant is
    checked against the request, released, and refused with SystemError."""
    Liar = ext.declaring(int(IMM))
    bf.register(Liar, IMM)
    obj = Liar()
    with pytest.raises(SystemError) as info:
        bf.view(obj, immutable=True)
    assert "WritableExporter" in str(info.value), info.value
    assert "PyBUF_IMMUTABLE" in str(info.value), info.value
    assert obj.exports == 0                  # released on the refusal
    if bf.NATIVE:
        with pytest.raises(SystemError):
            memoryview(obj, flags=int(IMM))
        assert obj.exports == 0
    with memoryview(obj) as mv:              # plain requests are unchanged
        mv[0] = 1
    assert obj.exports == 0
