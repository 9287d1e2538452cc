#!/usr/bin/env bash
# Benchmarks — not tests, and not run by CI. Reproduces the numbers in
# README.md ("Performance"):
#
#   1. builds every function declared in template.yaml whose crate exists, in
#      release mode with cargo-lambda: for arm64 (what `sam build` ships; its
#      sizes) and for this machine's architecture (to run it here);
#   2. bench-lambda: per function, cold starts (process start → ready for the
#      first invocation, → first response), peak RSS, and warm latency p50/p99
#      with the time spent in DynamoDB and SNS subtracted (own overhead), under
#      a Lambda Runtime API emulator, against embedded dynoxide (DynamoDB) and
#      moto (SNS) on loopback;
#   3. bench-local: complete verifications per second and p50/p99 latency on
#      verify-local (embedded store) under concurrent load;
#   4. writes bench/results/latest.json and bench/results/latest.md, and
#      prints the table.
#
# Knobs (environment): COLD=20 cold starts per mode, WARM=1000 warm
# invocations per function, LEVEL_SECONDS=10 per concurrency level,
# CONCURRENCY=1,8,32. Takes a few minutes after the release builds (which
# take ~10 minutes from scratch on 2 cores).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash tests/setup.sh
export PATH="$root/tests/.venv/bin:$PATH" SAM_CLI_TELEMETRY=0
py="$root/tests/.venv/bin/python"
target="${CARGO_TARGET_DIR:-$root/target}"
logs="$target/bench-logs"
results="$root/bench/results"
mkdir -p "$logs" "$results"

# Functions: those template.yaml declares and this tree has (name=dir).
mapfile -t functions < <("$py" - <<'PY'
import sys; sys.path.insert(0, "tests/python")
from deploy_support import load_template, present_functions
for f in present_functions(load_template()):
    print(f"{f.binary}={f.package_dir}")
PY
)
echo "bench: functions: ${functions[*]}"

build_seconds=()
for entry in "${functions[@]}"; do
    name="${entry%%=*}"
    t0=$(date +%s)
    # One package per build, as `sam build` does (features are unified per package).
    cargo lambda build --release --arm64 --package "$name" --lambda-dir "$target/lambda-arm64"
    cargo lambda build --release --package "$name" --lambda-dir "$target/lambda-host"
    build_seconds+=("$name=$(( $(date +%s) - t0 ))")
done
cargo build --release --package verify-local --package verify-bench

port="$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
moto_server -H 127.0.0.1 -p "$port" >"$logs/moto.log" 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null || true; wait $moto_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1 && break; sleep 0.2; done

bins=()
for entry in "${functions[@]}"; do
    name="${entry%%=*}"
    bins+=(--bin "$name=$target/lambda-host/$name/bootstrap")
done
# The API key the sample events authenticate with (see tests/python/deploy_support.py).
api_keys="$("$py" -c 'import sys; sys.path.insert(0, "tests/python"); from deploy_support import EVENTS_API_KEYS_JSON as k; print(k)')"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
"$target/release/bench-lambda" --sns "http://127.0.0.1:$port" --events events --logs "$logs" \
    --cold "${COLD:-20}" --warm "${WARM:-1000}" "${bins[@]}" \
    --env "VERIFY_API_KEYS=$api_keys" \
    --out "$logs/lambda.json"
"$target/release/bench-local" --bin "$target/release/verify-local" --logs "$logs" \
    --seconds "${LEVEL_SECONDS:-10}" --concurrency "${CONCURRENCY:-1,8,32}" --out "$logs/local.json"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
# Capacity, not time: its own file (the load does not change it).
"$target/release/bench-write-units" --out "$results/write-units.json" --md "$results/write-units.md" \
    --title "# Write units per completed verification ($(git rev-parse --short HEAD), $(date -u '+%Y-%m-%d %H:%M UTC'))"

"$py" bench/report.py --target "$target" --lambda "$logs/lambda.json" --local "$logs/local.json" \
    --load-before "$load_before" --load-after "$load_after" \
    --build-seconds "${build_seconds[*]}" --functions "${functions[*]}" \
    --json "$results/latest.json" --markdown "$results/latest.md"
cat "$results/latest.md"
