"""The stand-in for End User Messaging SMS and Voice v2 and End User Messaging
Social (aws_standin.py)
refuses what the real service would refuse: driven here by boto3's own
client with its client-side checks off, so every bad body reaches the wire
correctly signed and only the stand-in's checks can refuse it."""

import base64
import json
import threading

import boto3
import botocore.config
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import aws_standin

GOOD = {
    "DestinationPhoneNumber": "+442079460000",
    "OriginationIdentity": "+12065550100",
    "MessageBody": "<speak>Your code is <say-as interpret-as=\"digits\">1</say-as></speak>",
    "MessageBodyTextType": "SSML",
    "VoiceId": "JOANNA",
    "TimeToLive": 120,
}


@pytest.fixture(scope="module")
def standin():
    server = aws_standin.serve(0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def client(endpoint, key="test", validate=False):
    return boto3.client(
        "pinpoint-sms-voice-v2",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=key,
        config=botocore.config.Config(parameter_validation=validate, retries={"total_max_attempts": 1}),
    )


def rejected(endpoint):
    return requests.get(f"{endpoint}/_standin/requests", timeout=5).json()["rejected"]


def test_a_valid_call_is_accepted_and_kept(standin):
    out = client(standin, validate=True).send_voice_message(**GOOD)
    assert out["MessageId"]
    accepted = requests.get(f"{standin}/_standin/requests", timeout=5).json()["accepted"]
    assert {"operation": "SendVoiceMessage", "body": GOOD} in accepted


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"OriginationIdentity": None}, "missing required member OriginationIdentity"),
        ({"VoiceId": "HAL9000"}, "VoiceId: 'HAL9000' is not one of"),
        ({"MessageBodyTextType": "ssml"}, "MessageBodyTextType"),
        ({"MessageBody": "x" * 6001}, "MessageBody: longer than 6000"),
        ({"MessageBody": "   "}, "MessageBody: does not match"),
        ({"DestinationPhoneNumber": "+44 20 7946 0000"}, "DestinationPhoneNumber: does not match"),
        ({"OriginationIdentity": "my number"}, "OriginationIdentity: does not match"),
        ({"TimeToLive": 1}, "TimeToLive: below 5"),
        ({"MaxPricePerMinute": "1"}, "MaxPricePerMinute"),
        ({"Context": {str(i): "x" for i in range(6)}}, "Context: more than 5 entries"),
    ],
)
def test_a_body_the_service_would_refuse_is_refused(standin, change, reason):
    body = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    with pytest.raises(client(standin).exceptions.ValidationException) as e:
        client(standin).send_voice_message(**body)
    assert reason in str(e.value)
    assert any(reason in r["reason"] for r in rejected(standin))


def test_an_unknown_member_is_refused(standin):
    c = client(standin)
    # botocore drops members its model does not know, so this one is sent raw.
    request = AWSRequest(
        method="POST",
        url=f"{standin}/",
        data=b'{"DestinationPhoneNumber":"+442079460000","OriginationIdentity":"+12065550100","Voice":"JOANNA"}',
        headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "PinpointSMSVoiceV2.SendVoiceMessage"},
    )
    SigV4Auth(Credentials("test", "test"), "sms-voice", "us-east-1").add_auth(request)
    r = requests.post(request.url, data=request.body, headers=dict(request.headers), timeout=5)
    assert r.status_code == 400 and r.json()["__type"] == "ValidationException"
    assert "unknown member Voice" in r.json()["message"]
    assert c  # the same credentials a client uses


def test_an_unsigned_or_wrongly_signed_request_is_refused(standin):
    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "PinpointSMSVoiceV2.SendVoiceMessage"}
    r = requests.post(f"{standin}/", json=GOOD, headers=headers, timeout=5)
    assert r.status_code == 403 and "no SigV4" in r.json()["message"]
    request = AWSRequest(method="POST", url=f"{standin}/", data=b"{}", headers=headers)
    SigV4Auth(Credentials("test", "not-the-secret"), "sms-voice", "us-east-1").add_auth(request)
    r = requests.post(request.url, data=request.body, headers=dict(request.headers), timeout=5)
    assert r.status_code == 403 and "signature does not match" in r.json()["message"]
    request = AWSRequest(method="POST", url=f"{standin}/", data=b"{}", headers=headers)
    SigV4Auth(Credentials("test", "test"), "sns", "us-east-1").add_auth(request)
    r = requests.post(request.url, data=request.body, headers=dict(request.headers), timeout=5)
    assert r.status_code == 403 and "not 'sms-voice'" in r.json()["message"]


def test_an_unknown_operation_is_refused(standin):
    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "PinpointSMSVoiceV2.SendPigeon"}
    r = requests.post(f"{standin}/", data=b"{}", headers=headers, timeout=5)
    assert r.status_code == 400 and r.json()["__type"] == "UnknownOperationException"


def test_a_failure_on_order_is_the_service_error(standin):
    requests.post(f"{standin}/_standin/fail", json={"type": "ThrottlingException"}, timeout=5)
    c = client(standin, validate=True)
    with pytest.raises(c.exceptions.ThrottlingException):
        c.send_voice_message(**GOOD)
    assert c.send_voice_message(**GOOD)["MessageId"], "only the ordered number of failures"


# End User Messaging Social (restJson1): SendWhatsAppMessage.

