"""The fraud guard through the official Python client, end to end on
verify-local: a service at `max` with a floor of 3 sends; unchecked codes to
one prefix (+1 415 558 xxxx) get it blocked, and the next start there is
403 / 60410 with nothing sent; `RiskCheck=disable` and a Safe-Listed
number still go through, and another prefix is untouched."""

import json

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from conftest import ACCOUNT_SID, AUTH_TOKEN, launch_verify_local

GUARDED_SID = "VA" + "5a5a5a5a5a5a5a5a" * 2


@pytest.fixture(scope="module")
def guarded_server():
    services = {"services": [{"sid": GUARDED_SID, "friendly_name": "Guarded", "fraud_guard": {"level": "max", "min_sends": 3}}]}
    srv = launch_verify_local(extra_env={"VERIFY_SERVICES": json.dumps(services)})
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def service(guarded_server):
    c = Client(ACCOUNT_SID, AUTH_TOKEN)
    c.verify.base_url = guarded_server.base_url
    return c.verify.v2.services(GUARDED_SID)


def test_a_pumped_prefix_is_blocked_with_60410_and_bypassed_by_risk_check_and_the_safe_list(guarded_server, service):
    for i in range(3):
        assert service.verifications.create(to=f"+1415558{i:04d}", channel="sms").status == "pending"
    blocked = "+14155580100"
    with pytest.raises(TwilioRestException) as info:
        service.verifications.create(to=blocked, channel="sms")
    assert (info.value.status, info.value.code) == (403, 60410)
    assert guarded_server.messages(blocked) == [], "nothing sent"
    with pytest.raises(TwilioRestException) as info:
        service.verifications(blocked).fetch()
    assert info.value.status == 404, "no verification written"

    # RiskCheck=disable skips the guard for that request.
    assert service.verifications.create(to="+14155580200", channel="sms", risk_check="disable").status == "pending"
    # A Safe-Listed number is never blocked by it.
    c = Client(ACCOUNT_SID, AUTH_TOKEN)
    c.verify.base_url = guarded_server.base_url
    c.verify.v2.safelist.create(phone_number="+14155580300")
    assert service.verifications.create(to="+14155580300", channel="sms").status == "pending"
    # Another prefix is not blocked.
    assert service.verifications.create(to="+14155590000", channel="sms").status == "pending"


def test_risk_check_takes_enable_or_disable(service):
    with pytest.raises(TwilioRestException) as info:
        service.verifications.create(to="+14155600000", channel="sms", risk_check="sometimes")
    assert (info.value.status, info.value.code) == (400, 60200)
