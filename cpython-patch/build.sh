#!/usr/bin/env bash
# Build CPython 3.13.15 unpatched and with the bufferflags series.
#
# usage: cpython-patch/build.sh [--ft] [--only NAME]...
#
#   build/cpython/baseline/     unpatched, default configure flags
#   build/cpython/patched/      the series applied, same flags
#   build/cpython/patched-ft/   the series applied, --disable-gil (with --ft)
#   build/cpython/patched-immutable/ Part 1 of the series only (the patches
#                               before EXCLUSIVE_FROM): PyBUF_IMMUTABLE
#                               without PyBUF_EXCLUSIVE (only with --only
#                               patched-immutable: `make test`, `make bench`)
#   build/cpython/baseline-ft/  unpatched, --disable-gil (only with --only
#                               baseline-ft: `make bench`'s instruction
#                               counts compare free-threaded like for like)
#   build/cpython/patched-debug/ the series applied, --with-pydebug (only
#                               with --only patched-debug: `make refleak`)
#   build/cpython/patched-tsan/ the series applied, clang, --disable-gil
#                               --with-thread-sanitizer (only with --only
#                               patched-tsan: `make tsan`)
#
# Source: $CPYTHON_SRC (a CPython 3.13 tarball or source checkout) if set,
# else the pristine upstream tarball from Debian's source package (sid),
# cached in build/cpython/dl/ and checked against its sha256.
#
# Each install directory records the sha256 of (source checksum, patch files,
# configure flags) in .bufferflags-key; an interpreter whose key is unchanged
# is not rebuilt, so a second run exits in seconds.  Missing pip, pytest,
# hypothesis, cffi and pyperf are installed into every interpreter.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PATCHDIR="$ROOT/cpython-patch"
OUT="$ROOT/build/cpython"
DL="$OUT/dl"
LOGS="$OUT/logs"
JOBS=${JOBS:-2}

# The newest 3.13 reachable here (released 2026-08-05); Debian's unstable
# suite carries it.  Only the pristine .orig tarball is used, checked
# against this sha256 whichever suite served it.
DEB_VERSION=3.13.15-1
TARBALL_NAME=python3.13_3.13.15.orig.tar.xz
TARBALL_SHA256=1e66a7945a48390ee4c2a4268a0e4185884059a13c4aab6d148aa208deea4a76
DEB_SRC_SUITES="sid forky"
DEB_SRC_LIST=/etc/apt/sources.list.d/bufferflags-deb-src.sources
WHEELS=(pytest hypothesis cffi pyperf)

FT=0
ONLY=()
while [ $# -gt 0 ]; do
    case "$1" in
        --ft) FT=1 ;;
        --only) ONLY+=("$2"); shift ;;
        -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
        *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
