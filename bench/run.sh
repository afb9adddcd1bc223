#!/usr/bin/env bash
# bench/run.sh: the benchmark groups of `make bench` (instruction counts first,
# then the pyperf groups of issue 4).
#
# Writes pyperf JSON, `pyperf compare_to` tables (markdown) and ENVIRONMENT.md
# to bench/results/, then bench/render.py regenerates bench/results/summary.md
# and the performance tables in pep-draft.md.
#
# Knobs (environment):
#   BENCH_PYPERF_ARGS  pyperf run options (default: --processes 6 --values 5,
#                      i.e. full runs, not --fast, with fewer processes than
#                      pyperf's default 20x3 so the whole run fits in ~25 min
#                      on the shared 2-core machine)
#   BENCH_GROUPS       which groups to run (default: "instructions unflagged
#                      contention acquire shim")
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
OUT=$BENCH/results
CPY=$ROOT/build/cpython
VENV=$ROOT/build/venv
PYPERF_ARGS=${BENCH_PYPERF_ARGS:---processes 6 --values 5}
GROUPS_TO_RUN=${BENCH_GROUPS:-instructions unflagged contention acquire shim}
BASELINE=$CPY/baseline/bin/python3
PATCHED=$CPY/patched/bin/python3
PATCHED_FT=$CPY/patched-ft/bin/python3
BASELINE_FT=$CPY/baseline-ft/bin/python3     # built by the instructions group
PATCHED_IMMUTABLE=$CPY/patched-immutable/bin/python3  # the series up to Part 1 (GIL):
                                          # built by the instructions group
SHIM_BASELINE=$VENV/baseline/bin/python   # baseline + the shim, installed
NOTES=$OUT/.run-notes.md                  # failures and timings, folded into ENVIRONMENT.md

for py in "$BASELINE" "$PATCHED" "$PATCHED_FT"; do
    [ -x "$py" ] || { echo "run.sh: $py missing: run cpython-patch/build.sh --ft (make native)" >&2; exit 1; }
done

mkdir -p "$OUT"
: > "$NOTES"
T_START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

note() { echo "- $*" | tee -a "$NOTES"; }

# The shim on the baseline interpreter: a venv with the package installed
# (the cffi extension must be compiled against the interpreter's headers);
# rebuilt when anything in shim/ is newer.
ensure_shim_baseline() {
    if [ ! -f "$VENV/baseline/.installed" ] \
       || [ -n "$(find "$ROOT/shim/bufferflags" "$ROOT/pyproject.toml" -newer "$VENV/baseline/.installed" -type f -print -quit)" ]; then
        rm -rf "$VENV/baseline"
        "$BASELINE" -m venv "$VENV/baseline" \
            && (cd "$ROOT" && "$SHIM_BASELINE" -m pip install -q '.[bench]' > "$VENV/baseline-pip.log" 2>&1) \
            && touch "$VENV/baseline/.installed"
    fi
}

# shim_ok PYTHON: can PYTHON import the shim and take a locked view?
shim_ok() {
    (cd /tmp && "$1" -c 'import bufferflags as bf; bf.view(bf.LockingBytearray(1), immutable=True).release()') \
        >/dev/null 2>&1
}

# job NAME PYTHON SCRIPT [args...]: one pyperf run into $OUT/NAME.json.
job() {
    local name=$1 py=$2 script=$3; shift 3
    local t0=$(date +%s)
    rm -f "$OUT/$name.json"
    echo "== $name ($py $script $*)"
    if (cd "$BENCH" && "$py" "$script" --quiet $PYPERF_ARGS \
            --inherit-environ=PYTHONPATH,BENCH_NO_SHIM "$@" -o "$OUT/$name.json"); then
        note "$name: $(( $(date +%s) - t0 )) s"
    else
        note "$name: FAILED (exit $?) after $(( $(date +%s) - t0 )) s"
        rm -f "$OUT/$name.json"
    fi
}

compare() {   # compare OUTNAME REF.json CHANGED.json...
    local out=$1; shift
    for f in "$@"; do [ -f "$f" ] || { note "compare $out: missing $(basename "$f")"; return; }; done
    "$PATCHED" -m pyperf compare_to "$@" --table --table-format=md > "$OUT/$out.md" 2>&1 \
        || note "compare $out: pyperf compare_to failed"
}

# half_processes: "--processes N/2" for the pyperf options in use (the last
# --processes option wins in argparse).
half_processes() {
    local n=20 prev=
    for a in $PYPERF_ARGS; do
        [ "$prev" = --processes ] && n=$a
        case $a in --processes=*) n=${a#--processes=} ;; esac
        prev=$a
    done
    echo "--processes $(( (n + 1) / 2 ))"
}

stock_pythons() { "$ROOT/tools/stock-pythons.sh"; }

# build_for_instructions NAME: build (or bring up to date: build.sh skips an
# interpreter whose series and flags are unchanged) build/cpython/NAME.  The
# log stays in bench/results/.NAME-build.log only when the build fails.
build_for_instructions() {
    local log="$OUT/.$1-build.log"
    if "$ROOT/cpython-patch/build.sh" --only "$1" > "$log" 2>&1; then
        rm -f "$log"
    else
        note "instructions: building $1 failed (see bench/results/.$1-build.log)"
        return 1
    fi
}

