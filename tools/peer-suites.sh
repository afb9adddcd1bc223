#!/usr/bin/env bash
# make peer-suites: the buffer-heavy parts of real packages' own test
# suites on the baseline and the patched interpreter.
#
# Why: the series changes what PyObject_GetBuffer() grants and when a
# bytearray or array refuses a write; extension modules that export or
# consume buffers (numpy, Pillow, msgpack, cffi) are where a behaviour
# change would break real code.  A test that passes on the unpatched
# 3.13.15 but fails on patched is a regression.
#
# usage: tools/peer-suites.sh [--only baseline|patched]... [--summary-only]
#
# Per interpreter build/cpython/<name>/bin/python3, a venv build/peer/<name>
# (so the interpreters stay clean), wheels only (pip --only-binary=:all:):
# numpy, Pillow, msgpack, cffi, pytest, hypothesis -- the versions resolved
# for baseline are pinned for patched.  The suites, each under `timeout`
# (PEER_TIMEOUT, default 900 s) and `nice -n 10`, junit XML per run:
#   numpy    pytest --pyargs numpy._core -m "not slow" (as numpy.test(); the wheel ships
#            its tests: multiarray, buffer protocol, memoryview, records...)
#   Pillow   Tests/ from the sdist of the same version (wheels ship no
#            tests), the buffer-heavy files: test_image.py, test_numpy.py,
#            test_image_array.py, test_imagefile.py, test_image_frombytes.py
#            and test_image_tobytes.py when present, test_file_png.py,
#            test_file_tiff.py, test_imagepath.py, test_image_access.py,
#            test_image_putdata.py, test_image_getdata.py
#   msgpack  test/ from the sdist of the same version (all of it: seconds)
#   cffi     c/test_c.py (the _cffi_backend's own tests: ffi.buffer,
#            from_buffer on bytearray/array/memoryview) and
#            testing/cffi1/test_ffi_obj.py from the sdist of the same
#            version; the rest of testing/ compiles C extensions per test
#            (minutes each, and about the compiler, not buffers): not run
# sdists come from `pip download --no-deps --no-binary PKG PKG==VERSION`
# into build/peer-suites/src/ and run against the installed wheel (pytest
# from another directory, --import-mode=importlib for msgpack).
#
# Output: build/peer-suites/<name>/<pkg>.{log,xml,rc} and summary.md
# (tools/peer_summary.py).  Exit status: non-zero if a test fails only on
# patched (or a suite could not run).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CPY="$ROOT/build/cpython"
VENVS="$ROOT/build/peer"
OUT="$ROOT/build/peer-suites"
SRC="$OUT/src"
TIMEOUT=${PEER_TIMEOUT:-900}
PKGS=(numpy Pillow msgpack cffi)
ONLY=()
SUMMARY_ONLY=0
while [ $# -gt 0 ]; do
    case "$1" in
        --only) ONLY+=("$2"); shift ;;
        --summary-only) SUMMARY_ONLY=1 ;;
        -h|--help) sed -n '2,36p' "$0"; exit 0 ;;
        *) echo "peer-suites.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
