"""Messaging configurations through the official Python client
(`client.verify.v2.services(sid).messaging_configurations`; `admin` only):
create, list with paging, fetch, update and delete as Twilio has them; a
start's SMS to a configured country goes out with that sender profile's
origination identity (verify-local's outbox shows it as `from`, with the
profile's sid), another country with `all`'s, and with none the
deployment's own settings; bad input answers 400/60200 naming the
parameter and writes nothing; an unknown service is 404; a key without
`admin` is refused 403/20403.

The profiles are the deployment's (`VERIFY_SMS_PROFILES`, with
`VERIFY_SMS_SENDER=eum`): on SNS, which has no origination identity to
choose, the setting stops the process at start-up, and without profiles
every configuration is refused.

Its own verify-local, so the configurations stay out of the other modules."""

import hashlib
import json
import os
import subprocess

import pytest
from twilio.base.exceptions import TwilioException

from conftest import (
    ACCOUNT_SID,
    BIN,
    DEFAULT_SERVICE_SID,
    SERVICES,
    US_ONLY_SERVICE_SID,
    client_for,
    launch_verify_local,
)
from twilio_errors import rest_error

UK = "MG" + "0" * 31 + "a"
ANY = "MG" + "0" * 31 + "b"
PROFILES = {
    UK: {"origination_identity": "+447700900123", "configuration_set": "verify-uk"},
    ANY: {"origination_identity": "pool-0123456789abcdef"},
}
VERIFY_KEY, VERIFY_SECRET = "SK" + "9" * 32, "messaging-verify-only-secret"
_uk_numbers = iter(range(100, 1000))
_us_numbers = iter(range(9000, 10_000))  # this module's own server: its own limits


@pytest.fixture(scope="module")
def own():
    keys = [{"key_id": VERIFY_KEY, "secret_sha256": hashlib.sha256(VERIFY_SECRET.encode()).hexdigest(), "permissions": ["verify"]}]
    srv = launch_verify_local(
        extra_env={
            "VERIFY_API_KEYS": json.dumps(keys),
            "VERIFY_SMS_SENDER": "eum",
            "VERIFY_SMS_PROFILES": json.dumps(PROFILES),
        }
    )
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def uk_number():
    return f"+447400123{next(_uk_numbers):03d}"


def us_number():
    return f"+1415555{next(_us_numbers):04d}"


def list_error(call):
    """A list's refusal: the client raises its page's error with the response."""
    with pytest.raises(TwilioException) as info:
        call()
    response = info.value.args[1]
    return response.status_code, json.loads(response.text)["code"]


def configs(client, sid=DEFAULT_SERVICE_SID):
    return client.verify.v2.services(sid).messaging_configurations


def countries(client, sid=DEFAULT_SERVICE_SID):
    return [c.country for c in configs(client, sid).list()]


def sent_with(server, to):
    m = server.messages(to)[-1]
    return m.get("from"), m.get("messaging_service_sid")


def test_a_configuration_is_created_used_listed_updated_and_deleted(own, uk_number):
    c = client_for(own)
    svc = c.verify.v2.services(US_ONLY_SERVICE_SID)
    # The US-only service texts only the US: its `all` decides every text.
    created = svc.messaging_configurations.create(country="all", messaging_service_sid=ANY)
    assert (created.country, created.messaging_service_sid, created.service_sid) == ("all", ANY, US_ONLY_SERVICE_SID)
    assert created.account_sid == ACCOUNT_SID
    assert created.url == f"{own.base_url}/v2/Services/{US_ONLY_SERVICE_SID}/MessagingConfigurations/all"
    assert created.date_created is not None and created.date_updated is not None
    number = us_number()
    svc.verifications.create(to=number, channel="sms")
    assert sent_with(own, number) == ("pool-0123456789abcdef", ANY)
    assert svc.messaging_configurations("all").delete() is True
    assert countries(c, US_ONLY_SERVICE_SID) == []

    default = c.verify.v2.services(DEFAULT_SERVICE_SID)
    gb = default.messaging_configurations.create(country="GB", messaging_service_sid=UK)
    assert (gb.country, gb.messaging_service_sid) == ("GB", UK)
    default.verifications.create(to=uk_number, channel="sms")
    assert sent_with(own, uk_number) == ("+447700900123", UK)
    # No configuration for the US, no `all` yet: the deployment's settings.
    other = us_number()
    default.verifications.create(to=other, channel="sms")
    assert sent_with(own, other) == (None, None)

    default.messaging_configurations.create(country="all", messaging_service_sid=ANY)
    assert countries(c) == ["GB", "all"]
    first = default.messaging_configurations.page(page_size=1)
    assert [x.country for x in first] == ["GB"]
    second = first.next_page()
    assert [x.country for x in second] == ["all"] and second.next_page() is None

    fetched = default.messaging_configurations("GB").fetch()
    assert fetched.messaging_service_sid == UK
    updated = default.messaging_configurations("GB").update(messaging_service_sid=ANY)
    assert (updated.country, updated.messaging_service_sid) == ("GB", ANY)
    assert default.messaging_configurations("GB").fetch().messaging_service_sid == ANY

    assert default.messaging_configurations("GB").delete() is True
    e = rest_error(lambda: default.messaging_configurations("GB").fetch())
    assert (e.status, e.code) == (404, 20404)
    e = rest_error(lambda: default.messaging_configurations("GB").delete())
    assert (e.status, e.code) == (404, 20404)
    assert countries(c) == ["all"]
    assert default.messaging_configurations("all").delete() is True


