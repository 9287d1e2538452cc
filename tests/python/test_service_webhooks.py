"""Webhooks created over the API through the official Python client
(`client.verify.v2.services(sid).webhooks`; `admin` only): create, fetch,
list, update and delete as Twilio has them; bad input answers 400/60200
naming the parameter and writes nothing (Verify Push events are refused
with what to use instead); a key without `admin` is refused 403/20403.

And a real delivery: a webhook created over the API on a service created
over the API receives the signed `verification.approved` of a real
verification at a real HTTP receiver on 127.0.0.1, verified with the
Standard Webhooks library and the deployment's secret (verify-local's
--webhook-secret); once disabled, it receives nothing more.

Its own verify-local, so its services and webhooks stay out of the other
modules' lists."""

import base64
import hashlib
import json

import pytest
from standardwebhooks.webhooks import Webhook
from twilio.base.exceptions import TwilioException, TwilioRestException

from conftest import ACCOUNT_SID, DEFAULT_SERVICE_SID, client_for, launch_verify_local
from test_webhooks_reports import Receiver
from twilio_errors import rest_error

SECRET = "whsec_" + base64.b64encode(b"service-webhooks-secret-32-bytes").decode()
VERIFY_KEY, VERIFY_SECRET = "SK" + "7" * 32, "webhooks-verify-only-secret"
URL = "https://hooks.example.com/verify"


@pytest.fixture(scope="module")
def own():
    keys = [{"key_id": VERIFY_KEY, "secret_sha256": hashlib.sha256(VERIFY_SECRET.encode()).hexdigest(), "permissions": ["verify"]}]
    srv = launch_verify_local(extra_args=("--webhook-secret", SECRET), extra_env={"VERIFY_API_KEYS": json.dumps(keys)})
    try:
        yield srv
    finally:
        srv.stop()


def receiving():
    r = Receiver()
    try:
        yield r
    finally:
        r.stop()


receiver = pytest.fixture(receiving, name="receiver")
control = pytest.fixture(receiving, name="control")


def hooks(client, service_sid=DEFAULT_SERVICE_SID):
    return client.verify.v2.services(service_sid).webhooks


def test_a_webhook_is_created_fetched_listed_updated_and_deleted(own):
    c = client_for(own)
    created = hooks(c).create(
        friendly_name="Orders", event_types=["verification.approved", "verification.canceled"], webhook_url=URL, resource_version="v1"
    )
    assert created.sid.startswith("YW") and len(created.sid) == 34
    assert (created.service_sid, created.account_sid) == (DEFAULT_SERVICE_SID, ACCOUNT_SID)
    assert created.event_types == ["verification.approved", "verification.canceled"]
    assert (created.status, created.version, created.webhook_url, created.webhook_method) == ("enabled", "v1", URL, "POST")
    assert created.url == f"{own.base_url}/v2/Services/{DEFAULT_SERVICE_SID}/Webhooks/{created.sid}"
    assert created.date_created is not None and created.date_updated is not None

    one = hooks(c)(created.sid)
    assert one.fetch().friendly_name == "Orders"
    second = hooks(c).create(friendly_name="All", event_types=["*"], webhook_url=URL + "/all")
    listed = hooks(c).list(page_size=1)
    assert [h.sid for h in listed] == [created.sid, second.sid], "the client follows next_page_url"

    updated = one.update(status="disabled", event_types=["*"])
    assert (updated.status, updated.event_types, updated.friendly_name) == ("disabled", ["*"], "Orders")
    assert one.delete() is True
    assert rest_error(one.fetch).status == 404
    assert [h.sid for h in hooks(c).list()] == [second.sid]
    hooks(c)(second.sid).delete()


@pytest.mark.parametrize(
    "params, named",
    [
        ({"event_types": ["factor.created"], "webhook_url": URL}, "EventTypes (factor.created is a Verify Push"),
        ({"event_types": ["verification.nope"], "webhook_url": URL}, "EventTypes"),
        ({"event_types": ["*"], "webhook_url": "https://user:pw@hooks.example.com/"}, "WebhookUrl (credentials"),
        ({"event_types": ["*"], "webhook_url": "https://169.254.169.254/latest"}, "WebhookUrl"),
        ({"event_types": ["*"], "webhook_url": URL, "status": "paused"}, "Status"),
        ({"event_types": ["*"], "webhook_url": URL, "resource_version": "v3"}, "Version"),
    ],
)
def test_bad_input_is_400_naming_the_parameter_and_writes_nothing(own, params, named):
    c = client_for(own)
    before = hooks(c).list()
    e = rest_error(lambda: hooks(c).create(friendly_name="Bad", **params))
    assert (e.status, e.code) == (400, 60200)
    assert named in e.msg
    assert hooks(c).list() == before


def test_push_events_are_refused_with_what_to_use(own):
    e = rest_error(lambda: hooks(client_for(own)).create(friendly_name="Push", event_types=["challenge.approved"], webhook_url=URL))
    assert "verification.approved" in e.msg and "*" in e.msg


def test_a_key_without_admin_is_refused(own):
    before = hooks(client_for(own)).list()
    c = client_for(own, VERIFY_KEY, VERIFY_SECRET)
    e = rest_error(lambda: hooks(c).create(friendly_name="Nope", event_types=["*"], webhook_url=URL))
    assert (e.status, e.code) == (403, 20403)
    with pytest.raises(TwilioException, match="20403"):
        hooks(c).list()
    assert hooks(client_for(own)).list() == before


def test_an_api_webhook_receives_signed_events_of_a_real_verification(own, receiver, control):
    c = client_for(own)
    service = c.verify.v2.services.create(friendly_name="Hooked")
    hook = hooks(c, service.sid).create(friendly_name="Approvals", event_types=["verification.approved"], webhook_url=receiver.url)
    # A second webhook with every event: proof that a verification's events
    # went through the pipeline.
    hooks(c, service.sid).create(friendly_name="Control", event_types=["*"], webhook_url=control.url)
    svc = c.verify.v2.services(service.sid)

    def approve(to):
        v = svc.verifications.create(to=to, channel="sms")
        assert svc.verification_checks.create(to=to, code=own.last_code(to)).status == "approved"
        return v.sid

    def approvals():
        return [e["json"]["data"]["verification_sid"] for e in receiver.events()]

    first = approve("+14155560001")
    event = receiver.wait_for(lambda p: p["data"]["verification_sid"] == first)[0]
    headers = {k: event["headers"][k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    payload = Webhook(SECRET).verify(event["body"], headers)
    assert (payload["type"], payload["data"]["service_sid"]) == ("verification.approved", service.sid)
    # Its pending event came first and went to the control only (one
    # endpoint's events of one verification are sent in order).
    assert [e["json"]["type"] for e in receiver.events()] == ["verification.approved"], "only the types it asked for"

    # Disabled: the next approval reaches the control, not it. A batch's
    # first attempts end before the next batch is read, so once the third
    # verification's approval (after re-enabling) has arrived, any delivery
    # of the second's would have too.
    hooks(c, service.sid)(hook.sid).update(status="disabled")
    second = approve("+14155560002")
    control.wait_for(lambda p: p["type"] == "verification.approved" and p["data"]["verification_sid"] == second)
    hooks(c, service.sid)(hook.sid).update(status="enabled")
    third = approve("+14155560003")
    receiver.wait_for(lambda p: p["data"]["verification_sid"] == third)
    assert approvals() == [first, third], "a disabled webhook gets nothing"
