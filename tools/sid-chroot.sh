#!/usr/bin/env bash
# The shim on CPython 3.14 and 3.15: Debian sid's interpreters in a chroot.
#
#   tools/sid-chroot.sh setup           create (or reuse) the chroot and the venvs
#   tools/sid-chroot.sh test [ARGS...]  setup, then run the shim's suites with
#                                       pytest ARGS on every interpreter in it
#   tools/sid-chroot.sh run PY CMD...   run CMD inside with venv PY's bin on PATH
#                                       (PY: 3.14 or 3.15)
#
# The host's glibc is too old for sid's python3.14/python3.15 packages
# (they need glibc >= 2.38), so they run in a debootstrapped sid under
# build/sid-chroot, cached: build/sid-chroot.stamp names the package list it
# was made with, and a different list makes it again.  Each interpreter gets
# a venv in it (/opt/venv/3.14, /opt/venv/3.15) with '.[test,bench]'
# installed from a copy of this working tree (/src; copied afresh on every
# call, so the tests are the tree's as it is now).  /proc, and read-only
# binds of the host's local package index directories, are mounted only
# while this script runs and unmounted on exit (a trap), so `rm -rf build`
# always works.
#
# Where the chroot cannot be made (not root, no debootstrap, no network),
# this prints a WARNING saying that 3.14/3.15 are NOT tested and why, and
# exits 0: never a silent skip.  Once it exists, a failing install or test
# exits non-zero.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
CHROOT=$BUILD/sid-chroot
STAMP=$BUILD/sid-chroot.stamp
SUITE=sid
MIRROR=${SID_MIRROR:-http://deb.debian.org/debian}
VERSIONS=(3.14 3.15)
PACKAGES=gcc,libffi-dev
for v in "${VERSIONS[@]}"; do
    PACKAGES+=,python$v,python$v-dev,python$v-venv,libpython$v-testsuite
done
NICE=(nice -n 10)

warn_untested() {
    echo "=================================================================="
    echo "WARNING: CPython ${VERSIONS[0]} and ${VERSIONS[1]} are NOT tested: $*"
    echo "=================================================================="
}

# --- mounts: only while this script runs -----------------------------------
MOUNTS=()
mounts_under() {  # the mount points at or below $1, deepest first
    awk -v p="$1" '$2 == p || index($2, p "/") == 1 { print $2 }' /proc/self/mounts | sort -r
}
unmount_all() {
    local m
    for m in $(mounts_under "$CHROOT") $(mounts_under "$CHROOT.new"); do
        umount "$m" 2>/dev/null || umount -l "$m" || echo "sid-chroot: cannot unmount $m" >&2
    done
    MOUNTS=()
}
trap unmount_all EXIT
trap 'exit 130' INT TERM

bind_ro() {  # a host directory, read-only at the same path inside
    local dir=$1
    mkdir -p "$CHROOT$dir"
    mount --bind "$dir" "$CHROOT$dir"
    mount -o remount,bind,ro "$CHROOT$dir"
    MOUNTS+=("$CHROOT$dir")
}

# The host's pip settings, reproduced inside: its config files are copied
# to the same paths, and every local file or directory they (or PIP_*
# variables, which pass through) name is copied (files) or bound read-only
# (directories) to the same path, so pip inside resolves against the same
# indexes and constraints as the host's venvs do.
pip_settings() {
    local f tok path
    for f in /etc/pip.conf /etc/xdg/pip/pip.conf "$HOME/.config/pip/pip.conf" \
             "$HOME/.pip/pip.conf" ${PIP_CONFIG_FILE:-}; do
        [ -f "$f" ] || continue
        mkdir -p "$CHROOT$(dirname "$f")"; cp "$f" "$CHROOT$f"
        case $f in "$HOME"/*)   # inside, HOME is /root
            mkdir -p "$(dirname "$CHROOT/root${f#"$HOME"}")"; cp "$f" "$CHROOT/root${f#"$HOME"}" ;;
        esac
    done
    { python3 -m pip config list 2>/dev/null | sed "s/^[^=]*=//; s/^'//; s/'\$//"
      env | sed -n 's/^PIP_[A-Z_]*=//p'; } | tr ' ' '\n' | while read -r tok; do
        path=${tok#file://}
        case $path in /*) ;; *) continue ;; esac
        path=${path%/simple}   # an index's root, with its files
        if [ -f "$path" ]; then
            mkdir -p "$CHROOT$(dirname "$path")"; cp "$path" "$CHROOT$path"
        elif [ -d "$path" ]; then
            echo "$path"
        fi
    done | sort -u
}

# --- the chroot -------------------------------------------------------------
stamp_text() { printf 'suite=%s mirror=%s packages=%s\n' "$SUITE" "$MIRROR" "$PACKAGES"; }

make_chroot() {
    if [ -d "$CHROOT" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$(stamp_text)" ]; then
        return 0
    fi
    if [ "$(id -u)" != 0 ]; then
        warn_untested "making the sid chroot needs root (running as uid $(id -u))"; return 1
    fi
    if ! command -v debootstrap >/dev/null && [ ! -x /usr/sbin/debootstrap ]; then
        warn_untested "debootstrap is not installed (apt-get install debootstrap)"; return 1
    fi
    local debootstrap; debootstrap=$(command -v debootstrap || echo /usr/sbin/debootstrap)
    unmount_all
    rm -rf "$CHROOT" "$CHROOT.new" "$STAMP"
    mkdir -p "$BUILD"
    echo "== sid chroot: debootstrap $SUITE into $CHROOT (about 3 minutes)"
    local start=$SECONDS
    if ! "${NICE[@]}" "$debootstrap" --variant=minbase --include="$PACKAGES" \
            "$SUITE" "$CHROOT.new" "$MIRROR" > "$BUILD/sid-chroot.log" 2>&1; then
        tail -n 5 "$BUILD/sid-chroot.log" >&2
        unmount_all
        rm -rf "$CHROOT.new"
        warn_untested "debootstrap $SUITE from $MIRROR failed (network?), see $BUILD/sid-chroot.log"
        return 1
    fi
    mv "$CHROOT.new" "$CHROOT"
    stamp_text > "$STAMP"
    echo "== sid chroot: made in $((SECONDS - start)) s"
}

enter() {  # mount what the chroot needs for this run
    mkdir -p "$CHROOT/proc" "$CHROOT/etc/ssl/certs"
    mountpoint -q "$CHROOT/proc" || { mount -t proc proc "$CHROOT/proc"; MOUNTS+=("$CHROOT/proc"); }
    cp /etc/resolv.conf "$CHROOT/etc/resolv.conf"
    [ -f /etc/ssl/certs/ca-certificates.crt ] &&
        cp /etc/ssl/certs/ca-certificates.crt "$CHROOT/etc/ssl/certs/ca-certificates.crt"
    local dir
    for dir in $(pip_settings); do
        mountpoint -q "$CHROOT$dir" || bind_ro "$dir"
    done
    # The working tree as it is now (tests included), without build/ and .git.
    rm -rf "$CHROOT/src"; mkdir -p "$CHROOT/src"
    tar -C "$ROOT" --exclude=./build --exclude=./.git --exclude='*.egg-info' \
        --exclude=__pycache__ --exclude=.hypothesis -cf - . | tar -C "$CHROOT/src" -xf -
}

in_chroot() {  # a clean environment, plus the host's PIP_* settings
    local pipenv; mapfile -t pipenv < <(env | grep '^PIP_' || true)
    "${NICE[@]}" chroot "$CHROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
        PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin "${pipenv[@]}" "$@"
}

# The venvs, remade when the shim's sources change (as the host's are).
shim_hash() {
    (cd "$ROOT" && cat shim/bufferflags/* shim/bufferflags/include/* pyproject.toml setup.py LICENSE 2>/dev/null) |
        sha256sum | cut -c1-16
}

make_venvs() {
    local v venv hash; hash=$(shim_hash)
    for v in "${VERSIONS[@]}"; do
        venv=/opt/venv/$v
        [ "$(cat "$CHROOT$venv/.installed" 2>/dev/null)" = "$hash" ] && continue
        echo "== sid chroot: venv for python$v, shim installed"
        rm -rf "${CHROOT:?}$venv"
        in_chroot "python$v" -m venv "$venv"
        in_chroot "$venv/bin/python" -m pip install -q --upgrade pip
        in_chroot sh -c "cd /src && $venv/bin/python -m pip install -q '.[test,bench]'"
        echo "$hash" > "$CHROOT$venv/.installed"
    done
}

setup() {
    make_chroot || return 1
    enter
    make_venvs
}

mkdir -p "$BUILD"
exec 9> "$BUILD/sid-chroot.lock"
flock 9    # one make at a time in the chroot
unmount_all   # whatever a killed run (SIGKILL: no trap) left mounted

cmd=${1:-test}; shift || true
case $cmd in
    setup)
        setup || exit 0 ;;
    test)
        setup || exit 0
        status=0
        for v in "${VERSIONS[@]}"; do
            venv=/opt/venv/$v
            echo "== shim on $(in_chroot "$venv/bin/python" -c 'import sys; print(sys.version.split()[0])') (sid chroot)"
            in_chroot sh -c 'mkdir -p /tmp/run && cd /tmp/run && exec "$@"' sh \
                "$venv/bin/python" -m pytest "$@" -p no:cacheprovider \
                /src/tests/conformance /src/tests/shim /src/tests/capi /src/tests/stress || status=1
        done
        exit $status ;;
    run)
        v=$1; shift
        setup || exit 1
        in_chroot sh -c 'cd /src && PATH=/opt/venv/'"$v"'/bin:$PATH exec "$@"' sh "$@" ;;
    *)
        sed -n '2,8p' "$0" >&2; exit 2 ;;
esac
