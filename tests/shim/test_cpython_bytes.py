"""CPython's own bytearray tests against LockingBytearray.

The running interpreter's Lib/test/test_bytes.py (ByteArrayTest,
ByteArrayAsStringTest, BytearrayPEP3137Test and the two subclass tests) is
run twice in a subprocess (_cpython_bytes.py): with the class under test
replaced by LockingBytearray, and by a plain bytearray subclass, the
control.  LockingBytearray must pass every test the control passes: tests
that only hold for exact bytearray (``type(b % x) is type2test``, a
subprocess naming the class as a builtin) fail on both and are not ours to
pass.  Where the interpreter ships no test package (Debian without
libpython3.X-testsuite) the tests are skipped, saying so.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

RUNNER = Path(__file__).resolve().parent / "_cpython_bytes.py"
CLASSES = ["ByteArrayTest", "ByteArrayAsStringTest", "BytearrayPEP3137Test",
           "ByteArraySubclassTest", "ByteArraySubclassWithSlotsTest"]
PASSED = ("pass", "skip", "xfail")


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    done = subprocess.run([sys.executable, str(RUNNER)], capture_output=True,
                          text=True, timeout=900,
                          cwd=tmp_path_factory.mktemp("cpython_bytes"))
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    if "missing" in result:
        pytest.skip("this interpreter's test package has no test_bytes "
                    "(Debian: install libpython3.%d-testsuite): %s"
                    % (sys.version_info[1], result["missing"]))
    return result["classes"]


@pytest.mark.parametrize("cls", CLASSES)
def test_locking_bytearray_passes_where_a_plain_subclass_does(outcomes, cls):
    if cls not in outcomes:
        pytest.skip("this interpreter's test_bytes has no %s" % cls)
    locked, control = outcomes[cls]["locked"], outcomes[cls]["control"]
    assert sorted(locked) == sorted(control)
    assert sum(o == "pass" for o, _ in locked.values()) > 0
    only_locked = {name: locked[name] for name, (o, _) in control.items()
                   if o in PASSED and locked[name][0] not in PASSED}
    assert not only_locked, "\n\n".join(
        "%s: %s\n%s" % (name, o, detail) for name, (o, detail) in only_locked.items())
