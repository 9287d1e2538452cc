"""template.yaml: validated offline by SAM CLI and cfn-lint (no AWS account),
and held to the deployment rules: every function built by cargo-lambda for
arm64 on provided.al2023 with a function URL whose CORS comes from one
parameter, least-privilege policies, secrets only by name (read by the
functions from Secrets Manager),
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
        for stmt in plain(policy["Statement"]):
            out.append(conditional_statement(stmt)[1] if "Fn::If" in stmt else stmt)
    return out


def conditional_statement(stmt: dict) -> tuple[str, dict]:
    """A statement granted only under a condition (`!If [Cond, statement,
    !Ref AWS::NoValue]`): the condition and the statement as granted."""
    cond, granted, otherwise = stmt["Fn::If"]
    assert otherwise == {"Ref": "AWS::NoValue"}, f"a conditional statement grants nothing otherwise: {stmt}"
    return cond, granted


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
    # A function whose code applies CORS sees the same origins as its URL enforces.
    for fn in FUNCTIONS:
        cors_var = function_env(fn).get("VERIFY_CORS_ORIGINS")
        assert cors_var is None or plain(cors_var) == {"Ref": "CorsAllowedOrigins"}, fn.logical_id


def test_outputs_name_every_function_url():
    outputs = {plain(o["Value"]).get("Fn::GetAtt", [None])[0] for o in T["Outputs"].values()}
    for fn in FUNCTIONS:
        assert f"{fn.logical_id}Url" in outputs, f"no output for {fn.logical_id}'s URL"


# --- Least privilege -------------------------------------------------------------

# That each function's policy is exactly what its code needs (every flow
# works, and each action is needed by one) is shown against moto with IAM
# enforced: test_deploy_iam.py. Here: the shape of the statements.


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
                    assert actions(s) in (["sns:GetSMSAttributes"], ["sms-voice:DescribeSpendLimits"], ["secretsmanager:BatchGetSecretValue"]), (
                        f"{fn.logical_id}: {s}"
                    )
                elif actions(s) in (["sms-voice:SendVoiceMessage"], ["sms-voice:SendTextMessage"]):
                    # This account's and region's sms-voice resources (the
                    # origination identity may be a bare number, see below).
                    assert r == {"Fn::Sub": "arn:${AWS::Partition}:sms-voice:${AWS::Region}:${AWS::AccountId}:*"}, r
                elif actions(s) == ["secretsmanager:GetSecretValue"]:
                    # One secret of this account and region, by name (its
                    # ARN ends in "-" and six random characters), granted
                    # only when the parameter names one if it is optional.
                    granted = conditional_statement(r)[1] if "Fn::If" in r else r
                    assert re.fullmatch(
                        r"arn:\$\{AWS::Partition\}:secretsmanager:\$\{AWS::Region\}:\$\{AWS::AccountId\}:secret:\$\{[A-Za-z]+SecretName\}-\?{6}",
                        granted.get("Fn::Sub", ""),
                    ), r
                elif actions(s) == ["social-messaging:SendWhatsAppMessage"]:
                    # This account's and region's WhatsApp phone numbers (the
                    # id may be given bare or as an ARN).
                    assert r == {"Fn::Sub": "arn:${AWS::Partition}:social-messaging:${AWS::Region}:${AWS::AccountId}:*"}, r
                else:
                    text = json.dumps(r)
                    if actions(s) == ["ses:SendEmail"]:
                        # The configured sender identity and configuration set, by name.
                        sub = r.get("Fn::Sub") if isinstance(r, dict) else r
                        assert isinstance(sub, str), r
                        assert sub.endswith((":identity/${EmailFrom}", ":configuration-set/${EmailConfigurationSet}")), r
                        continue
                    assert "VerifyTable" in text or "StreamFailureQueue" in text, f"{fn.logical_id}: {r}"


def test_check_verify_cannot_send_sms():
    check = next(f for f in FUNCTIONS if f.logical_id == "CheckVerifyFunction")
    assert not [a for s in statements(check) for a in actions(s) if a.startswith(("sns:", "ses:"))]


def test_end_user_messaging_permissions_only_for_start_verify_when_configured_and_only_what_the_senders_call():
    # moto has no End User Messaging SMS and Voice v2, so test_deploy_iam.py
    # cannot run these senders' flows under IAM; here each granted sms-voice
    # action is tied to an SDK operation the senders call, and back, and to
    # the condition under which a sender is configured.
    granted = {}
    for fn in FUNCTIONS:
        for policy in fn.properties.get("Policies", []):
            for stmt in plain(policy["Statement"]):
                if "Fn::If" in stmt:
                    cond, stmt = conditional_statement(stmt)
                else:
                    cond = None
                for a in actions(stmt):
                    if a.startswith("sms-voice:"):
                        granted[a] = (fn.logical_id, cond)
    assert granted == {
        "sms-voice:SendVoiceMessage": ("StartVerifyFunction", "HasVoice"),
        "sms-voice:SendTextMessage": ("StartVerifyFunction", "SmsByEum"),
        "sms-voice:DescribeSpendLimits": ("StartVerifyFunction", "UsesEum"),
    }
    conditions = plain(T["Conditions"])
    assert conditions["HasVoice"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "VoiceOriginationIdentity"}, ""]}]}
    assert conditions["SmsByEum"] == {"Fn::Equals": [{"Ref": "SmsSender"}, "eum"]}
    assert conditions["UsesEum"] == {"Fn::Or": [{"Condition": "HasVoice"}, {"Condition": "SmsByEum"}]}
    # The senders' code without their unit tests.
    sender = "".join((ROOT / "shared/aws/src" / f).read_text().split("#[cfg(test)]")[0] for f in ("voice.rs", "sms_v2.rs"))
    called = set(re.findall(r"\bclient\s*\.([a-z_]+)\(\)", sender))
    as_action = {"sms-voice:" + "".join(w.title() for w in op.split("_")) for op in called}
    assert as_action == set(granted), f"the sender calls {sorted(called)}; the template grants {sorted(granted)}"


def test_whatsapp_permission_only_for_start_verify_when_configured_and_only_what_the_sender_calls():
    # moto has no End User Messaging Social either (the sender is tested
    # against aws_standin.py): the one granted action is tied to the SDK
    # operation the sender calls, and to the condition that configures it.
    granted = {}
    for fn in FUNCTIONS:
        for policy in fn.properties.get("Policies", []):
            for stmt in plain(policy["Statement"]):
                cond, stmt = conditional_statement(stmt) if "Fn::If" in stmt else (None, stmt)
                for a in actions(stmt):
                    if a.startswith("social-messaging:"):
                        granted[a] = (fn.logical_id, cond)
    assert granted == {"social-messaging:SendWhatsAppMessage": ("StartVerifyFunction", "HasWhatsapp")}
    assert plain(T["Conditions"])["HasWhatsapp"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "WhatsappPhoneNumberId"}, ""]}]}
    sender = (ROOT / "shared/aws/src/whatsapp.rs").read_text().split("#[cfg(test)]")[0]
    called = set(re.findall(r"\bclient\s*\.([a-z_]+)\(\)", sender))
    assert called == {"send_whats_app_message"}, called
    # The SDK's snake case splits "WhatsApp"; IAM's action is the API's name.
    assert {"social-messaging:SendWhatsAppMessage"} == set(granted)
    start = next(f for f in FUNCTIONS if f.logical_id == "StartVerifyFunction")
    env = function_env(start)
    for name, param in [
        ("VERIFY_WHATSAPP_PHONE_NUMBER_ID", "WhatsappPhoneNumberId"),
        ("VERIFY_WHATSAPP_TEMPLATE_NAME", "WhatsappTemplateName"),
        ("VERIFY_WHATSAPP_META_API_VERSION", "WhatsappMetaApiVersion"),
    ]:
        assert plain(env[name]) == {"Ref": param}, name
    # The parameters' patterns accept what the function accepts, and refuse the rest.
    params = T["Parameters"]
    pattern = lambda p: re.compile(params[p]["AllowedPattern"])
    assert pattern("WhatsappPhoneNumberId").fullmatch("phone-number-id-0123456789abcdef0123456789abcdef")
    assert pattern("WhatsappPhoneNumberId").fullmatch("arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/0123abc")
    assert not pattern("WhatsappPhoneNumberId").fullmatch("+14155550100")
    assert pattern("WhatsappTemplateName").fullmatch("acme_code") and not pattern("WhatsappTemplateName").fullmatch("Acme Code")
    assert pattern("WhatsappMetaApiVersion").fullmatch(params["WhatsappMetaApiVersion"]["Default"])
    assert not pattern("WhatsappMetaApiVersion").fullmatch("20.0")


def test_stream_permissions_are_on_the_stream_only():
    wr = next(f for f in FUNCTIONS if f.logical_id == "WebhookReportFunction")
    for s in statements(wr):
        if any(a in ("dynamodb:GetRecords", "dynamodb:ListStreams") for a in actions(s)):
            assert resources(s) == [{"Fn::Sub": "${VerifyTable.Arn}/stream/*"}]
    # A SAM `DynamoDB` event would attach AWSLambdaDynamoDBExecutionRole (stream reads on "*").
    assert not [e for e in wr.properties.get("Events", {}).values() if e["Type"] == "DynamoDB"]


# --- Secrets and configuration -----------------------------------------------------

# A secret setting (its value) and the variable naming the secret that holds it
# (shared/aws/src/secrets.rs: always the value's name + "_SECRET_ID").
SECRET_ID = "_SECRET_ID"


def secret_settings() -> set[str]:
    """The settings the functions may read from Secrets Manager, from the code."""
    found = {name[: -len(SECRET_ID)] for name in code_variables() if name.endswith(SECRET_ID)}
    assert {"VERIFY_CODE_KEY", "VERIFY_API_KEYS", "VERIFY_NUMBER_KEY", "VERIFY_WEBHOOKS"} <= found, found
    return found


def all_env():
    env = {k: ("Globals", v) for k, v in T["Globals"]["Function"]["Environment"]["Variables"].items()}
    for fn in FUNCTIONS:
        for k, v in fn.properties.get("Environment", {}).get("Variables", {}).items():
            env[f"{fn.logical_id}:{k}"] = (fn.logical_id, v)
    return env


def test_secrets_only_by_name():
    # No secret's value in any function's configuration (what
    # lambda:GetFunctionConfiguration shows): only the secret's name, from
    # its parameter, which the function reads during init.
    secrets = secret_settings()
    named = set()
    for key, (_, value) in all_env().items():
        name = key.split(":")[-1]
        assert name not in secrets, f"{key}: a secret's value in the configuration; pass {name}{SECRET_ID}"
        if name.endswith(SECRET_ID):
            named.add(name[: -len(SECRET_ID)])
            ref = plain(value).get("Ref", "")
            assert ref.endswith("SecretName") and ref in T["Parameters"], f"{key} must be a *SecretName parameter: {plain(value)}"
    assert named == secrets, f"secrets the code reads that no function is given: {secrets - named}"
    for name, spec in T["Parameters"].items():
        if name.endswith("SecretName"):
            assert spec["Type"] == "String"
            # Names, not ARNs: the policies build each secret's ARN from its name.
            assert not re.fullmatch(spec["AllowedPattern"], "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf")
            assert re.fullmatch(spec["AllowedPattern"], "verify/code-key")
    raw = TEMPLATE.read_text()
    assert "resolve:" not in raw, "no dynamic reference: CloudFormation would put the value in the configuration"
    # No literal that looks like a key or token anywhere in the template.
    assert not re.search(r"whsec_[A-Za-z0-9+/=]{8,}|AKIA[0-9A-Z]{16}", raw)
    assert "NoEcho" not in raw, "secrets are not parameters; pass the secret's name"


def test_code_key_is_only_given_to_the_functions_that_hash_codes():
    holders = {fn.logical_id for fn in FUNCTIONS if "VERIFY_CODE_KEY_SECRET_ID" in fn.properties.get("Environment", {}).get("Variables", {})}
    assert holders == {"StartVerifyFunction", "CheckVerifyFunction"}
    assert "VERIFY_CODE_KEY_SECRET_ID" not in T["Globals"]["Function"]["Environment"]["Variables"]


def test_each_function_may_read_exactly_the_secrets_it_is_given():
    # secretsmanager:GetSecretValue on the secrets its *_SECRET_ID variables
    # name, each optional one only when its parameter is set; no other
    # function's, and no other action on them. BatchGetSecretValue (one
    # request for them all) has no resource-level form: "*", and AWS lets it
    # read only the secrets GetSecretValue is granted on.
    conditions = plain(T["Conditions"])
    for fn in FUNCTIONS:
        given = {plain(v)["Ref"] for k, v in function_env(fn).items() if k.endswith(SECRET_ID)}
        granted = {}
        batch = [s for s in statements(fn) if actions(s) == ["secretsmanager:BatchGetSecretValue"]]
        assert [resources(s) for s in batch] == [["*"]], f"{fn.logical_id}: one BatchGetSecretValue statement, on *: {batch}"
        for s in statements(fn):
            if s in batch:
                continue
            if any(a.startswith("secretsmanager:") for a in actions(s)):
                assert actions(s) == ["secretsmanager:GetSecretValue"], f"{fn.logical_id}: {s}"
                for r in resources(s):
                    cond = None
                    if "Fn::If" in r:
                        cond, r = conditional_statement(r)
                    param = re.search(r"\$\{([A-Za-z]+SecretName)\}", r["Fn::Sub"]).group(1)
                    granted[param] = cond
        assert set(granted) == given, f"{fn.logical_id}: granted {sorted(granted)}, given {sorted(given)}"
        for param, cond in granted.items():
            if "Default" in T["Parameters"][param]:
                # Optional: granted only when the parameter names a secret.
                assert conditions[cond] == {"Fn::Not": [{"Fn::Equals": [{"Ref": param}, ""]}]}, (fn.logical_id, param, cond)
            else:
                assert cond is None, (fn.logical_id, param)


# What each function reads is taken from the code, not from a list kept here:
# the variable names are the "VERIFY_…" strings of the source, and a function
# reads a variable when its compiled binary holds the name (the linker drops
# code no path of the function reaches, with its strings). That over-counts
# only the other way (a name linked but never read must still be settable).

VAR = re.compile(r'"(VERIFY_[A-Z0-9_]+)"')


def source_files():
    for base in ("shared", "functions"):
        yield from (ROOT / base).rglob("*.rs")


def code_variables() -> set[str]:
    return {name for p in source_files() for name in VAR.findall(p.read_text())}


def local_only_variables() -> set[str]:
    """The variables the code marks as verify-local's (`LOCAL_ONLY` lists of
    constants, e.g. in shared/core/src/config)."""
    consts, lists = {}, []
    for p in source_files():
        text = p.read_text()
        consts.update(re.findall(r'const ([A-Z0-9_]+): &str = "(VERIFY_[A-Z0-9_]+)"', text))
        lists += re.findall(r"const LOCAL_ONLY: &\[&str\] = &\[([^\]]*)\]", text)
    assert lists, "no LOCAL_ONLY list in the source"
    return {consts[item.strip().split("::")[-1]] for body in lists for item in body.split(",") if item.strip()}


def read_by(binary: str, names: set[str]) -> set[str]:
    """The names a function's debug binary holds (at each position the
    longest name, so VERIFY_SERVICES_FILE is not also VERIFY_SERVICES)."""
    path = target_dir() / "debug" / binary
    assert path.exists(), f"{path} is missing: build first (cargo build --workspace)"
    pattern = re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)).encode())
    return {m.group().decode() for m in pattern.finditer(path.read_bytes())}


def function_env(fn) -> dict:
    """The function's variables as SAM merges them: Globals, then its own."""
    env = dict(T["Globals"]["Function"]["Environment"]["Variables"])
    env.update(fn.properties.get("Environment", {}).get("Variables", {}))
    return env


