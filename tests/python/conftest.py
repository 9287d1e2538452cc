"""Starts verify-local for the tests and stops it afterwards.

The server is the built binary ($VERIFY_LOCAL_BIN, else target/debug/verify-local)
with an in-memory store, a random loopback port, two services, API keys in both
of Twilio's styles (SK…:secret and AC…:auth token), an auth token for
X-Twilio-Signature and one allowed browser origin. Codes are read back from
GET /_local/messages (with the same credentials), as a phone would receive them.
"""

import json
import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

# In CI (CI=true) a skip is a failure: see ci_skips.py.
pytest_plugins = ["ci_skips"]

# Helper libraries rewrite the host when these are set; keep them out.
for _name in ("TWILIO_EDGE", "TWILIO_REGION"):
    os.environ.pop(_name, None)

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("VERIFY_LOCAL_BIN") or str(ROOT / "target" / "debug" / "verify-local")

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "a" * 32  # AccountSid:AuthToken, as Client(account_sid, auth_token) sends
API_KEY_SID = "SK" + "2" * 32
API_KEY_SECRET = "api-key-secret-for-tests"
SIGNING_TOKEN = "0123456789abcdef0123456789abcdef"  # signs X-Twilio-Signature
BROWSER_ORIGIN = "http://localhost:3000"

DEFAULT_SERVICE_SID = "VA" + "0123456789abcdef" * 2
US_ONLY_SERVICE_SID = "VA" + "fedcba9876543210" * 2
SERVICES = {
    "default_service_sid": DEFAULT_SERVICE_SID,
    "services": [
        {
            "sid": DEFAULT_SERVICE_SID,
            "friendly_name": "Acme",
            "email_from_allowed": ["@team.example"],
            "test_recipients": {"+12125550100": "424242", "QA@Example.com": "135790"},
            # The suite sends hundreds of codes it never checks into one
            # 10,000-number block (+1 415 555 xxxx, the `number` fixture):
            # exactly what SMS pumping looks like. The fraud guard has its
            # own tests (test_fraud_guard.py, tests/integration/fraud_guard.rs).
            "fraud_guard": "off",
        },
        {
            "sid": US_ONLY_SERVICE_SID,
            "friendly_name": "Acme US",
            "countries": ["US"],
            "custom_friendly_name": False,
            "code_length": 8,
            "fraud_guard": "off",
        },
    ],
}


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen
    log: list = field(default_factory=list)

    def messages(self, to):
        # The list shows codes, so it takes the API's credentials.
        r = requests.get(f"{self.base_url}/_local/messages", params={"to": to}, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5)
        r.raise_for_status()
        return r.json()

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def last_code(self, to):
        """The code in the newest message to `to`: its trailing digits (a
        call's SSML read without its tags ends with the code's last reading)."""
        msgs = self.messages(to)
        assert msgs, f"no message was sent to {to}"
        return re.search(r"(\d+)\s*$", spoken(msgs[-1]["body"])).group(1)


def spoken(body):
    """A message as a person gets it: the text of an SMS, or what a call says
    (its SSML without the tags, the digits of one reading run together)."""
    return re.sub(r"<[^>]*>", "", body)


def _drain(stream, sink, ready, pattern, found):
    for line in iter(stream.readline, ""):
        sink.append(line)
        m = pattern.search(line)
        if m and not ready.is_set():
            found.append(m.group(1))
            ready.set()
    ready.set()


def launch_verify_local(extra_args=(), extra_env=None):
    """Starts verify-local configured as above, plus `extra_args` and
    `extra_env` (for a module that needs, say, --webhook); call .stop()."""
    if not os.access(BIN, os.X_OK):
        pytest.fail(f"verify-local is not built at {BIN} (cargo build --workspace)")
    env = dict(os.environ)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SNS", "VERIFY_API_KEYS"):
        env.pop(name, None)
    env.update(
        {
            "VERIFY_SERVICES": json.dumps(SERVICES),
            "VERIFY_ACCOUNT_SID": ACCOUNT_SID,
            "VERIFY_AUTH_TOKENS": SIGNING_TOKEN,
            "RUST_LOG": "warn",
            **(extra_env or {}),
        }
    )
    args = [
        BIN, "--memory", "--port", "0",
        "--api-key", f"{ACCOUNT_SID}:{AUTH_TOKEN}",
        "--api-key", f"{API_KEY_SID}:{API_KEY_SECRET}",
        "--cors-origin", BROWSER_ORIGIN,
        *extra_args,
    ]
    proc = subprocess.Popen(
        args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, bufsize=1
    )
    log, found, ready = [], [], threading.Event()
    pattern = re.compile(r"verify-local listening on (http://\S+)")
    threading.Thread(target=_drain, args=(proc.stderr, log, ready, pattern, found), daemon=True).start()
    srv = Server(base_url=found[0] if ready.wait(30) and found else "", process=proc, log=log)
    if not srv.base_url:
        srv.stop()
        pytest.fail("verify-local did not start:\n" + "".join(log))
    # It listens before printing, so this answers at once.
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            requests.get(f"{srv.base_url}/_local/messages", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    return srv


@pytest.fixture(scope="session")
def server():
    srv = launch_verify_local()
    try:
        yield srv
    finally:
        srv.stop()


_numbers = iter(range(100, 10_000))


@pytest.fixture
def number():
    """A phone number no other test uses (limits are per number)."""
    return f"+1415555{next(_numbers) % 10_000:04d}"


@pytest.fixture
def client(server):
    """The official client with AccountSid:AuthToken, pointed at verify-local."""
    from twilio.rest import Client

    c = Client(ACCOUNT_SID, AUTH_TOKEN)
    c.verify.base_url = server.base_url
    return c


def client_for(server, key=ACCOUNT_SID, secret=AUTH_TOKEN):
    """The official client with these credentials, pointed at `server`."""
    from twilio.rest import Client

    c = Client(key, secret, ACCOUNT_SID)
    c.verify.base_url = server.base_url
    return c


@pytest.fixture
def service(client):
    return client.verify.v2.services(DEFAULT_SERVICE_SID)