if [ ${#ONLY[@]} -eq 0 ]; then
    ONLY=(baseline patched)
    [ "$FT" = 1 ] && ONLY+=(patched-ft)
fi

T0=$(date +%s)
say() { printf '[build.sh %4ds] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
timed() {  # timed LABEL LOG CMD...: run CMD, log it, report its duration
    local label=$1 log=$2; shift 2
    local t=$(date +%s)
    if ! "$@" >"$log" 2>&1; then
        say "FAILED: $label (see $log)"; tail -n 30 "$log" >&2; exit 1
    fi
    say "$label: $(( $(date +%s) - t )) s"
}
sha() { sha256sum "$@" | cut -d' ' -f1; }

mkdir -p "$DL" "$LOGS"

# --- the source ------------------------------------------------------------
fetch_debian_tarball() {
    local tarball="$DL/$TARBALL_NAME"
    if [ -f "$tarball" ] && [ "$(sha "$tarball")" = "$TARBALL_SHA256" ]; then
        echo "$tarball"; return
    fi
    # apt must know this exact source version: add deb-src entries for the
    # suites that carry it when none of the configured ones does.
    if ! apt-cache showsrc python3.13 2>/dev/null \
            | grep -qx "Version: $DEB_VERSION"; then
        say "adding deb-src entries for $DEB_SRC_SUITES ($DEB_SRC_LIST)" >&2
        cat > "$DEB_SRC_LIST" <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $DEB_SRC_SUITES
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
        apt-get update >"$LOGS/apt-update.log" 2>&1
    fi
    say "downloading $TARBALL_NAME (apt-get source)" >&2
    if ! (cd "$DL" && apt-get source --download-only --tar-only \
            "python3.13=$DEB_VERSION" >"$LOGS/apt-source.log" 2>&1); then
        apt-get update >"$LOGS/apt-update.log" 2>&1
        (cd "$DL" && apt-get source --download-only --tar-only \
            "python3.13=$DEB_VERSION" >"$LOGS/apt-source.log" 2>&1)
    fi
    local got
    got=$(sha "$tarball")
    if [ "$got" != "$TARBALL_SHA256" ]; then
        echo "build.sh: $tarball: sha256 $got, expected $TARBALL_SHA256" >&2
        exit 1
    fi
    echo "$tarball"
}

if [ -n "${CPYTHON_SRC:-}" ]; then
    SRC=$(realpath "$CPYTHON_SRC")
    if [ -d "$SRC" ]; then
        if git -C "$SRC" rev-parse HEAD >/dev/null 2>&1; then
            SRC_SUM=$( { git -C "$SRC" rev-parse HEAD; git -C "$SRC" diff HEAD; } | sha256sum | cut -d' ' -f1)
        else
            SRC_SUM=$(cd "$SRC" && find . -type f -printf '%P %s %T@\n' | sort | sha256sum | cut -d' ' -f1)
        fi
    else
        SRC_SUM=$(sha "$SRC")
    fi
    say "source: $SRC (CPYTHON_SRC)"
else
    SRC=$(fetch_debian_tarball)
    SRC_SUM=$TARBALL_SHA256
    say "source: $SRC (sha256 verified)"
fi

PATCHES=( "$PATCHDIR"/[0-9][0-9][0-9][0-9]-*.patch )

# Part 2 of the series, PyBUF_EXCLUSIVE, starts with this patch.  The
# patches before it are Part 1: PyBUF_IMMUTABLE and the reader/writer lock
# on their own, the interpreter the PEP proposes first (patched-immutable).
EXCLUSIVE_FROM=0024
PART1_PATCHES=()
for p in "${PATCHES[@]}"; do
    [[ "$(basename "$p")" < "$EXCLUSIVE_FROM" ]] && PART1_PATCHES+=("$p")
done
grep -q '^Subject: .*PyBUF_EXCLUSIVE' "$PATCHDIR/$EXCLUSIVE_FROM"-*.patch 2>/dev/null \
    || { echo "build.sh: patch $EXCLUSIVE_FROM is not the PyBUF_EXCLUSIVE one; fix EXCLUSIVE_FROM" >&2; exit 2; }

# extract SRC into a fresh directory $1
extract() {
    local dest=$1
    rm -rf "$dest"; mkdir -p "$dest"
    if [ -d "$SRC" ]; then
        if git -C "$SRC" rev-parse HEAD >/dev/null 2>&1; then
            # tracked files plus the working tree's changes, no build products
            (cd "$SRC" && git ls-files -z --cached --others --exclude-standard \
                | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) \
                | tar -xf - -C "$dest"
        else
            cp -a "$SRC"/. "$dest"/
        fi
    else
        tar -xf "$SRC" -C "$dest" --strip-components=1
    fi
}

# --- build dependencies ---------------------------------------------------
# pip needs ssl and zlib, the tests ctypes: without their headers configure
# quietly builds an interpreter that lacks them.  Debian packages, installed
# when missing (root and apt-get, as on this project's machines).
BUILD_DEPS=(gcc make pkg-config libffi-dev libssl-dev zlib1g-dev)
DEPS_CHECKED=0
ensure_build_deps() {
    [ "$DEPS_CHECKED" = 1 ] && return
    DEPS_CHECKED=1
    command -v dpkg-query >/dev/null 2>&1 || return 0
    local missing=() p
    for p in "${BUILD_DEPS[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
            || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "build.sh: missing build dependencies: ${missing[*]}" >&2; exit 1
    fi
    say "installing build dependencies: ${missing[*]}"
    apt-get update >"$LOGS/apt-update.log" 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        "${missing[@]}" >"$LOGS/apt-install.log" 2>&1 \
        || { echo "build.sh: apt-get install failed (see $LOGS/apt-install.log)" >&2; exit 1; }
}

# --- one interpreter ------------------------------------------------------
# build_one NAME PATCHSET [CONFIGURE FLAGS...]; PATCHSET is none, all or
# part1.
build_one() {
    local name=$1 patchset=$2; shift 2
    local flags=("$@")
    local prefix="$OUT/$name" srcdir="$OUT/src/$name" objdir="$OUT/obj/$name"
    local key patches=()
    case "$patchset" in
        all) patches=("${PATCHES[@]}") ;;
        part1) patches=("${PART1_PATCHES[@]}") ;;
    esac
    key=$( { echo "$SRC_SUM"; [ ${#patches[@]} -gt 0 ] && cat "${patches[@]}"; \
             echo "${flags[*]:-}"; } | sha256sum | cut -d' ' -f1)
    if [ -x "$prefix/bin/python3" ] && [ "$(cat "$prefix/.bufferflags-key" 2>/dev/null)" = "$key" ]; then
        say "$name: up to date ($prefix)"
    else
        ensure_build_deps
        say "$name: building (configure ${flags[*]:-<default flags>})"
        local t=$(date +%s)
        rm -f "$prefix/.bufferflags-key"
        timed "$name: extract" "$LOGS/$name-extract.log" extract "$srcdir"
        if [ ${#patches[@]} -gt 0 ]; then
            apply() {
                for p in "${patches[@]}"; do
                    echo "== $p"
                    patch -d "$srcdir" -p1 --forward --batch < "$p"
                done
            }
            timed "$name: apply ${#patches[@]} patches" "$LOGS/$name-patch.log" apply
        fi
        rm -rf "$objdir"; mkdir -p "$objdir"
        cd "$objdir"
        timed "$name: configure" "$LOGS/$name-configure.log" \
            "$srcdir/configure" --prefix="$prefix" "${flags[@]}"
        timed "$name: make -j$JOBS" "$LOGS/$name-make.log" make -j"$JOBS"
        # Install over the previous interpreter rather than deleting it:
        # "install" replaces each file (processes still running keep theirs)
        # and packages others installed into site-packages survive.
        timed "$name: make install" "$LOGS/$name-install.log" make install
        cd "$ROOT"
        echo "$key" > "$prefix/.bufferflags-key"
        say "$name: built in $(( $(date +%s) - t )) s"
    fi
    local py="$prefix/bin/python3"
    if ! "$py" -c 'import ssl, zlib, ctypes' 2>"$LOGS/$name-modules.log"; then
        echo "build.sh: $py lacks ssl, zlib or ctypes (see $LOGS/$name-modules.log);" \
             "install ${BUILD_DEPS[*]} and rebuild" >&2
        exit 1
    fi
    if ! "$py" -m pip --version >/dev/null 2>&1; then
        timed "$name: ensurepip" "$LOGS/$name-ensurepip.log" "$py" -m ensurepip
    fi
    local missing=() wheels=("${WHEELS[@]}")
    if "$py" -c 'import sys; sys.exit(sys._is_gil_enabled())' 2>/dev/null; then
        # cffi refuses free-threaded 3.13 ("Upgrade to free-threaded 3.14
        # or newer to use CFFI with the free-threaded build")
        wheels=("${WHEELS[@]/cffi}")
        say "$name: free-threaded 3.13: no cffi (cffi supports free-threading from 3.14)"
    fi
    for w in ${wheels[@]}; do
        "$py" -c "import $w" >/dev/null 2>&1 || missing+=("$w")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        timed "$name: pip install ${missing[*]}" "$LOGS/$name-pip.log" \
            "$py" -m pip install --disable-pip-version-check \
            --only-binary=:all: "${missing[@]}"
    fi
    say "$name: $("$py" -c 'import sys; print(sys.version.split()[0], "GIL" if getattr(sys, "_is_gil_enabled", lambda: True)() else "free-threaded")')"
}

for name in "${ONLY[@]}"; do
    case "$name" in
        baseline)   build_one baseline none ;;
        baseline-ft) build_one baseline-ft none --disable-gil ;;
        patched)    build_one patched all ;;
        patched-ft) build_one patched-ft all --disable-gil ;;
        patched-immutable) build_one patched-immutable part1 ;;
        patched-debug) build_one patched-debug all --with-pydebug ;;
        patched-tsan) BUILD_DEPS+=(clang libclang-rt-dev)  # compiler-rt: libclang_rt.tsan
                      build_one patched-tsan all CC=clang --disable-gil --with-thread-sanitizer ;;
        *) echo "build.sh: unknown interpreter $name" >&2; exit 2 ;;
    esac
done
say "done"
