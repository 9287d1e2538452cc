"""A service's daily budget through the official Python client, on a
verify-local of its own: once the day's sends (or a country's) are used up,
a start answers 429/20429 saying so, sends nothing, and is a
`verification.blocked` event with reason `budget`."""

import copy
import json
import time

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from conftest import ACCOUNT_SID, API_KEY_SECRET, API_KEY_SID, AUTH_TOKEN, DEFAULT_SERVICE_SID, SERVICES, launch_verify_local


@pytest.fixture(scope="module")
def budgeted():
    services = copy.deepcopy(SERVICES)
    services["services"][0]["daily_budget"] = {
        "max_sends": 3, "max_spend_usd": 1, "price_usd": {"*": 0.05}, "max_sends_by_country": {"GB": 1},
    }
    srv = launch_verify_local(extra_env={"VERIFY_SERVICES": json.dumps(services)})
    try:
        yield srv
    finally:
        srv.stop()


def test_the_days_budget_refuses_with_429_and_sends_nothing(budgeted):
    c = Client(ACCOUNT_SID, AUTH_TOKEN)
    c.verify.base_url = budgeted.base_url
    svc = c.verify.v2.services(DEFAULT_SERVICE_SID)
    assert svc.verifications.create(to="+442079460991", channel="sms").status == "pending"
    with pytest.raises(TwilioRestException) as info:
        svc.verifications.create(to="+442079460992", channel="sms")
    assert (info.value.status, info.value.code) == (429, 20429)
    assert "budget for GB" in info.value.msg
    assert budgeted.messages("+442079460992") == []

    for to in ("+14155550701", "+14155550702"):
        assert svc.verifications.create(to=to, channel="sms").status == "pending"
    with pytest.raises(TwilioRestException) as info:
        svc.verifications.create(to="+14155550703", channel="sms")
    assert (info.value.status, info.value.code) == (429, 20429)
    assert "daily send budget is used up" in info.value.msg and "00:00 UTC" in info.value.msg
    assert budgeted.messages("+14155550703") == []

    def blocked():
        resp = requests.get(
            f"{budgeted.base_url}/events", params={"type": "verification.blocked", "limit": 100},
            auth=(API_KEY_SID, API_KEY_SECRET), timeout=10,
        )
        assert resp.status_code == 200, resp.text
        return [e for e in resp.json()["events"] if e["data"].get("reason") == "budget"]

    deadline = time.time() + 10
    while time.time() < deadline and len(blocked()) < 2:
        time.sleep(0.2)
    assert len(blocked()) == 2, blocked()
    assert {e["data"]["country"] for e in blocked()} == {"GB", "US"}
