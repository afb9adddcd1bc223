"""examples/checksum, and the README's "For extension authors" code, build
and run as written, on every interpreter the suite runs on."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import bufferflags as bf

from ._build import build_extension
from .conftest import VARIANTS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "checksum"


def _readme_blocks(lang):
    """The code blocks of README.md's "For extension authors" section."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## For extension authors", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```%s\n(.*?)```" % lang, section, re.S)


def fnv1a(data):
    h = 0xcbf29ce484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


@pytest.fixture(scope="module", params=list(VARIANTS))
def checksum(request, tmp_path_factory):
    """The example built against the full C API and, where the interpreter
    allows it, the limited API 3.11 (as tests/capi/_bfcheck.c)."""
    built = build_extension(EXAMPLE / "checksum.c", "checksum",
                            tmp_path_factory.mktemp("example"),
                            VARIANTS[request.param])
    assert "warning" not in built.warnings, built.warnings
    return built


def test_readme_c_is_the_example():
    """The C the README shows first is examples/checksum/checksum.c,
    verbatim (the second is the unique-symbol lines, tests/capi/_twofile.h)."""
    blocks = _readme_blocks("c")
    assert blocks[0] in (EXAMPLE / "checksum.c").read_text()
    assert "#define BUFFERFLAGS_UNIQUE_SYMBOL" in blocks[1]


def test_readme_commands_are_the_examples():
    """The README's build commands are the ones examples/checksum/README.md
    gives (test_readme_commands.py runs them in fresh venvs)."""
    [readme] = _readme_blocks("sh")
    example = (EXAMPLE / "README.md").read_text()
    assert readme in example


@pytest.mark.exclusive
def test_checksum(checksum):
    fn = checksum.module.checksum
    data = bf.LockingBytearray(b"payload")
    assert fn(data) == fn(b"payload") == fnv1a(b"payload")
    with bf.view(data, exclusive=True, writable=True):
        with pytest.raises(BufferError, match="exclusive export is held"):
            fn(data)
    if bf.NATIVE:
        assert fn(bytearray(b"payload")) == fnv1a(b"payload")
    else:
        with pytest.raises(BufferError, match="bytearray does not support"):
            fn(bytearray(b"payload"))


@pytest.mark.exclusive
def test_demo_runs_as_written(checksum):
    """demo.py (the README's Python block) with the built module on the path."""
    [block] = _readme_blocks("python")
    assert block == (EXAMPLE / "demo.py").read_text().split('"""\n', 2)[-1]
    done = subprocess.run([sys.executable, str(EXAMPLE / "demo.py")],
                          capture_output=True, text=True, cwd=EXAMPLE,
                          env=_env(checksum.path.parent))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == lines[1] == hex(fnv1a(b"payload"))
    assert lines[2] == ("BufferConflictError: LockingBytearray: cannot export "
                        "PyBUF_IMMUTABLE while an exclusive export is held")
    assert lines[3] == (
        "bytearray: granted (this interpreter locks bytearray)" if bf.NATIVE
        else "BufferError: bytearray does not support PyBUF_IMMUTABLE "
             "(supported: none)")


def _env(module_dir):
    env = dict(os.environ)
    paths = [str(module_dir)] + [p for p in sys.path if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def test_pxd_ships_next_to_the_header():
    """bufferflags.pxd is installed in get_include(), next to bufferflags.h,
    and declares every function the header offers a Cython user."""
    pxd = Path(bf.get_include()) / "bufferflags.pxd"
    text = pxd.read_text()
    for name in ("BufferFlags_Import", "BufferFlags_SupportedFlags",
                 "BufferFlags_GetBuffer", "PyBUF_IMMUTABLE", "PyBUF_EXCLUSIVE"):
        assert name in text, name
    assert 'cdef extern from "bufferflags.h"' in text


def _cythonize(pyx, out):
    """Cython's command line with get_include() as include path, as the
    example's setup.py passes it to cythonize()."""
    done = subprocess.run(
        [sys.executable, "-m", "cython", "-3", "-I", bf.get_include(),
         "-o", str(out), str(pyx)],
        capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


@pytest.mark.exclusive
def test_cython_variant(tmp_path):
    """examples/checksum_cython: `from bufferflags cimport ...` through the
    shipped .pxd, built and run, where Cython is installed (the test extra
    installs it)."""
    pytest.importorskip("Cython")
    source = _cythonize(ROOT / "examples" / "checksum_cython" / "checksum_cy.pyx",
                        tmp_path / "checksum_cy.c")
    built = build_extension(source, "checksum_cy", tmp_path / "build")
    module = built.module
    data = bf.LockingBytearray(b"payload")
    assert module.checksum(data) == fnv1a(b"payload")
    assert module.supported_flags(b"") == int(bf.supported_flags(b""))
    with bf.view(data, exclusive=True):
        with pytest.raises(BufferError, match="exclusive export is held"):
            module.checksum(data)
    if not bf.NATIVE:
        with pytest.raises(BufferError, match="bytearray does not support"):
            module.checksum(bytearray(b"payload"))
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "checksum_cython" / "demo.py")],
                          capture_output=True, text=True, env=_env(built.path.parent))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == [hex(fnv1a(b"payload"))] * 2


def test_cython_pxd_is_required(tmp_path):
    """The control: without get_include() on Cython's include path the
    cimport fails, so test_cython_variant really goes through the .pxd."""
    pytest.importorskip("Cython")
    done = subprocess.run(
        [sys.executable, "-m", "cython", "-3", "-o", str(tmp_path / "x.c"),
         str(ROOT / "examples" / "checksum_cython" / "checksum_cy.pyx")],
        capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode != 0
    assert "bufferflags.pxd" in done.stdout + done.stderr or \
        "cimported module" in done.stdout + done.stderr, done.stdout + done.stderr