WHATSAPP_MESSAGE = {
    "messaging_product": "whatsapp",
    "to": "+447400123456",
    "type": "template",
    "template": {
        "name": "verification_code",
        "language": {"policy": "deterministic", "code": "en"},
        "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "904217"}]},
            {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "904217"}]},
        ],
    },
}
WHATSAPP = {
    "originationPhoneNumberId": "phone-number-id-0123456789abcdef0123456789abcdef",
    "message": json.dumps(WHATSAPP_MESSAGE).encode(),
    "metaApiVersion": "v20.0",
}


def social(endpoint, key="test", validate=False):
    return boto3.client(
        "socialmessaging",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=key,
        config=botocore.config.Config(parameter_validation=validate, retries={"total_max_attempts": 1}),
    )


def test_social_is_rest_json_and_a_valid_whatsapp_message_is_accepted(standin):
    assert aws_standin.SOCIAL.metadata["protocol"] == "rest-json"
    out = social(standin, validate=True).send_whatsapp_message(**WHATSAPP)
    assert out["messageId"]
    accepted = requests.get(f"{standin}/_standin/requests", timeout=5).json()["accepted"]
    last = accepted[-1]
    assert last["operation"] == "SendWhatsAppMessage"
    assert last["message"] == WHATSAPP_MESSAGE
    assert base64.b64decode(last["body"]["message"]) == WHATSAPP["message"]


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"originationPhoneNumberId": None}, "missing required member originationPhoneNumberId"),
        ({"metaApiVersion": None}, "missing required member metaApiVersion"),
        ({"originationPhoneNumberId": "+12065550100"}, "originationPhoneNumberId: does not match"),
        ({"originationPhoneNumberId": "phone-number-id-" + "a" * 100}, "originationPhoneNumberId: longer than 115"),
        ({"message": b""}, "message: shorter than 1 bytes"),
        ({"message": b"x" * 2_048_001}, "message: longer than 2048000 bytes"),
        ({"message": b"not json"}, "message: not a JSON message object"),
        ({"message": json.dumps({**WHATSAPP_MESSAGE, "messaging_product": "sms"}).encode()}, "messaging_product"),
        ({"message": json.dumps({k: v for k, v in WHATSAPP_MESSAGE.items() if k != "to"}).encode()}, "message: no to"),
        ({"message": json.dumps({**WHATSAPP_MESSAGE, "template": {"name": "x"}}).encode()}, "language code"),
        ({"metaApiVersion": "20.0"}, "metaApiVersion"),
    ],
)
def test_a_whatsapp_request_the_service_would_refuse_is_refused(standin, change, reason):
    body = {k: v for k, v in {**WHATSAPP, **change}.items() if v is not None}
    c = social(standin)
    with pytest.raises(c.exceptions.ValidationException) as e:
        c.send_whatsapp_message(**body)
    assert reason in str(e.value)
    assert any(reason in r["reason"] for r in rejected(standin))


def test_a_social_request_must_be_signed_for_social_messaging_and_be_json(standin):
    url = f"{standin}/v1/whatsapp/send"
    body = json.dumps({**WHATSAPP, "message": base64.b64encode(WHATSAPP["message"]).decode()}).encode()
    headers = {"Content-Type": "application/json"}
    r = requests.post(url, data=body, headers=headers, timeout=5)
    assert r.status_code == 403 and "no SigV4" in r.json()["message"]
    request = AWSRequest(method="POST", url=url, data=body, headers=headers)
    SigV4Auth(Credentials("test", "test"), "sms-voice", "us-east-1").add_auth(request)
    r = requests.post(request.url, data=request.body, headers=dict(request.headers), timeout=5)
    assert r.status_code == 403 and "not 'social-messaging'" in r.json()["message"]
    request = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/x-amz-json-1.0"})
    SigV4Auth(Credentials("test", "test"), "social-messaging", "us-east-1").add_auth(request)
    r = requests.post(request.url, data=request.body, headers=dict(request.headers), timeout=5)
    assert r.status_code == 400 and "content type" in r.json()["message"]
    # Correctly signed and typed, the same body is accepted.
    request = AWSRequest(method="POST", url=url, data=body, headers=headers)
    SigV4Auth(Credentials("test", "test"), "social-messaging", "us-east-1").add_auth(request)
    r = requests.post(request.url, data=request.body, headers=dict(request.headers), timeout=5)
    assert r.status_code == 200 and r.json()["messageId"]
    # Not base64: refused like any malformed blob.
    bad = json.dumps({**WHATSAPP, "message": "***"}).encode()
    request = AWSRequest(method="POST", url=url, data=bad, headers=headers)
    SigV4Auth(Credentials("test", "test"), "social-messaging", "us-east-1").add_auth(request)
    r = requests.post(request.url, data=request.body, headers=dict(request.headers), timeout=5)
    assert r.status_code == 400 and "message: not base64" in r.json()["message"]


def test_an_unknown_social_path_is_refused(standin):
    r = requests.post(f"{standin}/v1/whatsapp/pigeon", data=b"{}", headers={"Content-Type": "application/json"}, timeout=5)
    assert r.status_code == 404 and r.json()["__type"] == "UnknownOperationException"


def test_a_social_failure_on_order_has_the_models_status(standin):
    requests.post(f"{standin}/_standin/fail", json={"type": "ThrottledRequestException"}, timeout=5)
    c = social(standin, validate=True)
    with pytest.raises(c.exceptions.ThrottledRequestException) as e:
        c.send_whatsapp_message(**WHATSAPP)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    requests.post(f"{standin}/_standin/fail", json={"type": "DependencyException"}, timeout=5)
    with pytest.raises(c.exceptions.DependencyException) as e:
        c.send_whatsapp_message(**WHATSAPP)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 502
    assert c.send_whatsapp_message(**WHATSAPP)["messageId"], "only the ordered number of failures"
