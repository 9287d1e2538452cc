"""verify-local's webhook-report from the outside: webhooks verified with the
Standard Webhooks library, reports read with the official Twilio client, and
the dashboard rendered by headless Chromium.

Each fixture stops what it starts: the receiver, verify-local, Chromium.
"""

import base64
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

for _k in ("TWILIO_EDGE", "TWILIO_REGION"):
    os.environ.pop(_k, None)

from standardwebhooks.webhooks import Webhook  # noqa: E402
from twilio.rest import Client  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
LOGS = ROOT / "target" / "test-logs"
SECRET = "whsec_" + base64.b64encode(b"test-webhook-secret-32-bytes-key").decode()
ACCOUNT_SID = "AC" + "a" * 32
API_KEY = "SK" + "b" * 32
API_SECRET = "reports-secret"
SERVICE_SID = "VA" + "c" * 32


class Receiver:
    """A webhook receiver on 127.0.0.1 that records every request."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with outer.lock:
                    outer.requests.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self):
        with self.lock:
            return [dict(r, json=json.loads(r["body"])) for r in self.requests]

    def wait_for(self, predicate, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = [e for e in self.events() if predicate(e["json"])]
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError(f"no matching webhook; got {[e['json']['type'] for e in self.events()]}")

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Local:
    """A running verify-local."""

    def __init__(self, receiver_url, services=None, data_dir=None):
        LOGS.mkdir(parents=True, exist_ok=True)
        binary = os.environ.get("VERIFY_LOCAL_BIN", str(ROOT / "target" / "debug" / "verify-local"))
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("AWS_ENDPOINT_URL"):
                env.pop(k)
        env.update(
            {
                "VERIFY_ACCOUNT_SID": ACCOUNT_SID,
                "VERIFY_SERVICE_SID": SERVICE_SID,
                "VERIFY_API_KEYS": json.dumps(
                    [{"key_id": API_KEY, "secret_sha256": hashlib.sha256(API_SECRET.encode()).hexdigest()}]
                ),
                "RUST_LOG": "info",
            }
        )
        if services is not None:
            env.pop("VERIFY_SERVICE_SID")
            env["VERIFY_SERVICES"] = json.dumps(services)
        self.log_path = LOGS / f"verify-local-webhooks-{os.getpid()}-{time.time_ns()}.log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [binary, *(["--data-dir", data_dir] if data_dir else ["--memory"]), "--port", "0",
             "--webhook", receiver_url, "--webhook-secret", SECRET,
             "--stream-poll-ms", "100", "--retry-secs", "1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        self.base = None
        self.lines = []
        ready = threading.Event()

        def pump():
            for line in self.proc.stderr:
                self.log.write(line)
                self.log.flush()
                self.lines.append(line)
                m = re.search(r"verify-local listening on (http://\S+)", line)
                if m:
                    self.base = m.group(1)
                    ready.set()

        self.pump = threading.Thread(target=pump, daemon=True)
        self.pump.start()
        if not ready.wait(60):
            self.stop()
            raise AssertionError("verify-local did not start:\n" + "".join(self.lines))

    def post(self, path, **form):
        # The API and the reports share one set of credentials.
        data = urllib.parse.urlencode(form).encode()
        req = urllib.request.Request(self.base + path, data=data, method="POST")
        token = base64.b64encode(f"{API_KEY}:{API_SECRET}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def get(self, path, auth=True, accept=None):
        req = urllib.request.Request(self.base + path)
        if auth:
            token = base64.b64encode(f"{API_KEY}:{API_SECRET}".encode()).decode()
            req.add_header("Authorization", f"Basic {token}")
        if accept:
            req.add_header("Accept", accept)
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read()

    def code_for(self, to):
        _, _, body = self.get("/_local/messages?to=" + urllib.parse.quote(to))
        messages = json.loads(body)
        return re.findall(r"\d{6}", messages[-1]["body"])[-1]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture()
def receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture()
def local(receiver):
    l = Local(receiver.url)
    yield l
    l.stop()


def verify(event):
    """Verifies one received webhook with the Standard Webhooks library."""
    wh = Webhook(SECRET)
    h = event["headers"]
    payload = wh.verify(event["body"], {k: h[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")})
    assert payload == event["json"]
    return payload


def test_webhooks_are_signed_per_standard_webhooks(local, receiver):
    to = "+14155550123"
    local.post("/start-verify", To=to)
    pending = receiver.wait_for(lambda p: p["type"] == "verification.pending")[0]
    verify(pending)
    assert pending["headers"]["webhook-id"] == pending["json"]["id"]
    data = pending["json"]["data"]
    assert data["to"] == "+1415555****" and data["country"] == "US" and data["channel"] == "sms"
    assert data["service_sid"] == SERVICE_SID

    code = local.code_for(to)
    wrong = "000000" if code != "000000" else "111111"
    local.post("/check-verify", To=to, Code=wrong)
    local.post("/check-verify", To=to, Code=code)
    failed = receiver.wait_for(lambda p: p["type"] == "verification.check_failed")[0]
    approved = receiver.wait_for(lambda p: p["type"] == "verification.approved")[0]
    for e in (failed, approved):
        verify(e)
    # A tampered body does not verify.
    tampered = dict(approved, body=approved["body"].replace(b"approved", b"canceled"))
    with pytest.raises(Exception):
        verify(tampered)
    # Never the code, never the full number.
    for e in receiver.events():
        assert code.encode() not in e["body"] and to.encode() not in e["body"], e["body"]


def test_cancel_through_the_v2_route_is_a_signed_canceled_webhook(local, receiver):
    # The cancel comes through Twilio's route, as the official clients send it;
    # the event is derived from the stream image that write leaves.
    to = "+14155550177"
    sid = local.post(f"/v2/Services/{SERVICE_SID}/Verifications", To=to, Channel="sms")["sid"]
    receiver.wait_for(lambda p: p["type"] == "verification.pending" and p["data"]["verification_sid"] == sid)
    assert local.post(f"/v2/Services/{SERVICE_SID}/Verifications/{sid}", Status="canceled")["status"] == "canceled"
    canceled = receiver.wait_for(lambda p: p["type"] == "verification.canceled")
    assert len(canceled) == 1, [e["json"] for e in canceled]
    payload = verify(canceled[0])
    assert payload["data"]["verification_sid"] == sid and payload["data"]["service_sid"] == SERVICE_SID
    # Nothing else follows: a canceled verification is neither approved nor expired.
    time.sleep(1)
    assert {e["json"]["type"] for e in receiver.events()} == {"verification.pending", "verification.canceled"}


def wait_for_events(local, kind, n, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        _, _, body = local.get(f"/events?type={kind}")
        if len(json.loads(body)["events"]) >= n:
            return
        time.sleep(0.2)
    raise AssertionError(f"fewer than {n} {kind} events stored")


def test_reports_through_the_official_twilio_client(local, receiver):
    numbers = ["+14155550100", "+14155550101", "+442079460958"]
    for to in numbers:
        local.post("/start-verify", To=to)
    local.post("/check-verify", To=numbers[0], Code=local.code_for(numbers[0]))
    wait_for_events(local, "verification.pending", 3)
    wait_for_events(local, "verification.approved", 1)

    client = Client(API_KEY, API_SECRET, ACCOUNT_SID)
    client.verify.base_url = local.base
    since = datetime.now(timezone.utc) - timedelta(hours=1)
    attempts = client.verify.v2.verification_attempts.list(date_created_after=since, page_size=2, limit=50)
    assert len(attempts) == 3, attempts
    assert {a.conversion_status for a in attempts} == {"converted", "unconverted"}
    assert all(a.sid.startswith("VL") and a.service_sid == SERVICE_SID for a in attempts)
    assert sorted(a.channel_data["to"] for a in attempts) == ["+1415555****", "+1415555****", "+44207946****"]

    gb = client.verify.v2.verification_attempts.list(date_created_after=since, country="GB")
    assert [a.channel_data["country"] for a in gb] == ["GB"]
    converted = client.verify.v2.verification_attempts.list(date_created_after=since, status="converted")
    assert len(converted) == 1 and converted[0].channel_data["to"] == "+1415555****"

    # Every listed attempt's url answers (Twilio's VerificationAttempt fetch),
    # through the official client and as the url itself.
    for a in attempts:
        fetched = client.verify.v2.verification_attempts(a.sid).fetch()
        assert (fetched.sid, fetched.verification_sid, fetched.conversion_status, fetched.channel_data) == (
            a.sid, a.verification_sid, a.conversion_status, a.channel_data)
        assert a.url == f"{local.base}/v2/Attempts/{a.sid}"
        status, _, body = local.get(a.url[len(local.base):])
        assert status == 200 and json.loads(body)["sid"] == a.sid
    with pytest.raises(Exception) as missing:
        client.verify.v2.verification_attempts("VL" + "0" * 32).fetch()
    assert getattr(missing.value, "status", None) == 404, missing.value

    summary = client.verify.v2.verification_attempts_summary().fetch(date_created_after=since)
    assert (summary.total_attempts, summary.total_converted, summary.total_unconverted) == (3, 1, 2)
    assert summary.conversion_rate_percentage == "33.333333333"

    # Without credentials: refused.
    with pytest.raises(urllib.error.HTTPError) as err:
        local.get("/v2/Attempts", auth=False)
    assert err.value.code == 401

    # Events as CSV.
    status, headers, body = local.get("/events", accept="text/csv")
    rows = body.decode().strip().splitlines()
    assert headers["content-type"].startswith("text/csv")
    assert rows[0].startswith("id,type,timestamp") and len(rows) >= 5
    assert "+14155550100" not in body.decode()


def test_test_recipients_events_are_marked_and_left_out_of_the_figures(receiver):
    test_number, real_number = "+14155550177", "+14155550178"
    services = {"services": [{"sid": SERVICE_SID, "friendly_name": "Acme", "test_recipients": {test_number: "424242"}}]}
    local = Local(receiver.url, services)
    try:
        local.post("/start-verify", To=test_number)
        assert local.post("/check-verify", To=test_number, Code="424242")["status"] == "approved"
        local.post("/start-verify", To=real_number)
        wait_for_events(local, "verification.pending", 2)
        wait_for_events(local, "verification.approved", 1)
        _, _, body = local.get("/events")
        events = json.loads(body)["events"]
        marked = {(e["type"], e["data"].get("test")) for e in events}
        assert ("verification.pending", True) in marked and ("verification.approved", True) in marked, events
        assert ("verification.pending", None) in marked, "a real recipient's event carries no test mark"
        _, _, body = local.get("/v2/Attempts")
        attempts = json.loads(body)["attempts"]
        assert sorted(a.get("test", False) for a in attempts) == [False, True], attempts
        _, _, body = local.get("/v2/Attempts/Summary")
        summary = json.loads(body)
        assert (summary["total_attempts"], summary["total_converted"]) == (1, 0), "test attempts are not counted"
        hooks = receiver.wait_for(lambda p: p["data"].get("test") is True)
        assert all(h["json"]["data"]["to"] == "+1415555****" for h in hooks), "webhooks carry the mark"
    finally:
        local.stop()


def test_one_verifications_webhooks_arrive_in_order(local, receiver):
    # One verification, many events within a second or two: its webhooks
    # reach the receiver in the order they happened, each with a growing
    # sequence and a millisecond timestamp; /events lists them so too.
    to = "+14155550199"
    sid = local.post("/start-verify", To=to)["sid"]
    code = local.code_for(to)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        local.post("/check-verify", To=to, Code=wrong)
    local.post("/check-verify", To=to, Code=code)
    receiver.wait_for(lambda p: p["type"] == "verification.approved" and p["data"]["verification_sid"] == sid)
    mine = [e["json"] for e in receiver.events() if e["json"]["data"]["verification_sid"] == sid]
    assert [e["type"] for e in mine] == ["verification.pending"] + ["verification.check_failed"] * 4 + ["verification.approved"]
    sequences = [e["data"]["sequence"] for e in mine]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences), sequences
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["timestamp"]) for e in mine), mine
    _, _, body = local.get(f"/events?verification_sid={sid}")
    assert [e["id"] for e in json.loads(body)["events"]] == [e["id"] for e in mine]


def test_bad_report_parameters_are_400_without_retry_after(local, receiver):
    local.post("/start-verify", To="+14155550198")
    wait_for_events(local, "verification.pending", 1)
    for query in ["/events?page_token=not-a-token", "/events?to=1700000000", "/v2/Attempts?PageToken=junk",
                  "/v2/Attempts?DateCreatedAfter=yesterday"]:
        with pytest.raises(urllib.error.HTTPError) as err:
            local.get(query)
        assert err.value.code == 400, query
        assert err.value.headers.get("Retry-After") is None, query
        assert json.loads(err.value.read())["code"] == 60200, query


# Measures the rendered page from outside its own script (appended to the
# saved copy only): every SVG text's box against its SVG's viewBox (what
# lies outside is clipped), the axis ticks, and HTML labels wider than
# their box.
MEASURE = b"""<script>
(function(){var out={svgs:{},overflow:[]};
document.querySelectorAll('svg').forEach(function(s){var vb=s.viewBox.baseVal,r={clipped:[],y:[],x:[],overlap:0,
 buckets:+s.getAttribute('data-buckets'),points:+s.getAttribute('data-points'),texts:0};
 s.querySelectorAll('text').forEach(function(t){var b=t.getBBox();r.texts++;
  if(!b.width||b.x<0||b.y<0||b.x+b.width>vb.width||b.y+b.height>vb.height)r.clipped.push(t.textContent)});
 s.querySelectorAll('text.ytick').forEach(function(t){r.y.push([+t.getAttribute('data-value'),+t.getAttribute('y')])});
 var xs=[].slice.call(s.querySelectorAll('text.xtick'));
 xs.forEach(function(t,i){r.x.push(+t.getAttribute('data-i'));var a=i&&xs[i-1].getBBox();if(i&&a.x+a.width>t.getBBox().x)r.overlap++});
 out.svgs[s.id]=r});
document.querySelectorAll('h1,h2,.card,.card b,td,th,.legend span').forEach(function(e){if(e.scrollWidth>e.clientWidth+1)out.overflow.push(e.textContent)});
var p=document.createElement('pre');p.id='measure';p.hidden=true;p.textContent=JSON.stringify(out);document.body.appendChild(p)})();
</script>"""


def chromium(page, name, fragment=""):
    """Renders a saved page in headless Chromium: its DOM after the scripts
    ran, and a screenshot at target/test-logs/dashboard-{name}.png."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    assert binary, "chromium is installed by tests/setup.sh (tests/apt-packages.txt)"
    profile = tempfile.mkdtemp(prefix="chromium-")
    common = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
              f"--user-data-dir={profile}", "--window-size=1100,2300"]
    url = page.as_uri() + fragment
    screenshot = LOGS / f"dashboard-{name}.png"
    try:
        dom = subprocess.run(common + ["--dump-dom", url], capture_output=True, text=True, timeout=90).stdout
        if screenshot.exists():
            screenshot.unlink()
        subprocess.run(common + [f"--screenshot={screenshot}", url], capture_output=True, timeout=90)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    (LOGS / f"dashboard-{name}.dom.html").write_text(dom)
    assert screenshot.exists() and screenshot.stat().st_size > 5_000, name
    return dom


