#!/usr/bin/env bash
# Fuzzing — not a test, and not run by CI. Reproduces the table in README.md
# ("Robustness"): runs every target (or those named) with cargo-fuzz
# (libFuzzer, coverage-guided) from the seed corpora, then prints and writes
# fuzz/results/latest.md: target, executions, crashes (a panic is a crash),
# seconds.
#
#   fuzz/run.sh                       every target, FUZZ_SECONDS each
#   fuzz/run.sh phone auth            only these
#   FUZZ_SECONDS=600 fuzz/run.sh      longer
#   FUZZ_RUNS=1000000 fuzz/run.sh     stop each target after that many executions
#   FUZZ_PARALLEL=2 fuzz/run.sh       targets run at once (default: CPU count)
#
# The machine has a stable toolchain only: RUSTC_BOOTSTRAP=1 lets it take the
# -Z flags cargo-fuzz passes. No sanitizer (the code forbids `unsafe`);
# debug assertions and overflow checks are on, so arithmetic overflow panics.
# Corpora grow in fuzz/corpus/ (not committed); a crash leaves its input in
# fuzz/artifacts/<target>/, replayed with `cargo fuzz run -s none <target> <file>`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
export RUSTC_BOOTSTRAP=1
seconds="${FUZZ_SECONDS:-300}"
runs="${FUZZ_RUNS:-0}"
parallel="${FUZZ_PARALLEL:-$(nproc)}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

mapfile -t all < <(cargo fuzz list)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

python3 seeds.py
cargo fuzz build -s none

mkdir -p results corpus
logs="results/logs"
mkdir -p "$logs"
started=$(date -u +%Y-%m-%dT%H:%MZ)
# What was built, taken now: commits made while it runs are not in it.
commit="$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)"
dirty="$(git -C "$here" status --porcelain -- ../shared ../Cargo.lock . ':!results' 2>/dev/null | grep -q . && echo ' (+ uncommitted changes)' || true)"
stamp="$logs/.started"
touch "$stamp"

run_one() {
    local t="$1"
    mkdir -p "corpus/$t" "artifacts/$t"
    local t0=$SECONDS rc=0
    # -runs=0 means "no limit" to libFuzzer only with -runs=-1.
    local limit=-1
    [ "$runs" -gt 0 ] && limit="$runs"
    cargo fuzz run -s none "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$seconds" -runs="$limit" -print_final_stats=1 \
        -timeout=20 -rss_limit_mb=4096 -artifact_prefix="artifacts/$t/" \
        >"$logs/$t.log" 2>&1 || rc=$?
    echo "$rc $((SECONDS - t0))" >"$logs/$t.rc"
}

running=0
for t in "${targets[@]}"; do
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$parallel" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait

machine="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m), $(rustc --version | cut -d' ' -f1-2)"
{
    echo "Run of $started, commit $commit$dirty, on $machine; FUZZ_SECONDS=$seconds FUZZ_RUNS=$runs."
    echo
    echo "| target | executions | crashes | seconds |"
    echo "| --- | ---: | ---: | ---: |"
    total=0
    crashes_total=0
    for t in "${targets[@]}"; do
        read -r rc took <"$logs/$t.rc"
        execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$logs/$t.log" | grep -o '[0-9]*$' | tail -1)
        execs=${execs:-0}
        crashes=$(find "artifacts/$t" -type f -newer "$stamp" \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
        # A non-zero exit without an artifact is still a failed run.
        [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ] && crashes="failed (exit $rc)"
        echo "| $t | $execs | $crashes | $took |"
        total=$((total + execs))
        [[ "$crashes" =~ ^[0-9]+$ ]] && crashes_total=$((crashes_total + crashes))
    done
    echo "| **total** | $total | $crashes_total | |"
} | tee results/latest.md
