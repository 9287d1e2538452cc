//! Shared pieces of the benchmarks: percentiles, unique phone numbers,
//! reading a process's peak RSS, a tiny flag parser. The benchmarks are
//! `src/bin/bench-lambda.rs` and `src/bin/bench-local.rs`; `bench/run.sh`
//! builds everything in release mode, runs both and writes the report.
//! `src/bin/bench-endurance.rs` (run by `bench/endurance.sh`) is verify-local
//! over 100,000 verifications at one client.
//! `src/bin/bench-faults.rs` (run by `bench/faults.sh`) is the fault-injection
//! run of [`faults`].

pub mod fault_proxy;
pub mod faults;
pub mod in_process;
pub mod local;
pub mod write_units;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Milliseconds, as the report prints them.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Summary of a sample: count, p50, p99, max (all in ms).
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub n: usize,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

impl Summary {
    pub fn of(samples: &[f64]) -> Summary {
        if samples.is_empty() {
            return Summary::default();
        }
        let mut v = samples.to_vec();
        v.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
        let at = |q: f64| v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        Summary { n: v.len(), p50: at(0.50), p99: at(0.99), max: v[v.len() - 1], mean: v.iter().sum::<f64>() / v.len() as f64 }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "n": self.n,
            "p50_ms": round3(self.p50),
            "p99_ms": round3(self.p99),
            "max_ms": round3(self.max),
            "mean_ms": round3(self.mean),
        })
    }
}

pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Distinct, valid mobile numbers (German 0151 range), so no per-number
/// limit is ever reached during a run.
pub struct Numbers(AtomicU64);

impl Numbers {
    pub fn starting_at(seed: u64) -> Numbers {
        Numbers(AtomicU64::new(seed % 100_000_000))
    }

    /// Consecutive draws fall in different prefixes (a number's prefix is
    /// its digits without the last four, as the fraud guard counts them):
    /// the draw's low four digits lead, so 10,000 draws in a row touch
    /// 10,000 prefixes once each. Sequential numbers in one prefix are what
    /// SMS pumping looks like, and the fraud guard would refuse a benchmark
    /// that sent them.
    pub fn next(&self) -> String {
        let n = self.0.fetch_add(1, Ordering::Relaxed) % 100_000_000;
        let spread = (n % 10_000) * 10_000 + n / 10_000;
        format!("+49151{spread:08}")
    }
}

/// Peak resident set size (VmHWM) of a running process, in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok())
}

/// `--name value` flags (a flag may repeat); anything else is an error.
pub struct Flags(HashMap<String, Vec<String>>);

impl Flags {
    pub fn parse() -> Flags {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let Some(name) = flag.strip_prefix("--") else { panic!("unexpected argument {flag:?}") };
            let value = args.next().unwrap_or_else(|| panic!("--{name} needs a value"));
            map.entry(name.to_owned()).or_default().push(value);
        }
        Flags(map)
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.get(name).cloned().unwrap_or_default()
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).and_then(|v| v.last().cloned())
    }

    pub fn required(&self, name: &str) -> String {
        self.get(name).unwrap_or_else(|| panic!("--{name} is required"))
    }

    pub fn number<T: std::str::FromStr>(&self, name: &str, default: T) -> T {
        self.get(name).map(|v| v.parse().unwrap_or_else(|_| panic!("--{name}: not a number"))).unwrap_or(default)
    }
}

/// The last run of 4 to 10 digits in an SMS text: the code.
pub fn code_in(text: &str) -> Option<String> {
    let mut found = None;
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            if (4..=10).contains(&run.len()) {
                found = Some(run.clone());
            }
            run.clear();
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = Summary::of(&v);
        assert_eq!((s.n, s.p50, s.p99, s.max), (100, 50.0, 99.0, 100.0));
        assert_eq!(Summary::of(&[3.0]).p99, 3.0);
    }

    #[test]
    fn codes_and_numbers() {
        assert_eq!(code_in("Your Verify verification code is: 012345").as_deref(), Some("012345"));
        let n = Numbers::starting_at(7);
        assert_eq!(n.next(), "+4915100070000");
        assert_eq!(n.next(), "+4915100080000");
        assert!(verify_core::phone::PhoneNumber::parse(&n.next()).is_ok());
    }
}
