"""Typing that catches misuse (issue 17): mypy --strict and pyright, run on
a user script that uses the package as documented (no error) and on one that
misuses it (an error on exactly the marked lines).  Each checker runs where
it is installed (the test extra installs mypy; pyright from `pip install
pyright`) and is skipped, saying so, where it is not."""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent / "typing"
GOOD = HERE / "good_user.py"
BAD = HERE / "bad_user.py"


def _marked_lines(path):
    return {n for n, line in enumerate(path.read_text().splitlines(), 1)
            if "# error" in line}


def _mypy(path, tmp_path):
    pytest.importorskip("mypy", reason="mypy is not installed: NOT type-checked "
                        "with mypy (pip install mypy)")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
         "--cache-dir", str(tmp_path / "mypy-cache"), "--no-error-summary",
         "--show-error-codes", str(path)],
        capture_output=True, text=True, cwd=tmp_path)
    errors = {}
    for line in done.stdout.splitlines():
        m = re.match(r"(.*?):(\d+): error: (.*)", line)
        if m:
            errors.setdefault(int(m.group(2)), []).append(m.group(3))
    return done, errors


def _pyright(path, tmp_path):
    exe = shutil.which("pyright") or str(Path(sys.executable).parent / "pyright")
    if not Path(exe).exists():
        pytest.skip("pyright is not installed: NOT type-checked with pyright "
                    "(pip install pyright)")
    config = tmp_path / "pyrightconfig.json"
    config.write_text(json.dumps({
        "pythonVersion": "%d.%d" % sys.version_info[:2],
        "typeCheckingMode": "strict",
        "venvPath": str(Path(sys.prefix).parent),
        "venv": Path(sys.prefix).name,
    }))
    try:
        done = subprocess.run([exe, "--outputjson", "-p", str(config), str(path)],
                              capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        pytest.skip(f"pyright cannot run here: {e}: NOT type-checked with pyright")
    try:
        report = json.loads(done.stdout)
    except ValueError:
        pytest.skip("pyright cannot run here (no report: %s): NOT type-checked "
                    "with pyright" % (done.stdout + done.stderr)[-500:])
    errors = {}
    for diag in report["generalDiagnostics"]:
        if diag["severity"] == "error":
            errors.setdefault(diag["range"]["start"]["line"] + 1, []).append(
                diag["message"])
    return done, errors


@pytest.mark.parametrize("checker", [_mypy, _pyright], ids=["mypy", "pyright"])
def test_documented_use_type_checks(checker, tmp_path):
    done, errors = checker(GOOD, tmp_path)
    assert errors == {}, done.stdout + done.stderr


@pytest.mark.parametrize("checker", [_mypy, _pyright], ids=["mypy", "pyright"])
def test_misuse_is_reported(checker, tmp_path):
    done, errors = checker(BAD, tmp_path)
    assert set(errors) == _marked_lines(BAD), done.stdout + done.stderr


def test_conflict_class_is_a_class_to_mypy(tmp_path):
    """The failure issue 17 reports: `Class cannot subclass
    "BufferConflictError" (has type "Any")` under --strict."""
    done, errors = _mypy(GOOD, tmp_path)
    assert "has type \"Any\"" not in done.stdout, done.stdout
