"""Turns bench-endurance's output into bench/results/endurance.{json,md}:
the rate of each window of verifications, the first against the last, the
targets and whether each was met, and the machine it ran on. Called by
bench/endurance.sh."""

from __future__ import annotations

import argparse
import datetime
import json
import os
from pathlib import Path

# The machine description every benchmark report carries (bench/report.py).
from report import cmd, cpu

# verify-local's throughput must not depend on how long it has run (issue 14).
TARGETS = {"last_over_first_min": 0.8, "rate_min": 250.0}


def mark(ok: bool) -> str:
    return "met" if ok else "**not met**"


def main() -> None:
    p = argparse.ArgumentParser()
    for flag in ("input", "json", "markdown"):
        p.add_argument(f"--{flag}", required=True)
    a = p.parse_args()
    run = json.loads(Path(a.input).read_text())
    env = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": cmd("git", "rev-parse", "--short", "HEAD") + (" (modified)" if cmd("git", "status", "--porcelain", "--untracked-files=no") else ""),
        "cpu": cpu(),
        "cores": os.cpu_count(),
        "rustc": cmd("rustc", "--version"),
    }
    first, last = run["first_window_per_second"], run["last_window_per_second"]
    windows = run["windows"]
    # The slowest window counts for the rate target, not the average.
    slowest = min(w["verifications_per_second"] for w in windows)
    checks = [
        (f"last {windows[-1]['to'] - windows[-1]['from'] + 1:,} within 20 % of the first's rate", f"{100 * run['last_over_first']:.1f} %", run["last_over_first"] >= TARGETS["last_over_first_min"]),
        (f"≥ {TARGETS['rate_min']:g} verifications/s at one client (slowest window)", f"{slowest:.1f}/s", slowest >= TARGETS["rate_min"]),
    ]
    lines = [
        f"Measured {env['date']} at commit {env['commit']} on {env['cpu']} ({env['cores']} cores; load average {run['load_before']} before, {run['load_after']} after), {env['rustc']}.",
        "",
        f"{run['server']}; one verification = {run['flow']}; {run['verifications']:,} verifications in {run['seconds']:.0f} s "
        f"({run['verifications_per_second']:.1f}/s), {run['errors']} errors; peak RSS {(run.get('peak_rss_kib') or 0) / 1024:.1f} MiB.",
        "",
        "| verifications | verifications/s | whole verification p50 / p99 (ms) |",
        "|---|---|---|",
        *(f"| {w['from']:,}–{w['to']:,} | {w['verifications_per_second']:.1f} | {w['verification']['p50_ms']:.2f} / {w['verification']['p99_ms']:.2f} |" for w in windows),
        "",
        "| target | measured | |",
        "|---|---|---|",
        *(f"| {what} | {value} | {mark(ok)} |" for what, value, ok in checks),
        "",
    ]
    Path(a.markdown).write_text("\n".join(lines))
    Path(a.json).write_text(json.dumps({"environment": env, "run": run, "targets": TARGETS,
                                        "checks": [{"target": t, "measured": m, "met": ok} for t, m, ok in checks]}, indent=2) + "\n")


if __name__ == "__main__":
    main()
