//! bench-local: verify-local (all routes, embedded store, console outbox)
//! under concurrent load. Each worker completes verifications back to back:
//! POST /start-verify → read the code from /_local/messages → POST
//! /check-verify with it (must be approved). Reported per concurrency level:
//! complete verifications per second, and p50/p99 of the start, the check,
//! and the whole verification (start + read + check).

use std::sync::Arc;
use std::time::{Duration, Instant};
use verify_bench::{Flags, Numbers, Summary, code_in, ms, peak_rss_kib, round3};

#[derive(Default)]
struct Samples {
    start: Vec<f64>,
    check: Vec<f64>,
    flow: Vec<f64>,
    errors: usize,
}

async fn one_verification(client: &reqwest::Client, base: &str, to: &str, s: &mut Samples) -> Result<(), String> {
    let form = |pairs: &[(&str, &str)]| {
        pairs.iter().map(|(k, v)| format!("{k}={}", v.replace('+', "%2B"))).collect::<Vec<_>>().join("&")
    };
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
    let code = messages
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["body"].as_str())
        .and_then(code_in)
        .ok_or("no code in the outbox")?;
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

async fn level(client: &reqwest::Client, base: &str, numbers: &Arc<Numbers>, workers: usize, duration: Duration) -> serde_json::Value {
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = vec![];
    for _ in 0..workers {
        let (client, base, numbers) = (client.clone(), base.to_owned(), numbers.clone());
        tasks.push(tokio::spawn(async move {
            let mut s = Samples::default();
            while Instant::now() < deadline {
                if let Err(e) = one_verification(&client, &base, &numbers.next(), &mut s).await {
                    if s.errors == 0 {
                        eprintln!("bench-local: {e}");
                    }
                    s.errors += 1;
                }
            }
            s
        }));
    }
    let mut all = Samples::default();
    for t in tasks {
        let s = t.await.unwrap();
        all.start.extend(s.start);
        all.check.extend(s.check);
        all.flow.extend(s.flow);
        all.errors += s.errors;
    }
    let elapsed = started.elapsed().as_secs_f64();
    serde_json::json!({
        "concurrency": workers,
        "seconds": round3(elapsed),
        "verifications": all.flow.len(),
        "errors": all.errors,
        "verifications_per_second": round3(all.flow.len() as f64 / elapsed),
        "start": Summary::of(&all.start).json(),
        "check": Summary::of(&all.check).json(),
        "verification": Summary::of(&all.flow).json(),
    })
}

#[tokio::main]
async fn main() {
    let flags = Flags::parse();
    let binary = flags.required("bin");
    let out = flags.required("out");
    let seconds: f64 = flags.number("seconds", 10.0);
    let levels: Vec<usize> = flags
        .get("concurrency")
        .unwrap_or_else(|| "1,8,32".into())
        .split(',')
        .map(|c| c.trim().parse().expect("--concurrency 1,8,32"))
        .collect();
    let log_dir = std::path::PathBuf::from(flags.get("logs").unwrap_or_else(|| "target/bench-logs".into()));
    std::fs::create_dir_all(&log_dir).unwrap();

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let log_path = log_dir.join("verify-local.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = tokio::process::Command::new(&binary)
        .args(["--memory", "--bind", "127.0.0.1", "--port", &port.to_string()])
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
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap();
    let up = Instant::now();
    while client.get(format!("{base}/_local/messages")).send().await.is_err() {
        assert!(up.elapsed() < Duration::from_secs(30), "verify-local did not start; see {}", log_path.display());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let numbers = Arc::new(Numbers::starting_at(seed * 1000 + 500_000));
    // Warm the server and the client's pool before measuring.
    level(&client, &base, &numbers, 4, Duration::from_secs(1)).await;
    let mut results = vec![];
    for &workers in &levels {
        eprintln!("bench-local: {workers} concurrent clients for {seconds} s");
        results.push(level(&client, &base, &numbers, workers, Duration::from_secs_f64(seconds)).await);
    }
    let rss = child.id().and_then(peak_rss_kib);
    let _ = child.start_kill();
    let _ = child.wait().await;
    let report = serde_json::json!({
        "kind": "local",
        "server": "verify-local --memory (embedded dynoxide, console outbox)",
        "flow": "POST /start-verify, GET /_local/messages, POST /check-verify (approved)",
        "peak_rss_kib": rss,
        "levels": results,
    });
    std::fs::write(&out, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    eprintln!("bench-local: wrote {out}");
}
