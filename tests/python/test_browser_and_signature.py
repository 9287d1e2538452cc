"""What non-library callers send:

- the Flex Verify plugin (browser, cross-origin: preflight, then form-encoded
  `to` and `verification_code` to /start-verify and /check-verify);
- Studio's HTTP Request widget (form or JSON `to`/`code`, Basic credentials in
  the URL's user-info);
- Twilio webhooks and Studio signing with X-Twilio-Signature, made here with
  the official library's RequestValidator.
"""

import hashlib
import json

import requests
from twilio.request_validator import RequestValidator

from conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    BROWSER_ORIGIN,
    DEFAULT_SERVICE_SID,
    SIGNING_TOKEN,
)

FORM = "application/x-www-form-urlencoded;charset=UTF-8"
AUTH = (ACCOUNT_SID, AUTH_TOKEN)


def cors_headers(resp):
    return {k.lower(): v for k, v in resp.headers.items() if k.lower().startswith("access-control-")}


def preflight(server, path, origin):
    return requests.options(
        f"{server.base_url}{path}",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
        timeout=5,
    )


def test_flex_plugin_replay(server, number):
    for path in ("/start-verify", "/check-verify"):
        p = preflight(server, path, BROWSER_ORIGIN)
        assert p.status_code == 204
        h = cors_headers(p)
        assert h["access-control-allow-origin"] == BROWSER_ORIGIN
        assert "POST" in h["access-control-allow-methods"]
        allowed = h["access-control-allow-headers"].lower()
        assert "authorization" in allowed and "content-type" in allowed

    browser = {"Origin": BROWSER_ORIGIN, "Content-Type": FORM}
    start = requests.post(f"{server.base_url}/start-verify", data={"to": number}, headers=browser, auth=AUTH, timeout=5)
    assert start.status_code == 201, start.text
    assert start.json()["success"] is True
    assert start.headers["Access-Control-Allow-Origin"] == BROWSER_ORIGIN

    code = server.last_code(number)
    wrong = "1" * 6 if code != "1" * 6 else "2" * 6
    bad = requests.post(
        f"{server.base_url}/check-verify", data={"to": number, "verification_code": wrong}, headers=browser, auth=AUTH, timeout=5
    )
    assert bad.status_code == 200 and bad.json()["success"] is False
    assert bad.headers["Access-Control-Allow-Origin"] == BROWSER_ORIGIN
    good = requests.post(
        f"{server.base_url}/check-verify", data={"to": number, "verification_code": code}, headers=browser, auth=AUTH, timeout=5
    )
    assert good.status_code == 200 and good.json()["success"] is True and good.json()["status"] == "approved"


def test_other_origins_get_no_cors_headers(server, number):
    p = preflight(server, "/start-verify", "https://evil.example")
    assert p.status_code == 403
    assert cors_headers(p) == {}
    r = requests.post(
        f"{server.base_url}/start-verify",
        data={"to": number},
        headers={"Origin": "https://evil.example", "Content-Type": FORM},
        auth=AUTH,
        timeout=5,
    )
    assert cors_headers(r) == {}
    # Credentials or not, a page elsewhere cannot make it do anything.
    assert r.status_code == 403 and r.json()["code"] == 20403
    assert r.json()["message"] == "Origin not allowed"
    assert server.messages(number) == []


def test_what_a_page_can_send_without_asking_is_refused(server, number):
    """A cross-site page can POST text/plain or multipart without a preflight,
    and can reach a loopback server under its own name (DNS rebinding)."""
    url = f"{server.base_url}/start-verify"
    for content_type, body in (
        ("text/plain;charset=UTF-8", json.dumps({"to": number})),
        ("multipart/form-data; boundary=b", f'--b\r\nContent-Disposition: form-data; name="to"\r\n\r\n{number}\r\n--b--\r\n'),
    ):
        r = requests.post(url, data=body, headers={"Content-Type": content_type}, auth=AUTH, timeout=5)
        assert r.status_code == 415, r.text
        assert r.json()["code"] == 60200
    port = server.base_url.rsplit(":", 1)[1]
    r = requests.post(url, data={"to": number}, headers={"Host": f"evil.example:{port}"}, auth=AUTH, timeout=5)
    assert r.status_code == 403 and r.json()["message"] == "Host not allowed"
    r = requests.post(
        url, data=json.dumps({"to": number, "To": "+14155550199"}), headers={"Content-Type": "application/json"}, auth=AUTH, timeout=5
    )
    assert r.status_code == 400 and "more than once" in r.json()["message"]
    assert server.messages(number) == []


def test_the_message_list_takes_the_same_credentials(server, number):
    r = requests.get(f"{server.base_url}/_local/messages", params={"to": number}, timeout=5)
    assert r.status_code == 401 and r.json()["code"] == 20003
    r = requests.get(f"{server.base_url}/_local/messages", params={"to": number}, auth=(ACCOUNT_SID, "wrong"), timeout=5)
    assert r.status_code == 401
    assert server.messages(number) == []