[ ${#ONLY[@]} -eq 0 ] && ONLY=(baseline patched)
mkdir -p "$OUT" "$SRC" "$VENVS"
say() { echo "== peer-suites: $*"; }

# the venv for interpreter $1, packages at the pinned versions if any
make_venv() {
    local name=$1 venv="$VENVS/$1" py="$CPY/$1/bin/python3"
    if [ ! -x "$py" ] || [ ! -f "$CPY/$name/.bufferflags-key" ]; then
        echo "peer-suites.sh: $py missing: run cpython-patch/build.sh first" >&2; return 2
    fi
    [ -x "$venv/bin/python" ] || "$py" -m venv "$venv" || return 2
    local reqs=("${PKGS[@]}" pytest hypothesis)
    [ -f "$OUT/pins.txt" ] && mapfile -t reqs < "$OUT/pins.txt"
    nice -n 10 "$venv/bin/python" -m pip install -q --disable-pip-version-check \
        --only-binary=:all: "${reqs[@]}" >"$OUT/$name/pip.log" 2>&1 \
        || { cat "$OUT/$name/pip.log"; return 2; }
    if [ ! -f "$OUT/pins.txt" ]; then
        "$venv/bin/python" -m pip list --format=freeze --disable-pip-version-check 2>/dev/null \
            | grep -iE "^($(IFS='|'; echo "${PKGS[*]}")|pytest|hypothesis)==" > "$OUT/pins.txt"
    fi
}

# the sdist of PKG at the pinned version, extracted; prints its directory
sdist() {
    local pkg=$1 ver
    ver=$(grep -i "^$pkg==" "$OUT/pins.txt" | cut -d= -f3)
    local dir="$SRC/$pkg-$ver"
    if [ ! -d "$dir" ]; then
        local dl="$SRC/dl-$pkg"
        rm -rf "$dl"; mkdir -p "$dl"
        "$VENVS/baseline/bin/python" -m pip download -q --disable-pip-version-check --no-deps --no-binary "$pkg" \
            -d "$dl" "$pkg==$ver" >&2 || return 1
        mkdir -p "$dir.tmp"
        tar -xzf "$dl"/*.tar.gz -C "$dir.tmp" --strip-components=1 && mv "$dir.tmp" "$dir"
    fi
    echo "$dir"
}

# run_suite NAME PKG CWD PYTEST_ARGS...
run_suite() {
    local name=$1 pkg=$2 cwd=$3; shift 3
    local py="$VENVS/$name/bin/python" t=$(date +%s)
    say "$name $pkg: pytest $*"
    (cd "$cwd" && nice -n 10 timeout "$TIMEOUT" "$py" -m pytest -p no:cacheprovider -q \
        -o addopts="" --junitxml="$OUT/$name/$pkg.xml" "$@") >"$OUT/$name/$pkg.log" 2>&1
    local rc=$?
    echo "$rc $(( $(date +%s) - t ))" > "$OUT/$name/$pkg.rc"
    say "$name $pkg: exit $rc in $(( $(date +%s) - t )) s: $(tail -n 1 "$OUT/$name/$pkg.log")"
}

status=0
if [ "$SUMMARY_ONLY" = 0 ]; then
    for name in "${ONLY[@]}"; do
        rm -rf "${OUT:?}/$name"; mkdir -p "$OUT/$name"
        cp "$CPY/$name/.bufferflags-key" "$OUT/$name/key" 2>/dev/null
        make_venv "$name" || { status=2; continue; }
        say "$name: $(tr '\n' ' ' < "$OUT/pins.txt")"
        work="$OUT/$name/work"; mkdir -p "$work"
        run_suite "$name" numpy "$work" --pyargs numpy._core -m "not slow"

        if d=$(sdist Pillow); then
            files=()
            for f in test_image.py test_numpy.py test_image_array.py test_imagefile.py \
                     test_image_frombytes.py test_image_tobytes.py test_file_png.py \
                     test_file_tiff.py test_imagepath.py test_image_access.py \
                     test_image_putdata.py test_image_getdata.py; do
                [ -f "$d/Tests/$f" ] && files+=("Tests/$f")
            done
            run_suite "$name" Pillow "$d" "${files[@]}"
        else
            say "$name Pillow: sdist download failed"; status=2
        fi
        if d=$(sdist msgpack); then
            run_suite "$name" msgpack "$work" --import-mode=importlib --rootdir "$d" "$d/test"
        else
            say "$name msgpack: sdist download failed"; status=2
        fi
        if d=$(sdist cffi); then
            run_suite "$name" cffi "$work" --import-mode=importlib --rootdir "$d" \
                "$d/src/c/test_c.py" "$d/testing/cffi1/test_ffi_obj.py"
        else
            say "$name cffi: sdist download failed"; status=2
        fi
        cp "$CPY/$name/.bufferflags-key" "$OUT/$name/key-end" 2>/dev/null
    done
fi

python3 "$ROOT/tools/peer_summary.py" "$OUT" "${PKGS[@]}" || status=1
say "summary: $OUT/summary.md"
exit $status
