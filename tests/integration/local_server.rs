//! Runs the real `verify-local` binary on a loopback port and stops it when
//! dropped. Everything it prints is kept so tests can inspect its logs.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct LocalServer {
    pub base: String,
    child: Child,
    /// The first `--api-key KEY_ID:SECRET` it was started with, which
    /// [`LocalServer::messages`] sends: the list shows codes, so it takes
    /// the same credentials as the API.
    pub api_key: Option<(String, String)>,
    /// Logs (stderr) and console deliveries (stdout), kept apart.
    pub stderr: Arc<Mutex<String>>,
    pub stdout: Arc<Mutex<String>>,
}

/// The binary `tests/run.sh` builds before the tests run.
pub fn binary() -> PathBuf {
    if let Ok(p) = std::env::var("VERIFY_LOCAL_BIN") {
        return p.into();
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug/verify-local");
    assert!(p.exists(), "{} is missing: run `cargo build -p verify-local` (tests/run.sh does)", p.display());
    p
}

impl LocalServer {
    pub async fn start(args: &[&str]) -> LocalServer {
        LocalServer::start_with_env(args, &[]).await
    }

    /// Starts it with extra environment (e.g. an AWS endpoint).
    pub async fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> LocalServer {
        let mut child = Command::new(binary())
            .args(["--port", "0"])
            .args(args)
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_ENDPOINT_URL_DYNAMODB")
            .envs(env.iter().copied())
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("verify-local starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let stdout = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = tokio::sync::oneshot::channel::<String>();
        let mut tx = Some(tx);
        let mut err_lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let err_buf = stderr.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = err_lines.next_line().await {
                if let Some(addr) = line.split("listening on ").nth(1)
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(addr.trim().to_owned());
                }
                err_buf.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let mut out_lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let out_buf = stdout.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = out_lines.next_line().await {
                out_buf.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let base = tokio::time::timeout(std::time::Duration::from_secs(30), rx)
            .await
            .unwrap_or_else(|_| panic!("verify-local did not start: {}", stderr.lock().unwrap()))
            .expect("address line");
        let api_key = args
            .windows(2)
            .find(|w| w[0] == "--api-key")
            .and_then(|w| w[1].split_once(':'))
            .map(|(id, secret)| (id.to_owned(), secret.to_owned()));
        LocalServer { base, child, api_key, stderr, stdout }
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// What `GET /_local/messages?to=` lists for `to`, oldest first.
    pub async fn messages(&self, to: &str) -> Vec<serde_json::Value> {
        let mut req = reqwest::Client::new().get(self.url("/_local/messages")).query(&[("to", to)]);
        if let Some((id, secret)) = &self.api_key {
            req = req.basic_auth(id, Some(secret));
        }
        let resp = req.send().await.unwrap();
        assert!(resp.status().is_success(), "/_local/messages: {}", resp.status());
        resp.json().await.unwrap()
    }

    /// Everything it has logged so far.
    pub fn logs(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The code in the newest message to `to`, read as a person would.
    pub async fn last_code(&self, to: &str) -> String {
        let messages = self.messages(to).await;
        let body = messages.last().expect("a message to this number")["body"].as_str().unwrap().to_owned();
        body.rsplit(' ').next().unwrap().to_owned()
    }

    pub async fn message_count(&self, to: &str) -> usize {
        self.messages(to).await.len()
    }
}
