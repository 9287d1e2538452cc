"""Replays every event in events/ through the compiled function binaries, as
`sam local invoke -e events/….json` would, without Docker: cargo-lambda's
Lambda Runtime API emulator (`cargo lambda watch --only-lambda-apis`, on
127.0.0.1) serves the binaries, `cargo lambda invoke --data-file` sends each
event, and moto's server (MOTO_ENDPOINT, started by tests/run.sh) is DynamoDB
and SNS.

Everything a deployment would take from template.yaml is taken from it: the
functions (each `rust-cargolambda` function whose crate exists under
functions/), each function's environment (Globals merged with its own,
parameters at their defaults, the table's name, the secrets' names), and the
table's keys, index, stream and TTL. The secrets are in moto's Secrets
Manager, as a deployment keeps them: each function reads its own during
init, and none is in any function's environment. Expected responses are in
events/expected.json.
"""

from __future__ import annotations

import base64
import json
import os
import re
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from deploy_support import (
    EVENTS,
    EVENTS_API_KEYS_JSON,
    ROOT,
    Resolver,
    RuntimeEmulator,
    declared_functions,
    load_template,
    present_functions,
    store_secrets,
    target_dir,
)

MOTO = os.environ.get("MOTO_ENDPOINT")
MANIFEST = json.loads((EVENTS / "expected.json").read_text())["events"]
PRESENT = {f.binary for f in present_functions(load_template())}

# Per run: moto keeps its secrets for as long as it runs.
RUN = uuid.uuid4().hex[:8]
TEST_SECRETS = {
    f"verify/replay-{RUN}/code-key": "replay-code-key-" + "k" * 32,
    f"verify/replay-{RUN}/number-key": "replay-number-key-" + "n" * 32,
    f"verify/replay-{RUN}/api-keys": EVENTS_API_KEYS_JSON,
}
TEST_PARAMETERS = {
    "CodeKeySecretName": f"verify/replay-{RUN}/code-key",
    "NumberKeySecretName": f"verify/replay-{RUN}/number-key",
    "ApiKeysSecretName": f"verify/replay-{RUN}/api-keys",
}


def create_table_from_template(client, name: str, template: dict) -> None:
    """Creates the table exactly as template.yaml declares it."""
    props = template["Resources"]["VerifyTable"]["Properties"]
    plain = json.loads(json.dumps(props))  # cfn-lint nodes → plain dicts
    kwargs = {
        "TableName": name,
        "AttributeDefinitions": plain["AttributeDefinitions"],
        "KeySchema": plain["KeySchema"],
        "BillingMode": plain["BillingMode"],
    }
    if plain.get("GlobalSecondaryIndexes"):
        kwargs["GlobalSecondaryIndexes"] = plain["GlobalSecondaryIndexes"]
    if "StreamSpecification" in plain:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, **plain["StreamSpecification"]}
    client.create_table(**kwargs)
    client.get_waiter("table_exists").wait(TableName=name)
    ttl = plain["TimeToLiveSpecification"]
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": ttl["Enabled"]}
    )


def sms_to(number: str) -> list[str]:
    """Bodies of the SMS moto recorded for a number, oldest first."""
    with urllib.request.urlopen(f"{MOTO}/moto-api/data.json", timeout=10) as resp:
        data = json.load(resp)
    sent = data.get("sns", {}).get("SMS", [])
    return [m["message"] for m in sent if m.get("phone_number") == number]


def aws_env() -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": MOTO,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def with_body(event_file: Path, dest: Path, replace: dict[str, str]) -> Path:
    """A copy of an event whose body has strings replaced."""
    event = json.loads(event_file.read_text())
    body = base64.b64decode(event["body"]).decode() if event.get("isBase64Encoded") else event["body"]
    for old, new in replace.items():
        assert old in body, f"{old} not in the body of {event_file.name}"
        body = body.replace(old, new)
    event["body"] = base64.b64encode(body.encode()).decode() if event.get("isBase64Encoded") else body
    dest.write_text(json.dumps(event))
    return dest


@dataclass
class Replay:
    responses: dict[str, dict]
    logs: dict[str, str]
    approved: dict | None
    sms: dict[str, list[str]]
    environments: dict[str, dict[str, str]]


