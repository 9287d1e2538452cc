#!/usr/bin/env python3
"""Writes the seed corpora (fuzz/seeds/<target>/) from real examples: the
Lambda events in events/, the stream records webhook-report is tested with,
and inputs the unit tests use. Inputs are laid out as each target reads
them (fields separated by NUL bytes; see the target's doc comment).
Run by fuzz/run.sh before fuzzing; its output is committed so the seeds
are reviewable."""
import base64
import glob
import hashlib
import json
import os
import shutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "seeds")


def write(target, items):
    d = os.path.join(OUT, target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for data in items:
        if isinstance(data, str):
            data = data.encode()
        name = hashlib.sha1(data).hexdigest()[:16]
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


def nul(*fields):
    return b"\0".join(f.encode() if isinstance(f, str) else f for f in fields)


def lambda_events():
    """(method, path?query, headers, body) of every API event in events/."""
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "events", "**", "*.json"), recursive=True)):
        with open(path) as f:
            try:
                ev = json.load(f)
            except ValueError:
                continue
        if not isinstance(ev, dict) or "requestContext" not in ev:
            continue
        http = ev["requestContext"].get("http", {})
        body = ev.get("body") or ""
        body = base64.b64decode(body) if ev.get("isBase64Encoded") else body.encode()
        uri = ev.get("rawPath", "/") + ("?" + ev["rawQueryString"] if ev.get("rawQueryString") else "")
        out.append((http.get("method", "POST"), uri, {k.lower(): v for k, v in ev.get("headers", {}).items()}, body))
    return out


def stream_records():
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "events", "**", "*.json"), recursive=True)):
        with open(path) as f:
            try:
                ev = json.load(f)
            except ValueError:
                continue
        if isinstance(ev, dict) and isinstance(ev.get("Records"), list):
            out.append(json.dumps(ev))
            out.extend(json.dumps(r) for r in ev["Records"])
            # The same records with a number no E.164 writer would store.
            out.extend(json.dumps(r).replace('"+14155550102"', '"+1415\u00e9\u20ac"') for r in ev["Records"])
    return out


PHONES = ["+14155550123", "+1 (415) 555-0123", "+1-415-555-0123", "+1.415.555.0123", "+44 20 7946 0958",
          "+442079460958", "+44 909 8790000", "+49 151 23456789", "+18005551212", "+0123456789",
          "+1415555012345678", "+12349013030", "\uff0b\uff11\uff14\uff11\uff15\uff15\uff15\uff15\uff10\uff11\uff12\uff13",
          "+\u0661\u0664\u0661\u0665\u0665\u0665\u0665\u0660\u0661\u0662\u0663", "4155550123", "+1 415 555 0123 ext 5"]
SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
SERVICES = ['{"services":[{"friendly_name":"One"},{"friendly_name":"Two"}]}',
            '{"services":[{"friendly_name":"A","code_length":8,"max_sends":3,"channels":["sms"],"countries":["US","GB"],'
            '"custom_friendly_name":true,"sid":"VA0123456789abcdef0123456789abcdef"}],'
            '"default_service_sid":"VA0123456789abcdef0123456789abcdef"}',
            '{"services":[]}', '{"services":[{}]}', '{"services":[{"friendly_name":"A","max_sends":"5"}]}']
API_KEYS = '[{"key_id":"SK0123456789abcdef0123456789abcdef","secret_sha256":"' + hashlib.sha256(b"s").hexdigest() + '"}]'


