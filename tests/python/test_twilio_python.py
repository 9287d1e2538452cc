"""The official `twilio` Python library, unmodified, against verify-local:
only `client.verify.base_url` is changed, as a team moving off Twilio would."""

from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from conftest import (
    ACCOUNT_SID,
    API_KEY_SECRET,
    API_KEY_SID,
    AUTH_TOKEN,
    DEFAULT_SERVICE_SID,
    US_ONLY_SERVICE_SID,
)
from twilio_errors import rest_error


def test_create_fetch_check_flow(server, service, number):
    v = service.verifications.create(to=number, channel="sms", locale="en")
    assert v.sid.startswith("VE") and len(v.sid) == 34
    assert (v.status, v.valid, v.to, v.channel) == ("pending", False, number, "sms")
    assert v.service_sid == DEFAULT_SERVICE_SID
    assert v.account_sid == ACCOUNT_SID
    assert v.date_created is not None and v.date_created.tzinfo is not None  # ISO-8601 parsed
    assert v.url == f"{server.base_url}/v2/Services/{DEFAULT_SERVICE_SID}/Verifications/{v.sid}"
    assert len(v.send_code_attempts) == 1
    body = server.messages(number)[-1]["body"]
    assert body.startswith("Your Acme verification code is: ")

    by_sid = service.verifications(v.sid).fetch()
    assert (by_sid.sid, by_sid.status) == (v.sid, "pending")
    by_number = service.verifications(number).fetch()
    assert (by_number.sid, by_number.status, by_number.to) == (v.sid, "pending", number)

    code = server.last_code(number)
    wrong = "1" * 6 if code != "1" * 6 else "2" * 6
    check = service.verification_checks.create(to=number, code=wrong)
    assert (check.status, check.valid, check.sid) == ("pending", False, v.sid)

    check = service.verification_checks.create(to=number, code=code)
    assert (check.status, check.valid, check.sid) == ("approved", True, v.sid)

    e = rest_error(lambda: service.verification_checks.create(to=number, code=code))
    assert (e.status, e.code) == (404, 20404)
    assert "VerificationCheck" in e.msg
    # Approved is finished: it cannot be fetched any more, as with Twilio.
    e = rest_error(lambda: service.verifications(v.sid).fetch())
    assert (e.status, e.code) == (404, 20404)


def test_check_by_verification_sid(server, service, number):
    v = service.verifications.create(to=number, channel="sms")
    check = service.verification_checks.create(verification_sid=v.sid, code=server.last_code(number))
    assert (check.status, check.to) == ("approved", number)


def test_cancel_flow(server, service, number):
    v = service.verifications.create(to=number, channel="sms")
    code = server.last_code(number)
    canceled = service.verifications(v.sid).update(status="canceled")
    assert (canceled.sid, canceled.status, canceled.valid) == (v.sid, "canceled", False)
    for call in (
        lambda: service.verifications(v.sid).fetch(),
        lambda: service.verifications(number).fetch(),
        lambda: service.verification_checks.create(to=number, code=code),
        lambda: service.verifications(v.sid).update(status="canceled"),
    ):
        e = rest_error(call)
        assert (e.status, e.code) == (404, 20404)
    again = service.verifications.create(to=number, channel="sms")
    assert again.sid != v.sid and again.status == "pending"
    # Cancel by number too.
    assert service.verifications(number).update(status="canceled").status == "canceled"


def test_manual_approval_by_an_authenticated_caller(service, number):
    v = service.verifications.create(to=number, channel="sms")
    approved = service.verifications(number).update(status="approved")
    assert (approved.sid, approved.status, approved.valid) == (v.sid, "approved", True)
    e = rest_error(lambda: service.verifications(v.sid).update(status="bogus"))
    assert (e.status, e.code) == (400, 60200)


def test_five_wrong_codes_then_60202(server, service, number):
    service.verifications.create(to=number, channel="sms")
    code = server.last_code(number)
    wrong = "1" * 6 if code != "1" * 6 else "2" * 6
    for _ in range(5):
        assert service.verification_checks.create(to=number, code=wrong).status == "pending"
    e = rest_error(lambda: service.verification_checks.create(to=number, code=code))
    assert (e.status, e.code) == (429, 60202)


