//! The Lambda functions' start-up, through the compiled `start-verify`
//! binary (built by `tests/run.sh` before the suites): a test mode is
//! announced once, masked, before the function serves anything; a test
//! recipient written as a pattern stops the function from starting.
//! Run outside Lambda, the binary stops at the runtime API (there is none),
//! which comes after everything checked here.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// One key, as the template passes them (the secret's SHA-256, never the secret).
const API_KEYS: &str = r#"[{"key_id":"SK00000000000000000000000000000001","secret_sha256":"2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"}]"#;

/// What the announcement says (shared/core/src/config/services.rs).
const ANNOUNCEMENT: &str = "get no message and a fixed code";

fn start_verify() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug/start-verify");
    assert!(p.exists(), "{} is missing: run `cargo build --workspace` (tests/run.sh does)", p.display());
    p
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
