#!/usr/bin/env bash
# The Rust consumer example (examples/rust, issue 18): its crates, its builds, its tests.
#
#   tools/rust-example.sh fetch            the crates into build/rust/crates (once; cached)
#   tools/rust-example.sh build PYTHON     build rustbuf for PYTHON; prints the module's path
#   tools/rust-example.sh test PYTHON...   build and run tests/rust on each (make test-rust)
#
# crates.io is not reachable here, so the crates come from Debian: sid's librust-pyo3-ffi-dev and
# the librust-*-dev packages it depends on, found with apt-get against a private sid package
# list under build/rust/apt (the host's apt state is not touched), fetched with
# `apt-get download` and unpacked with `dpkg-deb -x` (the packages are crate sources, so the
# host's release does not matter). A machine where librust-pyo3-ffi-dev is installed uses
# /usr/share/cargo/registry instead. build/rust/.cargo/config.toml replaces crates-io with that
# directory source; cargo runs offline with it.
#
# Where cargo or the crates cannot be had, `fetch` and `build` exit 77 and `test` prints a
# WARNING that the example is NOT tested, and exits 0. A build or test failure fails.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/build/rust
CRATES=$OUT/crates
CONFIG=$OUT/.cargo/config.toml
MANIFEST=$ROOT/examples/rust/Cargo.toml
SKIP=77
# The sid packages: pyo3-ffi's minor version must match examples/rust/Cargo.toml.
ROOT_PACKAGE=librust-pyo3-ffi-dev
WANT_PYO3='0.28'

skip() { echo "rust-example: $*" >&2; exit $SKIP; }

find_cargo() {
    if command -v cargo >/dev/null 2>&1; then command -v cargo
    elif [[ -x ${CARGO_HOME:-$HOME/.cargo}/bin/cargo ]]; then echo "${CARGO_HOME:-$HOME/.cargo}/bin/cargo"
    else return 1; fi
}

write_config() {   # $1: the directory holding <crate>-<version>/ directories
    mkdir -p "$(dirname "$CONFIG")"
    cat > "$CONFIG.tmp" <<EOF
# Written by tools/rust-example.sh: crates from Debian's librust-*-dev packages.
[source.crates-io]
replace-with = "debian"

[source.debian]
directory = "$1"

[net]
offline = true

[env]
# An extension module: do not link libpython (pyo3-build-config).
PYO3_BUILD_EXTENSION_MODULE = "1"
EOF
    mv "$CONFIG.tmp" "$CONFIG"
}

have_pyo3() {      # $1: a registry directory
    compgen -G "$1/pyo3-ffi-$WANT_PYO3.*" >/dev/null && compgen -G "$1/pyo3-build-config-$WANT_PYO3.*" >/dev/null
}

