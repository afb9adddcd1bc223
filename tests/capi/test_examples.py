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
    """The C the README shows is examples/checksum/checksum.c, verbatim."""
    [block] = _readme_blocks("c")
    assert block in (EXAMPLE / "checksum.c").read_text()


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


def test_cython_variant(tmp_path):
    """examples/checksum_cython, where Cython is installed (not in the
    suite's own environments: skipped there)."""
    pytest.importorskip("Cython")
    source = tmp_path / "checksum_cy.c"
    done = subprocess.run(
        [sys.executable, "-m", "cython", "-3", "-o", str(source),
         str(ROOT / "examples" / "checksum_cython" / "checksum_cy.pyx")],
        capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    module = build_extension(source, "checksum_cy", tmp_path / "build").module
    data = bf.LockingBytearray(b"payload")
    assert module.checksum(data) == fnv1a(b"payload")
    assert module.supported_flags(b"") == int(bf.supported_flags(b""))
    with bf.view(data, exclusive=True):
        with pytest.raises(BufferError, match="exclusive export is held"):
            module.checksum(data)
