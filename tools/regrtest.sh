#!/usr/bin/env bash
# make regrtest: CPython's WHOLE test suite on the baseline and the patched
# interpreter, and the tests that fail only on patched.
#
# Why: the series changes bytearray, array, memoryview and
# PyObject_GetBuffer(), which the whole standard library uses; the series'
# own tests (cpython-patch/run-tests.sh) cover only the modules it touches.
# A test that passes on the unpatched 3.13.15 built the same way but fails
# with the series is a regression (or an intended behaviour change that
# must be listed, with its reason, in tools/regrtest-allowlist.txt).
#
# usage: tools/regrtest.sh [--only baseline|patched]... [--summary-only]
#
#   For each interpreter build/cpython/<name>/bin/python3 (build them with
#   cpython-patch/build.sh):
#     python -m test -j$JOBS --timeout $REGRTEST_TIMEOUT --rerun
#                    --junit-xml build/regrtest/<name>/junit.xml
#   Resources: regrtest's defaults (no -u: none of the optional resources
#   audio, console, curses, largefile, network, decimal, cpu, subprocess,
#   urlfetch, gui, walltime, extralargefile, tzdata), so the tests needing
#   them are resource-denied (counted as skipped).  This machine has no
#   network but the package registries and no display, and the optional
#   resources would double the run time on 2 cores.  No test file is
#   excluded.  --timeout kills a hung test file
#   (counted as failed); --rerun reruns failed files once, verbosely, so a
#   flaky test shows as "re-run" and its traceback is in the log.
#   Each process runs under `ulimit -v $REGRTEST_MEM_LIMIT_KB` (default
#   8 GiB, 0 for none): a test that runs away fails with MemoryError instead
#   of taking the shared machine's memory.
#   Logs: build/regrtest/<name>/{log.txt,junit.xml,key,key-end,rc}.
#   Then tools/regrtest_summary.py writes build/regrtest/summary.md.
#
# Exit status: non-zero if a test fails on patched but not on baseline and
# is not in tools/regrtest-allowlist.txt (or if a run could not be made).
# --summary-only recomputes the summary from the logs already there.
#
# Runs under `nice -n 10` (2 cores shared with builds).  Measured on the
# shared 2-core machine: 2026-11-29 (3.13.5), 24 min (patched) to 42 min
# (baseline, with hung KeyboardInterrupt tests) per interpreter; 2026-12-05
# (3.13.15), 8.5 min (baseline) and 8.8 min (patched).  REGRTEST_ARGS adds arguments (e.g. test names to
# run only those: REGRTEST_ARGS="test_bytes test_array").
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CPY="$ROOT/build/cpython"
OUT="$ROOT/build/regrtest"
JOBS=${JOBS:-2}
TIMEOUT=${REGRTEST_TIMEOUT:-1200}
MEM_LIMIT_KB=${REGRTEST_MEM_LIMIT_KB:-8388608}   # ulimit -v per process (8 GiB); 0: none
ONLY=()
SUMMARY_ONLY=0
while [ $# -gt 0 ]; do
    case "$1" in
        --only) ONLY+=("$2"); shift ;;
        --summary-only) SUMMARY_ONLY=1 ;;
        -h|--help) sed -n '2,41p' "$0"; exit 0 ;;
        *) echo "regrtest.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
[ ${#ONLY[@]} -eq 0 ] && ONLY=(baseline patched)

# A background job (make regrtest &, nohup, CI runners) inherits SIGINT
# ignored, and Python then never raises KeyboardInterrupt: a dozen tests of
# test_signal, test_threading, test_multiprocessing_* fail.  Restore the
# default disposition, then exec the interpreter with the real arguments.
SIGINT_DFL='import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.executable, [sys.executable] + sys.argv[1:])'

mkdir -p "$OUT"
status=0
if [ "$SUMMARY_ONLY" = 0 ]; then
    for name in "${ONLY[@]}"; do
        py="$CPY/$name/bin/python3"
        if [ ! -x "$py" ] || [ ! -f "$CPY/$name/.bufferflags-key" ]; then
            echo "regrtest.sh: $py missing: run cpython-patch/build.sh first" >&2
            exit 2
        fi
        dir="$OUT/$name"
        rm -rf "$dir"; mkdir -p "$dir"
        cp "$CPY/$name/.bufferflags-key" "$dir/key"
        echo "$MEM_LIMIT_KB" > "$dir/mem-limit"
        t=$(date +%s)
        echo "== regrtest $name (key $(cut -c1-12 "$dir/key")): log $dir/log.txt"
        # Run from the log directory: tests that write into the cwd do it there.
        # The address-space limit keeps a runaway test from taking the shared
        # machine's memory (seen: test_asyncio.test_runners'
        # test_asyncio_run_without_uncancel spinning under load past 8 GB).
        # shellcheck disable=SC2086
        (cd "$dir" && { [ "$MEM_LIMIT_KB" = 0 ] || ulimit -v "$MEM_LIMIT_KB"; } \
            && nice -n 10 "$py" -c "$SIGINT_DFL" -m test -j"$JOBS" --timeout "$TIMEOUT" \
            --rerun --junit-xml "$dir/junit.xml" ${REGRTEST_ARGS:-}) \
            >"$dir/log.txt" 2>&1
        rc=$?
        echo "$rc" > "$dir/rc"
        echo "$(( $(date +%s) - t ))" > "$dir/seconds"
        cp "$CPY/$name/.bufferflags-key" "$dir/key-end" 2>/dev/null || true
        echo "== regrtest $name: exit $rc in $(( $(date +%s) - t )) s"
        grep -E '^(Total tests|Total test files|Result):' "$dir/log.txt" | tail -n 3
    done
fi

python3 "$ROOT/tools/regrtest_summary.py" "$OUT" "$ROOT/tools/regrtest-allowlist.txt" || status=1
echo "== summary: $OUT/summary.md"
exit $status
