//! Log setup for the Lambda functions, honouring Lambda's advanced logging
//! controls: `AWS_LAMBDA_LOG_LEVEL` (else `RUST_LOG`, else INFO) and
//! `AWS_LAMBDA_LOG_FORMAT=JSON`.
//!
//! lambda_runtime's own initialiser does the same through tracing-subscriber's
//! `env-filter`, which links a regex engine (~0.3 MB of every bootstrap) to
//! read per-module directives nobody sets on a function. A plain level is
//! all Lambda's controls express, so that is all this reads.

use std::time::Instant;
use tracing::level_filters::LevelFilter;

/// One line per request or event handled: which kind, its outcome (an HTTP
/// status) and the time spent in this process from the decoded request to
/// the response, store and SMS calls included. Nothing of the request
/// itself: paths can hold phone numbers.
pub fn served(what: &'static str, status: u16, started: Instant) {
    tracing::info!(what, status, took_us = started.elapsed().as_micros() as u64, "served");
}

/// Installs the process-wide subscriber: one line per event on stdout,
/// without timestamps (CloudWatch stamps every line).
pub fn init_for_lambda() {
    let get = |name: &str| std::env::var(name).ok();
    let level = level_from(get("AWS_LAMBDA_LOG_LEVEL").or_else(|| get("RUST_LOG")).as_deref());
    let json = get("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt().with_target(false).without_time().with_ansi(false).with_max_level(level);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// A level name as Lambda spells it (TRACE … FATAL, any case); anything else,
/// such as a `RUST_LOG` directive list, falls back to INFO.
fn level_from(value: Option<&str>) -> LevelFilter {
    match value.map(str::trim).map(str::to_ascii_lowercase).as_deref() {
        Some("trace") => LevelFilter::TRACE,
        Some("debug") => LevelFilter::DEBUG,
        Some("warn") => LevelFilter::WARN,
        Some("error" | "fatal") => LevelFilter::ERROR,
        Some("off") => LevelFilter::OFF,
        _ => LevelFilter::INFO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_level_names_map_to_filters() {
        assert_eq!(level_from(Some("DEBUG")), LevelFilter::DEBUG);
        assert_eq!(level_from(Some(" warn ")), LevelFilter::WARN);
        assert_eq!(level_from(Some("FATAL")), LevelFilter::ERROR);
        assert_eq!(level_from(Some("verify_core=debug")), LevelFilter::INFO);
        assert_eq!(level_from(None), LevelFilter::INFO);
    }
}