def render_dashboard(local, query, name, fragment=""):
    """The dashboard for `query` as Chromium draws it: its DOM and what
    MEASURE found."""
    status, headers, html = local.get("/dashboard" + query)
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b"http://" not in html.replace(b"http://www.w3.org/2000/svg", b""), "self-contained"
    LOGS.mkdir(parents=True, exist_ok=True)
    page = LOGS / f"dashboard-{name}.html"
    page.write_bytes(html.replace(b"</body>", MEASURE + b"</body>"))
    dom = chromium(page, name, fragment)
    assert 'data-rendered="true"' in dom, dom[:2000]
    measure = json.loads(re.search(r'<pre id="measure"[^>]*>(.*?)</pre>', dom, re.S).group(1).replace("&quot;", '"').replace("&amp;", "&"))
    return dom, measure


def assert_drawn_cleanly(measure, buckets):
    """Every chart: `buckets` points along x, no label outside its SVG or
    over the next, y ticks at even values and even distances, x ticks every
    k buckets; no HTML label wider than its box."""
    assert set(measure["svgs"]) == {"conv", "sec", "bc", "bp"}, measure["svgs"].keys()
    for name, svg in measure["svgs"].items():
        assert svg["buckets"] == buckets, (name, svg["buckets"])
        assert svg["texts"] > 3 and not svg["clipped"], (name, svg["clipped"])
        assert svg["overlap"] == 0, (name, svg["x"])
        values = [v for v, _ in svg["y"]]
        ys = [y for _, y in svg["y"]]
        assert len(values) >= 2 and values[0] == 0, (name, values)
        assert len({b - a for a, b in zip(values, values[1:])}) == 1, (name, values)
        gaps = [b - a for a, b in zip(ys, ys[1:])]
        assert max(gaps) - min(gaps) < 0.01 and gaps[0] < 0, (name, ys)
        assert len(svg["x"]) >= 2 and svg["x"][0] == 0, (name, svg["x"])
        assert len({b - a for a, b in zip(svg["x"], svg["x"][1:])}) == 1, (name, svg["x"])
    assert not measure["overflow"], measure["overflow"]


