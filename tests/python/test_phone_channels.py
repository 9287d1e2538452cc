"""The phone channels through the official `twilio` Python client against
verify-local: a code read out by a call (its SSML listed with channel
`call`), a resend switching channel, the sends counted across channels, a
channel the service does not allow, `auto` on a mobile and on a fixed line,
and a service skipping SMS to fixed lines.

Numbers: GB ones, whose plan tells fixed lines (+44 20 7946 0xxx, London,
a range Ofcom sets aside for drama) from mobiles (+44 7400 1xxxxx, nothing is
sent from verify-local). US numbers are "fixed line or mobile" and count as
mobiles."""

import re

import pytest
from twilio.rest import Client

from conftest import ACCOUNT_SID, AUTH_TOKEN, launch_verify_local, spoken
from twilio_errors import rest_error

PHONE = "VA" + "a1" * 16
SMS_ONLY = "VA" + "b2" * 16
NO_LANDLINE_SMS = "VA" + "c3" * 16
SERVICES = {
    "default_service_sid": PHONE,
    "services": [
        {"sid": PHONE, "friendly_name": "Acme", "max_sends": 3},
        {"sid": SMS_ONLY, "friendly_name": "Acme Text", "channels": ["sms"]},
        {"sid": NO_LANDLINE_SMS, "friendly_name": "Acme Desk", "skip_sms_to_landlines": True},
    ],
}

_numbers = iter(range(100, 10_000))


@pytest.fixture(scope="module")
def local():
    import json

    srv = launch_verify_local(extra_env={"VERIFY_SERVICES": json.dumps(SERVICES)})
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def client(local):
    c = Client(ACCOUNT_SID, AUTH_TOKEN)
    c.verify.base_url = local.base_url
    return c


@pytest.fixture
def number():
    return f"+1415555{next(_numbers):04d}"


def gb_fixed():
    return f"+44207946{next(_numbers) % 1000:04d}"


def gb_mobile():
    return f"+4474001{next(_numbers) % 100_000:05d}"


def test_a_call_reads_the_code_and_it_verifies(local, client, number):
    service = client.verify.v2.services(PHONE)
    v = service.verifications.create(to=number, channel="call")
    assert (v.status, v.channel, v.to) == ("pending", "call", number)
    assert [a["channel"] for a in v.send_code_attempts] == ["call"]
    [message] = local.messages(number)
    assert message["channel"] == "call"
    ssml = message["body"]
    assert ssml.startswith("<speak>") and ssml.endswith("</speak>")
    # Each digit on its own, three readings, the same code each time.
    digits = re.findall(r'<say-as interpret-as="digits">(\d)</say-as>', ssml)
    code = local.last_code(number)
    assert len(code) == 6 and "".join(digits) == code * 3
    assert spoken(ssml).startswith("Your Acme verification code is: ")
    check = service.verification_checks.create(to=number, code=code)
    assert (check.status, check.channel) == ("approved", "call")


def test_a_call_speaks_the_numbers_language(local, client):
    service = client.verify.v2.services(PHONE)
    number = f"+3361234{next(_numbers):04d}"  # a French mobile
    service.verifications.create(to=number, channel="call")
    assert spoken(local.messages(number)[-1]["body"]).startswith("Votre code de vérification Acme est : ")
    service.verifications.create(to=number, channel="call", locale="de")
    assert "Noch einmal, Ihr Code lautet:" in spoken(local.messages(number)[-1]["body"])


def test_a_resend_may_switch_channel_and_sends_count_across_channels(local, client, number):
    service = client.verify.v2.services(PHONE)
    first = service.verifications.create(to=number, channel="sms")
    second = service.verifications.create(to=number, channel="call")
    assert second.sid == first.sid, "a resend, not a new verification"
    assert second.channel == "call"
    assert [a["channel"] for a in second.send_code_attempts] == ["sms", "call"]
    assert [m["channel"] for m in local.messages(number)] == ["sms", "call"]
    third = service.verifications.create(to=number, channel="sms")
    assert [a["channel"] for a in third.send_code_attempts] == ["sms", "call", "sms"]
    # The service allows 3 sends per window, whatever their channels.
    e = rest_error(lambda: service.verifications.create(to=number, channel="call"))
    assert (e.status, e.code) == (429, 60203)
    assert len(local.messages(number)) == 3
    # Only the newest code counts.
    check = service.verification_checks.create(to=number, code=local.last_code(number))
    assert check.status == "approved"


def test_a_channel_the_service_does_not_allow_is_60223_and_sends_nothing(local, client, number):
    service = client.verify.v2.services(SMS_ONLY)
    e = rest_error(lambda: service.verifications.create(to=number, channel="call"))
    assert (e.status, e.code) == (400, 60223)
    assert "call" in e.msg
    assert local.messages(number) == []
    e = rest_error(lambda: service.verifications(number).fetch())
    assert e.status == 404, "nothing was written"
    v = service.verifications.create(to=number, channel="sms")
    assert v.channel == "sms"


def test_auto_texts_a_mobile_and_calls_a_fixed_line(local, client, number):
    service = client.verify.v2.services(PHONE)
    for to, used in [(gb_mobile(), "sms"), (number, "sms"), (gb_fixed(), "call")]:
        v = service.verifications.create(to=to, channel="auto")
        assert (v.channel, [a["channel"] for a in v.send_code_attempts]) == (used, [used]), to
        assert [m["channel"] for m in local.messages(to)] == [used], to
        check = service.verification_checks.create(to=to, code=local.last_code(to))
        assert check.status == "approved", to


def test_auto_uses_what_the_service_allows(local, client):
    # A service without calls texts even a fixed line (it asked for auto).
    fixed = gb_fixed()
    v = client.verify.v2.services(SMS_ONLY).verifications.create(to=fixed, channel="auto")
    assert v.channel == "sms"
    assert [m["channel"] for m in local.messages(fixed)] == ["sms"]


def test_auto_refuses_what_is_not_a_number(local, client):
    e = rest_error(lambda: client.verify.v2.services(PHONE).verifications.create(to="bob@example.com", channel="auto"))
    assert (e.status, e.code) == (400, 60200)


def test_skip_sms_to_landlines_refuses_a_text_to_a_fixed_line_only(local, client):
    service = client.verify.v2.services(NO_LANDLINE_SMS)
    assert service.fetch().skip_sms_to_landlines is True
    assert client.verify.v2.services(PHONE).fetch().skip_sms_to_landlines is False
    fixed = gb_fixed()
    e = rest_error(lambda: service.verifications.create(to=fixed, channel="sms"))
    assert (e.status, e.code) == (403, 60205)
    assert local.messages(fixed) == [], "nothing sent"
    e = rest_error(lambda: service.verifications(fixed).fetch())
    assert e.status == 404, "nothing written"
    # The same number by call, auto (a call), and a mobile by SMS go ahead.
    assert service.verifications.create(to=fixed, channel="call").channel == "call"
    assert service.verifications.create(to=fixed, channel="auto").channel == "call"
    mobile = gb_mobile()
    assert service.verifications.create(to=mobile, channel="sms").channel == "sms"
    assert [m["channel"] for m in local.messages(fixed)] == ["call", "call"]
