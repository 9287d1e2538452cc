#!/usr/bin/env bash
# Installs what the tests need, idempotently: a Python venv (moto's server,
# the official clients, pytest) and, when a test needs them, npm and Debian
# packages. Safe to run again; it does nothing when everything is in place.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/tests/ci.sh"
venv="$root/tests/.venv"
stamp="$venv/.requirements.sha256"
# The tests' own requirements and each example's (examples/*/requirements.txt),
# in one environment: the tests run the examples with it, and pip refuses
# pins that disagree.
shopt -s nullglob
reqs=("$root/tests/requirements.txt" "$root"/examples/*/requirements.txt)
shopt -u nullglob

want="$(cat "${reqs[@]}" | sha256sum | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: creating the Python environment in tests/.venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --no-cache-dir --upgrade pip
    "$venv/bin/pip" install --quiet --no-cache-dir $(printf -- '-r %s ' "${reqs[@]}")
    echo "$want" > "$stamp"
fi

# npm packages for tests that use the official Node client, if any.
if [ -f "$root/tests/node/package.json" ]; then
    if [ ! -d "$root/tests/node/node_modules" ] || [ "$root/tests/node/package.json" -nt "$root/tests/node/node_modules" ]; then
        echo "setup: installing npm packages in tests/node"
        (cd "$root/tests/node" && npm install --no-audit --no-fund --loglevel=error && touch node_modules)
    fi
fi

# Each example's npm packages, exactly as its lock file pins them.
shopt -s nullglob
locks=("$root"/examples/*/package-lock.json)
shopt -u nullglob
for lock in "${locks[@]}"; do
    dir="$(dirname "$lock")"
    if [ ! -d "$dir/node_modules" ] || [ "$lock" -nt "$dir/node_modules" ]; then
        echo "setup: installing npm packages in ${dir#"$root"/}"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error && touch node_modules)
    fi
done

# Debian packages named in tests/apt-packages.txt (e.g. chromium), if any.
if [ -f "$root/tests/apt-packages.txt" ]; then
    missing=()
    while read -r pkg; do
        [ -z "$pkg" ] || [[ "$pkg" == \#* ]] && continue
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done < "$root/tests/apt-packages.txt"
    if [ ${#missing[@]} -gt 0 ]; then
        echo "setup: installing Debian packages: ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
fi

# The Rust standard library for arm64 (aarch64-unknown-linux-gnu): `sam build`
# cross-compiles the functions for Lambda's arm64 with cargo-lambda and zig.
# rustup downloads it once; without network the sam build test can only
# build for x86_64: locally it says so, in CI that is an error.
if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu; then
    echo "setup: installing the aarch64-unknown-linux-gnu Rust target"
    rustup target add aarch64-unknown-linux-gnu \
        || missing "could not install the aarch64-unknown-linux-gnu Rust target: sam build cannot be tested for arm64"
fi