def refs(node) -> set[str]:
    """Every parameter or resource a value refers to (Ref, ${…} in Sub)."""
    node = plain(node)
    if isinstance(node, dict):
        out = set()
        for k, v in node.items():
            if k == "Ref":
                out.add(v)
            elif k == "Fn::Sub":
                text = v if isinstance(v, str) else v[0]
                out |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text)}
                if not isinstance(v, str):
                    out |= refs(v[1])
            else:
                out |= refs(v)
        return out
    if isinstance(node, list):
        return set().union(*(refs(v) for v in node)) if node else set()
    return set()


@pytest.fixture(scope="module")
def reads() -> dict[str, set[str]]:
    names = code_variables()
    assert len(names) >= 20, f"found only {sorted(names)} in the source"
    return {fn.logical_id: read_by(fn.binary, names) for fn in FUNCTIONS}


def test_every_setting_a_function_reads_is_set_from_a_template_parameter(reads):
    local_only = local_only_variables()
    for fn in FUNCTIONS:
        env = function_env(fn)
        # A secret is set by naming the secret that holds it (test_secrets_only_by_name).
        by_name = {name[: -len(SECRET_ID)] for name in reads[fn.logical_id] if name.endswith(SECRET_ID)}
        wanted = reads[fn.logical_id] - local_only - by_name
        missing = wanted - set(env)
        assert not missing, f"{fn.logical_id} reads settings a deployment cannot set: {sorted(missing)}"
        for name in wanted:
            targets = refs(env[name])
            assert targets & (set(T["Parameters"]) | set(RESOURCES)), (
                f"{fn.logical_id}: {name} is not taken from a parameter (or a resource of the template): {plain(env[name])}"
            )


