"""Geo permissions' per-country monitor mode through the official Python
client, end to end on verify-local: a service allows the US and monitors
Great Britain. A British number gets its code (the start goes ahead) and a
`verification.blocked` event with reason `geo_permissions_monitor` records
what the geo permissions would have refused; a French number, neither
allowed nor monitored, is refused (403 / 60605) with nothing sent; a US
number is neither refused nor recorded."""

import json
import time

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from conftest import ACCOUNT_SID, AUTH_TOKEN, launch_verify_local

MONITORING_SID = "VA" + "6b6b6b6b6b6b6b6b" * 2
SERVICES = {"services": [{
    "sid": MONITORING_SID, "friendly_name": "Monitoring", "fraud_guard": "off",
    "countries": ["US"], "countries_monitor": ["GB"],
}]}


@pytest.fixture(scope="module")
def monitoring_server():
    srv = launch_verify_local(extra_env={"VERIFY_SERVICES": json.dumps(SERVICES)})
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def service(monitoring_server):
    c = Client(ACCOUNT_SID, AUTH_TOKEN)
    c.verify.base_url = monitoring_server.base_url
    return c.verify.v2.services(MONITORING_SID)


def blocked_events(server):
    r = requests.get(f"{server.base_url}/events", params={"type": "verification.blocked", "limit": 1000},
                     auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=10)
    assert r.status_code == 200, r.text
    body = r.json()
    return body["events"] if isinstance(body, dict) else body


def test_a_monitored_country_is_sent_to_and_recorded(monitoring_server, service):
    uk, us = "+442079460981", "+12125550181"
    assert service.verifications.create(to=uk, channel="sms").status == "pending"
    assert service.verifications.create(to=us, channel="sms").status == "pending"
    assert len(monitoring_server.messages(uk)) == 1 and len(monitoring_server.messages(us)) == 1
    code = monitoring_server.last_code(uk)
    assert service.verification_checks.create(to=uk, code=code).status == "approved"

    deadline = time.time() + 10
    while time.time() < deadline and not blocked_events(monitoring_server):
        time.sleep(0.2)
    events = blocked_events(monitoring_server)
    assert [(e["data"]["reason"], e["data"]["country"]) for e in events] == [("geo_permissions_monitor", "GB")], events
    assert uk not in json.dumps(events), "events carry no full number"


def test_a_country_neither_allowed_nor_monitored_is_refused(monitoring_server, service):
    fr = "+33142685300"
    with pytest.raises(TwilioRestException) as info:
        service.verifications.create(to=fr, channel="sms")
    assert (info.value.status, info.value.code) == (403, 60605)
    assert monitoring_server.messages(fr) == []
