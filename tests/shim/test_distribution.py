"""What a maintainer would publish (issue 17): `python -m build` of a clean
copy of the tree, its sdist and wheel contents, the wheel's metadata, and no
compiler warning while the C part builds (the build compiles from the sdist,
as `pip install` of the sdist does).  Skipped, saying so, where `build` is
not installed (the test extra installs it); the isolated build fetches
setuptools and cffi from the package index.

Also, without `build`: the C part compiles without a warning under
-O3 -Wall -Wextra with the running interpreter's compiler and flags."""
import email.parser
import importlib.util
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

import bufferflags as bf

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "shim" / "bufferflags"
BUILD_ONLY = ["_locking.c", "_c_api.c", "_buflock.h", "_native_build.py"]
WARNING = re.compile(r"(?m)^.*: warning: .*$")


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    if importlib.util.find_spec("build") is None:
        pytest.skip("`build` is not installed: python -m build output NOT "
                    "checked (pip install build)")
    tmp = tmp_path_factory.mktemp("dist")
    tree = tmp / "tree"
    shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(
        "build", "dist", ".git", "*.so", "*.o", "*.egg-info", "__pycache__",
        ".hypothesis", "target", "checksum_cy.c"))
    done = subprocess.run([sys.executable, "-m", "build", "--outdir",
                           str(tmp / "out"), str(tree)],
                          capture_output=True, text=True)
    output = done.stdout + done.stderr
    if done.returncode != 0 and re.search(
            r"(?i)(could not find a version|no matching distribution|"
            r"network is unreachable|connection)", output):
        pytest.skip("the isolated build cannot reach the package index: "
                    "python -m build output NOT checked\n" + output[-2000:])
    assert done.returncode == 0, output[-5000:]
    [sdist] = (tmp / "out").glob("*.tar.gz")
    [wheel] = (tmp / "out").glob("*.whl")
    return sdist, wheel, output


def test_no_compiler_warning_building_from_the_sdist(dists):
    _, _, output = dists
    assert "gcc" in output or "cc " in output or "clang" in output, \
        "the compiler's command line is not in the output: cannot check"
    assert WARNING.findall(output) == []


def test_wheel_contents(dists):
    _, wheel, _ = dists
    names = zipfile.ZipFile(wheel).namelist()
    package = {n.split("/", 1)[1] for n in names if n.startswith("bufferflags/")}
    for needed in ("__init__.py", "__main__.py", "py.typed", "_view.py",
                   "include/bufferflags.h", "include/bufferflags.pxd"):
        assert needed in package, needed
    assert any(re.fullmatch(r"_native\..*\.so", n) for n in package), package
    for build_only in BUILD_ONLY:
        assert build_only not in package, build_only
    assert not [n for n in names if n.startswith(("tests/", "examples/"))]


def test_wheel_metadata(dists):
    _, wheel, _ = dists
    with zipfile.ZipFile(wheel) as zf:
        [meta_name] = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        meta = email.parser.Parser().parsestr(zf.read(meta_name).decode())
    assert meta["Name"] == "bufferflags"
    assert meta["Version"] == bf.__version__
    assert meta["Requires-Python"] == ">=3.11"
    assert meta["License-Expression"] == "MIT"
    assert meta["Author-email"]
    assert meta.get_all("Project-URL")
    assert meta["Description-Content-Type"] == "text/markdown"
    classifiers = meta.get_all("Classifier")
    for needed in ("Development Status :: 3 - Alpha", "Typing :: Typed",
                   "Programming Language :: Python :: 3.11",
                   "Programming Language :: Python :: Implementation :: CPython"):
        assert needed in classifiers, needed
    assert "cffi>=1.17" in meta.get_all("Requires-Dist")
    assert "test" in meta.get_all("Provides-Extra")


def test_sdist_contents(dists):
    sdist, _, _ = dists
    with tarfile.open(sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    for needed in ["pyproject.toml", "setup.py", "README.md", "CHANGELOG.md",
                   "LICENSE", "pep-draft.md", "proposal/semantics.md",
                   "shim/bufferflags/include/bufferflags.h",
                   "shim/bufferflags/include/bufferflags.pxd",
                   "tests/conformance/conftest.py", "tests/capi/_bfcheck.c",
                   "tests/capi/_twofile_main.c",
                   "examples/checksum/checksum.c", "examples/checksum/README.md",
                   "examples/checksum/pyproject.toml",
                   "examples/checksum_cython/checksum_cy.pyx",
                   "examples/checksum_cython/README.md"] + [
                       "shim/bufferflags/" + f for f in BUILD_ONLY]:
        assert needed in names, needed
    generated = [n for n in names if n.endswith((".so", ".o", ".pyc"))
                 or n == "examples/checksum_cython/checksum_cy.c"]
    assert generated == []


def test_native_source_compiles_without_warnings(tmp_path):
    """The cffi-generated module (_locking.c and _c_api.c included) with the
    interpreter's compiler and CFLAGS, at -O3 (where GCC's -Warray-bounds
    looks) with -Wall -Wextra."""
    if bf.NATIVE:
        pytest.skip("the shim's C part is not built where the flags are native")
    spec = importlib.util.spec_from_file_location(
        "_native_build_for_test", PACKAGE / "_native_build.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    source = tmp_path / "_native.c"
    builder.ffibuilder.emit_c_code(str(source))
    config = lambda name: shlex.split(sysconfig.get_config_var(name) or "")
    cmd = (config("CC") + config("CFLAGS") + config("CCSHARED")
           + ["-I" + sysconfig.get_path("include"), "-I" + str(PACKAGE),
              "-D_CFFI_NO_LIMITED_API", "-std=c11", "-O3", "-Wall", "-Wextra",
              "-c", str(source), "-o", str(tmp_path / "_native.o")])
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert WARNING.findall(done.stderr) == [], done.stderr
