//! A 30-day `GET /v2/Attempts/Summary` over the report counters, at 1,000
//! and 1,000,000 verifications (issue 14): its latency, and the peak RSS of
//! the process answering it.
//!
//! DynamoDB is embedded dynoxide served on loopback (the table made by
//! `ensure_table`), as in bench-lambda. The table is filled through the
//! real counter writer (`CounterStore::add`) with synthetic events of the
//! real `Event` type, 5,000 a call: each
//! verification a `pending` event (one in ten a resend too) and, for seven
//! in ten, an `approved` one, spread evenly over 30 days and five countries.
//! The event items themselves are not written: the Summary does not read
//! them, and writing two million would take longer than the run.
//!
//! Why 5,000 events a call, not the 100 a stream batch brings: the writer
//! sums a call's events per counter item and makes one `ADD` per item, so
//! the items and their sums come out the same either way; only the number
//! of writes differs. At 100 a call a million verifications took 144,000
//! writes, and the embedded engine slows with every write it keeps in its
//! stream history (see the README's verify-local notes): that fill did not
//! finish in 90 minutes. At 5,000 it is about 6,000 writes.
//!
//! The Summary is answered by a child process (this binary with `--answer`)
//! that builds webhook-report's reports exactly as the function does
//! (`verify_aws::webhook_report::build`) and reports its own peak RSS
//! (VmHWM): the report path without the Lambda runtime around it.
//!
//! `bench-reports [--sizes 1000,1000000] [--repeat 20] [--out FILE]`
//!
//! `bench-reports --fill-dir DIR --service VA… [--verifications 100000]
//! [--days 90] [--hourly-days N]` instead fills the embedded store of `verify-local
//! --data-dir DIR` (its `verify.db`) with the counters of that many
//! verifications over the days before now, with wrong codes, lockouts,
//! expiries and blocked starts (by country, and by the fraud guard per
//! prefix) among them, for the dashboard's test
//! (tests/python/test_webhooks_reports.py). It writes as a one-shard
//! writer would (the reader asks for every shard's key either way), so the
//! load costs one item per hour that has verifications, whatever their
//! count; with `--hourly-days N` only the last N days have every hour
//! (older days' verifications fall at noon), for a load in seconds.

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

fn event(service: &str, i: u64, event_type: EventType, time: Seconds, resend: bool) -> Event {
    Event {
        id: format!("evt_{:032x}", i * 4 + event_type as u64),
        event_type,
        time_ms: time * 1000,
        sequence: 1,
        service_sid: service.into(),
        verification_sid: format!("VE{i:032x}"),
        channel: "sms".into(),
        // Not in step with the mix's i % 10 patterns, so each country gets
        // every outcome.
        country: Some(COUNTRIES[((i + i / 10) % 5) as usize].into()),
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

/// What a synthetic load holds besides sends and approvals.
#[derive(Clone, Copy, PartialEq)]
enum Mix {
    /// Sends and approvals only (the Summary's benchmark).
    Conversion,
    /// Also wrong codes, lockouts, expiries and blocked starts (the dashboard's).
    Security,
}

/// A blocked start: by the country's rules, or by the fraud guard in one
/// of eight prefixes.
fn blocked(service: &str, i: u64, time: Seconds, by_fraud_guard: bool) -> Event {
    let mut e = event(service, i, EventType::Blocked, time, false);
    e.verification_sid = String::new();
    e.reason = Some(if by_fraud_guard { "fraud_guard" } else { "geo_permissions" }.into());
    if by_fraud_guard {
        e.country = Some("GB".into());
        // Prefix p takes 8 − p parts in 36: unequal, so the chart's
        // smallest are summed as `other`.
        let (mut k, mut p) = ((i / 25) % 36, 0);
        while k >= 8 - p {
            k -= 8 - p;
            p += 1;
        }
        e.to_masked = format!("+4477009{p}****");
    }
    e
}

/// The security figures of verification `i` (one in ten a wrong code, one
/// in fifty locked out, two in ten expired, one in twenty blocked by
/// country, one in twenty-five by the fraud guard).
fn security_events(service: &str, i: u64, t: Seconds, out: &mut Vec<Event>) {
    if i % 10 == 1 {
        out.push(event(service, i, EventType::CheckFailed, t + 40, false));
    }
    if i % 50 == 2 {
        out.push(event(service, i, EventType::MaxAttemptsReached, t + 50, false));
    }
    if i % 10 >= 8 {
        out.push(event(service, i, EventType::Expired, t + 600, false));
    }
    if i % 20 == 3 || i % 25 == 4 {
        out.push(blocked(service, i, t + 5, i % 25 == 4));
    }
}

/// Where and when a load's verifications fall.
struct Load<'a> {
    service: &'a str,
    verifications: u64,
    now: Seconds,
    /// Spread evenly over this many days before `now`…
    days: i64,
    /// …each hour of the last `hourly_days`; before them, each day's in one
    /// hour (noon UTC), which a daily chart cannot tell apart and which
    /// writes one counter item a day instead of 24.
    hourly_days: i64,
    mix: Mix,
}

impl Load<'_> {
    fn time_of(&self, i: u64) -> Seconds {
        let span = (self.days * 86_400) as u64;
        let t = self.now - span as i64 + (i * span / self.verifications) as i64;
        if self.now - t > self.hourly_days * 86_400 { t - t.rem_euclid(86_400) + 12 * 3_600 } else { t }
    }
}

