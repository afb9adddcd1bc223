#!/usr/bin/env bash
# Run CPython's own tests, with the series' new tests, on the interpreters
# built by build.sh.  Exits non-zero if any run fails.
#
# usage: cpython-patch/run-tests.sh [--ft-only | --no-ft]
#
#   build/cpython/patched:     test_buffer test_bytes test_memoryview
#                              test_inspect test_array test_mmap test_io
#                              test_sys
#   build/cpython/patched-ft:  the thread-relevant subset (if built):
#                              test_buffer test_bytes test_memoryview
#                              test_array test_inspect test_sys, and the
#                              threaded tests (readers vs writers, two
#                              writers, a double release) repeated
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/build/cpython"
JOBS=${JOBS:-2}
RUN_GIL=1
RUN_FT=1
case "${1:-}" in
    --ft-only) RUN_GIL=0 ;;
    --no-ft) RUN_FT=0 ;;
    "") ;;
    *) echo "run-tests.sh: unknown argument $1" >&2; exit 2 ;;
esac

status=0
run() {
    local label=$1; shift
    local t=$(date +%s)
    echo "== $label: $*"
    if "$@"; then
        echo "== $label: OK ($(( $(date +%s) - t )) s)"
    else
        echo "== $label: FAILED ($(( $(date +%s) - t )) s)"
        status=1
    fi
}

if [ "$RUN_GIL" = 1 ]; then
    PY="$OUT/patched/bin/python3"
    if [ ! -x "$PY" ]; then
        echo "run-tests.sh: $PY missing: run cpython-patch/build.sh first" >&2
        exit 2
    fi
    run patched "$PY" -m test test_buffer test_bytes test_memoryview \
        test_inspect test_array test_mmap test_io test_sys -j"$JOBS"
fi

if [ "$RUN_FT" = 1 ]; then
    FT="$OUT/patched-ft/bin/python3"
    if [ -x "$FT" ]; then
        run patched-ft "$FT" -m test test_buffer test_bytes test_memoryview \
            test_array test_inspect test_sys -j"$JOBS"
        threads() {
            for i in $(seq 20); do
                "$FT" -m unittest -q \
                    test.test_bytes.ByteArrayBufferFlagsTest.test_threads \
                    test.test_bytes.ByteArrayBufferFlagsTest.test_concurrent_writers \
                    test.test_array.ArrayBufferFlagsTest.test_concurrent_writers \
                    test.test_memoryview.MemoryviewExportCountTest.test_concurrent_release \
                    2>&1 | tail -n 1 | grep -q '^OK' || return 1
            done
        }
        run "patched-ft-threads (x20)" threads
    elif [ "$RUN_GIL" = 0 ]; then
        echo "run-tests.sh: $FT missing: run cpython-patch/build.sh --ft" >&2
        exit 2
    else
        echo "== patched-ft: not built (cpython-patch/build.sh --ft), skipped"
    fi
fi
exit $status
