"""Prints the daily report from the receiver's store: per country, the
verifications started and approved, the conversion, and the blocks.

    python report.py events.db              # today (UTC)
    python report.py events.db --day 2026-01-05
    python report.py events.db --all        # every day stored
"""

import argparse
from datetime import datetime, timezone

from store import BLOCK_TYPES, EventStore


def conversion(approved, started):
    return f"{100 * approved / started:.1f}%" if started else "-"


def print_day(store, day):
    rows = store.daily_report(day)
    print(f"Verifications on {day} (UTC)")
    print(f"{'country':<8} {'started':>8} {'approved':>9} {'conversion':>11} {'blocked':>8} {'max tries':>10}")
    total = {"country": "all"}
    for k in ("started", "approved", "blocked", "max_attempts"):
        total[k] = sum(row[k] for row in rows)
    for row in rows + [total]:
        print(
            f"{row['country']:<8} {row['started']:>8} {row['approved']:>9} "
            f"{conversion(row['approved'], row['started']):>11} {row['blocked']:>8} {row['max_attempts']:>10}"
        )
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("db", help="the receiver's SQLite file (EVENTS_DB)")
    parser.add_argument("--day", help="YYYY-MM-DD (UTC); default today")
    parser.add_argument("--all", action="store_true", help="every day in the store")
    args = parser.parse_args()
    store = EventStore(args.db)
    days = store.days() if args.all else [args.day or datetime.now(timezone.utc).strftime("%Y-%m-%d")]
    for day in days:
        print_day(store, day)
    print(f"blocked: {', '.join(BLOCK_TYPES)} events; max tries: verification.max_attempts_reached")


if __name__ == "__main__":
    main()
