#!/usr/bin/env bash
# Print the stock CPython 3.11+ interpreters here, one version per line
# (`--path VERSION` prints that interpreter's path instead).
set -euo pipefail

candidates() {
    command -v python3 || true
    # versioned names on PATH (python3.12, ...), pyenv's shims aside
    compgen -c python3.1 | grep -E '^python3\.1[1-9]$' | sort -u | while read -r name; do
        command -v "$name"
    done | grep -v '/shims/' || true
    if command -v pyenv >/dev/null 2>&1; then
        root=$(pyenv root)
        for dir in "$root"/versions/3.1[1-9]*; do
            [ -x "$dir/bin/python3" ] && echo "$dir/bin/python3"
        done
    fi
}

declare -A seen
for py in $(candidates); do
    version=$("$py" -c 'import sys, sysconfig
ok = sys.version_info >= (3, 11) and sys.implementation.name == "cpython" \
     and not sysconfig.get_config_var("Py_GIL_DISABLED")
print(sys.version.split()[0] if ok else "")' 2>/dev/null || true)
    [ -n "$version" ] && [ -z "${seen[$version]:-}" ] || continue
    seen[$version]=1
    if [ "${1:-}" = --path ]; then
        [ "$version" = "$2" ] && { echo "$py"; exit 0; }
    else
        echo "$version"
    fi
done
