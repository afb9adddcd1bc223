"""bufferflags.h from several C files of one extension (issue 17): with
BUFFERFLAGS_UNIQUE_SYMBOL in every file and BUFFERFLAGS_NO_IMPORT in all but
the importing one, the file that never calls BufferFlags_Import() uses the
binding the module init made.  Without the mode it fails as the header says
(the control: the test of the mode can fail)."""
import subprocess
import sysconfig
from pathlib import Path

import pytest

import bufferflags as bf

from ._build import build_extension
from .conftest import VARIANTS

HERE = Path(__file__).resolve().parent
SOURCES = [HERE / "_twofile_main.c", HERE / "_twofile_helper.c"]


@pytest.fixture(scope="module", params=list(VARIANTS))
def variant(request):
    return request.param


@pytest.fixture(scope="module")
def unique(variant, tmp_path_factory):
    built = build_extension(SOURCES, "_twofile",
                            tmp_path_factory.mktemp("twofile-unique"),
                            VARIANTS[variant] + ("TWOFILE_UNIQUE",))
    assert "warning" not in built.warnings, built.warnings
    return built


@pytest.fixture(scope="module")
def per_file(variant, tmp_path_factory):
    built = build_extension(SOURCES, "_twofile",
                            tmp_path_factory.mktemp("twofile-per-file"),
                            VARIANTS[variant])
    assert "warning" not in built.warnings, built.warnings
    return built


def test_second_file_uses_the_binding(unique):
    ext = unique.module
    data = bf.LockingBytearray(b"\x01\x02\x03")
    assert ext.immutable_sum(data) == 6
    assert ext.immutable_sum(b"\x05\x05") == 10
    for obj in (b"", data, bytearray(), memoryview(b"")):
        assert (ext.helper_supported(obj) == ext.main_supported(obj)
                == int(bf.supported_flags(obj)))


@pytest.mark.exclusive
def test_second_file_refuses_as_the_first(unique):
    ext = unique.module
    data = bf.LockingBytearray(b"xy")
    with bf.view(data, exclusive=True):
        with pytest.raises(bf.BufferConflictError,
                           match="exclusive export is held"):
            ext.immutable_sum(data)
    if not bf.NATIVE:
        with pytest.raises(BufferError, match="bytearray does not support"):
            ext.immutable_sum(bytearray(b"xy"))


def test_one_symbol_shared(unique):
    """The unique symbol is one definition in the module (nm: a data symbol
    defined once), not a copy per file."""
    done = subprocess.run(["nm", str(unique.path)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip("nm is not available: " + done.stderr.strip())
    lines = [line for line in done.stdout.splitlines()
             if line.endswith(" twofile_bufferflags_api")]
    assert len(lines) == 1 and lines[0].split()[-2] in ("B", "b", "D", "d"), lines


def test_without_the_mode_the_second_file_is_unbound(per_file):
    """What the mode fixes: each file's static binding, the helper's never
    made."""
    ext = per_file.module
    assert ext.main_supported(b"") == int(bf.IMMUTABLE)
    with pytest.raises(RuntimeError,
                       match=r"call BufferFlags_Import\(\) first .*"
                             r"BUFFERFLAGS_UNIQUE_SYMBOL"):
        ext.immutable_sum(b"xy")


def test_no_import_without_unique_symbol_is_a_compile_error(tmp_path):
    """BUFFERFLAGS_NO_IMPORT alone would leave an undefined binding: the
    header stops the build with a message."""
    source = tmp_path / "bad.c"
    source.write_text('#include <Python.h>\n#define BUFFERFLAGS_NO_IMPORT\n'
                      '#include "bufferflags.h"\n')
    with pytest.raises(RuntimeError,
                       match="BUFFERFLAGS_NO_IMPORT needs "
                             "BUFFERFLAGS_UNIQUE_SYMBOL"):
        build_extension(source, "bad", tmp_path / "out")
