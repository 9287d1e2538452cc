"""Scoped API keys through the official Python client: a key configured in
VERIFY_API_KEYS with `"permissions": ["verify"]` starts, checks and fetches;
approving without a code, reading services or reports, and the Safe List are
refused 403/20403, and nothing is written or sent."""

import hashlib
import json

import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException

from conftest import DEFAULT_SERVICE_SID, client_for, launch_verify_local

VERIFY_KEY, VERIFY_SECRET = "SK" + "5" * 32, "verify-only-secret"
REPORTS_KEY, REPORTS_SECRET = "SK" + "6" * 32, "reports-only-secret"
PLAIN_KEY, PLAIN_SECRET = "SK" + "7" * 32, "no-list-secret"


def entry(key_id, secret, permissions=None):
    e = {"key_id": key_id, "secret_sha256": hashlib.sha256(secret.encode()).hexdigest()}
    if permissions is not None:
        e["permissions"] = permissions
    return e


@pytest.fixture(scope="module")
def scoped():
    keys = [
        entry(VERIFY_KEY, VERIFY_SECRET, ["verify"]),
        entry(REPORTS_KEY, REPORTS_SECRET, ["reports"]),
        entry(PLAIN_KEY, PLAIN_SECRET),
    ]
    srv = launch_verify_local(extra_env={"VERIFY_API_KEYS": json.dumps(keys)})
    try:
        yield srv
    finally:
        srv.stop()


def refused(call):
    with pytest.raises(TwilioRestException) as info:
        call()
    e = info.value
    assert (e.status, e.code) == (403, 20403), (e.status, e.code, e.msg)
    return e


def refused_page(call):
    """A list call: the client raises a plain TwilioException holding the response."""
    with pytest.raises(TwilioException) as info:
        call()
    response = info.value.args[1]
    assert response.status_code == 403 and json.loads(response.text)["code"] == 20403, response.text


def test_a_verify_only_key(scoped, number):
    c = client_for(scoped, VERIFY_KEY, VERIFY_SECRET)
    svc = c.verify.v2.services(DEFAULT_SERVICE_SID)
    v = svc.verifications.create(to=number, channel="sms")
    assert v.status == "pending"
    assert svc.verification_checks.create(to=number, code="000000").status == "pending"
    refused(lambda: svc.verifications(v.sid).update(status="approved"))
    assert svc.verifications(v.sid).fetch().status == "pending", "the refused approval wrote nothing"
    refused_page(lambda: c.verify.v2.services.list())
    refused(lambda: c.verify.v2.services(DEFAULT_SERVICE_SID).fetch())
    refused_page(lambda: c.verify.v2.verification_attempts.list())
    refused(lambda: c.verify.v2.verification_attempts_summary().fetch())
    refused(lambda: c.verify.v2.safelist.create(phone_number="+442079460961"))
    refused(lambda: c.verify.v2.safelist("+442079460961").fetch())
    refused(lambda: c.verify.v2.safelist("+442079460961").delete())
    refused(lambda: svc.rate_limits.create(unique_name="end_user_ip_address"))
    refused_page(lambda: svc.rate_limits.list())
    refused(lambda: svc.rate_limits("RK" + "0" * 32).buckets.create(max=1, interval=60))
    assert len(scoped.messages(number)) == 1
    check = svc.verification_checks.create(to=number, code=scoped.last_code(number))
    assert check.status == "approved"


def test_a_reports_only_key_sends_nothing(scoped, number):
    c = client_for(scoped, REPORTS_KEY, REPORTS_SECRET)
    svc = c.verify.v2.services(DEFAULT_SERVICE_SID)
    refused(lambda: svc.verifications.create(to=number, channel="sms"))
    assert scoped.messages(number) == []
    c.verify.v2.verification_attempts.list()


def test_a_key_without_a_list_keeps_all_but_admin(scoped, number):
    c = client_for(scoped, PLAIN_KEY, PLAIN_SECRET)
    svc = c.verify.v2.services(DEFAULT_SERVICE_SID)
    v = svc.verifications.create(to=number, channel="sms")
    assert svc.verifications(v.sid).update(status="approved").status == "approved"
    c.verify.v2.verification_attempts.list()
    refused_page(lambda: c.verify.v2.services.list())
    refused(lambda: svc.rate_limits.create(unique_name="end_user_ip_address"))
