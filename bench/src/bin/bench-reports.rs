//! A 30-day `GET /v2/Attempts/Summary` over the report counters, at 1,000
//! and 1,000,000 verifications (issue 14): its latency, and the peak RSS of
//! the process answering it.
//!
//! DynamoDB is embedded dynoxide served on loopback (the table made by
//! `ensure_table`), as in bench-lambda. The table is filled through the
//! real counter writer (`CounterStore::add`) with synthetic events of the
//! real `Event` type, 100 a call as a stream batch brings them: each
//! verification a `pending` event (one in ten a resend too) and, for seven
//! in ten, an `approved` one, spread evenly over 30 days and five countries.
//! The event items themselves are not written: the Summary does not read
//! them, and writing two million would take longer than the run.
//!
//! The Summary is answered by a child process (this binary with `--answer`)
//! that builds webhook-report's reports exactly as the function does
//! (`verify_aws::webhook_report::build`) and reports its own peak RSS
//! (VmHWM): the report path without the Lambda runtime around it.
//!
//! `bench-reports [--sizes 1000,1000000] [--repeat 20] [--out FILE]`

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use verify_aws::counters::CounterStore;
use verify_bench::{Flags, Summary, round3};
use verify_core::clock::{Clock, ManualClock, Seconds};
use verify_core::events::{Event, EventType};

const SERVICE: &str = "VA00000000000000000000000000000001";
const NOW: Seconds = 1_800_000_000;
const DAYS: i64 = 30;
const COUNTRIES: [&str; 5] = ["US", "GB", "DE", "FR", "BR"];

fn event(i: u64, event_type: EventType, time: Seconds, resend: bool) -> Event {
    Event {
        id: format!("evt_{:032x}", i * 4 + event_type as u64),
        event_type,
        time_ms: time * 1000,
        sequence: 1,
        service_sid: SERVICE.into(),
        verification_sid: format!("VE{i:032x}"),
        channel: "sms".into(),
        country: Some(COUNTRIES[(i % 5) as usize].into()),
        to_masked: "+1415555****".into(),
        to_hash: String::new(),
        check_attempts: 0,
        send_attempts: if resend { 2 } else { 1 },
        attempt_sid: None,
        resend,
        reason: None,
        test: false,
    }
}

/// Adds `n` verifications' counters over the 30 days before [`NOW`].
async fn fill(counters: &CounterStore, n: u64) -> (u64, f64) {
    let started = Instant::now();
    let span = (DAYS * 86_400) as u64;
    let mut batch: Vec<Event> = Vec::with_capacity(100);
    let mut events = 0;
    for i in 0..n {
        let t = NOW - span as i64 + (i * span / n) as i64;
        batch.push(event(i, EventType::Pending, t, false));
        if i % 10 == 0 {
            batch.push(event(i + n, EventType::Pending, t + 30, true));
        }
        if i % 10 < 7 {
            batch.push(event(i, EventType::Approved, t + 60, i % 10 == 0));
        }
        if batch.len() >= 100 || i + 1 == n {
            events += batch.len() as u64;
            let refs: Vec<&Event> = batch.iter().collect();
            let failed = counters.add(&refs).await;
            assert!(failed.is_empty(), "counter writes failed");
            batch.clear();
        }
    }
    (events, started.elapsed().as_secs_f64())
}

/// The child: answers the Summary `repeat` times, prints the latencies and
/// its peak RSS as JSON.
async fn answer(endpoint: &str, repeat: usize) {
    let vars: HashMap<String, String> = HashMap::from([
        ("VERIFY_SERVICE_SID".into(), SERVICE.into()),
        ("VERIFY_NUMBER_KEY".into(), "bench-reports-number-key-0123456789abcdef".into()),
    ]);
    let mut settings = verify_aws::webhook_report::ReportSettings::from_vars(&vars).unwrap();
    settings.credentials.add_key(verify_core::api::auth::ApiKey::from_secret("SKbench", "pw").unwrap()).unwrap();
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::at(NOW));
    let app = verify_aws::webhook_report::build(settings, verify_aws::clients::dynamodb_at(endpoint), clock);
    let from = verify_core::time_fmt::iso8601(NOW - DAYS * 86_400).replace(':', "%3A");
    let mut ms = Vec::new();
    let mut body = String::new();
    for _ in 0..repeat {
        let req = http::Request::get(format!("/v2/Attempts/Summary?DateCreatedAfter={from}"))
            .header("host", "bench")
            .header("authorization", "Basic U0tiZW5jaDpwdw==")
            .body(bytes::Bytes::new())
            .unwrap();
        let t = Instant::now();
        let resp = app.reports.handle(&req).await;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(resp.status(), 200, "{}", resp.body());
        body = resp.into_body();
    }
    let rss = verify_bench::peak_rss_kib(std::process::id()).unwrap_or(0);
    let out = serde_json::json!({"summary_ms": Summary::of(&ms).json(), "peak_rss_kib": rss, "body": serde_json::from_str::<serde_json::Value>(&body).unwrap()});
    println!("{out}");
}

#[tokio::main]
async fn main() {
    let flags = Flags::parse();
    let repeat: usize = flags.number("repeat", 20);
    if let Some(endpoint) = flags.get("answer") {
        return answer(&endpoint, repeat).await;
    }
    let sizes: Vec<u64> = flags.get("sizes").unwrap_or_else(|| "1000,1000000".into()).split(',').map(|s| s.parse().unwrap()).collect();
    let mut results = serde_json::Map::new();
    for n in sizes {
        let db = dynoxide::Database::memory().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(dynoxide::server::serve_on(listener, db.clone()));
        let client = verify_aws::clients::dynamodb_at(&endpoint);
        verify_aws::store::ensure_table(&client, verify_core::config::DEFAULT_TABLE).await.unwrap();
        let counters = CounterStore::new(client, verify_core::config::DEFAULT_TABLE, verify_aws::counters::DEFAULT_SHARDS, 90);
        let (events, fill_secs) = fill(&counters, n).await;
        eprintln!("{n} verifications: {events} events counted in {fill_secs:.1} s");
        let child = tokio::process::Command::new(std::env::current_exe().unwrap())
            .args(["--answer", &endpoint, "--repeat", &repeat.to_string()])
            .output()
            .await
            .unwrap();
        assert!(child.status.success(), "{}", String::from_utf8_lossy(&child.stderr));
        let mut r: serde_json::Value = serde_json::from_slice(&child.stdout).unwrap();
        let body = r["body"].take();
        let expected_attempts = n + n.div_ceil(10);
        assert_eq!(body["total_attempts"], expected_attempts, "{body}");
        results.insert(
            n.to_string(),
            serde_json::json!({
                "verifications": n,
                "events_counted": events,
                "fill_seconds": round3(fill_secs),
                "summary_ms": r["summary_ms"],
                "peak_rss_mb": round3(r["peak_rss_kib"].as_f64().unwrap() / 1024.0),
                "summary": body,
            }),
        );
    }
    let out = serde_json::json!({
        "what": "30-day GET /v2/Attempts/Summary over the report counters (bench-reports)",
        "dynamodb": "embedded dynoxide on loopback (ensure_table); counters written by CounterStore::add, 100 events a call",
        "counter_shards": verify_aws::counters::DEFAULT_SHARDS,
        "repeat": repeat,
        "sizes": results,
    });
    let text = serde_json::to_string_pretty(&out).unwrap();
    match flags.get("out") {
        Some(path) => std::fs::write(path, &text).unwrap(),
        None => println!("{text}"),
    }
}
