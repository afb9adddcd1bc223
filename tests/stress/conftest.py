"""tests/stress: model-based, thread and hostile-input tests (issue 5).

Sizing: HYPOTHESIS_PROFILE=ci (default, ~200 examples per machine) or
=stress (many more); BUFFERFLAGS_STRESS_SECONDS (default 5) bounds each
thread-stress run.  Counters collected in REPORT are printed at the end of
the session (terminal summary), so `make test` and `make stress` logs carry
the number of examples, operations and refusals per backend.
"""
import os
import sys
from collections import Counter

from hypothesis import HealthCheck, settings

# gc.collect() is much dearer on the free-threaded build (gc.freeze() does
# not shrink the heap it walks): fewer examples there keep CI at ~30 s.
FREE_THREADED = not getattr(sys, "_is_gil_enabled", lambda: True)()
settings.register_profile(
    "ci", max_examples=60 if FREE_THREADED else 200, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.register_profile(
    "stress", max_examples=1000 if FREE_THREADED else 5000, stateful_step_count=80, deadline=None,
    suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

STRESS_SECONDS = float(os.environ.get("BUFFERFLAGS_STRESS_SECONDS", "5"))

#: section -> Counter; filled by the tests, printed by the summary hook.
REPORT = {}


def report(section):
    return REPORT.setdefault(section, Counter())


def pytest_terminal_summary(terminalreporter):
    if not REPORT:
        return
    import bufferflags as bf
    tr = terminalreporter
    tr.section("bufferflags stress report")
    tr.write_line("python %s (%s), backend %s, profile %s" % (
        sys.version.split()[0],
        "free-threaded" if not getattr(sys, "_is_gil_enabled", lambda: True)()
        else "GIL", "native" if bf.NATIVE else "shim",
        os.environ.get("HYPOTHESIS_PROFILE", "ci")))
    for section in sorted(REPORT):
        counts = REPORT[section]
        tr.write_line("%s: %s" % (section, ", ".join(
            "%s=%d" % kv for kv in sorted(counts.items()))))
