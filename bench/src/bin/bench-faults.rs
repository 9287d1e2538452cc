//! The fault-injection run (not a test; see `verify_bench::faults`): prints
//! the report as Markdown and writes it to `--out` (default
//! bench/results/faults.md). Exits non-zero when an invariant was violated.
//!
//! Flags: --seed, --operations, --clients, --numbers, --fault-rate,
//! --send-failure-rate, --hold-ms, --out. `BENCH_FAULTS_LOG=1` also prints
//! the service's log lines (what it retried, voided, refused).

use std::time::Duration;
use verify_bench::Flags;
use verify_bench::faults::{Config, markdown, run};

#[tokio::main]
async fn main() {
    let flags = Flags::parse();
    if std::env::var_os("BENCH_FAULTS_LOG").is_some() {
        verify_core::logging::init_for_lambda();
    }
    let small = Config::small(0);
    let config = Config {
        seed: flags.number("seed", 1),
        operations: flags.number("operations", 10_000),
        clients: flags.number("clients", 64),
        numbers: flags.number("numbers", 1_000),
        fault_rate: flags.number("fault-rate", small.fault_rate),
        send_failure_rate: flags.number("send-failure-rate", small.send_failure_rate),
        hold: Duration::from_millis(flags.number("hold-ms", small.hold.as_millis() as u64)),
    };
    let report = run(config).await;
    let text = markdown(&report);
    println!("{text}");
    let out = flags.get("out").unwrap_or_else(|| "bench/results/faults.md".into());
    std::fs::write(&out, &text).unwrap_or_else(|e| panic!("{out}: {e}"));
    if report.violations() > 0 {
        eprintln!("bench-faults: {} violations", report.violations());
        std::process::exit(1);
    }
}