def test_every_variable_the_template_gives_a_function_is_read_by_it(reads):
    for fn in FUNCTIONS:
        unread = set(function_env(fn)) - reads[fn.logical_id]
        assert not unread, f"{fn.logical_id} is given variables its code never reads (typo, or a setting it ignores): {sorted(unread)}"


def test_local_only_variables_are_not_deployed():
    local_only = local_only_variables()
    assert "VERIFY_SERVICES_FILE" in local_only
    for fn in FUNCTIONS:
        assert not local_only & set(function_env(fn)), fn.logical_id


def test_every_parameter_is_used_and_in_a_console_group():
    # A parameter nothing refers to is a setting that silently does nothing.
    used = refs(T["Resources"]) | refs(T["Globals"]) | refs(T.get("Conditions", {})) | refs(T.get("Outputs", {}))
    unused = set(T["Parameters"]) - used
    assert not unused, f"parameters nothing uses: {sorted(unused)}"
    grouped = {p for g in T["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"] for p in g["Parameters"]}
    assert grouped == set(T["Parameters"]), f"parameters outside the console groups: {set(T['Parameters']) ^ grouped}"


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


def test_no_index_is_written_for_expiry_alone():
    """The expiry sweep reads the sends kept for the Attempts reports
    (events-index) and the records through sid-index: no index of its own,
    so no write on a verification's way for it."""
    p = plain(RESOURCES["VerifyTable"]["Properties"])
    assert sorted(g["IndexName"] for g in p["GlobalSecondaryIndexes"]) == ["due-index", "events-index", "sid-index"]
    assert not any(d["AttributeName"].startswith("exp_") for d in p["AttributeDefinitions"])


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


