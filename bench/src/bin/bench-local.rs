//! bench-local: verify-local (all routes, embedded store, console outbox)
//! under concurrent load. Each worker completes verifications back to back:
//! POST /start-verify → read the code from /_local/messages → POST
//! /check-verify with it (must be approved). Reported per concurrency level:
//! complete verifications per second, and p50/p99 of the start, the check,
//! and the whole verification (start + read + check).

use std::sync::Arc;
use std::time::{Duration, Instant};
use verify_bench::local::{Samples, one_verification};
use verify_bench::{Flags, Numbers, Summary, peak_rss_kib, round3};

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
    let (mut child, base) = verify_bench::local::start(&binary, &log_dir).await;
    let client = verify_bench::local::client();
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
