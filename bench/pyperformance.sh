#!/usr/bin/env bash
# bench/pyperformance.sh: a pyperformance subset, baseline vs patched
# (`make bench-pyperformance`, not part of `make bench`).
#
# Why: the micro-benchmarks of bench/ time single operations; the standard
# CPython benchmark suite shows whether whole programs that move bytes
# around (serialisation, regular expressions over byte strings, logging)
# notice the series.  The subset is the benchmarks that exercise bytes,
# bytearray, memoryview or the buffer protocol.
#
# pyperformance (from PyPI) runs in a host venv and builds one venv per
# interpreter for the benchmarks' dependencies.  Results:
#   bench/results/pyperformance-baseline.json, -patched.json
#   bench/results/pyperformance-compare.md  (pyperformance compare, with
#                                            each benchmark's significance)
# Knobs: PYPERFORMANCE_BENCHMARKS (comma list), PYPERFORMANCE_ARGS (default
# empty: full runs; --fast for a quick look).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/bench/results
CPY=$ROOT/build/cpython
HOST=$ROOT/build/venv/pyperformance-host
BENCHMARKS=${PYPERFORMANCE_BENCHMARKS:-json_dumps,json_loads,pickle,unpickle,pickle_list,unpickle_list,regex_compile,regex_effbot,regex_v8,logging,unpack_sequence}
read -r -a EXTRA <<< "${PYPERFORMANCE_ARGS:-}"

for name in baseline patched; do
    [ -x "$CPY/$name/bin/python3" ] || { echo "pyperformance.sh: $CPY/$name missing: run make native" >&2; exit 1; }
done
if [ ! -x "$HOST/bin/pyperformance" ]; then
    python3 -m venv "$HOST"
    "$HOST/bin/pip" install -q pyperformance
fi

mkdir -p "$OUT"
for name in baseline patched; do
    rm -f "$OUT/pyperformance-$name.json"
    echo "== pyperformance on $name: $BENCHMARKS"
    "$HOST/bin/pyperformance" run --python="$CPY/$name/bin/python3" \
        -b "$BENCHMARKS" "${EXTRA[@]}" -o "$OUT/pyperformance-$name.json"
done
"$HOST/bin/pyperformance" compare "$OUT/pyperformance-baseline.json" \
    "$OUT/pyperformance-patched.json" -O table > "$OUT/pyperformance-compare.txt"
{
    echo "# pyperformance subset: baseline vs patched"
    echo
    echo "Written by \`bench/pyperformance.sh\` (\`make bench-pyperformance\`) on $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "with \`${PYPERFORMANCE_ARGS:-full runs}\`; benchmarks: $BENCHMARKS."
    echo
    echo '```'
    cat "$OUT/pyperformance-compare.txt"
    echo '```'
} > "$OUT/pyperformance-compare.md"
rm -f "$OUT/pyperformance-compare.txt"
echo "pyperformance.sh: wrote bench/results/pyperformance-compare.md"