def card(dom, id):
    return re.search(rf'id="{id}">([^<]*)<', dom).group(1)


def test_dashboard_renders_in_headless_chromium(local, receiver):
    for to in ["+14155550110", "+14155550111", "+442079460958", "+4915123456789"]:
        local.post("/start-verify", To=to)
    for to in ["+14155550110", "+442079460958"]:
        local.post("/check-verify", To=to, Code=local.code_for(to))
    local.post("/check-verify", To="+14155550111", Code="000000")
    # The counters are added just after the events are stored.
    deadline = time.time() + 20
    while time.time() < deadline:
        html = local.get("/dashboard")[2].decode()
        if (card(html, "total-started"), card(html, "total-approved"), card(html, "total-failed")) == ("4", "2", "1"):
            break
        time.sleep(0.2)

    dom, measure = render_dashboard(local, "", "small")
    assert_drawn_cleanly(measure, 8)  # the last 7 days by default, per day
    assert (card(dom, "total-started"), card(dom, "total-approved"), card(dom, "total-failed")) == ("4", "2", "1")
    assert card(dom, "total-rate") == "50.0 %" and card(dom, "send-rate") == "50.0 %"
    assert measure["svgs"]["conv"]["points"] >= 2, "started and approved drawn"
    assert 'data-country="GB"' in dom and 'data-country="DE"' in dom
    assert "data-refresh" not in re.search(r"<body[^>]*>", dom).group(0), "auto-refresh is off by default"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """verify-local over a store holding the counters of 100,000
    verifications over 90 days, written by bench-reports' filler through
    the real counter writer (each hour of the last three days; before
    them, each day's at noon: see bench-reports)."""
    data = tmp_path_factory.mktemp("dashboard-100k")
    filler = os.environ.get("BENCH_REPORTS_BIN", str(ROOT / "target" / "debug" / "bench-reports"))
    assert os.access(filler, os.X_OK), f"bench-reports is not built at {filler} (cargo build --workspace --all-targets)"
    run = subprocess.run([filler, "--fill-dir", str(data), "--service", SERVICE_SID, "--verifications", "100000",
                          "--days", "90", "--hourly-days", "3"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    (LOGS / "dashboard-100k-fill.json").write_text(run.stdout)
    receiver = Receiver()
    l = Local(receiver.url, data_dir=str(data))
    yield l
    l.stop()
    receiver.stop()


def day(offset):
    return (datetime.now(timezone.utc) + timedelta(days=offset)).strftime("%Y-%m-%d")


def test_dashboard_of_a_day_is_hourly_at_100k(loaded):
    dom, measure = render_dashboard(loaded, f"?from={day(-1)}&to={day(-1)}", "1-day")
    assert_drawn_cleanly(measure, 24)
    assert "per hour" in dom
    # The load has verifications, wrong codes and blocks every hour of its last three days.
    assert measure["svgs"]["conv"]["points"] == 2 * 24, measure["svgs"]["conv"]
    for chart in ("sec", "bc", "bp"):
        assert measure["svgs"][chart]["points"] >= 24, (chart, measure["svgs"][chart])


@pytest.mark.parametrize("days", [30, 90])
def test_dashboard_of_30_and_90_days_is_daily_at_100k(loaded, days):
    dom, measure = render_dashboard(loaded, f"?from={day(1 - days)}&to={day(0)}", f"{days}-days")
    assert_drawn_cleanly(measure, days)
    assert "per day" in dom
    legend = re.search(r'id="l-bp">(.*?)</div>', dom, re.S).group(1)
    assert "+44770090" in legend and "other" in legend, legend


def test_dashboard_totals_at_100k_are_the_loads(loaded):
    # The whole load (its last expiries fall ten minutes after now): each
    # figure as the filler made it, from the counters alone.
    html = loaded.get(f"/dashboard?from={day(-91)}&to={day(1)}")[2].decode()
    assert card(html, "total-started") == "100,000"
    assert (card(html, "total-approved"), card(html, "total-failed"), card(html, "total-lockouts")) == ("70,000", "10,000", "2,000")
    assert card(html, "total-expired") == "20,000" and card(html, "total-blocked") == "9,000"
    assert card(html, "total-rate") == "70.0 %"
    # Per send: 110,000 sends (a tenth of the verifications resent, all of
    # those approved), so 70,000 approvals convert 80,000 of them.
    assert card(html, "send-rate") == f"{80_000 / 110_000 * 100:.1f} %"
    assert "fraud_guard 4,000, geo_permissions 5,000" in html


def test_dashboard_errors_are_a_page_and_auto_refresh_is_opt_in(loaded):
    with pytest.raises(urllib.error.HTTPError) as err:
        loaded.get("/dashboard?from=yesterday")
    assert err.value.code == 400 and err.value.headers["content-type"].startswith("text/html")
    body = err.value.read()
    assert b"could not be shown" in body and b"Invalid" in body and not body.lstrip().startswith(b"{"), body
    page = LOGS / "dashboard-error.html"
    page.write_bytes(body)
    assert 'data-status="400"' in chromium(page, "error")
    with pytest.raises(urllib.error.HTTPError) as err:
        loaded.get("/dashboard", auth=False)
    assert err.value.code == 401 and err.value.headers["content-type"].startswith("text/html")
    assert err.value.headers["www-authenticate"], "the browser asks for credentials"
    dom, _ = render_dashboard(loaded, "", "refresh", fragment="#refresh")
    assert 'data-refresh="60"' in re.search(r"<body[^>]*>", dom).group(0), "on when asked for"


def test_an_expired_code_is_a_webhook_within_seconds_not_at_ttl_deletion(receiver):
    # A 60 s code left unchecked: the expiry sweep (every 5 s here, every
    # minute on AWS) notes it and the webhook follows, long before the
    # record's TTL (the end of its send window) would remove it. Once, and
    # only for it: a canceled verification beside it never expires.
    services = {"services": [{"sid": SERVICE_SID, "friendly_name": "Acme", "validity_seconds": 60}]}
    local = Local(receiver.url, services)
    try:
        left, canceled = "+14155550155", "+14155550156"
        sid = local.post("/start-verify", To=left)["sid"]
        started = time.time()
        other = local.post(f"/v2/Services/{SERVICE_SID}/Verifications", To=canceled, Channel="sms")["sid"]
        local.post(f"/v2/Services/{SERVICE_SID}/Verifications/{other}", Status="canceled")
        expired = receiver.wait_for(lambda p: p["type"] == "verification.expired", timeout=150)
        arrived = time.time() - started
        assert arrived < 600, f"{arrived:.0f} s: the TTL removal's time, not the expiry's"
        payload = verify(expired[0])
        assert payload["data"]["verification_sid"] == sid
        time.sleep(6)  # a sweep or two more
        expired = [e["json"] for e in receiver.events() if e["json"]["type"] == "verification.expired"]
        assert [e["data"]["verification_sid"] for e in expired] == [sid], expired
        _, _, body = local.get("/events?type=verification.expired")
        assert [e["id"] for e in json.loads(body)["events"]] == [expired[0]["id"]]
    finally:
        local.stop()
