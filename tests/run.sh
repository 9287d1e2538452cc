#!/usr/bin/env bash
# The test command: installs what the tests need (tests/setup.sh), starts
# moto's server on a free loopback port for DynamoDB and SNS, runs every Rust
# test, then the Python and Node tests against verify-local, and stops moto.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
. tests/ci.sh
bash tests/setup.sh
echo "setup: ${SECONDS} s" >&2

# stage MINUTES CMD...: runs one stage of the suite with a deadline, so a
# hung test fails the run with its stage named instead of eating CI's whole
# time limit. The deadlines are at least twice what each stage has taken
# here on a slow day (README, Tests) and add up to 85 minutes, under CI's 90
# with setup.
stage() {
    local minutes="$1"
    shift
    local rc=0 started=$SECONDS
    timeout --signal=TERM --kill-after=30 "${minutes}m" "$@" || rc=$?
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        echo "error: '$*' did not finish within ${minutes} minutes" >&2
    fi
    # What each stage took, for keeping its deadline (and the README) honest.
    echo "stage '$*': $((SECONDS - started)) s (deadline ${minutes} min, rc $rc)" >&2
    return "$rc"
}

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
unset TWILIO_EDGE TWILIO_REGION AWS_ENDPOINT_URL AWS_ENDPOINT_URL_DYNAMODB AWS_ENDPOINT_URL_SNS

logs="$root/target/test-logs"
mkdir -p "$logs"
port="$(tests/.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
tests/.venv/bin/moto_server -H 127.0.0.1 -p "$port" >"$logs/moto.log" 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null || true; wait $moto_pid 2>/dev/null || true' EXIT
export MOTO_ENDPOINT="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
    curl -sf "$MOTO_ENDPOINT/moto-api/" >/dev/null 2>&1 && break
    sleep 0.2
done
curl -sf "$MOTO_ENDPOINT/moto-api/" >/dev/null || { echo "moto did not start"; cat "$logs/moto.log"; exit 1; }

# Rust: unit tests of every crate, then the integration suite (which needs
# MOTO_ENDPOINT and builds verify-local for its end-to-end tests). One build
# of every target first: the binaries the suites spawn, and the tests, with
# one feature set (building the binaries alone would resolve the
# dependencies' features without the dev-dependencies and compile them twice).
stage 25 cargo build --workspace --all-targets
stage 20 cargo test --workspace

# Python and Node tests drive the built verify-local binary.
export VERIFY_LOCAL_BIN="$root/target/debug/verify-local"
if compgen -G "tests/python/test_*.py" >/dev/null; then
    # --timeout: pytest-timeout fails one hung test (and prints its stack)
    # rather than letting it hold up the rest.
    stage 35 tests/.venv/bin/python -m pytest -q --timeout=900 tests/python
else
    missing "no Python tests in tests/python"
fi
if compgen -G "tests/node/*.test.js" >/dev/null; then
    # --test-timeout: a hung test fails alone; --test-force-exit: a file
    # whose test left a handle open (a browser, a child) still ends.
    stage 5 node --test --test-timeout=120000 --test-force-exit tests/node/
else
    missing "no Node tests in tests/node"
fi
