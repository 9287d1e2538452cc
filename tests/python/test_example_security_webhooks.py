"""examples/security-webhooks against verify-local: verify-local (started with
--webhook and --webhook-secret) delivers a full set of events to the receiver
served on a loopback port; two deliveries fail once (one after the receiver
stored the event, one before) and are retried with the same webhook-id; the
daily report and the store count every event once. The Attempts summary
script reads the same verifications through the official client.
"""

import base64
import importlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone

import pytest
import requests
from standardwebhooks.webhooks import Webhook
from werkzeug.serving import make_server

from conftest import ACCOUNT_SID, API_KEY_SECRET, API_KEY_SID, DEFAULT_SERVICE_SID, ROOT, launch_verify_local

EXAMPLE = ROOT / "examples" / "security-webhooks"
SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()  # made per run
AUTH = (API_KEY_SID, API_KEY_SECRET)


def receiver_module():
    sys.path.insert(0, str(EXAMPLE))
    try:
        return importlib.import_module("receiver")
    finally:
        sys.path.remove(str(EXAMPLE))


class FailOnce:
    """Around the receiver: the first delivery of `fail_after` is processed
    and then answered 500 (the answer lost), the first of `fail_before` is
    answered 500 unprocessed. Records every delivery's webhook-id and type."""

    def __init__(self, app, fail_after, fail_before):
        self.app, self.fail_after, self.fail_before = app, set(fail_after), set(fail_before)
        self.deliveries, self.lock = [], threading.Lock()

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        kind = json.loads(body).get("type") if body.startswith(b"{") else None
        environ["wsgi.input"] = io.BytesIO(body)
        with self.lock:
            self.deliveries.append((environ.get("HTTP_WEBHOOK_ID"), kind))
            before, after = kind in self.fail_before, kind in self.fail_after
            self.fail_before.discard(kind)
            self.fail_after.discard(kind)
        if before:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [b"down"]
        if after:
            b"".join(self.app(environ, lambda *a: None))  # stored, then the answer is lost
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [b"lost"]
        return self.app(environ, start_response)

    def count(self, kind):
        with self.lock:
            return sum(1 for _, k in self.deliveries if k == kind)


def serve(app):
    http = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    return http, f"http://127.0.0.1:{http.server_port}/webhooks/verify"


@pytest.fixture(scope="module")
def delivered(tmp_path_factory):
    """One verify-local delivering to one receiver, through a full set of
    events; yields (database path, FailOnce, verify-local)."""
    db = tmp_path_factory.mktemp("webhooks") / "events.db"
    flaky = FailOnce(receiver_module().create_app(SECRET, db), {"verification.approved"}, {"verification.canceled"})
    http, url = serve(flaky)
    local = launch_verify_local(["--webhook", url, "--webhook-secret", SECRET, "--stream-poll-ms", "100", "--retry-secs", "1"])
    try:
        run_verifications(local)
        wait_for(lambda: flaky.count("verification.approved") == 2 and flaky.count("verification.canceled") == 2, 30)
        wait_for(lambda: types_stored(db) >= EXPECTED_TYPES, 10)
        yield db, flaky, local
    finally:
        local.stop()
        http.shutdown()


EXPECTED_TYPES = {
    "verification.pending", "verification.check_failed", "verification.approved", "verification.canceled",
    "verification.max_attempts_reached", "verification.send_rate_limited",
}
US_APPROVED, GB_CANCELED, US_EXHAUSTED, US_BLOCKED = "+14155558001", "+442079468001", "+14155558002", "+14155558003"


def post(local, path, **form):
    return requests.post(local.base_url + path, data=form, auth=AUTH, timeout=10)


def run_verifications(local):
    def wrong(to):
        return "".join("1" if d != "1" else "2" for d in local.last_code(to))

    post(local, "/start-verify", To=US_APPROVED)
    assert post(local, "/check-verify", To=US_APPROVED, Code=wrong(US_APPROVED)).json()["status"] == "pending"
    assert post(local, "/check-verify", To=US_APPROVED, Code=local.last_code(US_APPROVED)).json()["status"] == "approved"

    sid = post(local, "/start-verify", To=GB_CANCELED).json()["sid"]
    assert post(local, f"/v2/Services/{DEFAULT_SERVICE_SID}/Verifications/{sid}", Status="canceled").status_code == 200

    post(local, "/start-verify", To=US_EXHAUSTED)
    for _ in range(5):
        post(local, "/check-verify", To=US_EXHAUSTED, Code=wrong(US_EXHAUSTED))

    for _ in range(5):  # a first code and four resends, then a refusal
        assert post(local, "/start-verify", To=US_BLOCKED).status_code == 201
    assert post(local, "/start-verify", To=US_BLOCKED).json()["code"] == 60203


def wait_for(condition, seconds):
    deadline = time.time() + seconds
    while not condition():
        assert time.time() < deadline, "timed out"
        time.sleep(0.2)


def types_stored(db):
    with sqlite3.connect(db) as c:
        return {t for (t,) in c.execute("SELECT type FROM events")}


