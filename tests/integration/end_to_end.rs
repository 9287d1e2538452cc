//! Over HTTP against the real verify-local binary: the whole flow as a
//! contact centre or a sign-up form would drive it.

use crate::local_server::LocalServer;
use crate::support::{fresh_number, wrong_code_for};
use reqwest::{Client, StatusCode};
use serde_json::Value;

async fn post_form(client: &Client, url: &str, form: &[(&str, &str)]) -> (StatusCode, Value, String) {
    let resp = client.post(url).form(form).send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null), text)
}

async fn post_json(client: &Client, url: &str, body: Value) -> (StatusCode, Value, String) {
    let resp = client.post(url).json(&body).send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null), text)
}

#[tokio::test]
async fn start_read_code_check_approved_then_not_found() {
    let server = LocalServer::start(&["--memory"]).await;
    let client = Client::new();
    let to = fresh_number();
    let mut bodies = Vec::new();

    let (status, v, text) = post_form(&client, &server.url("/start-verify"), &[("To", &to), ("Channel", "sms")]).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    assert_eq!((v["status"].as_str(), v["valid"].as_bool(), v["success"].as_bool()), (Some("pending"), Some(false), Some(true)));
    assert!(v["sid"].as_str().unwrap().starts_with("VE") && v["sid"].as_str().unwrap().len() == 34);
    assert_eq!(v["to"], to.as_str());
    assert!(v["url"].as_str().unwrap().starts_with(&server.base), "{}", v["url"]);
    bodies.push(text);

    let code = server.last_code(&to).await;
    assert_eq!(code.len(), 6);
    let wrong = wrong_code_for(&code);

    let (status, v, text) = post_json(&client, &server.url("/check-verify"), serde_json::json!({"to": to, "code": wrong})).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!((v["status"].as_str(), v["success"].as_bool()), (Some("pending"), Some(false)));
    // What Twilio's serverless check-verify template answers, for pages written for it.
    assert_eq!(v["message"], "Incorrect token.", "{text}");
    bodies.push(text);

    // The Flex plugin's spelling: form-encoded `to` and `verification_code`.
    let (status, v, text) = post_form(&client, &server.url("/check-verify"), &[("to", &to), ("verification_code", &code)]).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!((v["status"].as_str(), v["valid"].as_bool(), v["success"].as_bool()), (Some("approved"), Some(true), Some(true)));
    assert_eq!(v["message"], "Verification success.", "{text}");
    bodies.push(text);

    let (status, v, text) = post_form(&client, &server.url("/check-verify"), &[("To", &to), ("Code", &code)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{text}");
    assert_eq!((v["code"].as_u64(), v["status"].as_u64(), v["success"].as_bool()), (Some(20404), Some(404), Some(false)));
    bodies.push(text);

    // The code reached the console (this mode's phone) and nowhere else.
    for body in &bodies {
        assert!(!body.contains(&code), "a response carries the code: {body}");
    }
    let logs = server.stderr.lock().unwrap().clone();
    assert!(logs.contains("code sent") && logs.contains("approved"), "logs: {logs}");
    assert!(!logs.contains(&code), "the logs carry the code: {logs}");
    assert!(server.stdout.lock().unwrap().contains(&format!("SMS to {to}: Your Verify verification code is: {code}")));
    server.stop().await;
}

#[tokio::test]
async fn bad_input_is_a_clear_4xx_and_sends_nothing() {
    let server = LocalServer::start(&["--memory"]).await;
    let client = Client::new();
    let to = fresh_number();
    let start = server.url("/start-verify");
    let check = server.url("/check-verify");
    let big = "x".repeat(20_000);
    let other = fresh_number();
    let multipart = format!("--b\r\nContent-Disposition: form-data; name=\"To\"\r\n\r\n{to}\r\n--b--\r\n");
    let cases: Vec<(&str, reqwest::RequestBuilder, u16, u64)> = vec![
        ("missing To", client.post(&start).form(&[("Channel", "sms")]), 400, 60200),
        ("no country code", client.post(&start).form(&[("To", "4155550123")]), 400, 60200),
        ("letters", client.post(&start).form(&[("To", "+1 415 CALL NOW")]), 400, 60200),
        ("channel sna", client.post(&start).form(&[("To", to.as_str()), ("Channel", "sna")]), 400, 60223),
        ("channel junk", client.post(&start).form(&[("To", to.as_str()), ("Channel", "pigeon")]), 400, 60200),
        ("a locale that is no language tag", client.post(&start).form(&[("To", to.as_str()), ("Locale", "not a locale")]), 400, 60200),
        ("premium rate", client.post(&start).form(&[("To", "+44 909 8790000")]), 403, 60605),
        ("malformed JSON", client.post(&start).header("content-type", "application/json").body("{\"to\":"), 400, 60200),
        ("oversized body", client.post(&start).form(&[("To", to.as_str()), ("pad", big.as_str())]), 413, 60200),
        ("GET", client.get(&start), 405, 20004),
        ("number as JSON number", client.post(&start).json(&serde_json::json!({"to": 14155550123u64})), 400, 60200),
        ("non-digit code", client.post(&check).form(&[("To", to.as_str()), ("Code", "12a456")]), 400, 60200),
        ("full-width code", client.post(&check).form(&[("To", to.as_str()), ("Code", "１２３４５６")]), 400, 60200),
        ("short code", client.post(&check).form(&[("To", to.as_str()), ("Code", "12345")]), 400, 60200),
        ("code as JSON number", client.post(&check).json(&serde_json::json!({"to": to, "code": 123456})), 400, 60200),
        ("no target", client.post(&check).form(&[("Code", "123456")]), 400, 60200),
        ("bad sid", client.post(&check).form(&[("VerificationSid", "VE12"), ("Code", "123456")]), 400, 60200),
        (
            "JSON To twice",
            client.post(&start).header("content-type", "application/json").body(format!(r#"{{"To":"{to}","To":"{other}"}}"#)),
            400,
            60200,
        ),
        (
            "JSON To and to",
            client.post(&start).header("content-type", "application/json").body(format!(r#"{{"To":"{to}","to":"{other}"}}"#)),
            400,
            60200,
        ),
        ("form To twice", client.post(&start).form(&[("To", to.as_str()), ("To", other.as_str())]), 400, 60200),
        (
            "text/plain body",
            client.post(&start).header("content-type", "text/plain").body(format!("To={}", to.replace('+', "%2B"))),
            415,
            60200,
        ),
        (
            "multipart body",
            client.post(&start).header("content-type", "multipart/form-data; boundary=b").body(multipart.clone()),
            415,
            60200,
        ),
    ];
    for (name, req, status, code) in cases {
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status().as_u16(), status, "{name}");
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["code"].as_u64(), Some(code), "{name}: {v}");
        assert_eq!(v["success"], false, "{name}");
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{name}");
        assert_eq!(v["more_info"], format!("https://www.twilio.com/docs/errors/{code}"), "{name}");
    }
    assert_eq!(server.message_count(&to).await, 0, "bad input must send nothing");
    assert_eq!(server.message_count(&other).await, 0, "bad input must send nothing");
    // And wrote nothing: a check for the number finds no verification.
    let (status, _, _) = post_form(&client, &check, &[("To", &to), ("Code", "123456")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await;
}

#[tokio::test]
async fn limits_answer_429_with_retry_after() {
    let server = LocalServer::start(&["--memory"]).await;
    let client = Client::new();
    let to = fresh_number();
    for _ in 0..5 {
        let (status, _, text) = post_form(&client, &server.url("/start-verify"), &[("to", &to)]).await;
        assert_eq!(status, StatusCode::CREATED, "{text}");
    }
    let resp = client.post(server.url("/start-verify")).form(&[("to", &to)]).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().get("retry-after").is_some());
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["code"], 60203);
    assert_eq!(server.message_count(&to).await, 5);

    let code = server.last_code(&to).await;
    let wrong = wrong_code_for(&code);
    for _ in 0..5 {
        let (status, v, _) = post_form(&client, &server.url("/check-verify"), &[("to", &to), ("code", wrong)]).await;
        assert_eq!((status, v["status"].as_str()), (StatusCode::OK, Some("pending")));
    }
    let (status, v, _) = post_form(&client, &server.url("/check-verify"), &[("to", &to), ("code", &code)]).await;
    assert_eq!((status, v["code"].as_u64()), (StatusCode::TOO_MANY_REQUESTS, Some(60202)));
    server.stop().await;
}

#[tokio::test]
async fn state_key_and_messages_persist_across_restarts_quietly() {
    let dir = std::env::temp_dir().join(format!("verify-local-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let dir_arg = dir.to_str().unwrap().to_owned();
    let client = Client::new();
    let to = fresh_number();

    let first = LocalServer::start(&["--data-dir", &dir_arg]).await;
    let (status, _, _) = post_form(&client, &first.url("/start-verify"), &[("to", &to)]).await;
    assert_eq!(status, StatusCode::CREATED);
    // A resend: a conditional write on the existing verification.
    let (status, _, _) = post_form(&client, &first.url("/start-verify"), &[("to", &to)]).await;
    assert_eq!(status, StatusCode::CREATED);
    let code = first.last_code(&to).await;
    let first_logs = first.logs();
    // Its event is stored, with the number hashed under the generated number key.
    let by_number = |server: &LocalServer| {
        let url = server.url("/v2/Attempts");
        let client = client.clone();
        let to = to.clone();
        async move {
            let v: Value = client.get(url).query(&[("ChannelData.To", to.as_str())]).send().await.unwrap().json().await.unwrap();
            v["attempts"].as_array().map_or(0, Vec::len)
        }
    };
    for _ in 0..100 {
        if by_number(&first).await == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(by_number(&first).await, 2, "the start and the resend");
    first.stop().await;

    // The table already exists, the verification and the texts are still there.
    let second = LocalServer::start(&["--data-dir", &dir_arg]).await;
    assert_eq!(second.message_count(&to).await, 2, "/_local/messages survives a restart");
    assert_eq!(second.last_code(&to).await, code);
    let (status, v, text) = post_form(&client, &second.url("/check-verify"), &[("to", &to), ("code", &code)]).await;
    assert_eq!((status, v["status"].as_str()), (StatusCode::OK, Some("approved")), "{text}");
    let (status, _, _) = post_form(&client, &second.url("/check-verify"), &[("to", &to), ("code", &code)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a second check of an approved code");
    assert_eq!(by_number(&second).await, 2, "the same number key after a restart");
    let second_logs = second.logs();
    second.stop().await;
    use std::os::unix::fs::PermissionsExt;
    for file in ["code-key", "number-key"] {
        let key = std::fs::metadata(dir.join(file)).unwrap();
        assert_eq!(key.permissions().mode() & 0o077, 0, "the {file} is private to its owner");
    }
    let _ = std::fs::remove_dir_all(&dir);

    // Normal operation (a resend, a restart, a second check) warns about nothing.
    for logs in [first_logs, second_logs] {
        let warnings: Vec<&str> = logs.lines().filter(|l| l.contains("WARN") || l.contains("ERROR")).collect();
        assert!(warnings.is_empty(), "{warnings:#?}");
    }
}

#[tokio::test]
async fn with_the_aws_environment_it_uses_dynamodb_and_sns() {
    // moto stands in for AWS: the standard endpoint variable sends both
    // DynamoDB and SNS there, and the SMS is read back from moto.
    let moto = crate::support::moto_endpoint();
    let table = format!("verify-local-aws-{}", std::process::id());
    let env = [
        ("AWS_ENDPOINT_URL", moto.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
        ("VERIFY_TABLE", table.as_str()),
        ("VERIFY_CODE_KEY", "an-integration-test-key-of-32-bytes-or-more"),
        ("VERIFY_NUMBER_KEY", "an-integration-test-number-key-of-32-bytes"),
    ];
    let server = LocalServer::start_with_env(&["--create-table"], &env).await;
    assert!(server.stderr.lock().unwrap().contains("Amazon SNS"));
    let client = Client::new();
    let to = format!("+1415555{:04}", 7000 + std::process::id() % 999);
    let (status, v, text) = post_form(&client, &server.url("/start-verify"), &[("to", &to)]).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let sid = v["sid"].as_str().unwrap().to_owned();

    let data: Value = client.get(format!("{moto}/moto-api/data.json")).send().await.unwrap().json().await.unwrap();
    let sms = data["sns"]["SMS"].as_array().unwrap().iter().rev().find(|m| m["phone_number"] == to.as_str()).cloned();
    let body = sms.expect("the SMS reached moto's SNS")["message"].as_str().unwrap().to_owned();
    let code = body.rsplit(' ').next().unwrap();
    let (status, v, text) = post_form(&client, &server.url("/check-verify"), &[("verification_sid", &sid), ("code", code)]).await;
    assert_eq!((status, v["status"].as_str()), (StatusCode::OK, Some("approved")), "{text}");
    // Nothing is listed locally when messages really go out.
    assert_eq!(client.get(server.url("/_local/messages")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    server.stop().await;
}

#[tokio::test]
async fn with_the_aws_environment_email_goes_through_ses() {
    // moto stands in for SES v2: the sender identity is verified there first,
    // as on AWS; the e-mail is read back from moto and its code approves.
    let moto = crate::support::moto_endpoint();
    let from = format!("codes-{}@verify-local.example", std::process::id());
    verify_aws::clients::ses_at(&moto).create_email_identity().email_identity(&from).send().await.unwrap();
    let table = format!("verify-local-ses-{}", std::process::id());
    let env = [
        ("AWS_ENDPOINT_URL", moto.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
        ("VERIFY_TABLE", table.as_str()),
        ("VERIFY_CODE_KEY", "an-integration-test-key-of-32-bytes-or-more"),
        ("VERIFY_NUMBER_KEY", "an-integration-test-number-key-of-32-bytes"),
        ("VERIFY_EMAIL_FROM", from.as_str()),
        ("VERIFY_EMAIL_FROM_NAME", "Acme"),
    ];
    let server = LocalServer::start_with_env(&["--create-table"], &env).await;
    let client = Client::new();
    let to = format!("user-{}@example.com", std::process::id());
    let (status, v, text) = post_form(&client, &server.url("/start-verify"), &[("to", &to), ("channel", "email")]).await;
    assert_eq!((status, v["channel"].as_str()), (StatusCode::CREATED, Some("email")), "{text}");
    let data: Value = client.get(format!("{moto}/moto-api/data.json")).send().await.unwrap().json().await.unwrap();
    let sent =
        data["ses"]["Message"].as_array().unwrap().iter().rev().find(|m| m["destinations"]["ToAddresses"][0] == to.as_str()).cloned();
    let sent = sent.expect("the e-mail reached moto's SES");
    assert_eq!(sent["source"], format!("\"Acme\" <{from}>"));
    let html = sent["body"].as_str().unwrap();
    let code: String = html
        .split(">")
        .filter_map(|s| s.split('<').next())
        .find(|s| s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()))
        .unwrap()
        .to_owned();
    let (status, v, text) = post_form(&client, &server.url("/check-verify"), &[("to", &to), ("code", &code)]).await;
    assert_eq!((status, v["status"].as_str()), (StatusCode::OK, Some("approved")), "{text}");
    server.stop().await;
}
