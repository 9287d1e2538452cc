#!/usr/bin/env bash
# Two verify-local builds, A and B, alternately at one client: for each run,
# bench-local's rate over SECONDS (a fresh `verify-local --memory` each
# time) and, with perf, the CPU verify-local spent per complete verification
# over the run's middle (task-clock from 1.5 s in, for SECONDS - 2.5 s,
# divided by that stretch's share of the verifications at the run's rate).
# Alternating keeps the machine's drift out of the difference; the medians,
# not single runs, carry it.
#
#   bash bench/ab-local.sh A_BIN B_BIN [PAIRS=4] [SECONDS=10]
#
# Needs bench-local built (cargo build --release -p verify-bench) and perf
# for the CPU column (without perf that column reads "-").
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
a="$1" b="$2" pairs="${3:-4}" seconds="${4:-10}"
bench="$root/target/release/bench-local"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# run NAME BIN: one run; prints "rate cpu_ms_per_verification".
run() {
    local name="$1" bin="$2" out="$work/$1.json"
    "$bench" --bin "$bin" --out "$out" --seconds "$seconds" --concurrency 1 --logs "$work/logs-$name" >/dev/null 2>&1 &
    local bench_pid=$! cpu="-"
    sleep 1.5
    local pid
    pid="$(pgrep -P "$bench_pid" -f "$(basename "$bin")" | head -1 || true)"
    local window
    window="$(python3 -c "print($seconds - 2.5)")"
    if command -v perf >/dev/null && [ -n "$pid" ]; then
        cpu="$(perf stat -x, -e task-clock -p "$pid" -- sleep "$window" 2>&1 >/dev/null | awk -F, '/task-clock/ {print $1}')"
    fi
    wait "$bench_pid"
    python3 - "$out" "$cpu" "$window" <<'EOF'
import json, sys
level = json.load(open(sys.argv[1]))["levels"][0]
rate, cpu, window = level["verifications_per_second"], sys.argv[2], float(sys.argv[3])
per = f"{float(cpu) / (rate * window):.2f}" if cpu not in ("", "-") and rate > 0 else "-"
print(f"{rate:.1f} {per}")
EOF
}

echo "| pair | A verifications/s | A CPU ms/verification | B verifications/s | B CPU ms/verification |"
echo "| --- | --- | --- | --- | --- |"
for i in $(seq 1 "$pairs"); do
    read -r ra ca < <(run "a$i" "$a")
    read -r rb cb < <(run "b$i" "$b")
    echo "| $i | $ra | $ca | $rb | $cb |"
done
