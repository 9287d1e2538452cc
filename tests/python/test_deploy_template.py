"""template.yaml: validated offline by SAM CLI and cfn-lint (no AWS account),
and held to the deployment rules: every function built by cargo-lambda for
arm64 on provided.al2023 with a function URL whose CORS comes from one
parameter, least-privilege policies, secrets only through dynamic references,
the table (on demand, TTL, stream, point-in-time recovery) exactly as the code
creates it, the stream mapping and the retry schedule, every URL an output.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid

import pytest

from deploy_support import (
    ROOT,
    TEMPLATE,
    declared_functions,
    free_port,
    load_template,
    stop,
    target_dir,
    tool,
    tool_env,
    wait_for_line,
)

T = load_template()
RESOURCES = T["Resources"]
FUNCTIONS = declared_functions(T)


def run(*cmd: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, env=tool_env(**env), capture_output=True, text=True, timeout=300)


def plain(node):
    return json.loads(json.dumps(node))


def statements(fn) -> list[dict]:
    out = []
    for policy in fn.properties.get("Policies", []):
        assert isinstance(policy, dict) and "Statement" in policy, (
            f"{fn.logical_id}: only inline statements (no managed policies or SAM policy templates, "
            f"which grant more than the code uses): {policy}"
        )
        out.extend(plain(policy["Statement"]))
    return out


def actions(stmt: dict) -> list[str]:
    a = stmt["Action"]
    return [a] if isinstance(a, str) else a


def resources(stmt: dict) -> list:
    r = stmt.get("Resource", [])
    return r if isinstance(r, list) else [r]


# --- Offline validation --------------------------------------------------------


def test_sam_validate_lint():
    out = run(tool("sam"), "validate", "--lint", "-t", str(TEMPLATE))
    assert out.returncode == 0, out.stdout + out.stderr


def test_sam_validate_translates():
    # Without --lint, SAM runs its translator locally (needs a region, not credentials).
    out = run(tool("sam"), "validate", "-t", str(TEMPLATE), "--region", "us-east-1")
    assert out.returncode == 0, out.stdout + out.stderr


def test_cfn_lint():
    out = run(tool("cfn-lint"), str(TEMPLATE))
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.fixture(scope="module")
def translated(tmp_path_factory) -> dict:
    """The template after the SAM transform (what CloudFormation deploys)."""
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    class Policies:  # the one managed policy SAM adds to every function role
        def load(self):
            return {"AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    doc = yaml_parse(TEMPLATE.read_text())
    for res in doc["Resources"].values():
        if res["Type"] == "AWS::Serverless::Function":
            res["Properties"]["CodeUri"] = "s3://bucket/key"  # as `sam package` would
    out = transform(doc, {}, Policies())
    path = tmp_path_factory.mktemp("cfn") / "translated.json"
    path.write_text(json.dumps(out, indent=1))
    lint = run(tool("cfn-lint"), str(path))
    assert lint.returncode == 0, "cfn-lint of the translated template:\n" + lint.stdout + lint.stderr
    return out


def test_translated_template_lints_and_every_url_is_public_to_invoke(translated):
    res = translated["Resources"]
    for fn in FUNCTIONS:
        url = res[f"{fn.logical_id}Url"]["Properties"]
        assert url["AuthType"] == "NONE", f"{fn.logical_id}: callers authenticate to the code"
        # SAM adds both permissions a public function URL needs since October
        # 2025 (lambda:InvokeFunctionUrl and lambda:InvokeFunction) only for a
        # literal AuthType NONE.
        perms = [
            r["Properties"]
            for r in res.values()
            if r["Type"] == "AWS::Lambda::Permission" and r["Properties"]["FunctionName"] == {"Ref": fn.logical_id}
        ]
        granted = {p["Action"] for p in perms if p.get("Principal") == "*"}
        assert {"lambda:InvokeFunctionUrl", "lambda:InvokeFunction"} <= granted, f"{fn.logical_id}: {perms}"


# --- Functions -------------------------------------------------------------------


def test_functions_are_rust_on_arm64_al2023_with_128_mb_default():
    glob = T["Globals"]["Function"]
    assert FUNCTIONS, "no functions"
    for fn in FUNCTIONS:
        p = fn.properties
        assert p.get("Runtime", glob.get("Runtime")) == "provided.al2023", fn.logical_id
        assert plain(p.get("Architectures", glob.get("Architectures"))) == ["arm64"], fn.logical_id
        assert p.get("Handler", glob.get("Handler")) == "bootstrap", fn.logical_id
        assert fn.code_uri.startswith("functions/"), fn.logical_id
    assert glob["MemorySize"] == {"Ref": "MemorySize"}
    assert T["Parameters"]["MemorySize"]["Default"] == 128


def test_every_function_has_a_url_with_cors_from_the_parameter():
    for fn in FUNCTIONS:
        url = plain(fn.properties["FunctionUrlConfig"])
        cond, cors, otherwise = url["Cors"]["Fn::If"]
        assert cond == "HasCors" and otherwise == {"Ref": "AWS::NoValue"}, fn.logical_id
        assert cors["AllowOrigins"] == {"Fn::Split": [",", {"Ref": "CorsAllowedOrigins"}]}, fn.logical_id
        assert cors.get("AllowCredentials", False) is False
    assert plain(T["Conditions"]["HasCors"]) == {"Fn::Not": [{"Fn::Equals": [{"Ref": "CorsAllowedOrigins"}, ""]}]}
    # The code sees the same origins as the URLs enforce.
    assert T["Globals"]["Function"]["Environment"]["Variables"]["VERIFY_CORS_ORIGINS"] == {"Ref": "CorsAllowedOrigins"}


def test_outputs_name_every_function_url():
    outputs = {plain(o["Value"]).get("Fn::GetAtt", [None])[0] for o in T["Outputs"].values()}
    for fn in FUNCTIONS:
        assert f"{fn.logical_id}Url" in outputs, f"no output for {fn.logical_id}'s URL"


# --- Least privilege -------------------------------------------------------------

# What each function's code calls, and so exactly what its role may do.
# start-verify: start (PutItem), void an unsent code and close a verification
# (UpdateItem), fetch (GetItem, or Query on the sid index), warm-up
# (DescribeTable, GetSMSAttributes), SMS (Publish to a phone number only).
# check-verify: count and approve (UpdateItem), find by sid (Query), warm-up.
# webhook-report: events and deliveries in the same table, the stream, the
# failure queue, warm-up (DescribeTable).
EXPECTED_ACTIONS = {
    "StartVerifyFunction": {
        "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:DescribeTable",
        "dynamodb:Query", "sns:Publish", "sns:GetSMSAttributes",
    },
    "CheckVerifyFunction": {"dynamodb:UpdateItem", "dynamodb:DescribeTable", "dynamodb:Query"},
    "WebhookReportFunction": {
        "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query",
        "dynamodb:DescribeTable", "dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams",
        "sqs:SendMessage",
    },
}


def test_each_function_may_do_exactly_what_its_code_does():
    assert {f.logical_id for f in FUNCTIONS} == set(EXPECTED_ACTIONS)
    for fn in FUNCTIONS:
        granted = {a for s in statements(fn) for a in actions(s)}
        assert granted == EXPECTED_ACTIONS[fn.logical_id], fn.logical_id


def test_no_wildcards_and_every_resource_is_scoped():
    for fn in FUNCTIONS:
        for s in statements(fn):
            assert s["Effect"] == "Allow"
            for a in actions(s):
                assert "*" not in a, f"{fn.logical_id}: wildcard action {a}"
            if "NotResource" in s:
                # The one NotResource: SMS to phone numbers, never to a topic.
                assert actions(s) == ["sns:Publish"] and s["NotResource"] == "arn:aws:sns:*:*:*", s
                continue
            for r in resources(s):
                if r == "*":
                    # Only an action with no resource-level form.
                    assert actions(s) == ["sns:GetSMSAttributes"], f"{fn.logical_id}: {s}"
                else:
                    text = json.dumps(r)
                    assert "VerifyTable" in text or "StreamFailureQueue" in text, f"{fn.logical_id}: {r}"


def test_check_verify_cannot_send_sms():
    check = next(f for f in FUNCTIONS if f.logical_id == "CheckVerifyFunction")
    assert not [a for s in statements(check) for a in actions(s) if a.startswith("sns:")]


def test_stream_permissions_are_on_the_stream_only():
    wr = next(f for f in FUNCTIONS if f.logical_id == "WebhookReportFunction")
    for s in statements(wr):
        if any(a in ("dynamodb:GetRecords", "dynamodb:ListStreams") for a in actions(s)):
            assert resources(s) == [{"Fn::Sub": "${VerifyTable.Arn}/stream/*"}]
    # A SAM `DynamoDB` event would attach AWSLambdaDynamoDBExecutionRole (stream reads on "*").
    assert not [e for e in wr.properties.get("Events", {}).values() if e["Type"] == "DynamoDB"]


# --- Secrets and configuration -----------------------------------------------------

SECRET_VARS = {
    "VERIFY_CODE_KEY", "VERIFY_CODE_KEY_PREVIOUS", "VERIFY_NUMBER_KEY", "VERIFY_NUMBER_KEY_PREVIOUS",
    "VERIFY_API_KEYS", "VERIFY_AUTH_TOKENS", "VERIFY_WEBHOOKS",
}


def all_env():
    env = {k: ("Globals", v) for k, v in T["Globals"]["Function"]["Environment"]["Variables"].items()}
    for fn in FUNCTIONS:
        for k, v in fn.properties.get("Environment", {}).get("Variables", {}).items():
            env[f"{fn.logical_id}:{k}"] = (fn.logical_id, v)
    return env


def test_secrets_only_through_dynamic_references():
    seen = set()
    for key, (_, value) in all_env().items():
        name = key.split(":")[-1]
        text = json.dumps(plain(value))
        if name in SECRET_VARS:
            seen.add(name)
            assert "{{resolve:secretsmanager:${" in text, f"{key} must be a dynamic reference built from a parameter: {text}"
            assert re.fullmatch(r'.*\{\{resolve:secretsmanager:\$\{[A-Za-z]+SecretName\}\}\}.*', text), text
        else:
            assert "resolve:" not in text, f"{key} is not a secret but uses a dynamic reference"
    assert seen == SECRET_VARS
    for name, spec in T["Parameters"].items():
        if name.endswith("SecretName"):
            assert spec["Type"] == "String"
    # No literal that looks like a key or token anywhere in the template.
    raw = TEMPLATE.read_text()
    assert not re.search(r"whsec_[A-Za-z0-9+/=]{8,}|AKIA[0-9A-Z]{16}", raw)
    assert "NoEcho" not in raw, "secrets are not parameters; pass the secret's name"


def test_code_key_is_only_given_to_the_functions_that_hash_codes():
    holders = {fn.logical_id for fn in FUNCTIONS if "VERIFY_CODE_KEY" in fn.properties.get("Environment", {}).get("Variables", {})}
    assert holders == {"StartVerifyFunction", "CheckVerifyFunction"}
    assert "VERIFY_CODE_KEY" not in T["Globals"]["Function"]["Environment"]["Variables"]


# Variables the template sets that code on other branches reads (issue 3:
# services, API keys, auth tokens, CORS; issue 4: webhooks, reports). Once
# that code is merged they are found in the source and this set can go.
PENDING_MERGE = {
    "VERIFY_SERVICES", "VERIFY_API_KEYS", "VERIFY_AUTH_TOKENS", "VERIFY_CORS_ORIGINS",
    "VERIFY_WEBHOOKS", "VERIFY_EVENT_RETENTION_DAYS", "VERIFY_REPORT_SERVICE_SIDS",
}
# Variables the code reads that a deployment does not set on purpose.
NOT_DEPLOYED = {"VERIFY_SERVICES_FILE"}


def source_text() -> str:
    parts = []
    for base in ("shared/src", "functions"):
        for p in (ROOT / base).rglob("*.rs"):
            parts.append(p.read_text())
    return "\n".join(parts)


def test_every_variable_the_template_sets_is_read_by_the_code():
    src = source_text()
    names = {k.split(":")[-1] for k in all_env()}
    unknown = {n for n in names if f'"{n}"' not in src} - PENDING_MERGE
    assert not unknown, f"the template sets variables no code reads (typo?): {unknown}"


def test_every_setting_the_code_reads_is_a_template_parameter():
    src = (ROOT / "shared/src/config.rs").read_text() if (ROOT / "shared/src/config.rs").exists() else (
        ROOT / "shared/src/config/mod.rs").read_text()
    env_mod = src[src.index("pub mod env"):]
    env_mod = env_mod[: env_mod.index("\n}") + 2]
    read = set(re.findall(r'"(VERIFY_[A-Z_]+)"', env_mod)) - NOT_DEPLOYED
    names = {k.split(":")[-1] for k in all_env()}
    assert read <= names, f"settings a deployment cannot set: {read - names}"


# --- Table, stream, schedule ---------------------------------------------------------


def test_table_is_on_demand_with_ttl_stream_and_pitr():
    p = plain(RESOURCES["VerifyTable"]["Properties"])
    assert p["BillingMode"] == "PAY_PER_REQUEST"
    assert p["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert p["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert p["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert RESOURCES["VerifyTable"]["DeletionPolicy"] == "Retain"


def test_stream_mapping_reports_partial_failures_bisects_and_has_a_failure_destination():
    m = plain(RESOURCES["WebhookReportStreamMapping"]["Properties"])
    assert m["FunctionName"] == {"Ref": "WebhookReportFunction"}
    assert m["EventSourceArn"] == {"Fn::GetAtt": ["VerifyTable", "StreamArn"]}
    assert m["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert m["BisectBatchOnFunctionError"] is True
    assert m["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["StreamFailureQueue", "Arn"]}
    assert 0 < m["MaximumRetryAttempts"] <= 10000


def test_retry_schedule_invokes_webhook_report():
    events = plain(RESOURCES["WebhookReportFunction"]["Properties"]["Events"])
    schedules = [e for e in events.values() if e["Type"] in ("Schedule", "ScheduleV2")]
    assert len(schedules) == 1 and schedules[0]["Properties"]["Schedule"] == {"Ref": "WebhookRetrySchedule"}


def test_template_table_matches_ensure_table():
    """The table in template.yaml and the one `ensure_table` creates (used by
    verify-local and the tests) must not drift: both are created on moto and
    described side by side."""
    moto = os.environ.get("MOTO_ENDPOINT")
    if not moto:
        pytest.skip("MOTO_ENDPOINT is not set (tests/run.sh starts moto)")
    import boto3

    from test_deploy_replay import create_table_from_template

    binary = target_dir() / "debug" / "verify-local"
    assert binary.exists(), f"{binary} is missing: build first (cargo build --workspace --bins)"
    ddb = boto3.client("dynamodb", endpoint_url=moto, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    from_template = f"tpl-{uuid.uuid4().hex[:8]}"
    from_code = f"code-{uuid.uuid4().hex[:8]}"
    create_table_from_template(ddb, from_template, T)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_ENDPOINT_URL": moto, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
        "VERIFY_TABLE": from_code, "VERIFY_CODE_KEY": "k" * 32,
    }
    log = target_dir() / "test-logs" / "verify-local-create-table.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [str(binary), "--aws", "--create-table", "--port", str(free_port())],
        env=env, stdout=subprocess.DEVNULL, stderr=open(log, "wb"),
    )
    try:
        wait_for_line(proc, log, "listening on")
    finally:
        stop(proc)

    def shape(name: str) -> dict:
        t = ddb.describe_table(TableName=name)["Table"]
        ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        return {
            "attributes": sorted((a["AttributeName"], a["AttributeType"]) for a in t["AttributeDefinitions"]),
            "keys": t["KeySchema"],
            "billing": t.get("BillingModeSummary", {}).get("BillingMode"),
            "indexes": sorted(
                (g["IndexName"], json.dumps(g["KeySchema"]), g["Projection"]["ProjectionType"])
                for g in t.get("GlobalSecondaryIndexes", [])
            ),
            "stream": t.get("StreamSpecification"),
            "ttl": ttl.get("AttributeName"),
        }

    assert shape(from_template) == shape(from_code)
