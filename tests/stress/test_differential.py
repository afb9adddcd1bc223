"""The differential fuzzer of issue 19 (tools/fuzz), bounded for `make test`.

Under a patched interpreter (build/cpython/patched[-ft]): random programs that
never request the new flags run on it and on the stock build next to it
(build/cpython/baseline[-ft]); their traces must agree except the documented
differences of tools/fuzz/allowlist.py, and neither may crash.  Then programs
that take IMMUTABLE/EXCLUSIVE views check §3's invariants (natively; under a
stock venv against the shim's LockingBytearray).  The self-tests plant a
difference and a crash and check that they are reported and minimised: the
fuzzer can fail.

Sizing: BUFFERFLAGS_FUZZ_PROGRAMS (default 150) programs per mode, none
started after BUFFERFLAGS_FUZZ_SECONDS (default 7) seconds, each run killed
(a finding) after BUFFERFLAGS_FUZZ_TIMEOUT (default 8) seconds;
BUFFERFLAGS_FUZZ_SEED (default 0) is the first seed.  tools/stress.sh raises both for `make stress`.
Findings already listed in issue 19 (tools/fuzz/known.py) are printed in the
stress report, not failed; anything else fails with its minimised reproducer.
"""
import os
import sys
import time

import pytest

import bufferflags as bf

from .conftest import report

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tools.fuzz.driver import check, fuzz  # noqa: E402
from tools.fuzz.runner import SHIM, Interpreter  # noqa: E402

PROGRAMS = int(os.environ.get("BUFFERFLAGS_FUZZ_PROGRAMS", "150"))
SECONDS = float(os.environ.get("BUFFERFLAGS_FUZZ_SECONDS", "7"))
SEED = int(os.environ.get("BUFFERFLAGS_FUZZ_SEED", "0"))
JOBS = int(os.environ.get("BUFFERFLAGS_FUZZ_JOBS", "2"))
TIMEOUT = float(os.environ.get("BUFFERFLAGS_FUZZ_TIMEOUT", "8"))   # per program and interpreter
HERE_PY = os.path.realpath(sys.executable)


def _baseline_next_to_me():
    """build/cpython/baseline[-ft]/bin/python3 next to this patched build, or
    the reason there is none."""
    build_dir = os.path.dirname(os.path.dirname(HERE_PY))      # .../build/cpython/patched
    name = os.path.basename(build_dir)
    if not name.startswith("patched"):
        return None, "running %s, not a build/cpython/patched* interpreter" % HERE_PY
    # patched-immutable (the series up to its IMMUTABLE part) is configured
    # as patched: its baseline is the same one.
    base_name = name.replace("patched", "baseline", 1).replace("-immutable", "")
    base = os.path.join(os.path.dirname(build_dir), base_name, "bin", "python3")
    if not os.access(base, os.X_OK):
        return None, "no baseline interpreter at %s (cpython-patch/build.sh builds it)" % base
    return base, ""


def _me():
    return Interpreter("this", sys.executable, SHIM if bf.NATIVE else None)


def _assert_no_new(rep, section):
    counts = report(section)
    counts["programs"] += rep.programs
    counts["statements"] += rep.statements
    for k, n in rep.allowed.items():
        counts["allowed " + k] += n
    known = [r for r in rep.results if not r.known.startswith("new")]
    new = [r for r in rep.results if r.known.startswith("new")]
    for r in known:
        counts["known: " + r.known.replace(" (again)", "")] += 1
    counts["new findings"] += len(new)
    assert rep.programs > 0, "no program ran"
    assert not new, "%d finding(s) not in issue 19:\n\n%s" % (len(new), "\n".join(r.render() for r in new))


@pytest.mark.skipif(not bf.NATIVE, reason="differential mode compares a patched build with its baseline")
def test_differential_against_baseline():
    base, why = _baseline_next_to_me()
    if base is None:
        sys.stderr.write("\n*** test_differential: SKIPPED LOUDLY: %s ***\n" % why)
        report("fuzz differential")["SKIPPED: " + why] += 1
        pytest.skip("NO DIFFERENTIAL FUZZING: " + why)
    interps = [Interpreter("baseline", base), _me()]
    rep = fuzz(range(SEED, SEED + PROGRAMS), interps, deadline=time.monotonic() + SECONDS, jobs=JOBS,
               minimise_known=False, timeout=TIMEOUT)
    _assert_no_new(rep, "fuzz differential")


def test_flags_invariants():
    rep = fuzz(range(SEED, SEED + PROGRAMS), [_me()], flags=True, shim=not bf.NATIVE,
               deadline=time.monotonic() + SECONDS, jobs=JOBS, minimise_known=False, timeout=TIMEOUT)
    _assert_no_new(rep, "fuzz flags (%s)" % ("native" if bf.NATIVE else "shim"))


# -- the fuzzer can fail --------------------------------------------------------

def _planted(what):
    """This interpreter against itself with a planted difference in the second run."""
    me = Interpreter("this", sys.executable)
    return [me, Interpreter("this+inject", sys.executable, None, ("--inject", what))]


def test_selftest_identical_runs_agree():
    me = Interpreter("this", sys.executable)
    rep = fuzz(range(5), [me, me], jobs=JOBS)
    assert rep.programs == 5
    assert not rep.results, "\n".join(r.render() for r in rep.results)


def test_selftest_planted_difference_is_reported_and_minimised():
    lines = ["o0 = bytearray(b'xabc')", "o1 = array.array('B', b'q')", "o1.append(3)",
             "o2 = o0 + b'zz'", "o0.find(b'c')", "o1.tolist()", "len(o2)"]
    v = check(lines, _planted("find"), flags=False)
    assert [f.kind for f in v.findings] == ["result"], v.findings
    assert v.findings[0].index == 4
    # And through the whole loop: random programs, one of them calls find().
    rep = fuzz(range(40), _planted("find"), jobs=JOBS, max_findings=1)
    assert rep.results, "the planted difference in bytearray.find() was not reported"
    first = rep.results[0]
    assert first.known == "new"
    assert len(first.reproducer) <= 3 and any(".find(" in ln for ln in first.reproducer), first.render()


def test_selftest_planted_crash_is_reported():
    lines = ["o0 = bytearray(b'abc')", "o0.count(b'a')", "o0.hex()"]
    v = check(lines, _planted("crash"), flags=False)
    assert [f.kind for f in v.findings] == ["crash"], v.findings
    assert "SIGSEGV" in v.findings[0].detail and "o0.count" in v.findings[0].detail


@pytest.mark.exclusive
@pytest.mark.skipif(not bf.NATIVE, reason="natively: a view that changes under IMMUTABLE")
def test_selftest_flags_violation_is_reported():
    # Planted: a write through the exclusive view without hw(), i.e. behind
    # the snapshot's back, is what a write by another holder looks like.
    lines = ["o0 = bytearray(b'abc')", "v0 = V('o0', 'x')", "v0[0] = 65", "o0.__len__()"]
    v = check(lines, [_me()], flags=True)
    assert [f.kind for f in v.findings] == ["violation"], v.findings
    assert "EXCLUSIVE view changed" in v.findings[0].detail