for group in $GROUPS_TO_RUN; do
    g0=$(date +%s)
    case $group in
    acquire)
        ensure_shim_baseline
        if shim_ok "$SHIM_BASELINE"; then
            job acquire-baseline-shim "$SHIM_BASELINE" bench_acquire.py
        else
            note "acquire-baseline-shim: the shim crashes or fails to import on the baseline; only memoryview(bytes) and bytes(bytes) were timed there"
            BENCH_NO_SHIM=1 job acquire-baseline-shim "$BASELINE" bench_acquire.py
        fi
        PYTHONPATH=$ROOT/shim job acquire-patched-native "$PATCHED" bench_acquire.py
        compare acquire-baseline-vs-patched "$OUT/acquire-baseline-shim.json" "$OUT/acquire-patched-native.json"
        ;;
    instructions)
        # Deterministic cost (issue 10): cachegrind instruction counts,
        # GIL and free-threaded, each patched build against an unpatched
        # one built with the same flags.
        command -v valgrind >/dev/null || {
            apt-get update -qq >/dev/null 2>&1
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null 2>&1
        } || note "instructions: valgrind missing and could not be installed"
        build_for_instructions baseline-ft
        # patched-immutable (the series up to Part 1) is counted between
        # baseline and patched, GIL only, so that the tables show Part 1's
        # price and Part 2's apart; without it they price the whole series.
        part1=()
        if ! build_for_instructions patched-immutable && [ -x "$PATCHED_IMMUTABLE" ]; then
            note "instructions: counted the existing patched-immutable, which may predate the series' last change"
        fi
        if [ -x "$PATCHED_IMMUTABLE" ]; then
            part1=("patched-immutable=$PATCHED_IMMUTABLE")
        else
            note "instructions: no patched-immutable interpreter: the GIL table prices the whole series only, without the Part 1 / Part 2 split"
        fi
        if "$PATCHED" "$BENCH/instructions.py" "$OUT/instructions.json" \
                baseline="$BASELINE" "${part1[@]}" patched="$PATCHED" \
                baseline-ft="$BASELINE_FT" patched-ft="$PATCHED_FT" 2> "$OUT/.instructions.log"; then
            "$PATCHED" "$BENCH/instructions.py" --markdown "$OUT/instructions.json" "$OUT/instructions.md"
        else
            note "instructions: FAILED (see bench/results/.instructions.log)"
        fi
        ;;
    unflagged)
        rm -f "$OUT"/unflagged-*.json
        # Interleaved halves (baseline, patched, baseline, patched) of half
        # the processes each, so that load drift on the shared machine hits
        # both sides alike; the halves are merged with pyperf convert --add.
        half_args="$PYPERF_ARGS $(half_processes)"
        for half in 1 2; do
            PYPERF_ARGS=$half_args job unflagged-baseline-$half "$BASELINE" bench_unflagged.py
            PYPERF_ARGS=$half_args job unflagged-patched-$half "$PATCHED" bench_unflagged.py
        done
        for side in baseline patched; do
            if [ -f "$OUT/unflagged-$side-1.json" ] && [ -f "$OUT/unflagged-$side-2.json" ]; then
                rm -f "$OUT/unflagged-$side.json"   # pyperf convert refuses to overwrite
                "$PATCHED" -m pyperf convert "$OUT/unflagged-$side-1.json" \
                    --add="$OUT/unflagged-$side-2.json" -o "$OUT/unflagged-$side.json" \
                    && rm -f "$OUT/unflagged-$side-1.json" "$OUT/unflagged-$side-2.json"
            fi
        done
        compare unflagged-compare "$OUT/unflagged-baseline.json" "$OUT/unflagged-patched.json"
        ;;
    shim)
        # The stock venvs are make's (`make venvs`); refresh them if shim/ changed.
        make -s -C "$ROOT" venvs > "$VENV/make-venvs.log" 2>&1 || note "make venvs failed (build/venv/make-venvs.log)"
        for v in $(stock_pythons); do
            py=$VENV/$v/bin/python
            if [ ! -x "$py" ]; then
                note "shim-$v: no venv (run make venvs)"
            elif shim_ok "$py"; then
                job shim-$v "$py" bench_shim.py
            else
                note "shim-$v: FAILED: the shim crashes or fails to import on $v (\`import bufferflags\`)"
            fi
        done
        ;;
    contention)
        PYTHONPATH=$ROOT/shim job contention-patched "$PATCHED" bench_contention.py
        PYTHONPATH=$ROOT/shim job contention-patched-ft "$PATCHED_FT" bench_contention.py
        compare contention-gil-vs-ft "$OUT/contention-patched.json" "$OUT/contention-patched-ft.json"
        ;;
    *) echo "run.sh: unknown group $group" >&2; exit 2 ;;
    esac
    note "group $group: $(( $(date +%s) - g0 )) s"
done

WALL=$(( $(date +%s) - T_START ))
note "make bench wall time (bench/run.sh): $WALL s ($(( WALL / 60 )) min $(( WALL % 60 )) s)"

"$PATCHED" "$BENCH/environment.py" \
    --pyperf-args "$PYPERF_ARGS" --load-start "$LOAD_START" --notes "$NOTES" \
    --interpreter "baseline=$BASELINE" --interpreter "patched=$PATCHED" \
    --interpreter "patched-ft=$PATCHED_FT" \
    $([ -x "$PATCHED_IMMUTABLE" ] && echo --interpreter "patched-immutable=$PATCHED_IMMUTABLE") \
    $(for v in $(stock_pythons); do echo --interpreter "$v=$VENV/$v/bin/python"; done) \
    > "$OUT/ENVIRONMENT.md"
rm -f "$NOTES"

"$PATCHED" "$BENCH/render.py"

# The figures (bench/results/figures), drawn from the results with the first
# stock venv's matplotlib (the bench extra: make venvs installs it).
PLOT_PY=$VENV/$(stock_pythons | head -1)/bin/python
"$PLOT_PY" "$BENCH/plots.py" "$OUT" \
    || echo "run.sh: bench/plots.py FAILED: figures NOT regenerated (pip install '.[bench]')" >&2