# --- Alarms ------------------------------------------------------------------------


def emitted_totals() -> dict[str, bool]:
    """Each metric of the EMF vocabulary (shared/core/src/metrics.rs) and
    whether it is published as a total (the empty dimension set, `TOTAL`),
    which is what an alarm without dimensions reads."""
    src = (ROOT / "shared" / "core" / "src" / "metrics.rs").read_text()
    found = re.findall(r'pub const \w+: Metric\s*=\s*Metric\s*\{\s*name:\s*"(\w+)".*?dimensions:\s*(&\[.*?\])\s*\}', src, re.S)
    assert len(found) >= 10, "the metric vocabulary was not found in metrics.rs"
    return {name: bool(re.search(r"\bTOTAL\b", dims)) for name, dims in found}


def alarms() -> dict[str, dict]:
    return {k: plain(v["Properties"]) for k, v in RESOURCES.items() if v["Type"] == "AWS::CloudWatch::Alarm"}


def alarm_metrics(props: dict) -> list[dict]:
    """The metrics an alarm reads: {Namespace, MetricName, Dimensions}."""
    if "Metrics" in props:
        return [m["MetricStat"]["Metric"] for m in props["Metrics"] if "MetricStat" in m]
    return [{k: props[k] for k in ("Namespace", "MetricName", "Dimensions") if k in props}]


