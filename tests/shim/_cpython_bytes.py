"""Run this interpreter's own bytearray tests (Lib/test/test_bytes.py) with
the class under test replaced, and print the outcomes as JSON.

    python _cpython_bytes.py

For each of test_bytes' bytearray test classes it runs two variants: the
class under test replaced by ``bufferflags.LockingBytearray`` ("locked"),
and by a plain ``bytearray`` subclass with an empty body ("control"; a
subclass, as LockingBytearray is one, so that tests that only hold for
exact bytearray fail on both).  Output: {"missing": reason} when the
interpreter's test package has no test_bytes, else
{"classes": {name: {"locked": {test: [outcome, detail]},
                    "control": {...}}}}
with outcome one of pass, fail, error, skip, xfail, xpass.  Run in a
subprocess of tests/shim/test_cpython_bytes.py (CPython's tests change
process state: warnings filters, threads, recursion limits).
"""
import io
import json
import sys
import unittest

try:
    from test import test_bytes
except ImportError as e:    # Debian: libpython3.X-testsuite
    print(json.dumps({"missing": "%s: %s" % (type(e).__name__, e)}))
    sys.exit(0)

import bufferflags


class PlainSubclass(bytearray):
    """The control: a bytearray subclass that adds nothing (no __dict__,
    as LockingBytearray has none)."""

    __slots__ = ()


def _variants(label, base):
    """(name, overrides) for test_bytes' bytearray test classes, with the
    bytearray type they test replaced by `base`.  The subclasses they need
    are made module globals, so that pickle and copy find them."""
    subclass = type(label + "Subclass", (base,), {})
    slots = type(label + "SubclassWithSlots", (base,),
                 {"__slots__": ("x", "y", "__dict__")})
    for cls in (subclass, slots):
        cls.__module__ = __name__
        globals()[cls.__name__] = cls

    def marshal(self, x):
        return base(x)

    return {
        "ByteArrayTest": {"type2test": base},
        "ByteArrayAsStringTest": {"type2test": base},
        "BytearrayPEP3137Test": {"marshal": marshal},
        "ByteArraySubclassTest": {"basetype": base, "type2test": subclass},
        "ByteArraySubclassWithSlotsTest": {"basetype": base,
                                           "type2test": slots},
    }


class _Result(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.outcomes = {}

    def _set(self, test, outcome, detail=""):
        name = test.id().rsplit(".", 1)[-1]
        # A method's worst outcome wins (subtests report one by one).
        rank = ["pass", "skip", "xfail", "xpass", "fail", "error"]
        old = self.outcomes.get(name)
        if old is None or rank.index(outcome) > rank.index(old[0]):
            self.outcomes[name] = [outcome, detail[-3000:]]

    def addSuccess(self, test):
        self._set(test, "pass")

    def addFailure(self, test, err):
        self._set(test, "fail", self._exc_info_to_string(err, test))

    def addError(self, test, err):
        # unittest reports setUpClass errors with a _ErrorHolder "test"
        self._set(test, "error", self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        self._set(test, "skip", reason)

    def addExpectedFailure(self, test, err):
        self._set(test, "xfail")

    def addUnexpectedSuccess(self, test):
        self._set(test, "xpass")

    def addSubTest(self, test, subtest, err):
        if err is None:
            return
        outcome = "fail" if issubclass(err[0], test.failureException) else "error"
        self._set(test, outcome, "%s\n%s" % (subtest.id(),
                                            self._exc_info_to_string(err, test)))


def run(cls_name, overrides):
    base_cls = getattr(test_bytes, cls_name)
    cls = type(cls_name, (base_cls,), dict(overrides))
    cls.__module__ = test_bytes.__name__
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(cls)
    names = [t.id().rsplit(".", 1)[-1] for t in suite]  # run() drops them
    result = _Result()
    suite.run(result)
    for name in names:
        result.outcomes.setdefault(name, ["pass", ""])
    return result.outcomes


def main():
    out = {}
    variants = {"locked": _variants("Locked", bufferflags.LockingBytearray),
                "control": _variants("Control", PlainSubclass)}
    for cls_name in variants["locked"]:
        if not hasattr(test_bytes, cls_name):
            continue
        out[cls_name] = {kind: run(cls_name, variants[kind][cls_name])
                         for kind in variants}
    json.dump({"version": sys.version.split()[0], "classes": out}, sys.stdout)


if __name__ == "__main__":
    # unittest's own chatter (warnings, support's messages) goes to stderr.
    sys.stderr = io.TextIOWrapper(sys.stderr.buffer, errors="replace")
    main()