def test_every_delivery_is_stored_once_retries_included(delivered):
    db, flaky, _ = delivered
    with sqlite3.connect(db) as c:
        rows = c.execute("SELECT webhook_id, type, payload FROM events").fetchall()
    assert {t for _, t, _ in rows} == EXPECTED_TYPES
    received_ids = {i for i, _ in flaky.deliveries}
    assert {i for i, _, _ in rows} == received_ids, "every id stored, none twice (it is the primary key)"
    for kind in ("verification.approved", "verification.canceled"):
        ids = [i for i, k in flaky.deliveries if k == kind]
        assert len(ids) == 2 and ids[0] == ids[1], f"{kind}: one failed delivery and its retry, same webhook-id"
        assert sum(1 for _, t, _ in rows if t == kind) == 1
    for webhook_id, _, payload in rows:
        assert json.loads(payload)["id"] == webhook_id


def report(db, *args):
    out = subprocess.run(
        [sys.executable, str(EXAMPLE / "report.py"), str(db), *args], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    return out, {line.split()[0]: line.split()[1:] for line in out.splitlines() if line[:3] in ("US ", "GB ", "all")}


def test_the_daily_report_counts_conversion_and_blocks_by_country(delivered):
    db, _, _ = delivered
    days = {d for (d,) in sqlite3.connect(db).execute("SELECT DISTINCT day FROM events")}
    if len(days) == 1:  # the usual case; a run across midnight UTC spreads them
        out, rows = report(db, "--day", days.pop())
        # country: started, approved, conversion, blocked, max tries
        assert rows["US"] == ["3", "1", "33.3%", "1", "1"], out
        assert rows["GB"] == ["1", "0", "0.0%", "0", "0"], out
        assert rows["all"] == ["4", "1", "25.0%", "1", "1"], out
    out, _ = report(db, "--all")
    assert out.count("Verifications on ") == len({d for (d,) in sqlite3.connect(db).execute("SELECT day FROM events")})


def test_the_attempts_summary_script_reads_the_same_verifications(delivered):
    _, _, local = delivered
    env = {
        **os.environ,
        "VERIFY_BASE_URL": local.base_url,
        "VERIFY_API_KEY": API_KEY_SID,
        "VERIFY_API_SECRET": API_KEY_SECRET,
        "VERIFY_ACCOUNT_SID": ACCOUNT_SID,
    }
    out = subprocess.run(
        [sys.executable, str(EXAMPLE / "attempts_summary.py"), "--hours", "1", "US", "GB"],
        capture_output=True, text=True, timeout=60, env=env, check=True,
    ).stdout
    lines = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    # One attempt per code sent: 1 + 1 + 1 + 5; only the approved one converted.
    assert lines["all"][1:9] == ["attempts", "8", "converted", "1", "unconverted", "7", "conversion", "12.5%"], out
    assert lines["US"][2] == "7" and lines["US"][4] == "1", out
    assert lines["GB"][2] == "1" and lines["GB"][4] == "0", out
    bad = subprocess.run(
        [sys.executable, str(EXAMPLE / "attempts_summary.py")],
        capture_output=True, text=True, timeout=60, env={**env, "VERIFY_API_SECRET": "wrong"},
    )
    assert bad.returncode != 0 and "401" in bad.stderr


def test_the_receiver_refuses_forgeries_and_tolerates_new_fields(tmp_path):
    db = tmp_path / "events.db"
    http, url = serve(receiver_module().create_app(SECRET, db))
    try:
        # What the events will soon carry: a per-verification sequence and
        # millisecond timestamps. Unknown fields are kept, not refused.
        event = {"id": "evt_future", "type": "verification.approved", "timestamp": "2026-01-05T10:00:12.345Z",
                 "sequence": 7, "data": {"country": "FR", "verification_sid": "VE" + "9" * 32, "extra": {"a": 1}}}
        body = json.dumps(event)
        now = datetime.now(timezone.utc)
        headers = {"webhook-id": "evt_future", "webhook-timestamp": str(int(now.timestamp())),
                   "webhook-signature": Webhook(SECRET).sign("evt_future", now, body), "content-type": "application/json"}
        assert requests.post(url, data=body, headers=headers, timeout=5).status_code == 204
        assert requests.post(url, data=body, headers=headers, timeout=5).status_code == 204, "a redelivery is fine"
        forged = [
            (body.replace("FR", "US"), headers),
            (body, {**headers, "webhook-id": "evt_other"}),
            (body, {**headers, "webhook-signature": Webhook("whsec_" + base64.b64encode(b"x" * 32).decode()).sign("evt_future", now, body)}),
            (body, {k: v for k, v in headers.items() if k != "webhook-signature"}),
            (body, {**headers, "webhook-signature": "v1,not-base64!"}),
        ]
        assert [requests.post(url, data=b, headers=h, timeout=5).status_code for b, h in forged] == [401] * len(forged)
        with sqlite3.connect(db) as c:
            rows = c.execute("SELECT webhook_id, day, country, payload FROM events").fetchall()
        assert [(r[0], r[1], r[2]) for r in rows] == [("evt_future", "2026-01-05", "FR")]
        assert json.loads(rows[0][3])["sequence"] == 7
        out, parsed = report(db, "--day", "2026-01-05")
        assert "FR" in out and parsed["all"][:2] == ["0", "1"]
    finally:
        http.shutdown()
