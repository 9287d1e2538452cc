"""Services managed over the API through the official Python client
(`client.verify.v2.services`; `admin` only): create, fetch, list with
paging, update and delete as Twilio has them; a start and a check on a
service created over the API (verify-local is one process: usable at once);
a configured service is updated but refused deletion; parameters this
project does not support answer 400/60200 and write nothing; a key without
`admin` is refused 403/20403 and writes nothing.

Its own verify-local, so the services it creates stay out of the other
modules' lists."""

import hashlib
import json

import pytest

from conftest import ACCOUNT_SID, DEFAULT_SERVICE_SID, US_ONLY_SERVICE_SID, client_for, launch_verify_local
from twilio_errors import rest_error

VERIFY_KEY, VERIFY_SECRET = "SK" + "8" * 32, "services-verify-only-secret"


@pytest.fixture(scope="module")
def own():
    keys = [{"key_id": VERIFY_KEY, "secret_sha256": hashlib.sha256(VERIFY_SECRET.encode()).hexdigest(), "permissions": ["verify"]}]
    srv = launch_verify_local(extra_env={"VERIFY_API_KEYS": json.dumps(keys)})
    try:
        yield srv
    finally:
        srv.stop()


def sids(client):
    return [s.sid for s in client.verify.v2.services.list()]


def test_a_service_is_created_used_updated_and_deleted(own, number):
    c = client_for(own)
    created = c.verify.v2.services.create(friendly_name="Acme Pay", code_length=4, skip_sms_to_landlines=True, lookup_enabled=False)
    assert created.sid.startswith("VA") and len(created.sid) == 34
    assert (created.friendly_name, created.code_length, created.skip_sms_to_landlines) == ("Acme Pay", 4, True)
    assert created.account_sid == ACCOUNT_SID
    assert created.url == f"{own.base_url}/v2/Services/{created.sid}"
    assert created.date_created is not None and created.date_updated is not None

    svc = c.verify.v2.services(created.sid)
    assert svc.fetch().friendly_name == "Acme Pay"
    v = svc.verifications.create(to=number, channel="sms")
    assert (v.status, v.service_sid) == ("pending", created.sid)
    code = own.last_code(number)
    assert len(code) == 4, "the service's code length"
    assert "Acme Pay" in own.messages(number)[-1]["body"], "the service's name in the SMS"
    assert svc.verification_checks.create(to=number, code=code).status == "approved"

    updated = svc.update(friendly_name="Acme Pay Two", code_length=6)
    assert (updated.friendly_name, updated.code_length, updated.skip_sms_to_landlines) == ("Acme Pay Two", 6, True)
    assert svc.fetch().code_length == 6

    # Listed after the configured services, paged.
    assert sids(c) == [DEFAULT_SERVICE_SID, US_ONLY_SERVICE_SID, created.sid]
    assert [s.sid for s in c.verify.v2.services.stream(page_size=2)] == sids(c)
    first = c.verify.v2.services.page(page_size=2)
    assert [s.sid for s in first] == [DEFAULT_SERVICE_SID, US_ONLY_SERVICE_SID]
    second = first.next_page()
    assert [s.sid for s in second] == [created.sid] and second.next_page() is None

    assert svc.delete() is True
    e = rest_error(lambda: svc.fetch())
    assert (e.status, e.code) == (404, 20404)
    e = rest_error(lambda: svc.verifications.create(to=number, channel="sms"))
    assert (e.status, e.code) == (404, 20404)
    e = rest_error(lambda: svc.delete())
    assert (e.status, e.code) == (404, 20404)
    assert created.sid not in sids(c)


def test_a_configured_service_is_updated_but_not_deleted(own):
    c = client_for(own)
    svc = c.verify.v2.services(US_ONLY_SERVICE_SID)
    assert svc.update(friendly_name="Acme USA").friendly_name == "Acme USA"
    fetched = svc.fetch()
    assert (fetched.friendly_name, fetched.code_length) == ("Acme USA", 8), "the document's code length stays"
    e = rest_error(lambda: svc.delete())
    assert (e.status, e.code) == (403, 60204)
    assert "VERIFY_SERVICES" in e.msg
    assert svc.update(friendly_name="Acme US").friendly_name == "Acme US"
    assert US_ONLY_SERVICE_SID in sids(c)


@pytest.mark.parametrize(
    "params",
    [
        {"totp_issuer": "Acme"},
        {"push_include_date": True},
        {"whatsapp_from": "whatsapp:+14155550100"},
        {"default_template_sid": "HJ" + "0" * 32},
        {"custom_code_enabled": True},
        {"lookup_enabled": True},
        {"do_not_share_warning_enabled": True},
        {"code_length": 11},
    ],
)
def test_unsupported_parameters_are_refused_and_write_nothing(own, params):
    c = client_for(own)
    before = sids(c)
    e = rest_error(lambda: c.verify.v2.services.create(friendly_name="Refused", **params))
    assert (e.status, e.code) == (400, 60200), e.msg
    assert sids(c) == before
    svc = c.verify.v2.services(DEFAULT_SERVICE_SID)
    name = svc.fetch().friendly_name
    e = rest_error(lambda: svc.update(friendly_name="Changed", **params))
    assert (e.status, e.code) == (400, 60200), e.msg
    assert svc.fetch().friendly_name == name


def test_a_key_without_admin_is_refused_and_writes_nothing(own):
    admin = client_for(own)
    before = sids(admin)
    c = client_for(own, VERIFY_KEY, VERIFY_SECRET)
    for call in (
        lambda: c.verify.v2.services.create(friendly_name="Not Mine"),
        lambda: c.verify.v2.services(US_ONLY_SERVICE_SID).update(friendly_name="Not Mine"),
        lambda: c.verify.v2.services(US_ONLY_SERVICE_SID).delete(),
    ):
        e = rest_error(call)
        assert (e.status, e.code) == (403, 20403), e.msg
    assert sids(admin) == before
    assert admin.verify.v2.services(US_ONLY_SERVICE_SID).fetch().friendly_name == "Acme US"
