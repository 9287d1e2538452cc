"""Programmable rate limits through the official Python client
(`client.verify.v2.services(sid).rate_limits` and `.buckets`; `admin`
only, see test_scoped_keys.py): the definitions' create, fetch, list,
update, delete and Twilio's errors for them, then `rate_limits={...}` on a
start: a full bucket answers 429/20429 with nothing sent, another value has
its own count, a name the service does not define is a 400, and each
refusal is a `verification.blocked` event with reason `rate_limit`."""

import json
import time
import uuid

import requests

from conftest import API_KEY_SECRET, API_KEY_SID, DEFAULT_SERVICE_SID
from twilio_errors import rest_error


def unique(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def test_rate_limits_and_buckets_are_managed_as_twilio_has_them(server, service):
    name = unique("end_user_ip_address")
    created = service.rate_limits.create(unique_name=name, description="per IP")
    assert created.sid.startswith("RK") and len(created.sid) == 34
    assert (created.unique_name, created.description, created.service_sid) == (name, "per IP", DEFAULT_SERVICE_SID)
    assert created.url == f"{server.base_url}/v2/Services/{DEFAULT_SERVICE_SID}/RateLimits/{created.sid}"
    assert created.links["buckets"] == created.url + "/Buckets"
    limit = service.rate_limits(created.sid)
    assert limit.fetch().unique_name == name
    assert limit.update(description="per end-user IP").description == "per end-user IP"
    assert created.sid in [r.sid for r in service.rate_limits.list()]

    e = rest_error(lambda: service.rate_limits.create(unique_name=name))
    assert (e.status, e.code) == (400, 60208)
    e = rest_error(lambda: service.rate_limits.create(unique_name="has spaces"))
    assert (e.status, e.code) == (400, 60209)

    minute = limit.buckets.create(max=10, interval=60)
    assert minute.sid.startswith("BL") and (minute.max, minute.interval, minute.rate_limit_sid) == (10, 60, created.sid)
    day = limit.buckets.create(max=100, interval=86400)
    assert {b.sid for b in limit.buckets.list()} == {minute.sid, day.sid}
    assert limit.buckets(minute.sid).update(max=12).max == 12
    assert limit.buckets(minute.sid).fetch().max == 12
    e = rest_error(lambda: limit.buckets.create(max=5, interval=60))
    assert (e.status, e.code) == (400, 60211)
    e = rest_error(lambda: limit.buckets.create(max=0, interval=30))
    assert (e.status, e.code) == (400, 60200)
    e = rest_error(lambda: limit.buckets(day.sid).update(interval=60))
    assert (e.status, e.code) == (400, 60211)

    assert limit.buckets(day.sid).delete() is True
    e = rest_error(lambda: limit.buckets(day.sid).fetch())
    assert (e.status, e.code) == (404, 20404)
    assert limit.delete() is True
    e = rest_error(lambda: limit.fetch())
    assert (e.status, e.code) == (404, 20404)
    e = rest_error(lambda: limit.buckets.create(max=1, interval=60))
    assert (e.status, e.code) == (404, 20404)


def test_an_unknown_service_is_404(client):
    e = rest_error(lambda: client.verify.v2.services("VA" + "9" * 32).rate_limits("RK" + "0" * 32).fetch())
    assert (e.status, e.code) == (404, 20404)


def rate_limit_blocks(server):
    resp = requests.get(
        f"{server.base_url}/events", params={"type": "verification.blocked", "limit": 1000},
        auth=(API_KEY_SID, API_KEY_SECRET), timeout=10,
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    events = body["events"] if isinstance(body, dict) else body
    return [e for e in events if e["data"].get("reason") == "rate_limit"]


def test_a_full_bucket_refuses_starts_for_that_value_only(server, service):
    name = unique("end_user_ip_address")
    limit = service.rate_limits.create(unique_name=name)
    limit_ctx = service.rate_limits(limit.sid)
    limit_ctx.buckets.create(max=2, interval=3600)
    ip = {name: "203.0.113.7"}
    numbers = [f"+1415666{n:04d}" for n in range(4)]
    for to in numbers[:2]:
        assert service.verifications.create(to=to, channel="sms", rate_limits=ip).status == "pending"
    e = rest_error(lambda: service.verifications.create(to=numbers[2], channel="sms", rate_limits=ip))
    assert (e.status, e.code) == (429, 20429)
    assert name in e.msg and "203.0.113.7" not in e.msg
    assert server.messages(numbers[2]) == [], "a refused start sends nothing"
    # Another value has its own count; a start naming no limit is not counted.
    other = {name: "198.51.100.1"}
    assert service.verifications.create(to=numbers[2], channel="sms", rate_limits=other).status == "pending"
    assert service.verifications.create(to=numbers[3], channel="sms").status == "pending"

    # A JSON body may give RateLimits as an object.
    resp = requests.post(
        f"{server.base_url}/v2/Services/{DEFAULT_SERVICE_SID}/Verifications",
        json={"To": numbers[3], "Channel": "sms", "RateLimits": ip},
        auth=(API_KEY_SID, API_KEY_SECRET), timeout=10,
    )
    assert (resp.status_code, resp.json()["code"]) == (429, 20429)

    # Both refusals are blocked events (events carry no full number).
    deadline = time.time() + 10
    while time.time() < deadline and len(rate_limit_blocks(server)) < 2:
        time.sleep(0.2)
    found = rate_limit_blocks(server)
    assert len(found) == 2, found
    assert all(e["data"]["service_sid"] == DEFAULT_SERVICE_SID for e in found), found


def test_bad_rate_limits_are_400_and_send_nothing(server, service):
    to = "+14156670001"
    for bad in ({unique("nope"): "x"}, {"bad name": "x"}):
        e = rest_error(lambda: service.verifications.create(to=to, channel="sms", rate_limits=bad))
        assert (e.status, e.code) == (400, 60200), bad
    resp = requests.post(
        f"{server.base_url}/v2/Services/{DEFAULT_SERVICE_SID}/Verifications",
        data={"To": to, "Channel": "sms", "RateLimits": "not json"},
        auth=(API_KEY_SID, API_KEY_SECRET), timeout=10,
    )
    assert (resp.status_code, resp.json()["code"]) == (400, 60200)
    assert server.messages(to) == []
