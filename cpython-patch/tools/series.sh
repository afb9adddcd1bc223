#!/usr/bin/env bash
# The patch series is the source; this script is the only way in and out.
#
# usage: cpython-patch/tools/series.sh apply [DIR]
#        cpython-patch/tools/series.sh export [DIR]
#        cpython-patch/tools/series.sh check
#        cpython-patch/tools/series.sh steps [DIR]
#
#   apply   make DIR (default build/cpython/series) a git repository of the
#           pristine 3.13.15 tarball, tagged "pristine", and `git am` the
#           series onto it.  Edit there like any branch:
#             git commit --fixup=<commit>; git rebase -i --autosquash pristine
#   export  write DIR's pristine..HEAD back to cpython-patch/NNNN-*.patch with
#           `git format-patch --zero-commit --no-signature`: the output depends
#           only on the commits' content, so an unchanged commit exports to an
#           unchanged file (and build.sh's cache key stays put).
#   check   apply into a scratch directory and export again: the files must
#           come back byte for byte.
#   steps   build DIR's series one commit at a time (`git rebase --exec`,
#           incremental out-of-tree build) and run the touched modules' tests
#           after every commit: each step must build and pass.
#
# The tarball is the one build.sh downloads and checks (build/cpython/dl/).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PATCHDIR=$ROOT/cpython-patch
TARBALL=${TARBALL:-$ROOT/build/cpython/dl/python3.13_3.13.15.orig.tar.xz}
STEP_TESTS=(test_buffer test_bytes test_memoryview test_inspect test_array test_sys
            test_builtin test_baseexception test_exceptions test_struct)

# Fixed identities and dates: the pristine commit is the same everywhere.
export GIT_AUTHOR_NAME=bufferflags GIT_AUTHOR_EMAIL=bufferflags@example.invalid
export GIT_COMMITTER_NAME=bufferflags GIT_COMMITTER_EMAIL=bufferflags@example.invalid
export GIT_COMMITTER_DATE="2026-11-23T10:00:00+0000"

die() { echo "series.sh: $*" >&2; exit 1; }

ensure_tarball() {
    [ -f "$TARBALL" ] || "$PATCHDIR/build.sh" --only baseline >/dev/null \
        || die "cannot get $TARBALL (build.sh fetches it)"
}

apply_series() {
    local dir=$1
    ensure_tarball
    rm -rf "$dir"; mkdir -p "$dir"
    tar -xf "$TARBALL" -C "$dir" --strip-components=1
    git -C "$dir" init -q -b main
    git -C "$dir" config core.autocrlf false
    git -C "$dir" config commit.gpgsign false
    # The tarball has no .gitignore of its own for build products of an
    # out-of-tree build; none are made here, so every file is tracked.
    git -C "$dir" add -A -f
    GIT_AUTHOR_DATE=$GIT_COMMITTER_DATE git -C "$dir" commit -q \
        -m "CPython 3.13.15 (python3.13_3.13.15.orig.tar.xz)"
    git -C "$dir" tag pristine
    # Running ./python from an out-of-tree build writes bytecode into Lib/.
    echo '__pycache__/' >> "$dir/.git/info/exclude"
    # The committer date is left to git am (our fixed one), so the hashes
    # are reproducible too; only author and author date come from a patch.
    git -C "$dir" am -q --keep-cr --committer-date-is-author-date \
        "$PATCHDIR"/[0-9][0-9][0-9][0-9]-*.patch
}

export_series() {
    local dir=$1 out=$2
    [ -n "$(git -C "$dir" status --porcelain --untracked-files=no)" ] \
        && die "$dir has uncommitted changes"
    rm -f "$out"/[0-9][0-9][0-9][0-9]-*.patch
    git -C "$dir" -c core.abbrev=12 -c diff.noprefix=false \
        -c diff.mnemonicPrefix=false -c format.signature= \
        format-patch -q --zero-commit --no-signature -o "$out" pristine..HEAD
}

steps() {
    local dir=$1 obj
    obj=$(dirname "$dir")/$(basename "$dir")-obj
    rm -rf "$obj"; mkdir -p "$obj"
    (cd "$obj" && "$dir/configure" -q >"$obj/configure.log" 2>&1)
    local cmd="cd '$obj' && make -j${JOBS:-2} >make.log 2>&1 \
        && ./python -m test ${STEP_TESTS[*]} -j${JOBS:-2} >test.log 2>&1 \
        && echo \"ok   \$(git -C '$dir' log -1 --format=%s) \$(grep -E '^Total tests' test.log)\" \
        || { echo \"FAIL \$(git -C '$dir' log -1 --format=%s)\"; tail -30 make.log test.log; exit 1; }"
    # --force-rebase: every commit is checked out and built, even unchanged ones.
    git -C "$dir" rebase -q --force-rebase --exec "$cmd" pristine
}

cmd=${1:-}; shift || true
case "$cmd" in
    apply)  apply_series "$(realpath -m "${1:-$ROOT/build/cpython/series}")" ;;
    export) export_series "$(realpath -m "${1:-$ROOT/build/cpython/series}")" "$PATCHDIR" ;;
    check)
        scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT
        apply_series "$scratch/src"
        mkdir "$scratch/out"
        export_series "$scratch/src" "$scratch/out"
        if diff -r <(cd "$scratch/out" && ls) <(cd "$PATCHDIR" && ls [0-9][0-9][0-9][0-9]-*.patch) >/dev/null \
           && for f in "$scratch"/out/*.patch; do cmp -s "$f" "$PATCHDIR/$(basename "$f")" || exit 1; done; then
            echo "series.sh check: $(ls "$scratch/out" | wc -l) patches round-trip byte for byte"
        else
            diff -ru "$PATCHDIR" "$scratch/out" -x '*.sh' -x tools -x '*.md' | head -40
            die "the series does not round-trip: re-export it with 'series.sh export'"
        fi ;;
    steps)  steps "$(realpath -m "${1:-$ROOT/build/cpython/series}")" ;;
    *) sed -n '2,22p' "$0"; exit 2 ;;
esac