/// Adds a load's counters; the events counted and the seconds it took.
async fn fill(counters: &CounterStore, load: &Load<'_>) -> (u64, f64) {
    let started = Instant::now();
    let (service, n) = (load.service, load.verifications);
    // A large batch makes one ADD per item it touches, not per hundred
    // events (see the module's note); a batch spans two days at most, so
    // one call's ADDs stay few.
    let per_call = 5_000;
    let mut batch: Vec<Event> = Vec::with_capacity(per_call);
    let mut events = 0;
    for i in 0..n {
        let t = load.time_of(i);
        batch.push(event(service, i, EventType::Pending, t, false));
        if i % 10 == 0 {
            batch.push(event(service, i + n, EventType::Pending, t + 30, true));
        }
        if i % 10 < 7 {
            batch.push(event(service, i, EventType::Approved, t + 60, i % 10 == 0));
        }
        if load.mix == Mix::Security {
            security_events(service, i, t, &mut batch);
        }
        let spans_days = batch.first().is_some_and(|f| t - f.time_secs() > 2 * 86_400);
        if batch.len() >= per_call || spans_days || i + 1 == n {
            events += batch.len() as u64;
            let refs: Vec<(&Event, verify_aws::counters::Parts)> = batch.iter().map(|e| (e, verify_aws::counters::Parts::ALL)).collect();
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

/// Serves `db` on loopback with the service's table: its endpoint and a client.
async fn served(db: dynoxide::Database) -> (String, aws_sdk_dynamodb::Client) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(dynoxide::server::serve_on(listener, db));
    let client = verify_aws::clients::dynamodb_at(&endpoint);
    verify_aws::store::ensure_table(&client, verify_core::config::DEFAULT_TABLE).await.unwrap();
    (endpoint, client)
}

/// Fills `dir/verify.db` for `verify-local --data-dir dir` (a private
/// directory and file, as verify-local requires) and prints what it wrote.
async fn fill_dir(dir: &std::path::Path, load: &Load<'_>) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let path = dir.join("verify.db");
    let db = dynoxide::Database::new(path.to_str().unwrap()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (_, client) = served(db).await;
    let counters = CounterStore::new(client, verify_core::config::DEFAULT_TABLE, 1, 90);
    let (events, secs) = fill(&counters, load).await;
    let out =
        serde_json::json!({"verifications": load.verifications, "days": load.days, "events_counted": events, "fill_seconds": round3(secs)});
    println!("{out}");
}

#[tokio::main]
async fn main() {
    let flags = Flags::parse();
    let repeat: usize = flags.number("repeat", 20);
    if let Some(endpoint) = flags.get("answer") {
        return answer(&endpoint, repeat).await;
    }
    if let Some(dir) = flags.get("fill-dir") {
        let days = flags.number("days", 90);
        let load = Load {
            service: &flags.required("service"),
            verifications: flags.number("verifications", 100_000),
            now: verify_core::clock::SystemClock.now(),
            days,
            hourly_days: flags.number("hourly-days", days),
            mix: Mix::Security,
        };
        return fill_dir(std::path::Path::new(&dir), &load).await;
    }
    let sizes: Vec<u64> = flags.get("sizes").unwrap_or_else(|| "1000,1000000".into()).split(',').map(|s| s.parse().unwrap()).collect();
    let mut results = serde_json::Map::new();
    for n in sizes {
        let db = dynoxide::Database::memory().unwrap();
        let (endpoint, client) = served(db).await;
        let counters = CounterStore::new(client, verify_core::config::DEFAULT_TABLE, verify_aws::counters::DEFAULT_SHARDS, 90);
        let (events, fill_secs) =
            fill(&counters, &Load { service: SERVICE, verifications: n, now: NOW, days: DAYS, hourly_days: DAYS, mix: Mix::Conversion })
                .await;
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
        "dynamodb": "embedded dynoxide on loopback (ensure_table); counters written by CounterStore::add, 5,000 events a call",
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
