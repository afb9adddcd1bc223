#!/usr/bin/env bash
# Reference-leak hunt on the --with-pydebug build of the series (issue 5):
#
#   1. CPython's regrtest hunter, `python -m test -R 3:3`, on the test
#      modules the series changes (each test runs 3 warm-up + 3 checked
#      times; regrtest fails if references, memory blocks or file
#      descriptors grow);
#   2. the project's conformance and leak tests on the same build: the leak
#      test then also watches sys.gettotalrefcount().
#
# usage: cpython-patch/refleak.sh     (make refleak builds the interpreter)
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=$ROOT/build/cpython/patched-debug/bin/python3
LOGS=$ROOT/build/cpython/logs
[ -x "$PY" ] || { echo "refleak.sh: $PY missing: cpython-patch/build.sh --only patched-debug" >&2; exit 1; }
mkdir -p "$LOGS"

status=0
echo "== $($PY -c 'import sys; print(sys.version.split()[0], "debug" if hasattr(sys, "gettotalrefcount") else "release")'): -m test -R 3:3"
if "$PY" -m test -R 3:3 test_buffer test_bytes test_memoryview test_array test_inspect \
        > "$LOGS/refleak-regrtest.log" 2>&1; then
    grep -E "^(Total tests|Result)" "$LOGS/refleak-regrtest.log"
else
    status=1
    grep -E "leaked|failed|FAIL|Result" "$LOGS/refleak-regrtest.log" | head -20
fi

echo "== the project's suite on the debug build"
if (cd "$ROOT/build" && PYTHONPATH=$ROOT/shim "$PY" -m pytest -q -p no:cacheprovider \
        "$ROOT/tests/conformance" "$ROOT/tests/native" "$ROOT/tests/stress/test_leaks.py") \
        > "$LOGS/refleak-suite.log" 2>&1; then
    grep -E "^leaks\[|passed|failed" "$LOGS/refleak-suite.log"
else
    status=1
    tail -30 "$LOGS/refleak-suite.log"
fi
exit $status
