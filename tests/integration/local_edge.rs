//! verify-local's edge, from outside the real binary: every route behind
//! the same credentials, only its own `Host` names, cross-site and
//! unreadable bodies refused before anything is done, deadlines for slow
//! clients, unambiguous framing, masked logs, private files.

use crate::local_server::LocalServer;
use crate::support::fresh_number;
use reqwest::{Client, StatusCode};
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const KEY: &str = "SKedge:edge-secret";
const VA: &str = "VA0123456789abcdef0123456789abcdef";

async fn start_with_key(extra: &[&str]) -> LocalServer {
    let mut args = vec!["--memory", "--api-key", KEY];
    args.extend_from_slice(extra);
    LocalServer::start_with_env(&args, &[("VERIFY_SERVICE_SID", VA)]).await
}

fn authed(req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    req.basic_auth("SKedge", Some("edge-secret"))
}

/// A Twilio-shaped error body with this status and code.
async fn assert_refused(resp: reqwest::Response, status: u16, code: u64, what: &str) -> Value {
    assert_eq!(resp.status().as_u16(), status, "{what}");
    let v: Value = resp.json().await.unwrap_or(Value::Null);
    assert_eq!((v["code"].as_u64(), v["status"].as_u64()), (Some(code), Some(status as u64)), "{what}: {v}");
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: {v}");
    v
}

#[tokio::test]
async fn every_route_takes_the_same_credentials_and_only_preflight_is_public() {
    let server = start_with_key(&["--cors-origin", "http://localhost:3000"]).await;
    let client = Client::new();
    let to = fresh_number();
    let routes = [
        ("GET", "/_local/messages".to_owned()),
        ("GET", format!("/_local/messages?to={}", to.replace('+', "%2B"))),
        ("POST", "/start-verify".to_owned()),
        ("POST", "/check-verify".to_owned()),
        ("GET", "/v2/Services".to_owned()),
        ("GET", format!("/v2/Services/{VA}")),
        ("POST", format!("/v2/Services/{VA}/Verifications")),
        ("GET", format!("/v2/Services/{VA}/Verifications/{}", to.replace('+', "%2B"))),
        ("POST", format!("/v2/Services/{VA}/VerificationCheck")),
        ("GET", "/v2/Attempts".to_owned()),
        ("GET", "/v2/Attempts/Summary".to_owned()),
        ("GET", "/events".to_owned()),
        ("GET", "/dashboard".to_owned()),
        ("GET", "/no-such-route".to_owned()),
    ];
    for (method, path) in &routes {
        let req = client.request(method.parse().unwrap(), server.url(path)).form(&[("To", to.as_str()), ("Code", "123456")]);
        let resp = req.send().await.unwrap();
        assert!(resp.headers().contains_key("www-authenticate"), "{method} {path}");
        let what = format!("{method} {path} without credentials");
        if path == "/dashboard" {
            // A browser's page: the refusal as a page, not JSON.
            assert_eq!(resp.status().as_u16(), 401, "{what}");
            assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/html"), "{what}");
            let page = resp.text().await.unwrap();
            assert!(page.contains("(error 20003)"), "{what}: {page}");
            continue;
        }
        assert_refused(resp, 401, 20003, &what).await;
    }
    // With them, the list answers (and holds nothing: nothing was sent).
    let listed = authed(client.get(server.url("/_local/messages"))).send().await.unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    assert_eq!(listed.json::<Vec<Value>>().await.unwrap(), Vec::<Value>::new());
    // The one public thing: a browser's preflight, which carries no credentials.
    let preflight = client
        .request(reqwest::Method::OPTIONS, server.url("/start-verify"))
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    assert_eq!(server.message_count(&to).await, 0);
    server.stop().await;
}

#[tokio::test]
async fn only_this_servers_own_host_names_are_answered() {
    let server = LocalServer::start(&["--memory"]).await;
    let client = Client::new();
    let to = fresh_number();
    let port = server.base.rsplit(':').next().unwrap().to_owned();
    // A page at evil.example whose name was re-pointed at 127.0.0.1 (DNS
    // rebinding) sends its own name as Host.
    for host in [format!("evil.example:{port}"), "evil.example".to_owned(), format!("127.0.0.1.nip.io:{port}")] {
        for (method, path) in [("POST", "/start-verify"), ("GET", "/_local/messages"), ("GET", "/dashboard")] {
            let resp = client
                .request(method.parse().unwrap(), server.url(path))
                .header("host", &host)
                .form(&[("To", to.as_str())])
                .send()
                .await
                .unwrap();
            let v = assert_refused(resp, 403, 20403, &format!("{method} {path} Host {host}")).await;
            assert_eq!(v["message"], "Host not allowed");
        }
    }
    assert_eq!(server.message_count(&to).await, 0, "nothing was sent");
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}"), "LOCALHOST".to_owned()] {
        let resp = client.post(server.url("/start-verify")).header("host", &host).form(&[("To", to.as_str())]).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED, "Host {host}");
    }
    server.stop().await;
}

