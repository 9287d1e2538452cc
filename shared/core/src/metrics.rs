//! Metrics as CloudWatch Embedded Metric Format (EMF) log lines: the
//! vocabulary (each metric's name, unit and the dimension sets it is
//! published under), what one request or stream batch came to
//! ([`MetricSet`]), the line itself ([`MetricSet::emf_line`], pure), and
//! where lines go ([`MetricsSink`]).
//!
//! A Lambda function prints one line per request (or stream batch, or
//! scheduled run); CloudWatch Logs turns each into metric data points, with
//! no PutMetricData call and no permission beyond writing logs. The line's
//! dimension values are short tokens from closed sets (a channel, an ISO
//! country code, a refusal reason, a route name), so a number or a code can
//! never become one ([`token`]); lines are also written through the same
//! number mask as the logs.
//!
//! Cost on AWS: every (metric, dimension values) pair that receives data is
//! a custom metric ($0.30 a month each for the first 10,000). Sends and
//! Approvals are published per channel and country (plus a total), so a
//! deployment sending SMS to 20 countries has about 40 of those, plus about
//! 20 fixed ones.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// The CloudWatch namespace every metric is published in.
pub const NAMESPACE: &str = "Verify";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// One metric of the vocabulary. Each dimension set (a list of dimension
/// names; the empty one is the total) is published as its own metric.
#[derive(Debug, PartialEq, Eq)]
pub struct Metric {
    pub name: &'static str,
    pub unit: Unit,
    pub dimensions: &'static [&'static [&'static str]],
}

/// Dimension names: the values are tokens (see [`token`]).
pub mod dim {
    pub const ROUTE: &str = "Route";
    pub const CHANNEL: &str = "Channel";
    pub const COUNTRY: &str = "Country";
    pub const REASON: &str = "Reason";
}

const TOTAL: &[&str] = &[];

/// Time from the decoded request to the response, per route.
pub const LATENCY: Metric = Metric { name: "Latency", unit: Unit::Milliseconds, dimensions: &[&[dim::ROUTE]] };
/// A code sent (a start or a resend): the conversion rate's denominator.
pub const SENDS: Metric = Metric { name: "Sends", unit: Unit::Count, dimensions: &[&[dim::CHANNEL, dim::COUNTRY], TOTAL] };
/// A right code: the conversion rate's numerator.
pub const APPROVALS: Metric = Metric { name: "Approvals", unit: Unit::Count, dimensions: &[&[dim::CHANNEL, dim::COUNTRY], TOTAL] };
/// A wrong code, counted against the verification.
pub const WRONG_CODES: Metric = Metric { name: "WrongCodes", unit: Unit::Count, dimensions: &[TOTAL] };
/// A wrong code that used up the number's failures: the number is locked.
pub const LOCKOUTS: Metric = Metric { name: "Lockouts", unit: Unit::Count, dimensions: &[TOTAL] };
/// A start or check refused by a rule, by reason (see [`block_reason`]).
pub const BLOCKS: Metric = Metric { name: "Blocks", unit: Unit::Count, dimensions: &[&[dim::REASON], TOTAL] };
/// A sender that failed (the code was voided and the send given back).
pub const SENDER_ERRORS: Metric = Metric { name: "SenderErrors", unit: Unit::Count, dimensions: &[&[dim::CHANNEL], TOTAL] };
/// The fraud guard: starts it would have blocked at `monitor` (reason
/// fraud_guard_monitor), and its counter writes that failed (reason
/// counter_write; the user's start or check went ahead).
pub const FRAUD_GUARD: Metric = Metric { name: "FraudGuard", unit: Unit::Count, dimensions: &[&[dim::REASON]] };
/// The store failed or could not be reached (answered 503).
pub const STORE_ERRORS: Metric = Metric { name: "StoreErrors", unit: Unit::Count, dimensions: &[TOTAL] };
/// webhook-report: stream records handed back for a retry.
pub const STREAM_RECORDS_FAILED: Metric = Metric { name: "StreamRecordsFailed", unit: Unit::Count, dimensions: &[TOTAL] };
/// webhook-report: events stored from the stream.
pub const EVENTS_STORED: Metric = Metric { name: "EventsStored", unit: Unit::Count, dimensions: &[TOTAL] };
/// webhook-report: deliveries that reached their receiver.
pub const WEBHOOKS_DELIVERED: Metric = Metric { name: "WebhooksDelivered", unit: Unit::Count, dimensions: &[TOTAL] };
/// webhook-report: deliveries given up (attempts exhausted, refused, or the
/// endpoint disabled).
pub const WEBHOOKS_GIVEN_UP: Metric = Metric { name: "WebhooksGivenUp", unit: Unit::Count, dimensions: &[TOTAL] };

/// Every metric, for the documentation and the template's alarms.
pub const ALL: &[&Metric] = &[
    &LATENCY,
    &SENDS,
    &APPROVALS,
    &WRONG_CODES,
    &LOCKOUTS,
    &BLOCKS,
    &FRAUD_GUARD,
    &SENDER_ERRORS,
    &STORE_ERRORS,
    &STREAM_RECORDS_FAILED,
    &EVENTS_STORED,
    &WEBHOOKS_DELIVERED,
    &WEBHOOKS_GIVEN_UP,
];

/// The reason a refusal is counted under in [`BLOCKS`], or `None` for an
/// error that is not a refusal by a rule.
pub fn block_reason(e: &crate::service::VerifyError) -> Option<&'static str> {
    use crate::service::VerifyError as E;
    // Exhaustive on purpose: a new refusal must choose its reason here.
    match e {
        E::SendsExhausted { .. } => Some("max_sends"),
        E::Locked { .. } => Some("locked"),
        E::AttemptsExhausted { .. } => Some("max_attempts"),
        // The reason blocked events carry for the same refusal.
        E::CountryNotAllowed => Some(crate::store::blocked::reason::GEO_PERMISSIONS),
        E::SmsToLandline => Some("sms_to_landline"),
        E::RateLimited { .. } => Some(crate::store::blocked::reason::RATE_LIMIT),
        E::UnknownRateLimit(_) => None,
        E::BudgetExhausted { .. } => Some(crate::store::blocked::reason::BUDGET),
        E::FraudGuard { .. } => Some(crate::store::blocked::reason::FRAUD_GUARD),
        E::ChannelDisabled(_) => Some("channel_disabled"),
        E::FeatureDisabled(_) => Some("feature_disabled"),
        E::NotFound | E::Busy | E::StoreUnavailable(_) | E::SendFailed(_) => None,
    }
}