def test_browser_without_credentials_gets_a_readable_401(server, number):
    r = requests.post(
        f"{server.base_url}/start-verify", data={"to": number}, headers={"Origin": BROWSER_ORIGIN, "Content-Type": FORM}, timeout=5
    )
    assert r.status_code == 401
    assert r.json()["code"] == 20003
    assert r.headers["Access-Control-Allow-Origin"] == BROWSER_ORIGIN
    assert server.messages(number) == []


def test_studio_http_widget_replay(server, number):
    # Basic credentials in the URL's user-info; requests turns them into the
    # Authorization header, as Studio does.
    host = server.base_url.removeprefix("http://")
    url = f"http://{ACCOUNT_SID}:{AUTH_TOKEN}@{host}"
    start = requests.post(f"{url}/start-verify", data={"to": number, "channel": "sms", "locale": "en"}, timeout=5)
    assert start.status_code == 201 and start.json()["success"] is True
    code = server.last_code(number)
    # "Application/JSON" content type in the widget.
    check = requests.post(f"{url}/check-verify", json={"to": number, "code": code}, timeout=5)
    assert check.status_code == 200
    assert check.json()["success"] is True
    again = requests.post(f"{url}/check-verify", data={"to": number, "code": code}, timeout=5)
    assert again.status_code == 404 and again.json()["success"] is False


def test_published_example_vector_with_the_official_validator():
    # Twilio's documented example; our Rust unit test checks the same vector.
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    sig = RequestValidator("12345").compute_signature("https://mycompany.com/myapp.php?foo=1&bar=2", params)
    assert sig == "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", "the official validator and Twilio's docs agree"


def flip(text, i):
    """`text` with byte `i` changed to another printable character."""
    c = text[i]
    replacement = "A" if c != "A" else "B"
    return text[:i] + replacement + text[i + 1 :]


def test_signed_requests(server, number):
    validator = RequestValidator(SIGNING_TOKEN)
    path = f"/v2/Services/{DEFAULT_SERVICE_SID}/Verifications?Source=webhook"
    url = server.base_url + path
    params = {"To": number, "Channel": "sms"}

    def post(signature, send_params=params, send_path=path):
        return requests.post(
            server.base_url + send_path,
            data=send_params,
            headers={"X-Twilio-Signature": signature},
            timeout=5,
        )

    good = validator.compute_signature(url, params)
    r = post(good)
    assert r.status_code == 201, r.text
    assert len(server.messages(number)) == 1

    rejected = []
    # Any byte of the URL the signature was made for.
    for i in range(len(url)):
        rejected.append(post(validator.compute_signature(flip(url, i), params)))
    # Any byte of any parameter name or value.
    for name, value in params.items():
        for i in range(len(name)):
            changed = dict(params)
            del changed[name]
            changed[flip(name, i)] = value
            rejected.append(post(validator.compute_signature(url, changed)))
        for i in range(len(value)):
            rejected.append(post(validator.compute_signature(url, {**params, name: flip(value, i)})))
    # Any byte of the signature.
    for i in range(len(good)):
        rejected.append(post(flip(good, i)))
    # The request itself changed after signing: another parameter, another URL.
    rejected.append(post(good, send_params={**params, "Locale": "en"}))
    rejected.append(post(good, send_path=path.replace("webhook", "webhooK")))
    # Signed with another token.
    rejected.append(post(RequestValidator("f" * 32).compute_signature(url, params)))
    assert {r.status_code for r in rejected} == {401}
    assert {r.json()["code"] for r in rejected} == {20003}
    assert len(server.messages(number)) == 1, "no rejected request sent anything"


def test_signed_with_and_without_port_and_json_body(server, number):
    validator = RequestValidator(SIGNING_TOKEN)
    # The URL as the client used it (with our explicit port) and as the
    # signer may have written it without the port and with https.
    path = f"/v2/Services/{DEFAULT_SERVICE_SID}/Verifications"
    host_no_port = server.base_url.removeprefix("http://").split(":")[0]
    signed_without_port = validator.compute_signature(f"https://{host_no_port}{path}", {"To": number})
    r = requests.post(
        server.base_url + path,
        data={"To": number},
        headers={"X-Twilio-Signature": signed_without_port, "X-Forwarded-Proto": "https", "Host": f"{host_no_port}:443"},
        timeout=5,
    )
    assert r.status_code == 201, r.text

    # JSON body: bodySHA256 in the query, the URL alone is signed.
    body = json.dumps({"To": number, "Channel": "sms"})
    json_path = f"{path}?bodySHA256={hashlib.sha256(body.encode()).hexdigest()}"
    sig = validator.compute_signature(server.base_url + json_path, {})
    assert validator.validate(server.base_url + json_path, body, sig), "the official validator accepts it too"
    ok = requests.post(
        server.base_url + json_path, data=body, headers={"X-Twilio-Signature": sig, "Content-Type": "application/json"}, timeout=5
    )
    assert ok.status_code == 201, ok.text
    tampered = body.replace("sms", "SMS")
    bad = requests.post(
        server.base_url + json_path, data=tampered, headers={"X-Twilio-Signature": sig, "Content-Type": "application/json"}, timeout=5
    )
    assert bad.status_code == 401