def test_five_sends_then_60203(server, service, number):
    sids = {service.verifications.create(to=number, channel="sms").sid for _ in range(5)}
    assert len(sids) == 1, "a resend keeps the pending verification"
    e = rest_error(lambda: service.verifications.create(to=number, channel="sms"))
    assert (e.status, e.code) == (429, 60203)
    assert len(server.messages(number)) == 5


def test_bad_credentials_are_401_20003(server, number):
    for sid, secret in ((ACCOUNT_SID, "wrong"), (API_KEY_SID, AUTH_TOKEN), ("SK" + "9" * 32, API_KEY_SECRET)):
        c = Client(sid, secret)
        c.verify.base_url = server.base_url
        svc = c.verify.v2.services(DEFAULT_SERVICE_SID)
        e = rest_error(lambda: svc.verifications.create(to=number, channel="sms"))
        assert (e.status, e.code) == (401, 20003)
    assert server.messages(number) == []


def test_api_key_credentials(server, number):
    c = Client(API_KEY_SID, API_KEY_SECRET, ACCOUNT_SID)
    c.verify.base_url = server.base_url
    v = c.verify.v2.services(DEFAULT_SERVICE_SID).verifications.create(to=number, channel="sms")
    assert v.status == "pending"


def test_services_read(server, client):
    services = client.verify.v2.services.list()
    assert [s.sid for s in services] == [DEFAULT_SERVICE_SID, US_ONLY_SERVICE_SID]
    # Paging follows next_page_url on our own host.
    paged = list(client.verify.v2.services.stream(page_size=1))
    assert [s.sid for s in paged] == [DEFAULT_SERVICE_SID, US_ONLY_SERVICE_SID]
    s = client.verify.v2.services(US_ONLY_SERVICE_SID).fetch()
    assert (s.friendly_name, s.code_length) == ("Acme US", 8)
    assert s.url == f"{server.base_url}/v2/Services/{US_ONLY_SERVICE_SID}"
    e = rest_error(lambda: client.verify.v2.services("VA" + "0" * 32).fetch())
    assert (e.status, e.code) == (404, 20404)


def test_unknown_service_is_404(client, number):
    svc = client.verify.v2.services("VA" + "0" * 32)
    e = rest_error(lambda: svc.verifications.create(to=number, channel="sms"))
    assert (e.status, e.code) == (404, 20404)


def test_service_rules(server, client, number):
    us = client.verify.v2.services(US_ONLY_SERVICE_SID)
    e = rest_error(lambda: us.verifications.create(to="+442079460958", channel="sms"))
    assert (e.status, e.code) == (403, 60605)
    assert server.messages("+442079460958") == []
    e = rest_error(lambda: us.verifications.create(to=number, channel="sms", custom_friendly_name="Other"))
    assert (e.status, e.code) == (403, 60204)
    us.verifications.create(to=number, channel="sms")
    assert len(server.last_code(number)) == 8
    assert "Acme US" in server.messages(number)[-1]["body"]


def test_custom_friendly_name_is_in_the_sms(server, service, number):
    service.verifications.create(to=number, channel="sms", custom_friendly_name="Acme Pay")
    assert server.messages(number)[-1]["body"].startswith("Your Acme Pay verification code is: ")
    e = rest_error(lambda: service.verifications.create(to=number, channel="sms", custom_friendly_name="go to evil.com"))
    assert (e.status, e.code) == (400, 60200)


def test_bad_input_is_4xx_without_sms(server, service, number):
    cases = [
        (dict(to="4155550123", channel="sms"), 400, 60200),
        (dict(to=number, channel="pigeon"), 400, 60200),
        (dict(to=number, channel="sna"), 400, 60223),
        (dict(to=number, channel="sms", locale="not a locale"), 400, 60200),
        (dict(to=number, channel="sms", custom_code="123456"), 403, 60204),
    ]
    for kwargs, status, code in cases:
        e = rest_error(lambda: service.verifications.create(**kwargs))
        assert (e.status, e.code) == (status, code), kwargs
    assert server.messages(number) == []
    e = rest_error(lambda: service.verification_checks.create(to=number, code="12"))
    assert (e.status, e.code) == (400, 60200)


def test_unknown_parameters_are_ignored(server, service, number):
    # Parameters Twilio defines for features not implemented here, that do not
    # change what is sent, are ignored as Twilio ignores unknown ones.
    v = service.verifications.create(to=number, channel="sms", app_hash="abc123", tags='{"k":"v"}')
    assert v.status == "pending"