fetch() {
    if [[ -f $CRATES/.complete ]] && have_pyo3 "$(cat "$CRATES/.complete")"; then
        [[ -f $CONFIG ]] || write_config "$(cat "$CRATES/.complete")"
        return 0
    fi
    if have_pyo3 /usr/share/cargo/registry; then
        mkdir -p "$CRATES"
        echo /usr/share/cargo/registry > "$CRATES/.complete"
        write_config /usr/share/cargo/registry
        return 0
    fi
    command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null \
        || skip "no apt-get/dpkg-deb to fetch Debian's crate packages"
    local apt=$OUT/apt arch
    arch=$(dpkg --print-architecture)
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
    : > "$apt/status"
    local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    [[ -f $keyring ]] || skip "no $keyring to check Debian's package lists"
    echo "deb [signed-by=$keyring] http://deb.debian.org/debian sid main" > "$apt/sources.list"
    local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent
                -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
                -o "Dir::State::status=$apt/status" -o "APT::Architectures::=$arch"
                -o Acquire::Languages=none -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
    echo "rust-example: fetching Debian sid's $ROOT_PACKAGE and its librust-*-dev dependencies" >&2
    apt-get "${opts[@]}" -qq update >&2 || skip "apt-get update of Debian sid's package list failed"
    local packages
    packages=$(apt-cache "${opts[@]}" depends --recurse --no-recommends --no-suggests \
                 --no-conflicts --no-breaks --no-replaces --no-enhances $ROOT_PACKAGE \
               | grep -E '^librust-[^ ]*-dev$' | sort -u) \
        || skip "Debian sid has no $ROOT_PACKAGE"
    rm -f "$apt"/debs/*.deb
    (cd "$apt/debs" && apt-get "${opts[@]}" -qq download $packages >&2) \
        || skip "apt-get download of $(echo $packages) failed"
    rm -rf "$CRATES.tmp"
    mkdir -p "$CRATES.tmp"
    local deb
    for deb in "$apt"/debs/*.deb; do dpkg-deb -x "$deb" "$CRATES.tmp/root"; done
    local registry=$CRATES/root/usr/share/cargo/registry
    if ! have_pyo3 "$CRATES.tmp/root/usr/share/cargo/registry"; then
        skip "Debian sid's $ROOT_PACKAGE is $(ls "$CRATES.tmp/root/usr/share/cargo/registry" | grep '^pyo3-ffi-' || echo missing), examples/rust/Cargo.toml asks $WANT_PYO3: update the example"
    fi
    rm -rf "$CRATES"
    mv "$CRATES.tmp" "$CRATES"
    echo "$registry" > "$CRATES/.complete"
    write_config "$registry"
    echo "rust-example: crates in $registry: $(ls "$registry" | tr '\n' ' ')" >&2
}

# build/rust/target/<tag>: one cargo target directory per interpreter (the build script's
# cfgs follow PYO3_PYTHON), so reruns rebuild nothing.
tag_of() {
    "$1" - <<'EOF'
import hashlib, sys, sysconfig
ft = "t" if sysconfig.get_config_var("Py_GIL_DISABLED") else ""
print("%s%s-%s" % (sys.version.split()[0], ft,
                   hashlib.sha1(sys.prefix.encode()).hexdigest()[:8]))
EOF
}

absolute() {       # an interpreter's absolute path, symlinks kept (a venv's python is one)
    local py
    py=$(command -v "$1") || { echo "rust-example: no interpreter $1" >&2; return 1; }
    echo "$(cd "$(dirname "$py")" && pwd)/$(basename "$py")"
}

build() {          # $1: python; prints the built module's path
    local py cargo tag suffix
    py=$(absolute "$1")
    cargo=$(find_cargo) || skip "no cargo (looked in PATH and ~/.cargo/bin)"
    fetch
    tag=$(tag_of "$py")
    suffix=$("$py" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
    PYO3_PYTHON=$py "$cargo" build --quiet --release --config "$CONFIG" \
        --manifest-path "$MANIFEST" --target-dir "$OUT/target/$tag" >&2
    mkdir -p "$OUT/ext/$tag"
    cp -p "$OUT/target/$tag/release/librustbuf.so" "$OUT/ext/$tag/rustbuf$suffix"
    echo "$OUT/ext/$tag/rustbuf$suffix"
}

run_tests() {
    local py status=0 reason module
    for py in "$@"; do
        echo "== rust example on $py"
        py=$(absolute "$py")
        status=0
        module=$(build "$py" 2>"$OUT/last-build.log") || status=$?
        cat "$OUT/last-build.log" >&2
        if [[ $status == "$SKIP" ]]; then
            reason=$(grep '^rust-example:' "$OUT/last-build.log" | tail -1)
            echo "WARNING: the Rust example (examples/rust) is NOT tested: ${reason#rust-example: }" >&2
            return 0
        elif [[ $status != 0 ]]; then
            echo "rust-example: building for $py failed" >&2
            return "$status"
        fi
        local pythonpath=
        "$py" -c 'import bufferflags' 2>/dev/null || pythonpath=$ROOT/shim
        (cd "$ROOT/build" && PYTHONPATH=$pythonpath RUSTBUF_MODULE=$module \
            "$py" -m pytest ${PYTEST_ARGS:--q} -p no:cacheprovider "$ROOT/tests/rust")
    done
}

mkdir -p "$OUT"
case ${1:-} in
    fetch) fetch; echo "crates: $(cat "$CRATES/.complete")" ;;
    build) shift; build "$1" ;;
    test) shift; run_tests "$@" ;;
    *) echo "usage: $0 fetch | build PYTHON | test PYTHON..." >&2; exit 2 ;;
esac
