"""What Cython-generated code does to a bytearray another holder keeps
(issue 21, proposal/compatibility.md): proposal/compat/ba_setitem.pyx built
for the patched interpreter.

Cython compiles `ba[i] = v` on a `bytearray`-typed argument to
__Pyx_SetItemInt_ByteArray_Fast, which stores through PyByteArray_AS_STRING:
no state check, so the store lands under an immutable or exclusive export of
another holder (outside the guarantee, Specification "Direct memory
access").  The same line on an untyped object goes through the type's
sq_ass_item and is refused.  These tests pin both down, so a change on either
side (Cython's code or the series) shows here and in the document.

The patched interpreter has no Cython; its C is version-independent, so a
stock venv's Cython (make test installs it with the `test` extra) writes it
and this interpreter compiles it.  Skipped, saying why, where no Cython is
found.
"""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

import bufferflags
from bufferflags import BufferConflictError, view

pytestmark = pytest.mark.skipif(
    not bufferflags.NATIVE, reason="needs the patched interpreter"
)

ROOT = Path(__file__).resolve().parents[2]
COMPAT = ROOT / "proposal" / "compat"


def _has_cython(python):
    return subprocess.run([python, "-c", "import Cython"],
                          capture_output=True).returncode == 0


def _cython_python():
    """An interpreter that can run Cython: this one, $BUFFERFLAGS_CYTHON_PYTHON,
    or a stock venv make test made (build/venv/*/bin/python)."""
    candidates = [sys.executable, os.environ.get("BUFFERFLAGS_CYTHON_PYTHON", "")]
    candidates += sorted(str(p) for p in (ROOT / "build" / "venv").glob("*/bin/python"))
    for python in candidates:
        if python and Path(python).exists() and _has_cython(python):
            return python
    return None


@pytest.fixture(scope="module")
def m(tmp_path_factory):
    python = _cython_python()
    if python is None:
        pytest.skip("Cython is not importable here nor in $BUFFERFLAGS_CYTHON_PYTHON "
                    "or build/venv/*/bin/python: Cython-generated code NOT tested")
    spec = importlib.util.spec_from_file_location("compat_build", COMPAT / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    lib = build.build(tmp_path_factory.mktemp("cython"), python)
    spec = importlib.util.spec_from_file_location("ba_setitem", lib)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    c_source = (lib.parent / "ba_setitem.c").read_text()
    return module, c_source


def test_generated_c_stores_through_the_macro(m):
    _, c = m
    assert "__Pyx_SetItemInt_ByteArray(__pyx_v_ba, __pyx_v_i" in c      # set_typed
    assert "__Pyx_SetItemInt(__pyx_v_ba, __pyx_v_i" in c                # set_untyped
    assert "PyByteArray_AS_STRING(string)[i] = (char) v;" in c
    assert "__Pyx_PyObject_AsWritableString(__pyx_v_ba)" in c           # char *p = ba


@pytest.mark.parametrize("flags", [dict(immutable=True),
                                   dict(exclusive=True, writable=True)])
def test_typed_setitem_lands_under_anothers_export(m, flags):
    """The guarantee's documented gap: the typed store is not checked."""
    module, _ = m
    ba = bytearray(b"abc")
    with view(ba, **flags) as held:
        module.set_typed(ba, 0, ord("X"))
        module.set_annotated(ba, 1, ord("Y"))
        module.set_newline(ba, 2)
        assert bytes(held) == b"XY\n"
    assert ba == b"XY\n"


@pytest.mark.parametrize("flags,message", [
    (dict(immutable=True), "cannot modify while 1 immutable export is held"),
    (dict(exclusive=True, writable=True), "cannot modify while an exclusive export is held"),
])
def test_untyped_setitem_is_refused(m, flags, message):
    module, _ = m
    ba = bytearray(b"abc")
    with view(ba, **flags) as held:
        with pytest.raises(BufferConflictError, match=message):
            module.set_untyped(ba, 0, ord("X"))
        assert bytes(held) == b"abc"
    module.set_untyped(ba, 0, ord("X"))          # free again: allowed
    assert ba == b"Xbc"


@pytest.mark.exclusive
def test_typed_getitem_reads_under_anothers_exclusive(m):
    """A typed ba[i] reads through the macro (under EXCLUSIVE, outside the
    guarantee); the untyped read is an own read and is refused."""
    module, c = m
    assert "__Pyx_GetItemInt_ByteArray(__pyx_v_ba, __pyx_v_i" in c
    ba = bytearray(b"abc")
    with view(ba, exclusive=True, writable=True):
        assert module.get_typed(ba, 1) == ord("b")
        with pytest.raises(BufferConflictError):
            module.get_untyped(ba, 1)


@pytest.mark.exclusive
def test_char_pointer_coercion_is_unchecked(m):
    module, _ = m
    ba = bytearray(b"abc")
    with view(ba, immutable=True) as held:
        module.write_char_ptr(ba, 0, ord("X"))
        module.write_char_ptr_untyped(ba, 1, ord("Y"))
        assert bytes(held) == b"XYc"
    with view(ba, exclusive=True, writable=True):
        assert module.read_char_ptr(ba, 2) == ord("c")      # a read under EXCLUSIVE
        with pytest.raises(BufferConflictError):
            module.to_bytes(ba)                             # bytes() asks for a buffer


def test_plain_memoryview_holder_sees_writes_as_before(m):
    """Without the flags nothing changes: every store lands, as on stock."""
    module, _ = m
    ba = bytearray(b"abc")
    with memoryview(ba) as held:
        module.set_typed(ba, 0, ord("X"))
        module.set_untyped(ba, 1, ord("Y"))
        assert bytes(held) == b"XYc"
