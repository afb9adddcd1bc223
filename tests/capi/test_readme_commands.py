"""The README's and the examples' build commands, run as written in fresh
venvs of the running interpreter (issue 17: on 3.11 `pip install .
setuptools` kept setuptools 65.5 and the example did not build).

Slow and networked (pip fetches setuptools, cffi and Cython; bufferflags is
built twice), so it runs only with BUFFERFLAGS_FRESH_VENV=1 and is skipped,
saying so, otherwise:

    BUFFERFLAGS_FRESH_VENV=1 python -m pytest tests/capi/test_readme_commands.py
"""
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

import bufferflags as bf

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    os.environ.get("BUFFERFLAGS_FRESH_VENV") != "1",
    reason="README commands in fresh venvs NOT run: set BUFFERFLAGS_FRESH_VENV=1 "
           "(slow, needs the package index)")

EXPECTED = [
    "0xcfb8a9d063b5e9e5",
    "0xcfb8a9d063b5e9e5",
    "BufferConflictError: LockingBytearray: cannot export PyBUF_IMMUTABLE "
    "while an exclusive export is held",
    "BufferError: bytearray does not support PyBUF_IMMUTABLE (supported: none)",
]


def _sh_blocks(readme):
    return re.findall(r"```sh\n(.*?)```", readme.read_text(), re.S)


def _commands(block):
    return [line.split("#", 1)[0].strip() for line in block.splitlines()
            if line.split("#", 1)[0].strip()]


@pytest.fixture
def repo(tmp_path):
    """A copy of the tree without build products, as a fresh clone."""
    copy = tmp_path / "repo"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(
        "build", "dist", "*.so", "*.egg-info", "__pycache__", "target",
        "cpython-patch", ".git"))
    return copy


def _run_in_venv(block, repo, tmp_path):
    if bf.NATIVE:
        pytest.skip("the examples' commands are for stock CPython venvs")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    env = dict(os.environ, PATH=f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}",
               VIRTUAL_ENV=str(env_dir))
    env.pop("PYTHONPATH", None)
    out = ""
    for command in _commands(block):
        done = subprocess.run(command, shell=True, cwd=repo, env=env,
                              capture_output=True, text=True)
        assert done.returncode == 0, f"$ {command}\n{done.stdout}{done.stderr}"
        out = done.stdout
    return out.splitlines()


@pytest.mark.parametrize("example,which", [
    ("checksum", 0), ("checksum", 1), ("checksum_cython", 0), ("checksum_cython", 1),
], ids=["checksum-isolated", "checksum-no-isolation",
        "cython-isolated", "cython-no-isolation"])
def test_example_commands_as_written(example, which, repo, tmp_path):
    if example == "checksum_cython" and sys.version_info >= (3, 15):
        pytest.skip("Cython has no release for 3.15 yet")
    block = _sh_blocks(repo / "examples" / example / "README.md")[which]
    assert _run_in_venv(block, repo, tmp_path) == EXPECTED


def test_readme_commands_as_written(repo, tmp_path):
    readme = (repo / "README.md").read_text()
    section = readme.split("## For extension authors", 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert _run_in_venv(block, repo, tmp_path) == EXPECTED
