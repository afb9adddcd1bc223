"""What every test directory shares: the ``exclusive`` and
``immutable_only`` markers.

PyBUF_EXCLUSIVE is Part 2 of the proposal.  An interpreter built from the
cpython-patch series up to its IMMUTABLE part implements PyBUF_IMMUTABLE
only (``bufferflags.IMPLEMENTED`` lacks EXCLUSIVE): 0x800 is an unknown bit
there, refused for every object.  A test that needs EXCLUSIVE is skipped on
such an interpreter, with one reason, and only there: the shim and the whole
series (IMPLEMENTED has both flags) run every test as before.

A test needs EXCLUSIVE if it is

* marked ``@pytest.mark.exclusive`` (a test, a class, or a module's
  ``pytestmark``): it takes or checks an exclusive export itself;
* or one case of a parametrization that asks for EXCLUSIVE: a case whose id
  or a string argument names it (the request kinds ``exclusive_read`` and
  ``exclusive_write`` of tests/conformance/_support.py, the ``EXCLUSIVE``
  state, holders such as ``view-exclusive``), a ``flags`` argument with the
  0x800 bit, or view() keyword arguments with ``exclusive=True``.  The other
  cases of the same test (the IMMUTABLE rows of a table) still run.

The tests that check how such an interpreter refuses EXCLUSIVE are marked
``@pytest.mark.immutable_only`` (tests/conformance/test_immutable_only.py):
they run only there, and the rule above does not apply to them.
"""
import pytest

import bufferflags as bf

EXCLUSIVE_IMPLEMENTED = bool(bf.IMPLEMENTED & bf.EXCLUSIVE)

SKIP_REASON = ("PyBUF_EXCLUSIVE is Part 2; this interpreter implements only "
               "PyBUF_IMMUTABLE")
IMMUTABLE_ONLY_REASON = ("checks an interpreter that implements only "
                         "PyBUF_IMMUTABLE; this one implements PyBUF_EXCLUSIVE "
                         "too")


def pytest_report_header(config):
    implemented = "|".join("PyBUF_" + flag.name for flag in bf.IMPLEMENTED)
    return "bufferflags implements: %s%s" % (
        implemented or "none",
        "" if EXCLUSIVE_IMPLEMENTED else " (tests that need PyBUF_EXCLUSIVE "
        "are skipped)")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "exclusive: the test needs PyBUF_EXCLUSIVE (skipped where "
        "bufferflags.IMPLEMENTED lacks it)")
    config.addinivalue_line(
        "markers",
        "immutable_only: the test checks how an interpreter that implements "
        "only PyBUF_IMMUTABLE refuses PyBUF_EXCLUSIVE (runs only there)")


def asks_for_exclusive(name, value):
    """Whether one argument of a parametrized case asks for EXCLUSIVE."""
    if isinstance(value, str):
        return "exclusive" in value.lower()
    if isinstance(value, dict):
        return bool(value.get("exclusive"))
    # Negative flags (every bit set) are invalid requests, refused as such
    # on every interpreter: they do not ask for EXCLUSIVE.
    if "flags" in name and isinstance(value, int) and not isinstance(value, bool):
        return value >= 0 and bool(value & bf.EXCLUSIVE)
    return False


def needs_exclusive(item):
    """Whether a collected test needs PyBUF_EXCLUSIVE (see the module's
    docstring)."""
    if item.get_closest_marker("immutable_only") is not None:
        return False
    if item.get_closest_marker("exclusive") is not None:
        return True
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return False
    return ("exclusive" in callspec.id.lower()
            or any(asks_for_exclusive(name, value)
                   for name, value in callspec.params.items()))


def pytest_collection_modifyitems(config, items):
    if EXCLUSIVE_IMPLEMENTED:
        skip = pytest.mark.skip(reason=IMMUTABLE_ONLY_REASON)
        for item in items:
            if item.get_closest_marker("immutable_only") is not None:
                item.add_marker(skip)
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if needs_exclusive(item):
            item.add_marker(skip)
