//! verify-local driven as a client drives it: one complete verification
//! (start, read the code it "texted", check it), and starting the binary.
//! Used by bench-local (concurrency levels) and bench-endurance (100,000
//! verifications at one client).

use crate::{code_in, ms};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::process::Child;

/// An HTTP client with room for every concurrent worker's connection.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap()
}

/// Starts `verify-local --memory` on a free loopback port (its log in
/// `log_dir/verify-local.log`) and waits until it answers; returns the
/// process (killed when dropped) and its base URL.
pub async fn start(binary: &str, log_dir: &Path) -> (Child, String) {
    start_with(binary, log_dir, &[], &[]).await
}

/// [`start`] with more arguments and environment variables (an API key,
/// `VERIFY_SERVICES`).
pub async fn start_with(binary: &str, log_dir: &Path, args: &[&str], env: &[(&str, String)]) -> (Child, String) {
    std::fs::create_dir_all(log_dir).unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let log_path = log_dir.join("verify-local.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let child = tokio::process::Command::new(binary)
        .args(["--memory", "--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("RUST_LOG", "warn")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_DYNAMODB")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("start verify-local");
    let base = format!("http://127.0.0.1:{port}");
    let probe = client();
    let up = Instant::now();
    while probe.get(format!("{base}/_local/messages")).send().await.is_err() {
        assert!(up.elapsed() < Duration::from_secs(30), "verify-local did not start; see {}", log_path.display());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (child, base)
}

#[derive(Default)]
pub struct Samples {
    pub start: Vec<f64>,
    pub check: Vec<f64>,
    pub flow: Vec<f64>,
    pub errors: usize,
}

pub async fn one_verification(client: &reqwest::Client, base: &str, to: &str, s: &mut Samples) -> Result<(), String> {
    let form = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| format!("{k}={}", v.replace('+', "%2B"))).collect::<Vec<_>>().join("&");
    let t0 = Instant::now();
    let r = client
        .post(format!("{base}/start-verify"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("To", to)]))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status().as_u16();
    r.bytes().await.map_err(|e| e.to_string())?;
    let t1 = Instant::now();
    if status != 201 {
        return Err(format!("start: {status}"));
    }
    let messages: serde_json::Value = client
        .get(format!("{base}/_local/messages?to={}", to.replace('+', "%2B")))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let code =
        messages.as_array().and_then(|m| m.last()).and_then(|m| m["body"].as_str()).and_then(code_in).ok_or("no code in the outbox")?;
    let t2 = Instant::now();
    let r = client
        .post(format!("{base}/check-verify"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("To", to), ("Code", &code)]))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status().as_u16();
    let body: serde_json::Value = r.json().await.map_err(|e| e.to_string())?;
    let t3 = Instant::now();
    if status != 200 || body["status"] != "approved" {
        return Err(format!("check: {status} {body}"));
    }
    s.start.push(ms(t1 - t0));
    s.check.push(ms(t3 - t2));
    s.flow.push(ms(t3 - t0));
    Ok(())
}