@pytest.mark.parametrize(
    "params, named",
    [
        ({"country": "GBR", "messaging_service_sid": UK}, "Country"),
        ({"country": "ZZ", "messaging_service_sid": UK}, "Country"),
        ({"country": "FR", "messaging_service_sid": "MG" + "f" * 32}, "MessagingServiceSid"),
        ({"country": "FR", "messaging_service_sid": "PN" + "0" * 32}, "MessagingServiceSid"),
    ],
)
def test_bad_input_is_refused_naming_the_parameter_and_writes_nothing(own, params, named):
    c = client_for(own)
    e = rest_error(lambda: configs(c).create(**params))
    assert (e.status, e.code) == (400, 60200), e.msg
    assert named in e.msg
    assert countries(c) == []


def test_a_country_has_one_configuration_and_an_update_names_a_profile(own):
    c = client_for(own)
    configs(c).create(country="DE", messaging_service_sid=UK)
    try:
        e = rest_error(lambda: configs(c).create(country="de", messaging_service_sid=ANY))
        assert (e.status, e.code) == (400, 60200) and "DE already" in e.msg
        e = rest_error(lambda: configs(c)("DE").update(messaging_service_sid="MG" + "f" * 32))
        assert (e.status, e.code) == (400, 60200) and "MessagingServiceSid" in e.msg
        assert configs(c)("DE").fetch().messaging_service_sid == UK
    finally:
        configs(c)("DE").delete()


def test_an_unknown_service_is_404_and_a_key_without_admin_is_refused(own):
    c = client_for(own)
    unknown = "VA" + "7" * 32
    for call in (
        lambda: configs(c, unknown).create(country="GB", messaging_service_sid=UK),
        lambda: configs(c, unknown)("GB").fetch(),
    ):
        e = rest_error(call)
        assert (e.status, e.code) == (404, 20404), e.msg
    assert list_error(lambda: configs(c, unknown).list()) == (404, 20404)
    verify_only = client_for(own, VERIFY_KEY, VERIFY_SECRET)
    for call in (
        lambda: configs(verify_only).create(country="GB", messaging_service_sid=UK),
        lambda: configs(verify_only)("GB").delete(),
    ):
        e = rest_error(call)
        assert (e.status, e.code) == (403, 20403), e.msg
    assert list_error(lambda: configs(verify_only).list()) == (403, 20403)
    assert countries(c) == []


def test_without_profiles_every_configuration_is_refused(client):
    # The suite's shared server: SMS by the deployment's default sender, no profiles.
    e = rest_error(lambda: configs(client).create(country="GB", messaging_service_sid=UK))
    assert (e.status, e.code) == (400, 60200)
    assert "defines none" in e.msg
    assert countries(client) == []


def test_profiles_with_the_sns_sender_stop_the_process_at_start_up():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT_URL", "VERIFY_"))}
    env.update({"VERIFY_SERVICES": json.dumps(SERVICES), "VERIFY_SMS_PROFILES": json.dumps(PROFILES)})
    run = subprocess.run([BIN, "--memory", "--port", "0"], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert "VERIFY_SMS_PROFILES" in run.stderr and "VERIFY_SMS_SENDER=eum" in run.stderr, run.stderr
