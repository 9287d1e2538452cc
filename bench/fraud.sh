#!/usr/bin/env bash
# The fraud-guard benchmark (not a test): SMS pumping mixed with legitimate
# traffic against verify-local over HTTP, one service per level
# (src/bin/bench-fraud.rs). Writes bench/results/fraud.json and fraud.md.
# Knobs (environment): SECONDS_RUN=90, LEGIT_RATE=8, ATTACK_RATE=30,
# ATTACK_AFTER=20 (per level; the five levels run at once).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
cargo build --release -p verify-local -p verify-bench --bin verify-local --bin bench-fraud
"$target/release/bench-fraud" --bin "$target/release/verify-local" --out bench/results/fraud.json \
    --seconds "${SECONDS_RUN:-90}" --legit-rate "${LEGIT_RATE:-8}" \
    --attack-rate "${ATTACK_RATE:-30}" --attack-after "${ATTACK_AFTER:-20}"
python3 - "$(git rev-parse --short HEAD)" <<'PY'
import json, sys, datetime
r = json.load(open("bench/results/fraud.json"))
out = [f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC at commit {sys.argv[1]} (bench/fraud.sh): "
       f"{r['seconds']:.0f} s per level, all five levels at once on one verify-local --memory (release); legitimate "
       f"{r['legit_rate']}/s, attack {r['attack_rate']}/s from {r['attack_after']:.0f} s.", "",
       "| level | attack sends delivered | delivered before each prefix's block | legitimate sends blocked | legitimate checked | other errors |",
       "|---|---|---|---|---|---|"]
for l in r["levels"]:
    before = ", ".join(f"{p}: {n}" for p, n in l["delivered_before_block"].items())
    out.append(f"| {l['level']} | {l['attack_delivered']} / {l['attack_sends']} ({l['attack_delivered_percent']} %) | {before} | "
               f"{l['legitimate_blocked']} / {l['legitimate_sends']} ({l['legitimate_blocked_percent']} %) | {l['legitimate_checked']} | {l['other_errors']} |")
open("bench/results/fraud.md", "w").write("\n".join(out) + "\n")
print("\n".join(out))
PY
