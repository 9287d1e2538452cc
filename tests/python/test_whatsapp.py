"""The `whatsapp` channel through the official `twilio` Python client against
verify-local, which lists each WhatsApp message at /_local/messages with its
template name, Meta language code and the Cloud API message object that End
User Messaging Social would be given (nothing is sent): a code delivered and
approved, the language from the locale or the number's country, a resend
switching from SMS to WhatsApp, a service without WhatsApp (60223), a
`To` that is not a phone number, and the configured template's name."""

import json

import pytest
from twilio.rest import Client

from conftest import ACCOUNT_SID, AUTH_TOKEN, launch_verify_local
from twilio_errors import rest_error

ALL = "VA" + "d4" * 16
SMS_ONLY = "VA" + "e5" * 16
SERVICES = {
    "default_service_sid": ALL,
    "services": [
        {"sid": ALL, "friendly_name": "Acme", "max_sends": 3},
        {"sid": SMS_ONLY, "friendly_name": "Acme Text", "channels": ["sms"]},
    ],
}

_numbers = iter(range(100, 10_000))


@pytest.fixture(scope="module")
def local():
    srv = launch_verify_local(extra_env={"VERIFY_SERVICES": json.dumps(SERVICES)})
    try:
        yield srv
    finally:
        srv.stop()


def client_of(srv):
    c = Client(ACCOUNT_SID, AUTH_TOKEN)
    c.verify.base_url = srv.base_url
    return c


@pytest.fixture
def client(local):
    return client_of(local)


@pytest.fixture
def number():
    return f"+1415556{next(_numbers):04d}"


def template_code(message):
    """The code as WhatsApp shows it: the body's parameter, which the
    copy-code button carries too."""
    body, button = message["message"]["template"]["components"]
    assert button == {"type": "button", "sub_type": "url", "index": "0", "parameters": body["parameters"]}
    [parameter] = body["parameters"]
    return parameter["text"]


def test_a_whatsapp_code_is_listed_as_its_template_and_approves(local, client, number):
    service = client.verify.v2.services(ALL)
    v = service.verifications.create(to=number, channel="whatsapp")
    assert (v.status, v.channel, v.to) == ("pending", "whatsapp", number)
    assert [a["channel"] for a in v.send_code_attempts] == ["whatsapp"]
    [message] = local.messages(number)
    assert (message["channel"], message["template"], message["language"]) == ("whatsapp", "verification_code", "en")
    assert message["message"]["messaging_product"] == "whatsapp"
    assert message["message"]["to"] == number
    assert message["message"]["type"] == "template"
    assert message["message"]["template"]["name"] == "verification_code"
    assert message["message"]["template"]["language"] == {"policy": "deterministic", "code": "en"}
    code = template_code(message)
    assert len(code) == 6 and code.isdigit()
    assert local.last_code(number) == code, "the listed body ends with the code, as every channel's does"
    wrong = "000000" if code != "000000" else "111111"
    assert service.verification_checks.create(to=number, code=wrong).status == "pending"
    check = service.verification_checks.create(to=number, code=code)
    assert (check.status, check.channel) == ("approved", "whatsapp")


def test_the_template_language_follows_the_locale_or_the_country(local, client):
    service = client.verify.v2.services(ALL)
    brazil = f"+55119876{next(_numbers):05d}"
    service.verifications.create(to=brazil, channel="whatsapp")
    assert local.messages(brazil)[-1]["language"] == "pt_BR"
    france = f"+3361234{next(_numbers):04d}"
    v = service.verifications.create(to=france, channel="whatsapp")
    assert local.messages(france)[-1]["message"]["template"]["language"]["code"] == "fr"
    service.verifications.create(to=france, channel="whatsapp", locale="de")
    assert local.messages(france)[-1]["language"] == "de"
    assert service.verification_checks.create(to=france, code=template_code(local.messages(france)[-1])).status == "approved"
    assert v.sid


def test_a_resend_may_switch_from_sms_to_whatsapp(local, client, number):
    service = client.verify.v2.services(ALL)
    first = service.verifications.create(to=number, channel="sms")
    second = service.verifications.create(to=number, channel="whatsapp")
    assert second.sid == first.sid, "a resend, not a new verification"
    assert second.channel == "whatsapp"
    assert [a["channel"] for a in second.send_code_attempts] == ["sms", "whatsapp"]
    assert [m["channel"] for m in local.messages(number)] == ["sms", "whatsapp"]
    third = service.verifications.create(to=number, channel="sms")
    assert [a["channel"] for a in third.send_code_attempts] == ["sms", "whatsapp", "sms"]
    # The service allows 3 sends per window, whatever their channels.
    e = rest_error(lambda: service.verifications.create(to=number, channel="whatsapp"))
    assert (e.status, e.code) == (429, 60203)
    assert len(local.messages(number)) == 3
    assert service.verification_checks.create(to=number, code=local.last_code(number)).status == "approved"


def test_a_service_without_whatsapp_is_60223_and_sends_nothing(local, client, number):
    service = client.verify.v2.services(SMS_ONLY)
    e = rest_error(lambda: service.verifications.create(to=number, channel="whatsapp"))
    assert (e.status, e.code) == (400, 60223)
    assert "whatsapp" in e.msg
    assert local.messages(number) == []
    assert rest_error(lambda: service.verifications(number).fetch()).status == 404, "nothing was written"


def test_whatsapp_needs_a_phone_number(local, client):
    e = rest_error(lambda: client.verify.v2.services(ALL).verifications.create(to="bob@example.com", channel="whatsapp"))
    assert (e.status, e.code) == (400, 60200)
    assert local.messages("bob@example.com") == []


def test_the_configured_template_is_the_one_listed():
    srv = launch_verify_local(
        extra_env={
            "VERIFY_SERVICES": json.dumps(SERVICES),
            "VERIFY_WHATSAPP_PHONE_NUMBER_ID": "phone-number-id-0123456789abcdef0123456789abcdef",
            "VERIFY_WHATSAPP_TEMPLATE_NAME": "acme_login_code",
        }
    )
    try:
        to = f"+1415556{next(_numbers):04d}"
        client_of(srv).verify.v2.services(ALL).verifications.create(to=to, channel="whatsapp")
        [message] = srv.messages(to)
        assert message["template"] == message["message"]["template"]["name"] == "acme_login_code"
    finally:
        srv.stop()