/// What one request (or batch, or run) came to: metric values and the
/// dimension values they are published under.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricSet {
    values: Vec<(&'static Metric, f64)>,
    dimensions: BTreeMap<&'static str, String>,
}

impl MetricSet {
    pub fn new() -> MetricSet {
        MetricSet::default()
    }

    /// Adds `value` to `metric` (a metric named twice is summed).
    pub fn add(&mut self, metric: &'static Metric, value: f64) -> &mut Self {
        match self.values.iter_mut().find(|(m, _)| *m == metric) {
            Some((_, v)) => *v += value,
            None => self.values.push((metric, value)),
        }
        self
    }

    /// Sets a dimension's value, made a [`token`].
    pub fn dimension(&mut self, name: &'static str, value: &str) -> &mut Self {
        self.dimensions.insert(name, token(value));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn value(&self, metric: &Metric) -> Option<f64> {
        self.values.iter().find(|(m, _)| *m == metric).map(|(_, v)| *v)
    }

    /// The EMF line (one JSON object, no newline) at `timestamp_ms`: the
    /// `_aws` metadata with one directive per distinct list of dimension
    /// sets, every metric and dimension a top-level member. A dimension a
    /// metric needs but the set lacks is published as `none`.
    pub fn emf_line(&self, timestamp_ms: i64) -> String {
        let mut root = serde_json::Map::new();
        let mut directives: Vec<(&'static [&'static [&'static str]], Vec<serde_json::Value>)> = Vec::new();
        for (metric, value) in &self.values {
            // Microsecond resolution: no long run of digits in a line.
            root.insert(metric.name.to_owned(), serde_json::json!((value * 1000.0).round() / 1000.0));
            for set in metric.dimensions {
                for name in *set {
                    root.entry(name.to_string())
                        .or_insert_with(|| self.dimensions.get(name).cloned().unwrap_or_else(|| "none".into()).into());
                }
            }
            let entry = serde_json::json!({"Name": metric.name, "Unit": metric.unit.as_str()});
            match directives.iter_mut().find(|(dims, _)| *dims == metric.dimensions) {
                Some((_, metrics)) => metrics.push(entry),
                None => directives.push((metric.dimensions, vec![entry])),
            }
        }
        let directives: Vec<serde_json::Value> = directives
            .into_iter()
            .map(|(dims, metrics)| serde_json::json!({"Namespace": NAMESPACE, "Dimensions": dims, "Metrics": metrics}))
            .collect();
        root.insert("_aws".into(), serde_json::json!({"Timestamp": timestamp_ms, "CloudWatchMetrics": directives}));
        serde_json::Value::Object(root).to_string()
    }
}

/// A dimension value as published: letters, digits, `_` and `-`, at most
/// 32 of them, and never only digits (so never a number or a code);
/// anything else is `other`.
pub fn token(value: &str) -> String {
    let ok = !value.is_empty()
        && value.len() <= 32
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && !value.bytes().all(|b| b.is_ascii_digit());
    if ok { value.to_owned() } else { "other".to_owned() }
}

/// Where metric sets go.
pub trait MetricsSink: Send + Sync {
    fn emit(&self, set: &MetricSet);
}

/// Metrics not kept (verify-local, tests that do not look at them).
pub struct NoMetrics;

impl MetricsSink for NoMetrics {
    fn emit(&self, _: &MetricSet) {}
}

/// EMF lines on stdout, where a Lambda function's log goes. Not through the
/// number mask: the line's strings are tokens that hold no number (see
/// [`token`]), and the mask would take the 13-digit timestamp for one.
pub struct StdoutEmf;

impl MetricsSink for StdoutEmf {
    fn emit(&self, set: &MetricSet) {
        use crate::clock::Clock;
        if set.is_empty() {
            return;
        }
        let line = set.emf_line(crate::clock::SystemClock.now_ms());
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(line.as_bytes()).and_then(|_| out.write_all(b"\n"));
    }
}

/// EMF lines kept in memory (tests, and whoever wants to read them back).
#[derive(Default)]
pub struct CapturedEmf {
    pub lines: Mutex<Vec<String>>,
}

impl MetricsSink for CapturedEmf {
    fn emit(&self, set: &MetricSet) {
        if !set.is_empty() {
            self.lines.lock().unwrap().push(set.emf_line(0));
        }
    }
}

/// `line` checked against what the EMF specification requires, and parsed:
/// `_aws.Timestamp` a number; `_aws.CloudWatchMetrics` a non-empty array of
/// directives, each with a `Namespace` (1–1024 characters), `Dimensions`
/// (arrays of at most 30 names, each naming a top-level string member) and
/// `Metrics` (1–100, each `Name` naming a top-level number member, `Unit` a
/// CloudWatch unit). The tests of every crate that emits lines use it.
pub fn check_emf_line(line: &str) -> Result<serde_json::Value, String> {
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("not JSON ({e})"))?;
    let aws = &v["_aws"];
    if !(aws["Timestamp"].is_i64() || aws["Timestamp"].is_u64()) {
        return Err("no numeric _aws.Timestamp".into());
    }
    let directives = aws["CloudWatchMetrics"].as_array().filter(|d| !d.is_empty()).ok_or("no _aws.CloudWatchMetrics")?;
    for d in directives {
        let ns = d["Namespace"].as_str().ok_or("no Namespace")?;
        if !(1..=1024).contains(&ns.len()) {
            return Err("Namespace length".into());
        }
        for set in d["Dimensions"].as_array().ok_or("no Dimensions")? {
            let names = set.as_array().filter(|n| n.len() <= 30).ok_or("a dimension set is not an array of at most 30")?;
            for n in names {
                let n = n.as_str().ok_or("a dimension name is not a string")?;
                match v[n].as_str() {
                    Some(value) if !value.is_empty() && value.len() <= 1024 => {}
                    _ => return Err(format!("dimension {n} is not a top-level string")),
                }
            }
        }
        let metrics = d["Metrics"].as_array().filter(|m| (1..=100).contains(&m.len())).ok_or("Metrics: 1 to 100")?;
        for m in metrics {
            let name = m["Name"].as_str().ok_or("a metric without a Name")?;
            if !v[name].is_number() {
                return Err(format!("metric {name} is not a top-level number"));
            }
            if !matches!(m["Unit"].as_str(), Some("Count" | "Milliseconds")) {
                return Err(format!("metric {name}: unit"));
            }
        }
    }
    Ok(v)
}

/// Neither a full number nor a code in `line`: no string member holds a
/// run of four or more digits (codes have 4–10, numbers 7 or more) or
/// anything the number mask would mask, and none of `codes` appears
/// anywhere.
pub fn check_no_number_or_code(line: &str, codes: &[&str]) -> Result<(), String> {
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    for (k, value) in v.as_object().ok_or("not an object")? {
        if let Some(s) = value.as_str() {
            let longest = s.split(|c: char| !c.is_ascii_digit()).map(str::len).max().unwrap_or(0);
            if longest >= 4 || crate::logging::mask_numbers(s.as_bytes()).as_ref() != s.as_bytes() {
                return Err(format!("{k}={s} in {line}"));
            }
        }
    }
    if let Some(code) = codes.iter().find(|c| line.contains(**c)) {
        return Err(format!("code {code} in {line}"));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::Value;

    pub(crate) fn parse_emf(line: &str) -> Value {
        check_emf_line(line).unwrap_or_else(|e| panic!("{e}: {line}"))
    }

    pub(crate) fn assert_no_number_or_code(line: &str, codes: &[&str]) {
        if let Err(e) = check_no_number_or_code(line, codes) {
            panic!("{e}");
        }
    }

    #[test]
    fn a_line_is_emf_with_every_metric_and_dimension_at_the_top() {
        let mut set = MetricSet::new();
        set.dimension(dim::ROUTE, "start_verify").dimension(dim::CHANNEL, "sms").dimension(dim::COUNTRY, "US");
        set.add(&LATENCY, 4.5).add(&SENDS, 1.0);
        let line = set.emf_line(1_764_000_000_000);
        let v = parse_emf(&line);
        assert_eq!(v["_aws"]["Timestamp"], 1_764_000_000_000i64);
        assert_eq!((v["Sends"].as_f64(), v["Latency"].as_f64()), (Some(1.0), Some(4.5)));
        assert_eq!((v["Channel"].as_str(), v["Country"].as_str(), v["Route"].as_str()), (Some("sms"), Some("US"), Some("start_verify")));
        let directives = v["_aws"]["CloudWatchMetrics"].as_array().unwrap();
        assert_eq!(directives.len(), 2, "latency and sends have different dimension sets");
        let sends = directives.iter().find(|d| d["Metrics"][0]["Name"] == "Sends").unwrap();
        assert_eq!(sends["Dimensions"], serde_json::json!([["Channel", "Country"], []]));
        assert_eq!(sends["Namespace"], NAMESPACE);
    }

    #[test]
    fn metrics_with_the_same_dimensions_share_a_directive_and_repeats_add_up() {
        let mut set = MetricSet::new();
        set.add(&WRONG_CODES, 1.0).add(&LOCKOUTS, 1.0).add(&WRONG_CODES, 1.0).add(&STORE_ERRORS, 1.0);
        let v = parse_emf(&set.emf_line(0));
        assert_eq!(v["WrongCodes"].as_f64(), Some(2.0));
        let directives = v["_aws"]["CloudWatchMetrics"].as_array().unwrap();
        assert_eq!(directives.len(), 1);
        assert_eq!(directives[0]["Metrics"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn a_missing_dimension_is_none_and_values_are_tokens() {
        let mut set = MetricSet::new();
        set.add(&SENDS, 1.0).dimension(dim::CHANNEL, "+14155550123");
        let line = set.emf_line(0);
        let v = parse_emf(&line);
        assert_eq!((v["Channel"].as_str(), v["Country"].as_str()), (Some("other"), Some("none")));
        assert_no_number_or_code(&line, &[]);
        for (raw, want) in [("sms", "sms"), ("US", "US"), ("123456", "other"), ("a b", "other"), ("", "other"), ("max_sends", "max_sends")]
        {
            assert_eq!(token(raw), want);
        }
    }

    #[test]
    fn the_checker_refuses_what_the_specification_does_not_allow() {
        let good = {
            let mut set = MetricSet::new();
            set.add(&SENDS, 1.0).dimension(dim::CHANNEL, "sms").dimension(dim::COUNTRY, "US");
            set.emf_line(0)
        };
        assert!(check_emf_line(&good).is_ok());
        for (bad, why) in [
            (good.replace("\"Sends\":1.0,", ""), "metric member missing"),
            (good.replace("\"Country\":\"US\",", ""), "dimension member missing"),
            (good.replace("\"Timestamp\":0", "\"Timestamp\":\"0\""), "timestamp not a number"),
            (good.replace(",\"Namespace\":\"Verify\"", ""), "no namespace"),
            ("{}".to_owned(), "no _aws"),
        ] {
            assert!(check_emf_line(&bad).is_err(), "{why}: {bad}");
        }
        assert!(check_no_number_or_code("{\"To\":\"+14155550123\"}", &[]).is_err());
        assert!(check_no_number_or_code("{\"Body\":\"x\"}", &["123456"]).is_ok());
        assert!(check_no_number_or_code("{\"n\":\"code 123456\"}", &["123456"]).is_err());
    }

    #[test]
    fn every_refusal_by_a_rule_has_a_reason_and_faults_have_none() {
        use crate::service::VerifyError as E;
        assert_eq!(block_reason(&E::SendsExhausted { retry_after: 1 }), Some("max_sends"));
        assert_eq!(block_reason(&E::Locked { retry_after: 1, until: 2 }), Some("locked"));
        assert_eq!(block_reason(&E::StoreUnavailable("x".into())), None);
        for m in ALL {
            assert_eq!(token(m.name), m.name);
        }
    }
}