def test_the_alarms_the_issue_asks_for_are_declared():
    read = {name: {m["MetricName"] for m in alarm_metrics(p)} for name, p in alarms().items()}
    wanted = {
        "conversion": {"Sends", "Approvals"},
        "spend (sends per hour)": {"Sends"},
        "sender error rate": {"SenderErrors", "Sends"},
        "stream processing errors": {"StreamRecordsFailed", "Errors"},
        "failure queue depth": {"ApproximateNumberOfMessagesVisible"},
        "webhooks given up": {"WebhooksGivenUp"},
    }
    for what, metrics in wanted.items():
        assert metrics in read.values(), f"no alarm on {what} ({metrics}); alarms read {read}"


def test_every_alarm_reads_a_metric_that_is_published_and_notifies_the_topic():
    totals = emitted_totals()
    for name, props in alarms().items():
        for m in alarm_metrics(props):
            if m["Namespace"] == "Verify":
                # Our EMF lines: the alarm reads the total, which has no dimensions.
                assert "Dimensions" not in m, f"{name}: {m}"
                assert totals.get(m["MetricName"]), f"{name}: {m['MetricName']} is not published as a total"
            else:
                # AWS's own metrics, for a resource of this stack.
                assert m["Namespace"] in ("AWS/Lambda", "AWS/SQS"), f"{name}: {m}"
                refs_ = json.dumps(m["Dimensions"])
                assert "WebhookReportFunction" in refs_ or "StreamFailureQueue" in refs_, f"{name}: {m}"
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert props["TreatMissingData"] == "notBreaching", f"{name}: a quiet period is not an alarm"
        thresholds = json.dumps(props["Threshold"])
        if "Parameter" not in thresholds and "Ref" in thresholds:
            assert json.loads(thresholds)["Ref"] in T["Parameters"], name


def test_metric_math_names_only_its_own_inputs():
    for name, props in alarms().items():
        if "Metrics" not in props:
            continue
        ids = {m["Id"] for m in props["Metrics"] if "MetricStat" in m}
        returned = [m for m in props["Metrics"] if m.get("ReturnData")]
        assert len(returned) == 1 and "Expression" in returned[0], f"{name}: one expression is the alarm's value"
        expr = returned[0]["Expression"]
        expr = expr["Fn::Sub"] if isinstance(expr, dict) else expr
        words = set(re.findall(r"\b[a-z]\w*\b", re.sub(r"\$\{\w+\}", "0", expr)))
        assert words - {"FILL", "IF"} <= ids, f"{name}: {expr} names {words - ids}"