#[tokio::test]
async fn cross_site_and_unreadable_bodies_do_nothing() {
    let server = start_with_key(&["--cors-origin", "http://localhost:3000"]).await;
    let client = Client::new();
    let to = fresh_number();
    let create = format!("/v2/Services/{VA}/Verifications");
    for path in ["/start-verify", create.as_str()] {
        // A page elsewhere, even one holding the key: refused before anything runs.
        for origin in ["https://evil.example", "null", "http://localhost:3001"] {
            let resp = authed(client.post(server.url(path))).header("origin", origin).form(&[("To", to.as_str())]).send().await.unwrap();
            assert!(resp.headers().get("access-control-allow-origin").is_none(), "{origin}");
            let v = assert_refused(resp, 403, 20403, &format!("POST {path} from {origin}")).await;
            assert_eq!(v["message"], "Origin not allowed");
        }
        // Bodies that are neither a form nor JSON (what a page can send
        // without a preflight), with credentials and no Origin at all.
        for content_type in ["text/plain", "text/plain;charset=UTF-8", "multipart/form-data; boundary=x"] {
            let resp = authed(client.post(server.url(path)))
                .header("content-type", content_type)
                .body(format!("{{\"To\":\"{to}\"}}"))
                .send()
                .await
                .unwrap();
            assert_refused(resp, 415, 60200, &format!("POST {path} as {content_type}")).await;
        }
    }
    assert_eq!(server.message_count(&to).await, 0, "nothing was sent");
    // The allowed origin, and callers that send no Origin, still work.
    let resp = authed(client.post(server.url("/start-verify")))
        .header("origin", "http://localhost:3000")
        .form(&[("To", to.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(resp.headers()["access-control-allow-origin"], "http://localhost:3000");
    assert_eq!(server.message_count(&to).await, 1);
    server.stop().await;
}

#[tokio::test]
async fn logs_hold_no_full_number_and_name_routes_not_paths() {
    let server = start_with_key(&[]).await;
    let client = Client::new();
    let to = fresh_number();
    let digits = to.trim_start_matches('+').to_owned();
    // Refused requests whose paths and queries hold the number, spelled as clients spell it.
    for path in [
        format!("/v2/Services/{VA}/Verifications/{to}"),
        format!("/v2/Services/{VA}/Verifications/%2B{digits}"),
        format!("/v2/Services/{VA}/Verifications/{digits}"),
        format!("/_local/messages?to=%2B{digits}"),
    ] {
        let resp = client.get(server.url(&path)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    let resp = authed(client.get(server.url(&format!("/v2/Services/{VA}/Verifications/%2B{digits}")))).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = client.post(server.url("/start-verify")).header("host", "evil.example").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let logs = server.logs();
    assert!(logs.contains("request refused"), "the refusals are logged: {logs}");
    assert!(!logs.contains(&digits), "a full number reached the logs: {logs}");
    assert!(logs.contains(&format!("+{}****", &digits[..digits.len() - 4])), "masked as PhoneNumber::masked does: {logs}");
    assert!(logs.contains("route=\"fetch_verification\"") || logs.contains("route=fetch_verification"), "{logs}");
    assert!(logs.contains("code=20003") && logs.contains("code=20404"), "served lines carry the Twilio code: {logs}");
    assert!(!logs.contains('\u{1b}'), "no colours when stderr is not a terminal: {logs:?}");
    server.stop().await;
}

/// Reads from `stream` until the server closes it, or `limit` passes.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut got = Vec::new();
    let read_all = async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(limit, read_all).await.ok()?;
    Some(String::from_utf8_lossy(&got).into_owned())
}

#[tokio::test]
async fn slow_clients_are_cut_off_by_deadlines() {
    let server = LocalServer::start(&["--memory", "--header-timeout-secs", "1", "--body-timeout-secs", "1"]).await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let to = fresh_number();

    // Half a header block, many times over, and a connection that sends nothing.
    let mut half_headers = Vec::new();
    for _ in 0..20 {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"POST /start-verify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty").await.unwrap();
        half_headers.push(s);
    }
    let mut silent = TcpStream::connect(&addr).await.unwrap();
    // Headers in full, half the body.
    let mut half_body = TcpStream::connect(&addr).await.unwrap();
    let body = format!("To={}", to.replace('+', "%2B"));
    let head = format!(
        "POST /start-verify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    half_body.write_all(head.as_bytes()).await.unwrap();
    half_body.write_all(&body.as_bytes()[..5]).await.unwrap();

    let started = Instant::now();
    for s in &mut half_headers {
        assert!(read_until_closed(s, Duration::from_secs(5)).await.is_some(), "a half-sent header is cut off");
    }
    assert!(read_until_closed(&mut silent, Duration::from_secs(5)).await.is_some(), "a silent connection is closed");
    let answer = read_until_closed(&mut half_body, Duration::from_secs(5)).await.expect("a half-sent body is cut off");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":60200"), "Twilio-shaped: {answer}");
    assert!(started.elapsed() < Duration::from_secs(5), "within the deadlines: {:?}", started.elapsed());
    assert_eq!(server.message_count(&to).await, 0, "nothing was sent for the cut-off request");

    // A client that keeps to the deadlines is served as before.
    let resp = Client::new().post(server.url("/start-verify")).form(&[("To", to.as_str())]).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    server.stop().await;
}

#[tokio::test]
async fn ambiguous_framing_is_refused_and_changes_nothing() {
    let server = LocalServer::start(&["--memory"]).await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let to = fresh_number();
    let body = format!("To={}", to.replace('+', "%2B"));
    let chunked = format!("{:x}\r\n{body}\r\n0\r\n\r\n", body.len());
    let form = "Content-Type: application/x-www-form-urlencoded";
    let cases = [
        ("Content-Length and Transfer-Encoding", format!("Content-Length: {}\r\nTransfer-Encoding: chunked", body.len()), chunked.clone()),
        (
            "Transfer-Encoding then Content-Length",
            format!("Transfer-Encoding: chunked\r\nContent-Length: {}", chunked.len()),
            chunked.clone(),
        ),
        ("Transfer-Encoding gzip", "Transfer-Encoding: gzip".to_owned(), body.clone()),
        ("Transfer-Encoding chunked, gzip", "Transfer-Encoding: chunked, gzip".to_owned(), chunked.clone()),
    ];
    for (name, framing, payload) in &cases {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        let request = format!("POST /start-verify HTTP/1.1\r\nHost: 127.0.0.1\r\n{form}\r\n{framing}\r\n\r\n{payload}");
        s.write_all(request.as_bytes()).await.unwrap();
        let answer = read_until_closed(&mut s, Duration::from_secs(5)).await.unwrap_or_else(|| panic!("{name}: not closed"));
        assert!(answer.starts_with("HTTP/1.1 400"), "{name}: {answer}");
    }
    assert_eq!(server.message_count(&to).await, 0, "nothing was sent");

    // Chunked alone is a valid request: served, then the connection closes.
    let mut s = TcpStream::connect(&addr).await.unwrap();
    let request = format!("POST /start-verify HTTP/1.1\r\nHost: 127.0.0.1\r\n{form}\r\nTransfer-Encoding: chunked\r\n\r\n{chunked}");
    s.write_all(request.as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut s, Duration::from_secs(5)).await.expect("closed after a chunked request");
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    // Requests framed by length share a connection as before.
    let mut s = TcpStream::connect(&addr).await.unwrap();
    let get = "GET /v2/Services HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    s.write_all(format!("{get}{get}GET /v2/Services HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
    let answers = read_until_closed(&mut s, Duration::from_secs(5)).await.unwrap();
    assert_eq!(answers.matches("HTTP/1.1 200").count(), 3, "{answers}");
    assert_eq!(server.message_count(&to).await, 1);
    server.stop().await;
}

#[tokio::test]
async fn the_data_directory_and_its_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("verify-local-private-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let dir_arg = dir.to_str().unwrap().to_owned();
    let server = LocalServer::start(&["--data-dir", &dir_arg]).await;
    let to = fresh_number();
    let resp = Client::new().post(server.url("/start-verify")).form(&[("To", to.as_str())]).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700, "the data directory");
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    let names: Vec<String> = files.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    for expected in ["verify.db", "code-key", "messages.jsonl"] {
        assert!(names.iter().any(|n| n == expected), "{expected} in {names:?}");
    }
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    server.stop().await;

    // A directory others can read is refused, with the fix in the message.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = tokio::process::Command::new(crate::local_server::binary())
        .args(["--port", "0", "--data-dir", &dir_arg])
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_DYNAMODB")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("chmod 700") && stderr.contains("755"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_readme_lists_every_option_of_help() {
    let help = tokio::process::Command::new(crate::local_server::binary()).arg("--help").output().await.unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let table = readme.split("`verify-local` options").nth(1).expect("the README's option table").split("\n\n").nth(1).unwrap();
    let flags: Vec<&str> = help
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("--"))
        .map(|l| l.split([' ', '<']).next().unwrap())
        .filter(|f| !matches!(*f, "help" | "version"))
        .collect();
    assert_eq!(flags.len(), 16, "{help}");
    for flag in &flags {
        assert!(table.contains(&format!("| `--{flag}")), "--{flag} is missing from the README's option table");
    }
    assert!(help.contains("AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_DYNAMODB"), "--aws says what else switches it on");
}
