"""The receiver's event store (SQLite) and the daily report it answers.

One row per webhook-id: the primary key makes a redelivered event a no-op,
so a retry is never counted twice. Only the fields every event has today
(`id`, `type`, `timestamp`, `data.*`) are read; the whole payload is kept
as received, extra fields included.
"""

import json
import sqlite3
from contextlib import closing
from datetime import datetime, timezone

# Events that mean verify refused to send a code. Add new refusals here
# (for example the fraud guard's, once it has an event type).
BLOCK_TYPES = ("verification.send_rate_limited",)

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    webhook_id       TEXT PRIMARY KEY,
    type             TEXT NOT NULL,
    occurred_at      TEXT NOT NULL,
    day              TEXT NOT NULL,
    country          TEXT NOT NULL,
    verification_sid TEXT,
    payload          TEXT NOT NULL,
    received_at      TEXT NOT NULL
)
"""


class EventStore:
    def __init__(self, path):
        self.path = str(path)
        with closing(self._connect()) as db, db:
            db.execute(SCHEMA)

    def _connect(self):
        return sqlite3.connect(self.path, timeout=10)

    def add(self, webhook_id, event):
        """Stores `event` unless `webhook_id` is already stored; True if new."""
        data = event.get("data") or {}
        occurred = str(event.get("timestamp", ""))
        row = (
            webhook_id,
            str(event.get("type", "")),
            occurred,
            occurred[:10],  # the UTC day, whatever the precision after it
            data.get("country") or "unknown",
            data.get("verification_sid"),
            json.dumps(event, separators=(",", ":")),
            datetime.now(timezone.utc).isoformat(),
        )
        with closing(self._connect()) as db, db:
            cursor = db.execute("INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
            return cursor.rowcount == 1

    def days(self):
        with closing(self._connect()) as db:
            return [d for (d,) in db.execute("SELECT DISTINCT day FROM events ORDER BY day")]

    def daily_report(self, day):
        """Per country: verifications started and approved, conversion,
        codes refused (blocks) and verifications that ran out of attempts."""
        blocks = ",".join("?" * len(BLOCK_TYPES))
        query = f"""
            SELECT country,
                   COUNT(DISTINCT CASE WHEN type = 'verification.pending' THEN verification_sid END),
                   COUNT(DISTINCT CASE WHEN type = 'verification.approved' THEN verification_sid END),
                   SUM(type IN ({blocks})),
                   SUM(type = 'verification.max_attempts_reached')
            FROM events WHERE day = ? GROUP BY country ORDER BY country
        """
        with closing(self._connect()) as db:
            rows = db.execute(query, (*BLOCK_TYPES, day)).fetchall()
        return [
            {"country": c, "started": s, "approved": a, "blocked": b, "max_attempts": m} for c, s, a, b, m in rows
        ]
