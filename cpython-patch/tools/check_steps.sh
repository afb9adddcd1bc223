#!/usr/bin/env bash
# Check that the series builds and passes its tests after every patch:
# apply the patches one at a time to a pristine tree and rebuild
# incrementally in one build directory.
#
# usage: cpython-patch/tools/check_steps.sh [TARBALL]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TARBALL=${1:-$ROOT/build/cpython/dl/python3.13_3.13.5.orig.tar.xz}
W=$ROOT/build/cpython/steps
rm -rf "$W"; mkdir -p "$W/src" "$W/obj"
tar -xf "$TARBALL" -C "$W/src" --strip-components=1
cd "$W/obj"
"$W/src/configure" -q >"$W/configure.log" 2>&1
TESTS=(test_buffer test_bytes test_memoryview test_inspect test_array test_sys)
for p in "$ROOT"/cpython-patch/[0-9][0-9][0-9][0-9]-*.patch; do
    t=$(date +%s)
    patch -d "$W/src" -p1 --forward --batch -s < "$p"
    if ! make -j"${JOBS:-2}" >"$W/make.log" 2>&1; then
        echo "FAIL build after $(basename "$p")"; tail -20 "$W/make.log"; exit 1
    fi
    if ./python -m test "${TESTS[@]}" -j"${JOBS:-2}" >"$W/test.log" 2>&1; then
        echo "ok   $(basename "$p") ($(( $(date +%s) - t )) s): $(grep -E '^Total tests' "$W/test.log")"
    else
        echo "FAIL tests after $(basename "$p")"; grep -E "failed|FAIL|Error" "$W/test.log" | head; exit 1
    fi
done
