"""A stand-in for the two AWS APIs moto does not emulate: End User
Messaging SMS and Voice v2 (`pinpoint-sms-voice-v2`, JSON 1.0) and End User
Messaging Social (`socialmessaging`, restJson1, WhatsApp). It speaks each
service's wire protocol and refuses every request the real service would
refuse for its form, so the real Rust SDK clients can be tested against it.

What it checks, for every request:
- the protocol, as botocore's model of the service declares it:
  - SMS and Voice v2 (JSON 1.0): `POST /`,
    `Content-Type: application/x-amz-json-1.0`,
    `X-Amz-Target: PinpointSMSVoiceV2.<Operation>` naming an operation of
    the API, a JSON object body;
  - Social (restJson1): the operation's own method and path (e.g.
    `POST /v1/whatsapp/send`), `Content-Type: application/json`, a JSON
    object body (only operations whose input is all in the body are
    served);
- the SigV4 signature: an `Authorization` header for the service's signing
  name (`sms-voice`, `social-messaging`), recomputed from the request and
  the test credentials (access key id = secret, e.g. `local`/`local` or
  `test`/`test`) and compared;
- the body against the operation's input shape in botocore's service model
  (installed with boto3): no unknown members, every required member, each
  value's type, string lengths, patterns (matched against the whole value)
  and enums, integer ranges, map and list sizes, blobs as base64 whose
  decoded length is within the model's bounds;
- for `SendWhatsAppMessage`, what the service passes through to Meta: the
  `message` blob must be a WhatsApp Cloud API message object (JSON, with
  `messaging_product: "whatsapp"`, a `to`, and for a template its name and
  language code), and `metaApiVersion` a Graph API version (`v20.0`), as
  the API reference describes both.

A request that fails a check is answered as the service would
(`ValidationException`, or `InvalidSignatureException` / 400) and kept in
the `rejected` list; an accepted one gets a `MessageId` (`messageId`) and
is kept in `accepted`. Control routes for tests:
- `GET /_standin/requests` -> {"accepted": [...], "rejected": [...]}, each
  {"operation", "body"} (rejected ones also "reason"; an accepted
  `SendWhatsAppMessage` also "message", its decoded message object);
- `POST /_standin/fail` with {"type": "ThrottlingException", "count": 1}
  makes the next `count` valid requests (of either service) fail with that
  service error (replacing any failures still ordered; `count` 0 clears
  them); a Social error gets the HTTP status its model gives it.

Run: `python aws_standin.py [PORT]` (0 picks a free port); it prints
`aws-standin listening on http://127.0.0.1:PORT` once ready.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import json
import re
import sys
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.session

SERVICE = "pinpoint-sms-voice-v2"
MODEL = botocore.session.get_session().get_service_model(SERVICE)
TARGET_PREFIX = MODEL.metadata["targetPrefix"] + "."
SIGNING_NAME = MODEL.metadata["signingName"]
# End User Messaging Social: restJson1, each operation at its own path.
SOCIAL = botocore.session.get_session().get_service_model("socialmessaging")
assert SOCIAL.metadata["protocol"] == "rest-json", SOCIAL.metadata
SOCIAL_ROUTES = {
    (op.http["method"], op.http["requestUri"]): op
    for op in map(SOCIAL.operation_model, SOCIAL.operation_names)
    if "{" not in op.http["requestUri"] and "?" not in op.http["requestUri"]
}
# The stand-in's accounts: an access key id whose secret is the same string.
SECRETS = {"local": "local", "test": "test"}
# How far the request's X-Amz-Date may be from now (AWS allows 5 minutes).
CLOCK_SKEW = datetime.timedelta(minutes=5)


def validate(shape, value, path="") -> list[str]:
    """Every way `value` breaks `shape` (botocore model), as messages."""
    where = path or "body"
    t = shape.type_name
    meta = shape.metadata
    if t == "structure":
        if not isinstance(value, dict):
            return [f"{where}: expected an object"]
        errors = []
        for name in shape.required_members:
            if name not in value:
                errors.append(f"{where}: missing required member {name}")
        for name, v in value.items():
            if name not in shape.members:
                errors.append(f"{where}: unknown member {name}")
            else:
                errors += validate(shape.members[name], v, f"{path}.{name}" if path else name)
        return errors
    if t == "string":
        if not isinstance(value, str):
            return [f"{where}: expected a string"]
        errors = []
        if "min" in meta and len(value) < meta["min"]:
            errors.append(f"{where}: shorter than {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"{where}: longer than {meta['max']}")
        if "pattern" in meta and not re.fullmatch(meta["pattern"], value):
            errors.append(f"{where}: does not match {meta['pattern']}")
        if shape.enum and value not in shape.enum:
            errors.append(f"{where}: {value!r} is not one of {shape.enum}")
        return errors
    if t in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{where}: expected an integer"]
        errors = []
        if "min" in meta and value < meta["min"]:
            errors.append(f"{where}: below {meta['min']}")
        if "max" in meta and value > meta["max"]:
            errors.append(f"{where}: above {meta['max']}")
        return errors
    if t == "boolean":
        return [] if isinstance(value, bool) else [f"{where}: expected a boolean"]
    if t == "map":
        if not isinstance(value, dict):
            return [f"{where}: expected a map"]
        errors = _size(meta, len(value), where)
        for k, v in value.items():
            errors += validate(shape.key, k, f"{where} key") + validate(shape.value, v, f"{where}[{k}]")
        return errors
    if t == "list":
        if not isinstance(value, list):
            return [f"{where}: expected a list"]
        errors = _size(meta, len(value), where)
        for i, v in enumerate(value):
            errors += validate(shape.member, v, f"{where}[{i}]")
        return errors
    if t == "blob":
        if not isinstance(value, str):
            return [f"{where}: expected base64 text"]
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return [f"{where}: not base64"]
        errors = []
        if "min" in meta and len(data) < meta["min"]:
            errors.append(f"{where}: shorter than {meta['min']} bytes")
        if "max" in meta and len(data) > meta["max"]:
            errors.append(f"{where}: longer than {meta['max']} bytes")
        return errors
    if t == "timestamp":
        return [] if isinstance(value, (int, float)) and not isinstance(value, bool) else [f"{where}: expected epoch seconds"]
    return [f"{where}: the stand-in cannot check type {t}"]


def _size(meta, n, where):
    errors = []
    if "min" in meta and n < meta["min"]:
        errors.append(f"{where}: fewer than {meta['min']} entries")
    if "max" in meta and n > meta["max"]:
        errors.append(f"{where}: more than {meta['max']} entries")
    return errors


def check_signature(method, path, query, headers, body: bytes, signing_name=SIGNING_NAME) -> str | None:
    """None when the SigV4 signature is right, else why not."""
    auth = headers.get("authorization", "")
    m = re.fullmatch(
        r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})",
        auth,
    )
    if not m:
        return "no SigV4 Authorization header"
    key_id, day, region, service, signed, signature = m.groups()
    if service != signing_name:
        return f"signed for service {service!r}, not {signing_name!r}"
    if key_id not in SECRETS:
        return f"unknown access key {key_id!r}"
    amz_date = headers.get("x-amz-date", "")
    try:
        when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return "no X-Amz-Date"
    if not amz_date.startswith(day):
        return "X-Amz-Date is not the credential scope's day"
    if abs(datetime.datetime.now(datetime.timezone.utc) - when) > CLOCK_SKEW:
        return "X-Amz-Date too far from now"
    names = signed.split(";")
    if "host" not in names or "x-amz-date" not in names:
        return "host and x-amz-date must be signed"
    canonical_headers = "".join(f"{n}:{' '.join(headers.get(n, '').split())}\n" for n in names)
    pairs = sorted(urllib.parse.parse_qsl(query, keep_blank_values=True))
    canonical_query = "&".join(f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}" for k, v in pairs)
    canonical = "\n".join([method, path, canonical_query, canonical_headers, signed, hashlib.sha256(body).hexdigest()])
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = ("AWS4" + SECRETS[key_id]).encode()
    for part in (day, region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return "signature does not match"
    return None


META_API_VERSION = re.compile(r"v[0-9]+(\.[0-9]+)?")


def check_whatsapp(params) -> list[str]:
    """What `SendWhatsAppMessage` passes to Meta: the message object of the
    WhatsApp Cloud API (`messaging_product`, `to`, `type`; a template's
    `name` and `language.code`) and the Graph API version."""
    errors = []
    if not META_API_VERSION.fullmatch(params["metaApiVersion"]):
        errors.append(f"metaApiVersion: {params['metaApiVersion']!r} is not v{{VersionNumber}}")
    try:
        message = json.loads(base64.b64decode(params["message"]))
    except ValueError:
        return errors + ["message: not a JSON message object"]
    if not isinstance(message, dict):
        return errors + ["message: not a JSON message object"]
    if message.get("messaging_product") != "whatsapp":
        errors.append("message: messaging_product must be \"whatsapp\"")
    if not isinstance(message.get("to"), str) or not message["to"]:
        errors.append("message: no to")
    if message.get("type", "text") == "template":
        template = message.get("template")
        if not isinstance(template, dict) or not template.get("name"):
            errors.append("message: a template message names its template")
        elif not isinstance(template.get("language"), dict) or not template["language"].get("code"):
            errors.append("message: a template message gives its language code")
    return errors


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.accepted: list[dict] = []
        self.rejected: list[dict] = []
        self.failures: list[str] = []


class Handler(BaseHTTPRequestHandler):
    server_version = "aws-standin"
    state: State  # set on the class by serve()

    def log_message(self, *args):  # quiet: tests read /_standin/requests
        pass

    def _reply(self, status, payload, error_type=None, content_type="application/x-amz-json-1.0"):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if error_type:
            self.send_header("x-amzn-ErrorType", error_type)
        self.end_headers()
        self.wfile.write(data)

    def _refuse(self, status, error_type, reason, operation=None, body=None):
        with self.state.lock:
            self.state.rejected.append({"operation": operation, "body": body, "reason": reason})
        self._reply(status, {"__type": error_type, "message": reason}, error_type)

    def do_GET(self):
        if self.path == "/_standin/requests":
            with self.state.lock:
                self._reply(200, {"accepted": self.state.accepted, "rejected": self.state.rejected})
        else:
            self._reply(404, {"message": "not found"})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/_standin/fail":
            order = json.loads(body)
            with self.state.lock:
                self.state.failures = [order["type"]] * int(order.get("count", 1))
            return self._reply(200, {})
        headers = {k.lower(): v for k, v in self.headers.items()}
        if url.path != "/":
            return self._rest_json(url, headers, body)
        if headers.get("content-type") != "application/x-amz-json-1.0":
            return self._refuse(400, "SerializationException", f"content type {headers.get('content-type')!r}")
        target = headers.get("x-amz-target", "")
        operation = target[len(TARGET_PREFIX):] if target.startswith(TARGET_PREFIX) else None
        if operation not in MODEL.operation_names:
            return self._refuse(400, "UnknownOperationException", f"X-Amz-Target {target!r}")
        bad_signature = check_signature("POST", url.path, url.query, headers, body)
        if bad_signature:
            return self._refuse(403, "InvalidSignatureException", bad_signature, operation)
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            return self._refuse(400, "SerializationException", "body is not JSON", operation)
        errors = validate(MODEL.operation_model(operation).input_shape, params)
        if errors:
            return self._refuse(400, "ValidationException", "; ".join(errors), operation, params)
        with self.state.lock:
            failure = self.state.failures.pop(0) if self.state.failures else None
            if not failure:
                self.state.accepted.append({"operation": operation, "body": params})
        if failure:
            status = 400 if failure in ("ValidationException", "ServiceQuotaExceededException", "ConflictException") else 500
            if failure == "ThrottlingException":
                status = 400
            return self._reply(status, {"__type": failure, "message": "the stand-in was told to fail"}, failure)
        output = MODEL.operation_model(operation).output_shape
        reply = {"MessageId": str(uuid.uuid4())} if output and "MessageId" in output.members else {}
        self._reply(200, reply)


    def _rest_json(self, url, headers, body):
        """A request to End User Messaging Social (restJson1)."""
        op = SOCIAL_ROUTES.get(("POST", url.path))
        if op is None:
            return self._refuse(404, "UnknownOperationException", f"POST {url.path}")
        located = [n for n, m in op.input_shape.members.items() if m.serialization.get("location")]
        if located:
            return self._refuse(400, "UnknownOperationException", f"the stand-in serves no {op.name} (members {located} outside the body)")
        if headers.get("content-type") != "application/json":
            return self._refuse(400, "SerializationException", f"content type {headers.get('content-type')!r}", op.name)
        bad_signature = check_signature("POST", url.path, url.query, headers, body, SOCIAL.metadata["signingName"])
        if bad_signature:
            return self._refuse(403, "InvalidSignatureException", bad_signature, op.name)
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            return self._refuse(400, "SerializationException", "body is not JSON", op.name)
        errors = validate(op.input_shape, params)
        if not errors and op.name == "SendWhatsAppMessage":
            errors = check_whatsapp(params)
        if errors:
            return self._refuse(400, "ValidationException", "; ".join(errors), op.name, params)
        with self.state.lock:
            failure = self.state.failures.pop(0) if self.state.failures else None
            if not failure:
                kept = {"operation": op.name, "body": params}
                if op.name == "SendWhatsAppMessage":
                    kept["message"] = json.loads(base64.b64decode(params["message"]))
                self.state.accepted.append(kept)
        if failure:
            shape = SOCIAL.shape_for(failure) if failure in SOCIAL.shape_names else None
            status = shape.metadata["error"]["httpStatusCode"] if shape is not None else 500
            return self._reply(status, {"message": "the stand-in was told to fail"}, failure, "application/json")
        output = op.output_shape
        self._reply(200, {"messageId": str(uuid.uuid4())} if output and "messageId" in output.members else {}, None, "application/json")


def serve(port: int = 0) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"state": State()})
    return ThreadingHTTPServer(("127.0.0.1", port), handler)


if __name__ == "__main__":
    server = serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(f"aws-standin listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()
