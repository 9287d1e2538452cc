//! bench-endurance: does verify-local stay as fast as it started? One client
//! completes verifications back to back on one `verify-local --memory`
//! process (start → read the code → check, approved), 100,000 by default,
//! and the rate is reported per window of 10,000: the first window against
//! the last is the figure (target: the last within 20 % of the first, and
//! at least 250 verifications/s). Also the whole run's rate, latency per
//! window, peak RSS, and the machine's load average before and after (the
//! machine is part of the result).

use std::time::Instant;
use verify_bench::local::{Samples, one_verification};
use verify_bench::{Flags, Numbers, Summary, peak_rss_kib, round3};

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_default()
}

#[tokio::main]
async fn main() {
    let flags = Flags::parse();
    let binary = flags.required("bin");
    let out = flags.required("out");
    let total: usize = flags.number("verifications", 100_000);
    let window: usize = flags.number("window", 10_000);
    assert!(window > 0 && total >= window, "--verifications must be at least --window");
    let log_dir = std::path::PathBuf::from(flags.get("logs").unwrap_or_else(|| "target/bench-logs".into()));
    let load_before = load_average();
    let (mut child, base) = verify_bench::local::start(&binary, &log_dir).await;
    let client = verify_bench::local::client();
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let numbers = Numbers::starting_at(seed * 1000 + 700_000);

    let mut windows = vec![];
    let mut errors = 0;
    let started = Instant::now();
    let mut done = 0;
    while done < total {
        let size = window.min(total - done);
        let mut s = Samples::default();
        let t0 = Instant::now();
        while s.flow.len() < size {
            if let Err(e) = one_verification(&client, &base, &numbers.next(), &mut s).await {
                if errors < 5 {
                    eprintln!("bench-endurance: {e}");
                }
                errors += 1;
                assert!(errors <= 100, "bench-endurance: too many errors; see {}", log_dir.join("verify-local.log").display());
            }
        }
        let seconds = t0.elapsed().as_secs_f64();
        let rate = size as f64 / seconds;
        eprintln!("bench-endurance: verifications {}–{}: {:.1}/s", done + 1, done + size, rate);
        windows.push(serde_json::json!({
            "from": done + 1,
            "to": done + size,
            "seconds": round3(seconds),
            "verifications_per_second": round3(rate),
            "verification": Summary::of(&s.flow).json(),
        }));
        done += size;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rss = child.id().and_then(peak_rss_kib);
    let _ = child.start_kill();
    let _ = child.wait().await;
    let rate_of = |w: &serde_json::Value| w["verifications_per_second"].as_f64().unwrap();
    let (first, last) = (rate_of(&windows[0]), rate_of(windows.last().unwrap()));
    let report = serde_json::json!({
        "kind": "endurance",
        "server": "verify-local --memory (embedded dynoxide, console outbox)",
        "flow": "POST /start-verify, GET /_local/messages, POST /check-verify (approved), one client",
        "verifications": total,
        "errors": errors,
        "seconds": round3(elapsed),
        "verifications_per_second": round3(total as f64 / elapsed),
        "first_window_per_second": round3(first),
        "last_window_per_second": round3(last),
        "last_over_first": round3(last / first),
        "peak_rss_kib": rss,
        "load_before": load_before,
        "load_after": load_average(),
        "windows": windows,
    });
    std::fs::write(&out, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    eprintln!("bench-endurance: first {window}: {first:.1}/s, last {window}: {last:.1}/s ({:.1} %); wrote {out}", 100.0 * last / first);
}
