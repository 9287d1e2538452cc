#!/usr/bin/env bash
# Fault injection — not a test, and not run by CI (CI runs the small seeded
# version: bench/tests/faults.rs). Reproduces the figures in README.md
# ("Robustness"): builds bench-faults and runs it; it prints the report and
# writes bench/results/faults.md. Exits non-zero when an invariant was
# violated. A dev build on purpose: it is not a speed benchmark, and debug
# assertions and overflow checks stay on.
#
# Flags go to bench-faults: --seed 1 --operations 10000 --clients 64
# --numbers 1000 --fault-rate 0.3 --send-failure-rate 0.2 --hold-ms 30000.
# Everything runs in one process on loopback (dynoxide, the fault proxy,
# the service); about ten minutes on 2 cores.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cargo build -p verify-bench --bin bench-faults
"${CARGO_TARGET_DIR:-$root/target}/debug/bench-faults" "$@"
