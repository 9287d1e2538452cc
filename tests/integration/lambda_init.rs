//! The Lambda functions' start-up, through the compiled binaries (built by
//! `tests/run.sh` before the suites): a test mode is announced once, masked,
//! before the function serves anything; a test recipient written as a
//! pattern stops the function from starting; secrets named by
//! `VERIFY_*_SECRET_ID` are read from Secrets Manager (moto's) and a secret
//! that cannot be read stops the function, naming the secret, never a value.
//! Run outside Lambda, a binary stops at the runtime API (there is none),
//! which comes after everything checked here.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// One key, as the template passes them (the secret's SHA-256, never the secret).
const API_KEYS: &str = r#"[{"key_id":"SK00000000000000000000000000000001","secret_sha256":"2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"}]"#;

/// What the announcement says (shared/core/src/config/services.rs).
const ANNOUNCEMENT: &str = "get no message and a fixed code";

fn function(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug").join(name);
    assert!(p.exists(), "{} is missing: run `cargo build --workspace` (tests/run.sh does)", p.display());
    p
}

fn start_verify() -> PathBuf {
    function("start-verify")
}

/// Runs start-verify's init with `services` as its service document.
fn init_with(services: &str) -> (Output, String) {
    let out = Command::new(start_verify())
        .env_clear()
        .envs([
            ("VERIFY_CODE_KEY", "k".repeat(32).as_str()),
            ("VERIFY_API_KEYS", API_KEYS),
            ("VERIFY_SERVICES", services),
            ("VERIFY_WARM_UP", "off"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ])
        .output()
        .expect("start-verify runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out, text)
}

fn service_with(test_recipients: &str) -> String {
    format!(r#"{{"services":[{{"sid":"VA00000000000000000000000000000001","friendly_name":"Init","test_recipients":{test_recipients}}}]}}"#)
}

#[test]
fn a_lambda_function_announces_its_test_recipients_once_and_masked() {
    let (_, log) = init_with(&service_with(r#"{"+12125550100":"123456","qa@example.com":"654321"}"#));
    let lines: Vec<&str> = log.lines().filter(|l| l.contains(ANNOUNCEMENT)).collect();
    assert_eq!(lines.len(), 1, "one announcement, for the one service in test mode:\n{log}");
    assert!(lines[0].contains("VA00000000000000000000000000000001"), "{}", lines[0]);
    // Masked (and the log writer masks any number again): each recipient named, none in full.
    assert!(lines[0].contains("+121") && lines[0].contains("q***@example.com"), "{}", lines[0]);
    assert!(!log.contains("+12125550100") && !log.contains("qa@example.com"), "no full recipient in the log:\n{log}");
    assert!(!log.contains("123456") && !log.contains("654321"), "no fixed code in the log:\n{log}");
}

#[test]
fn a_lambda_function_without_test_recipients_announces_nothing() {
    let (_, log) = init_with(&service_with("{}"));
    assert!(!log.contains(ANNOUNCEMENT), "{log}");
}

#[test]
fn a_pattern_as_test_recipient_stops_a_lambda_function_at_init() {
    for pattern in ["+1212555*", "*@example.com"] {
        let (out, log) = init_with(&service_with(&format!(r#"{{"{pattern}":"123456"}}"#)));
        assert!(!out.status.success(), "{pattern}: the function must not start:\n{log}");
        assert!(log.contains("test_recipients"), "{pattern}: the error names the setting:\n{log}");
        assert!(!log.contains(ANNOUNCEMENT), "{pattern}: refused before any announcement:\n{log}");
    }
}

// --- Secrets from Secrets Manager -------------------------------------------

/// What init logs once it has read its secrets (shared/lambda/src/app.rs).
const SECRETS_READ: &str = "secrets read from Secrets Manager";

/// Stores a secret in moto's Secrets Manager under a name of this run; its name.
async fn store_secret(name: &str, value: &str) -> String {
    let name = format!("verify/init-{}/{name}", std::process::id());
    let resp = reqwest::Client::new()
        .post(crate::support::moto_endpoint())
        .header("x-amz-target", "secretsmanager.CreateSecret")
        .header("content-type", "application/x-amz-json-1.1")
        // moto's default server reads the service from the credential scope; it checks no signature.
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body(serde_json::json!({"Name": name, "SecretString": value}).to_string())
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "CreateSecret {name}: {}", resp.text().await.unwrap_or_default());
    name
}

/// Runs a function's init against moto with `vars` (warm-up off: only the
/// secrets are read from moto).
fn init_on_moto(binary: &str, vars: &[(&str, &str)]) -> (Output, String) {
    let out = Command::new(function(binary))
        .env_clear()
        .envs([
            ("VERIFY_WARM_UP", "off"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_ENDPOINT_URL", crate::support::moto_endpoint().as_str()),
        ])
        .envs(vars.iter().copied())
        .output()
        .expect("the function runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out, text)
}

#[tokio::test]
async fn the_functions_read_their_secrets_from_secrets_manager() {
    let code_key = format!("init-code-key-{}", "c".repeat(32));
    let number_key = format!("init-number-key-{}", "n".repeat(32));
    let code_id = store_secret("code-key", &code_key).await;
    let number_id = store_secret("number-key", &number_key).await;
    let keys_id = store_secret("api-keys", API_KEYS).await;
    for (binary, vars, read) in [
        (
            "start-verify",
            vec![("VERIFY_CODE_KEY_SECRET_ID", code_id.as_str()), ("VERIFY_API_KEYS_SECRET_ID", keys_id.as_str())],
            r#"settings="VERIFY_CODE_KEY,VERIFY_API_KEYS""#,
        ),
        (
            "check-verify",
            vec![("VERIFY_CODE_KEY_SECRET_ID", code_id.as_str()), ("VERIFY_API_KEYS_SECRET_ID", keys_id.as_str())],
            r#"settings="VERIFY_CODE_KEY,VERIFY_API_KEYS""#,
        ),
        (
            "webhook-report",
            vec![("VERIFY_NUMBER_KEY_SECRET_ID", number_id.as_str()), ("VERIFY_API_KEYS_SECRET_ID", keys_id.as_str())],
            r#"settings="VERIFY_API_KEYS,VERIFY_NUMBER_KEY""#,
        ),
    ] {
        let (_, log) = init_on_moto(binary, &vars);
        // No value in the environment: without the secrets, init would stop
        // at the missing code key / number key / API keys.
        let line = log.lines().find(|l| l.contains(SECRETS_READ)).unwrap_or_else(|| panic!("{binary} read no secret:\n{log}"));
        assert!(line.contains(read), "{binary}: {line}");
        assert!(!log.contains("is required") && !log.contains("cannot read secret"), "{binary} got past its settings:\n{log}");
        for value in [code_key.as_str(), number_key.as_str(), API_KEYS] {
            assert!(!log.contains(value), "{binary} logged a secret:\n{log}");
        }
    }
}

#[tokio::test]
async fn a_secret_that_cannot_be_read_stops_init_naming_it_and_no_value() {
    let code_key = format!("init-code-key-{}", "d".repeat(32));
    let code_id = store_secret("readable-code-key", &code_key).await;
    let missing = format!("verify/init-{}/no-such-secret", std::process::id());
    let (out, log) = init_on_moto("start-verify", &[("VERIFY_CODE_KEY_SECRET_ID", &code_id), ("VERIFY_API_KEYS_SECRET_ID", &missing)]);
    assert!(!out.status.success(), "the function must not start:\n{log}");
    let error = log.lines().find(|l| l.contains("cannot read secret")).unwrap_or_else(|| panic!("no error line:\n{log}"));
    assert!(error.contains("VERIFY_API_KEYS_SECRET_ID") && error.contains(&missing), "names the variable and the secret: {error}");
    assert!(error.contains("ResourceNotFoundException"), "says why: {error}");
    assert!(!log.contains(SECRETS_READ), "{log}");
    assert!(!log.contains(&code_key), "the secret that was read is in no error:\n{log}");

    // A value given both ways is refused before anything is read.
    let (out, log) = init_on_moto("webhook-report", &[("VERIFY_NUMBER_KEY_SECRET_ID", &code_id), ("VERIFY_NUMBER_KEY", &code_key)]);
    assert!(!out.status.success(), "{log}");
    assert!(log.contains("set VERIFY_NUMBER_KEY or VERIFY_NUMBER_KEY_SECRET_ID, not both"), "{log}");
    assert!(!log.contains(&code_key), "{log}");
}

/// start-verify's sender connection is opened while the secrets are read,
/// not after: one warm-up, DynamoDB's and SNS's handshakes together (the
/// SNS sender's settings hold no secret). Before, a second warm-up for the
/// sender followed the secrets, adding its handshake to init.
#[tokio::test]
async fn start_verify_opens_its_sender_connection_while_it_reads_its_secrets() {
    let code_key = format!("init-code-key-{}", "w".repeat(32));
    let code_id = store_secret("warm-code-key", &code_key).await;
    let keys_id = store_secret("warm-api-keys", API_KEYS).await;
    let table = format!("init-warm-{}", std::process::id());
    verify_aws::store::ensure_table(&verify_aws::clients::dynamodb_at(&crate::support::moto_endpoint()), &table).await.unwrap();
    let (_, log) = init_on_moto(
        "start-verify",
        &[
            ("VERIFY_WARM_UP", "on"),
            ("VERIFY_TABLE", &table),
            ("VERIFY_CODE_KEY_SECRET_ID", &code_id),
            ("VERIFY_API_KEYS_SECRET_ID", &keys_id),
        ],
    );
    assert!(log.contains(SECRETS_READ), "{log}");
    let warmed: Vec<&str> = log.lines().filter(|l| l.contains("warmed up")).collect();
    assert_eq!(warmed.len(), 1, "one warm-up:\n{log}");
    assert!(warmed[0].contains("dynamodb=true") && warmed[0].contains(r#"senders="sns""#), "{}", warmed[0]);
    assert!(!log.contains("warm-up failed"), "{log}");
}
