"""E-mail codes and the test mode through the official `twilio` Python
library against verify-local: `channel='email'` completed with the code read
from /_local/messages, Twilio's ChannelConfiguration honoured or refused,
recipients of the wrong kind refused, and a service's test recipients (no
message, a fixed code, every other rule as usual). The services are
conftest.py's: the default one lists +12125550100 and QA@Example.com as test
recipients and lets starts send from @team.example."""

import json
import os
import re
import subprocess
import uuid

import pytest

from conftest import BIN, SERVICES
from twilio_errors import rest_error

TEST_NUMBER, TEST_NUMBER_CODE = "+12125550100", "424242"
TEST_ADDRESS, TEST_ADDRESS_CODE = "qa@example.com", "135790"


def fresh_address():
    return f"Alice.{uuid.uuid4().hex[:8]}@Example.COM"


def test_email_verification_completes_with_the_code_from_the_email(server, service):
    to = fresh_address()
    v = service.verifications.create(to=to, channel="email")
    # The domain is lower-cased; the local part stays as written.
    stored = to.split("@")[0] + "@example.com"
    assert (v.status, v.channel, v.to, v.lookup) == ("pending", "email", stored, {})
    assert [a["channel"] for a in v.send_code_attempts] == ["email"]
    [mail] = server.messages(stored)
    assert mail["channel"] == "email" and mail["subject"] == "Your Acme verification code"
    code = re.search(r"verification code is: (\d{6})", mail["body"]).group(1)
    assert f">{code}<" in mail["html"] and "<html" in mail["html"]
    assert "from" not in mail, "the deployment's own sender"
    check = service.verification_checks.create(to=to.upper(), code="000000" if code != "000000" else "111111")
    assert check.status == "pending", "any spelling of the address finds its verification"
    check = service.verification_checks.create(to=stored, code=code)
    assert (check.status, check.channel, check.to) == ("approved", "email", stored)


def test_email_in_another_language_and_with_a_custom_name(server, service):
    to = fresh_address()
    service.verifications.create(to=to, channel="email", locale="de", custom_friendly_name="Tom & Jerry")
    mail = server.messages(to.split("@")[0] + "@example.com")[-1]
    assert mail["subject"] == "Ihr Bestätigungscode für Tom & Jerry"
    assert "Tom &amp; Jerry" in mail["html"] and "Tom & Jerry" not in mail["html"]


def test_channel_configuration_from_is_honoured_when_allowed(server, service):
    to = fresh_address()
    service.verifications.create(
        to=to, channel="email", channel_configuration={"from": "verify@team.example", "from_name": "Acme Team"}
    )
    assert server.messages(to.split("@")[0] + "@example.com")[-1]["from"] == "Acme Team <verify@team.example>"
    e = rest_error(lambda: service.verifications.create(to=to, channel="email", channel_configuration={"from": "x@other.example"}))
    assert (e.status, e.code) == (403, 60204)
    assert "email_from_allowed" in e.msg


def test_channel_configuration_template_id_is_refused_saying_what_to_do(server, service):
    to = fresh_address()
    e = rest_error(lambda: service.verifications.create(
        to=to, channel="email", channel_configuration={"template_id": "d-0123456789abcdef"}
    ))
    assert (e.status, e.code) == (400, 60200)
    assert "template_id" in e.msg and "leave template_id out" in e.msg, e.msg
    e = rest_error(lambda: service.verifications.create(
        to=to, channel="email", channel_configuration={"substitutions": {"name": "Bob"}}
    ))
    assert (e.status, e.code) == (400, 60200)
    assert server.messages(to.split("@")[0] + "@example.com") == []


def test_a_recipient_of_the_other_kind_is_a_clear_400(server, service, number):
    to = fresh_address()
    e = rest_error(lambda: service.verifications.create(to=to, channel="sms"))
    assert (e.status, e.code) == (400, 60200)
    assert "Channel=email" in e.msg, e.msg
    e = rest_error(lambda: service.verifications.create(to=number, channel="email"))
    assert (e.status, e.code) == (400, 60200)
    assert "e-mail address" in e.msg, e.msg
    e = rest_error(lambda: service.verifications.create(to="not an address", channel="email"))
    assert (e.status, e.code) == (400, 60200)
    assert server.messages(number) == [] and server.messages(to) == []


@pytest.mark.parametrize("to,code", [(TEST_NUMBER, TEST_NUMBER_CODE), ("QA@example.COM", TEST_ADDRESS_CODE)])
def test_a_test_recipient_gets_nothing_and_its_fixed_code_approves(server, service, to, code):
    channel = "email" if "@" in to else "sms"
    v = service.verifications.create(to=to, channel=channel)
    assert (v.status, v.channel) == ("pending", channel), "answered like a real start"
    assert server.messages(v.to) == [], "nothing is delivered to a test recipient"
    wrong = service.verification_checks.create(to=to, code="0" * len(code))
    assert wrong.status == "pending", "a wrong code is an attempt like any other"
    approved = service.verification_checks.create(to=to, code=code)
    assert (approved.status, approved.sid) == ("approved", v.sid)
    e = rest_error(lambda: service.verification_checks.create(to=to, code=code))
    assert (e.status, e.code) == (404, 20404)


def test_test_recipients_are_announced_at_start_up_masked(server):
    lines = [l for l in server.log if "TEST MODE" in l]
    assert lines, "".join(server.log)
    assert "+1212555****" in lines[0] and "q***@example.com" in lines[0], lines[0]
    assert "5550100" not in lines[0]


@pytest.mark.parametrize("recipient", ["+1212555*", "*@example.com", "+1212555010?"])
def test_a_pattern_as_test_recipient_refuses_to_start(recipient):
    services = json.loads(json.dumps(SERVICES))
    services["services"][0]["test_recipients"] = {recipient: "123456"}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT_URL", "VERIFY_"))}
    env["VERIFY_SERVICES"] = json.dumps(services)
    done = subprocess.run([BIN, "--memory", "--port", "0"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0, done.stderr
    assert "test_recipients" in done.stderr and "pattern" in done.stderr, done.stderr
    assert "listening" not in done.stderr