def main():
    events = lambda_events()
    bodies = [e[3] for e in events] + [b"To=%2B14155550123&Channel=sms", b'{"To":"+14155550123","Code":"123456"}',
                                       b'{"to":123456}', b"Code=012345&VerificationSid=VE0123456789abcdef0123456789abcdef"]
    types = ["application/x-www-form-urlencoded", "application/json", "application/vnd.api+json", ""]
    paths = ["/v2/Services/VA0123456789abcdef0123456789abcdef/Verifications",
             "/v2/Services/VA0123456789abcdef0123456789abcdef/VerificationCheck",
             "/v2/Services/VA0123456789abcdef0123456789abcdef/Verifications/%2B14155550123",
             "/v2/Services/VA0123456789abcdef0123456789abcdef/Verifications/VE0123456789abcdef0123456789abcdef",
             "/v2/Services", "/start-verify", "/check-verify", "/"]
    write("params", [nul(t, p, b) for t in types for p in paths[:3] for b in bodies[:6]])
    api = [bytes([sel]) + nul(m, p, h.get("content-type", ""), h.get("origin", ""), b)
           for sel, (m, p, h, b) in enumerate(events)]
    api += [bytes([i]) + nul("POST", p, types[i % 4], "https://app.example.com", bodies[i % len(bodies)])
            for i, p in enumerate(paths)]
    api += [bytes([0x40]) + nul("OPTIONS", paths[0], "", "https://app.example.com", "")]
    write("api", api)
    write("phone", PHONES)
    auth = [nul(p, h.get("authorization", ""), h.get("x-twilio-signature", ""), h.get("content-type", ""),
                h.get("host", ""), h.get("x-forwarded-proto", ""), b) for (_m, p, h, b) in events]
    auth += [nul("https://SKabc:secret@h.example.com/v2/Services", "", "", "", "", "", ""),
             nul("/v2/Services?bodySHA256=" + hashlib.sha256(b'{"To":"+1"}').hexdigest(), "", "sig=",
                 "application/json", "h.example.com:8443", "https", b'{"To":"+1"}'),
             nul("/", "Basic " + base64.b64encode(b"SK00000000000000000000000000000000:secret").decode(), "", "", "", "", "")]
    write("auth", auth)
    reports = []
    for sel in range(8):
        for q in ["", "DateCreatedAfter=2023-11-14T00:00:00Z&DateCreatedBefore=2023-11-15&PageSize=2&Status=converted",
                  "VerifyServiceSid=VA0123456789abcdef0123456789abcdef&Country=us&Channel=SMS&ChannelData.To=%2B14155550123",
                  "from=2023-11-01&to=2023-11-14&type=approved,pending&limit=10&format=csv",
                  "DestinationPrefix=1415&VerificationSid=VE0123456789abcdef0123456789abcdef"]:
            reports.append(bytes([sel | (0x80 if sel % 3 == 0 else 0)]) + nul(q, "text/csv" if sel % 2 else "",
                                                                               "1699920000#ev_0123" if sel == 5 else ""))
    reports += [e[1].split("?", 1)[-1].encode() for e in events if "?" in e[1]]
    write("reports", reports)
    write("stream", stream_records())
    hooks = [f'[{{"url":"https://hooks.example.com/v","secret":"{SECRET}"}},'
             f'{{"url":"https://b.example.com/","secrets":["{SECRET}","{SECRET}"],'
             f'"event_types":["verification.approved","expired"],"service_sid":"VA1","id":"b-1"}}]',
             '[{"url":"https://a.example.com/"}]', f'[{{"url":"http://127.0.0.1:9000/hook","secret":"{SECRET}"}}]',
             f'[{{"url":"https://[::1]:8443/","secret":"{SECRET}","event_types":["*"]}}]',
             "Wed, 21 Oct 2015 07:28:00 GMT", "120"]
    write("webhook_config", [bytes([flags]) + h.encode() for flags in range(4) for h in hooks])
    config = SERVICES + [API_KEYS + "\x01tok1,tok2", "https://app.example.com, http://localhost:3000,*",
                         "VERIFY_SERVICES=" + SERVICES[1] + "\nVERIFY_API_KEYS=" + API_KEYS +
                         "\nVERIFY_AUTH_TOKENS=t\nVERIFY_CORS_ORIGINS=https://a.example.com\nVERIFY_CODE_LENGTH=8"
                         "\nVERIFY_VALIDITY_SECONDS=300\nVERIFY_MAX_SENDS=5\nVERIFY_PUBLIC_BASE_URL=https://v.example.com"]
    write("config", config)


if __name__ == "__main__":
    main()
