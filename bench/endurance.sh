#!/usr/bin/env bash
# Endurance — a benchmark, not a test, and not run by CI (CI runs
# tests/integration/local_stream.rs, which checks the engine's stream history
# stays bounded, without timing). Reproduces the figures in README.md
# ("Performance", verify-local over time): builds verify-local and
# bench-endurance in release mode, runs 100,000 complete verifications at one
# client on one `verify-local --memory`, and writes bench/results/endurance.md
# and endurance.json: the rate of each window of 10,000, first against last.
#
# Knobs (environment): VERIFICATIONS=100000, WINDOW=10000. Five to seventeen minutes
# at 100–310 verifications/s after the build; run it on a quiet machine (the
# load averages before and after are part of the result).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
logs="$target/bench-logs"
mkdir -p "$logs" bench/results
cargo build --release --package verify-local --package verify-bench --bin verify-local --bin bench-endurance
"$target/release/bench-endurance" --bin "$target/release/verify-local" --logs "$logs" \
    --verifications "${VERIFICATIONS:-100000}" --window "${WINDOW:-10000}" --out "$logs/endurance.json"
python3 bench/endurance_report.py --input "$logs/endurance.json" \
    --json bench/results/endurance.json --markdown bench/results/endurance.md
cat bench/results/endurance.md
