"""examples/conference-line against verify-local: Twilio's voice webhooks
replayed as Twilio sends them (form fields, X-Twilio-Signature made with the
account's auth token by the official RequestValidator), over HTTP to the
Flask app served on a loopback port; each answer's TwiML is asserted, and
only a caller whose code verify-local approved is <Dial>ed into the
conference.
"""

import importlib.util
import secrets
import threading
import xml.etree.ElementTree as ET
from urllib.parse import urljoin

import pytest
import requests
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

from conftest import ACCOUNT_SID, API_KEY_SECRET, API_KEY_SID, DEFAULT_SERVICE_SID, ROOT

TWILIO_TOKEN = secrets.token_hex(16)  # the Twilio account's auth token, made up per run
LINE = "+14155559000"  # the conference line's own number (the webhooks' To)
PARTICIPANTS = {"alice": "+14155559001", "bob": "+14155559002", "carol": "+14155559003", "dave": "+14155559004"}
MODERATOR = "+14155559010"
STRANGER = "+14155559099"


def load_example():
    path = ROOT / "examples" / "conference-line" / "app.py"
    spec = importlib.util.spec_from_file_location("conference_line_app", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def line(server):
    app = load_example().create_app(
        {
            "twilio_auth_token": TWILIO_TOKEN,
            "participants": list(PARTICIPANTS.values()),
            "moderator": MODERATOR,
            "conference_name": "Board call",
            "verify_base_url": server.base_url,
            "verify_api_key": API_KEY_SID,
            "verify_api_secret": API_KEY_SECRET,
            "verify_account_sid": ACCOUNT_SID,
            "verify_service_sid": DEFAULT_SERVICE_SID,
            "public_base_url": None,
        }
    )
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join(5)


class Caller:
    """One phone call: Twilio's requests for it, signed as Twilio signs them."""

    def __init__(self, line, number, token=TWILIO_TOKEN):
        self.line, self.number, self.token = line, number, token
        self.call_sid = "CA" + secrets.token_hex(16)

    def post(self, path, **extra):
        url = urljoin(self.line, path)
        form = {
            "CallSid": self.call_sid, "AccountSid": ACCOUNT_SID, "From": self.number, "Caller": self.number,
            "To": LINE, "Called": LINE, "CallStatus": "in-progress", "Direction": "inbound", "ApiVersion": "2010-04-01",
            **extra,
        }
        signature = RequestValidator(self.token).compute_signature(url, form)
        r = requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=10)
        if r.status_code != 200:
            return r.status_code, None
        assert r.headers["Content-Type"].startswith("text/xml")
        return 200, ET.fromstring(r.text)

    def twiml(self, path, **extra):
        status, doc = self.post(path, **extra)
        assert status == 200
        return doc


def verbs(doc):
    return [child.tag for child in doc]


def said(doc):
    return " ".join(e.text for e in doc.iter("Say"))


def gather(doc):
    (g,) = doc.findall("Gather")
    return g


def wrong(code):
    return "".join("1" if d != "1" else "2" for d in code)


def test_an_uninvited_caller_is_turned_away_without_a_code(server, line):
    stranger = Caller(line, STRANGER)
    for path, extra in (("/voice", {}), ("/channel", {"Digits": "1"}), ("/check?attempt=1", {"Digits": "123456"})):
        doc = stranger.twiml(path, **extra)
        assert verbs(doc) == ["Say", "Hangup"], path
        assert "for invited participants only" in said(doc)
    assert server.messages(STRANGER) == []


@pytest.mark.parametrize("channel", ["sms", "call"])
def test_a_verified_participant_joins_the_conference(server, line, channel):
    number = PARTICIPANTS["alice" if channel == "sms" else "bob"]
    caller = Caller(line, number)
    menu = caller.twiml("/voice")
    assert verbs(menu) == ["Gather", "Redirect"]
    assert gather(menu).attrib == {"numDigits": "1", "action": "/channel", "timeout": "5"}
    assert "press 1" in said(menu) and "press 2" in said(menu)

    asked = caller.twiml(gather(menu).get("action"), Digits="1" if channel == "sms" else "2")
    # Either channel is delivered as chosen: no fallback is said, and the
    # message list shows that channel (a call's SSML for "call").
    assert "instead" not in said(asked)
    delivered = channel
    assert verbs(asked)[-3:] == ["Gather", "Say", "Hangup"]
    assert gather(asked).attrib == {"numDigits": "6", "finishOnKey": "#", "timeout": "15", "action": "/check?attempt=1"}
    assert [m["channel"] for m in server.messages(number)] == [delivered]

    joined = caller.twiml(gather(asked).get("action"), Digits=server.last_code(number))
    assert verbs(joined) == ["Say", "Dial"]
    (conference,) = joined.find("Dial").findall("Conference")
    assert conference.text == "Board call"
    # A participant waits for the moderator and does not end the call for all.
    assert conference.attrib == {"startConferenceOnEnter": "false", "endConferenceOnExit": "false"}


def test_wrong_digits_get_retries_then_a_polite_goodbye(server, line):
    number = PARTICIPANTS["carol"]
    caller = Caller(line, number)
    asked = caller.twiml("/channel", Digits="1")
    for attempt in (2, 3):
        retry = caller.twiml(gather(asked).get("action"), Digits=wrong(server.last_code(number)))
        assert "That code is not right" in said(retry)
        assert gather(retry).get("action") == f"/check?attempt={attempt}"
        assert "Dial" not in verbs(retry)
        asked = retry
    last = caller.twiml(gather(asked).get("action"), Digits=wrong(server.last_code(number)))
    assert verbs(last) == ["Say", "Hangup"] and "still not right" in said(last)
    # Keys that are not a code cost no check and admit nobody either.
    again = caller.twiml("/check?attempt=1", Digits="*#")
    assert "Dial" not in verbs(again)


def test_only_the_number_the_code_was_sent_to_gets_in(server, line):
    moderator = Caller(line, MODERATOR)
    moderator.twiml("/channel", Digits="1")
    code = server.last_code(MODERATOR)
    # Another participant, reading the moderator's code over their shoulder.
    dave = Caller(line, PARTICIPANTS["dave"])
    refused = dave.twiml("/check?attempt=1", Digits=code)
    assert verbs(refused) == ["Say", "Hangup"] and "expired" in said(refused)
    joined = moderator.twiml("/check?attempt=1", Digits=code)
    conference = joined.find("Dial").find("Conference")
    assert conference.attrib == {"startConferenceOnEnter": "true", "endConferenceOnExit": "true"}


def test_requests_twilio_did_not_sign_are_refused(server, line):
    number = PARTICIPANTS["dave"]
    before = len(server.messages(number))
    forged = Caller(line, number, token=secrets.token_hex(16))
    assert forged.post("/voice")[0] == 403
    assert forged.post("/channel", Digits="1")[0] == 403
    assert forged.post("/check?attempt=1", Digits="123456")[0] == 403
    r = requests.post(f"{line}/channel", data={"From": number, "Digits": "1"}, timeout=10)
    assert r.status_code == 403
    # A signed request whose URL was changed afterwards (a retry count reset).
    url = f"{line}/check?attempt=3"
    form = {"From": number, "Digits": "123456"}
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, form)
    r = requests.post(f"{line}/check?attempt=1", data=form, headers={"X-Twilio-Signature": signature}, timeout=10)
    assert r.status_code == 403
    assert len(server.messages(number)) == before, "nothing was sent"