@pytest.fixture(scope="module")
def replay(tmp_path_factory) -> Replay:
    if not MOTO:
        pytest.skip("MOTO_ENDPOINT is not set (tests/run.sh starts moto)")
    import boto3

    template = load_template()
    functions = present_functions(template)
    table = f"verify-replay-{uuid.uuid4().hex[:8]}"
    ddb = boto3.client("dynamodb", endpoint_url=MOTO, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    create_table_from_template(ddb, table, template)
    secretsmanager = boto3.client("secretsmanager", endpoint_url=MOTO, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    store_secrets(secretsmanager, TEST_SECRETS)
    resolver = Resolver(template, TEST_PARAMETERS, {"VerifyTable": table})
    environments: dict[str, dict[str, str]] = {}

    log_dir = target_dir() / "test-logs" / "replay"
    log_dir.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path_factory.mktemp("events")
    responses: dict[str, dict] = {}
    approved = None
    with RuntimeEmulator(log_dir) as emulator:
        for fn in functions:
            binary = target_dir() / "debug" / fn.binary
            assert binary.exists(), f"{binary} is missing: build first (cargo build --workspace --bins)"
            environments[fn.binary] = {**resolver.environment(fn), **aws_env()}
            emulator.start_function(fn.binary, binary, environments[fn.binary])
        for entry in MANIFEST:
            if entry["function"] not in PRESENT:
                continue
            event_file = EVENTS / entry["file"]
            responses[entry["file"]] = emulator.invoke(entry["function"], event_file)
            if "replay_with_sid_of" in entry:
                sid = json.loads(responses[entry["replay_with_sid_of"]]["body"])["sid"]
                copy = with_body(event_file, tmp / f"sid-{entry['file']}", {entry["placeholder_sid"]: sid})
                responses[entry["file"] + "#then"] = emulator.invoke(entry["function"], copy)
        # Complete one verification through the binaries: the code texted to
        # +14155550102 (read back from moto), checked by verification sid.
        if {"start-verify", "check-verify"} <= PRESENT:
            start = json.loads(responses["start-verify-json.json"]["body"])
            code = re.findall(r"\d{4,10}", sms_to(start["to"])[-1])[-1]
            right = with_body(
                EVENTS / "check-verify-by-sid.json",
                tmp / "right-code.json",
                {"VE00000000000000000000000000000000": start["sid"], '"Code": "000000"': f'"Code": "{code}"'},
            )
            approved = emulator.invoke("check-verify", right)
        logs = {name: emulator.log(name) for name in emulator.functions}
    sms = {e["sms_to"]: sms_to(e["sms_to"]) for e in MANIFEST if "sms_to" in e and e["function"] in PRESENT}
    return Replay(responses, logs, approved, sms, environments)


def check_http(response: dict, expected: dict, what: str) -> dict:
    assert response["statusCode"] == expected["status"], f"{what}: {response}"
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    assert headers.get("content-type", "").startswith("application/json"), f"{what}: {headers}"
    body = json.loads(base64.b64decode(response["body"]) if response.get("isBase64Encoded") else response["body"])
    for key, value in expected.get("body", {}).items():
        assert body.get(key) == value, f"{what}: {key} = {body.get(key)!r}, expected {value!r}\n{body}"
    for key in expected.get("body_keys", []):
        assert key in body, f"{what}: no {key} in {body}"
    return body


def test_every_event_file_has_an_expectation():
    files = {p.relative_to(EVENTS).as_posix() for p in EVENTS.rglob("*.json")} - {"expected.json"}
    listed = {e["file"] for e in MANIFEST}
    assert files == listed, f"events without an expectation: {files - listed}; expectations without an event: {listed - files}"


def test_every_declared_function_has_events():
    names = {f.binary for f in declared_functions(load_template())}
    covered = {e["function"] for e in MANIFEST}
    assert names <= covered, f"functions without a sample event: {names - covered}"
    assert covered <= names, f"events for functions the template does not declare: {covered - names}"


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_event_replays_as_expected(replay: Replay, entry: dict):
    if entry["function"] not in PRESENT:
        pytest.skip(f"functions/{entry['function']} is not in this tree yet")
    response = replay.responses[entry["file"]]
    if "status" in entry:
        body = check_http(response, entry, entry["file"])
        if entry["status"] == 201:
            assert re.fullmatch(r"VE[0-9a-f]{32}", body["sid"]), body
            assert body["url"].startswith("https://"), body["url"]
        if "then" in entry:
            check_http(replay.responses[entry["file"] + "#then"], entry["then"], entry["file"] + " with a real sid")
    else:
        for key, value in entry["response"].items():
            assert response.get(key) == value, f"{entry['file']}: {response}"


def test_each_start_texted_a_code(replay: Replay):
    assert replay.sms, "no start-verify events replayed"
    for number, bodies in replay.sms.items():
        assert len(bodies) >= 1 and re.search(r"\d{6}", bodies[-1]), f"{number}: {bodies}"


def test_right_code_by_sid_approves(replay: Replay):
    if replay.approved is None:
        pytest.skip("start-verify and check-verify are not both in this tree")
    body = check_http(replay.approved, {"status": 200, "body": {"status": "approved", "valid": True, "success": True}}, "right code")
    assert body["to"] == "+14155550102"


def test_functions_warmed_up_and_logged_no_errors(replay: Replay):
    # Init opened the connections (DescribeTable on the template's table, and
    # GetSMSAttributes for start-verify) against the emulated services, and
    # nothing was logged at WARN or ERROR.
    for name, log in replay.logs.items():
        if name in ("start-verify", "check-verify", "webhook-report"):
            assert "warmed up" in log, f"{name}:\n{log}"
        assert not re.search(r"\b(WARN|ERROR)\b|panicked", log), f"{name}:\n{log}"


def test_secrets_were_read_from_secrets_manager_and_none_is_in_the_environment(replay: Replay):
    # Each function was given its secrets' names only (the start and check
    # above worked, so it read the values), and logged which it read.
    assert replay.environments, "no function started"
    wanted = {
        # The number key seals verification sids (README: Sids that name their record).
        "start-verify": "VERIFY_CODE_KEY,VERIFY_API_KEYS,VERIFY_NUMBER_KEY",
        "check-verify": "VERIFY_CODE_KEY,VERIFY_API_KEYS,VERIFY_NUMBER_KEY",
        "webhook-report": "VERIFY_API_KEYS,VERIFY_NUMBER_KEY",
    }
    for name, env in replay.environments.items():
        for value in TEST_SECRETS.values():
            assert value not in env.values(), f"{name} was given a secret's value"
        assert not {"VERIFY_CODE_KEY", "VERIFY_API_KEYS", "VERIFY_NUMBER_KEY"} & set(env), f"{name}: {sorted(env)}"
        line = next((l for l in replay.logs[name].splitlines() if "secrets read from Secrets Manager" in l), None)
        assert line is not None, f"{name} read no secret:\n{replay.logs[name]}"
        assert f'settings="{wanted[name]}"' in line or f"settings={wanted[name]}" in line, line
        for value in TEST_SECRETS.values():
            assert value not in replay.logs[name], f"{name} logged a secret"


def test_local_env_file_accepts_the_events_api_key():
    # events/local.env (README: "Run one function locally") must accept the
    # credential the sample events carry.
    lines = (EVENTS / "local.env").read_text().splitlines()
    values = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    assert json.loads(values["VERIFY_API_KEYS"].strip("'")) == json.loads(EVENTS_API_KEYS_JSON)
    assert len(values["VERIFY_CODE_KEY"]) >= 32
    assert len(values["VERIFY_NUMBER_KEY"]) >= 32


def numbers_in_events() -> set[str]:
    """Every full E.164 number in the sample events (bodies decoded)."""
    found = set()
    for path in EVENTS.rglob("*.json"):
        text = path.read_text()
        event = json.loads(text)
        if isinstance(event, dict) and event.get("isBase64Encoded") and event.get("body"):
            text += base64.b64decode(event["body"]).decode(errors="replace")
        found |= set(re.findall(r"\+[1-9]\d{7,14}(?![\d*])", urllib.parse.unquote_plus(text)))
    return found


def test_function_logs_hold_no_code_and_no_full_number(replay: Replay):
    # Each binary's stdout and stderr, as the emulator captured them.
    codes = {re.findall(r"\d{4,10}", body)[-1] for bodies in replay.sms.values() for body in bodies}
    numbers = numbers_in_events() | set(replay.sms)
    assert codes and "+14155550101" in numbers, (codes, numbers)
    for name, log in replay.logs.items():
        assert "served" in log, f"{name}: nothing logged, nothing scanned:\n{log}"
        # Durations are the only free-standing digits a log line may hold.
        scrubbed = re.sub(r'took_us=\d+|_ms="[\d.]+"', "", log)
        for code in codes:
            assert not re.search(rf"(?<!\d){code}(?!\d)", scrubbed), f"{name} logged a code:\n{log}"
        for number in numbers:
            assert number not in log and number[1:] not in log, f"{name} logged {number}:\n{log}"
        assert not re.search(r"\+[1-9]\d{7,14}(?![\d*])", log), f"{name} logged a full number:\n{log}"
