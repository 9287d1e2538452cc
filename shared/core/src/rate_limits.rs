//! Twilio's programmable rate limits: a service defines named limits
//! (`RateLimits`, sid `RK…`), each with buckets (`Buckets`, sid `BL…`: at
//! most `max` requests per `interval` seconds); a start names the limits
//! that apply to it and the value each is keyed on
//! (`RateLimits={"end_user_ip_address":"203.0.113.7"}`), and is refused
//! with 429 once a bucket for that value is full.
//!
//! This module holds the rules: the definitions and their validation, and
//! which counters a start takes ([`BucketHit`]). The counters themselves
//! are atomic conditional increments ([`crate::store::counters`]); taking them for a start is
//! [`Verifier::take_rate_limits`], at the end of this file.
//!
//! Windows are fixed, aligned to multiples of the interval since the Unix
//! epoch: a bucket of 10 per 60 s allows 10 in 12:00:00–12:00:59, then 10
//! more from 12:01:00, so at most twice `max` can pass in any `interval`
//! that straddles a boundary. (An exact sliding window would need a read
//! of every request's time, or a condition across two items, which
//! DynamoDB cannot make atomic in one write.)

use crate::clock::{Clock, Seconds};
use crate::config::Service;
use crate::service::{StartRequest, Verifier, VerifyError};
use crate::store::Stores;
use crate::store::counters::{Add, Counter, take_all};
use serde::{Deserialize, Serialize};

/// How many rate limits a service may define (Twilio's 60207; its number
/// is not published).
pub const MAX_LIMITS_PER_SERVICE: usize = 20;
/// How many buckets a rate limit may have (Twilio's 60210).
pub const MAX_BUCKETS_PER_LIMIT: usize = 5;
/// The longest bucket interval: 31 days (the counters' lifetime).
pub const MAX_INTERVAL: u64 = 31 * 86_400;
/// The longest `UniqueName`.
pub const MAX_UNIQUE_NAME: usize = 100;
/// The longest value a start may key a limit on.
pub const MAX_VALUE: usize = 256;

/// Twilio's error codes for definitions.
pub mod code {
    pub const TOO_MANY_LIMITS: u32 = 60207;
    pub const DUPLICATE_NAME: u32 = 60208;
    pub const BAD_NAME: u32 = 60209;
    pub const TOO_MANY_BUCKETS: u32 = 60210;
    pub const DUPLICATE_INTERVAL: u32 = 60211;
}

/// One service's rate limits, stored as one document with a version
/// (every change is a write conditioned on the version it read).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimits {
    pub version: u64,
    pub limits: Vec<RateLimit>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    pub sid: String,
    pub unique_name: String,
    pub description: Option<String>,
    pub created_at: Seconds,
    pub updated_at: Seconds,
    pub buckets: Vec<Bucket>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    pub sid: String,
    pub max: u64,
    pub interval: u64,
    pub created_at: Seconds,
    pub updated_at: Seconds,
}

/// A definition change refused: Twilio's code and a message (400).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    pub code: u32,
    pub message: String,
}

fn invalid(code: u32, message: impl Into<String>) -> Invalid {
    Invalid { code, message: message.into() }
}

impl RateLimits {
    pub fn limit(&self, sid: &str) -> Option<&RateLimit> {
        self.limits.iter().find(|l| l.sid == sid)
    }

    pub fn limit_mut(&mut self, sid: &str) -> Option<&mut RateLimit> {
        self.limits.iter_mut().find(|l| l.sid == sid)
    }

    pub fn by_name(&self, unique_name: &str) -> Option<&RateLimit> {
        self.limits.iter().find(|l| l.unique_name == unique_name)
    }

    /// Adds a limit, refusing a bad or taken name and one limit too many.
    pub fn add_limit(&mut self, limit: RateLimit) -> Result<(), Invalid> {
        check_unique_name(&limit.unique_name)?;
        if self.by_name(&limit.unique_name).is_some() {
            return Err(invalid(code::DUPLICATE_NAME, format!("UniqueName {} already exists", limit.unique_name)));
        }
        if self.limits.len() >= MAX_LIMITS_PER_SERVICE {
            return Err(invalid(code::TOO_MANY_LIMITS, format!("Max Rate Limits per Service reached ({MAX_LIMITS_PER_SERVICE})")));
        }
        self.limits.push(limit);
        Ok(())
    }
}

impl RateLimit {
    pub fn bucket(&self, sid: &str) -> Option<&Bucket> {
        self.buckets.iter().find(|b| b.sid == sid)
    }

    /// Adds a bucket, refusing a second one with the same interval and one
    /// bucket too many.
    pub fn add_bucket(&mut self, bucket: Bucket) -> Result<(), Invalid> {
        if self.buckets.iter().any(|b| b.interval == bucket.interval) {
            return Err(invalid(
                code::DUPLICATE_INTERVAL,
                format!("A Bucket with Interval {} already exists for this Rate Limit", bucket.interval),
            ));
        }
        if self.buckets.len() >= MAX_BUCKETS_PER_LIMIT {
            return Err(invalid(code::TOO_MANY_BUCKETS, format!("Max Buckets per Rate Limit reached ({MAX_BUCKETS_PER_LIMIT})")));
        }
        self.buckets.push(bucket);
        Ok(())
    }

    /// Changes a bucket's `max` and/or `interval`; `None` when it is not
    /// this limit's.
    pub fn update_bucket(&mut self, sid: &str, max: Option<u64>, interval: Option<u64>, now: Seconds) -> Option<Result<(), Invalid>> {
        if let Some(i) = interval
            && self.buckets.iter().any(|b| b.sid != sid && b.interval == i)
        {
            return Some(Err(invalid(code::DUPLICATE_INTERVAL, format!("A Bucket with Interval {i} already exists for this Rate Limit"))));
        }
        let bucket = self.buckets.iter_mut().find(|b| b.sid == sid)?;
        bucket.max = max.unwrap_or(bucket.max);
        bucket.interval = interval.unwrap_or(bucket.interval);
        bucket.updated_at = now;
        Some(Ok(()))
    }
}

/// `UniqueName`: letters, digits, `-`, `_` and `.` (Twilio's rule, 60209;
/// it also asks for no personal data in it, which cannot be checked).
pub fn check_unique_name(name: &str) -> Result<(), Invalid> {
    let ok = !name.is_empty()
        && name.len() <= MAX_UNIQUE_NAME
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(invalid(code::BAD_NAME, format!("UniqueName must be 1 to {MAX_UNIQUE_NAME} characters of letters, digits, '-', '_' and '.'")))
    }
}

/// `Max` (at least 1) and `Interval` (1 s to 31 days), as given.
pub fn parse_max(raw: &str) -> Option<u64> {
    raw.trim().parse::<u64>().ok().filter(|m| *m >= 1)
}

pub fn parse_interval(raw: &str) -> Option<u64> {
    raw.trim().parse::<u64>().ok().filter(|i| (1..=MAX_INTERVAL).contains(i))
}

/// One counter a start takes: the bucket's window for the start's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketHit {
    /// Keyed by service, bucket, the value's keyed hash and the window's
    /// start (the value itself, often an IP address or an account id, is
    /// never stored); one count capped at the bucket's max; expiring at the
    /// window's end.
    pub counter: Counter,
    /// For the refusal's message.
    pub unique_name: String,
    pub max: u64,
    pub interval: u64,
}

/// The start of the fixed window `now` falls in.
pub fn window_start(now: Seconds, interval: u64) -> Seconds {
    let i = interval.max(1) as i64;
    now.div_euclid(i) * i
}

/// The counters a start takes, for the `(unique_name, value)` pairs it
/// named, in a fixed order (by bucket sid) so two concurrent starts take
/// them in the same order; `value_tag` is the value's keyed hash. A name
/// the service does not define is an error naming it.
pub fn hits(
    service_sid: &str,
    limits: &RateLimits,
    named: &[(String, String)],
    now: Seconds,
    value_tag: impl Fn(&str, &str) -> String,
) -> Result<Vec<BucketHit>, String> {
    let mut out = Vec::new();
    for (name, value) in named {
        let limit = limits.by_name(name).ok_or_else(|| name.clone())?;
        let tag = value_tag(&limit.sid, value);
        for b in &limit.buckets {
            let start = window_start(now, b.interval);
            out.push(BucketHit {
                counter: Counter {
                    key: format!("RLC#{service_sid}#{}#{tag}#{start}", b.sid),
                    adds: vec![Add { name: "n", amount: 1, cap: Some(b.max) }],
                    expires_at: start + b.interval as i64,
                },
                unique_name: limit.unique_name.clone(),
                max: b.max,
                interval: b.interval,
            });
        }
    }
    out.sort_by(|a, b| a.counter.key.cmp(&b.counter.key));
    Ok(out)
}

/// The start parameter `RateLimits`: a JSON object from a limit's
/// `unique_name` to the value it is keyed on (a string or a number; Twilio's
/// clients send it as JSON text in a form field). Errors say what is wrong
/// without echoing the values.
pub fn parse_start_param(object: &serde_json::Map<String, serde_json::Value>) -> Result<Vec<(String, String)>, String> {
    let mut named = Vec::new();
    for (name, value) in object {
        let value = match value {
            serde_json::Value::String(s) => s.trim().to_owned(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => return Err(format!("the value for {name} must be a string or a number")),
        };
        if value.is_empty() || value.len() > MAX_VALUE {
            return Err(format!("the value for {name} must be 1 to {MAX_VALUE} characters"));
        }
        check_unique_name(name).map_err(|e| e.message)?;
        named.push((name.clone(), value));
    }
    Ok(named)
}

/// Taking a start's counters.
impl<S: Stores, C: Clock> Verifier<S, C> {
    /// Counts the start on every bucket of the limits it names, or refuses
    /// it (429) when one is full: each bucket is one atomic conditional
    /// increment, so no bucket ever passes its `max` however many starts
    /// race; the buckets taken before a full one are given back, so a
    /// refused start counts nowhere (a give-back that fails leaves the
    /// count one high until the window ends: on the safe side). Costs one
    /// read of the definitions and one write per bucket, only for starts
    /// that name limits. A refusal is noted as a blocked start.
    pub async fn take_rate_limits(&self, service: &Service, req: &StartRequest, named: &[(String, String)]) -> Result<(), VerifyError> {
        if named.is_empty() {
            return Ok(());
        }
        let limits = self.store.rate_limits(&service.sid).await?;
        let now = self.clock.now();
        let hits = hits(&service.sid, &limits, named, now, |limit_sid, value| self.keys.tag(limit_sid, value))
            .map_err(VerifyError::UnknownRateLimit)?;
        let counters: Vec<Counter> = hits.iter().map(|h| h.counter.clone()).collect();
        match take_all(&self.store, &counters).await? {
            Ok(()) => Ok(()),
            Err(full) => {
                let hit = &hits[full];
                self.note_blocked(service, req, crate::store::blocked::reason::RATE_LIMIT).await;
                Err(VerifyError::RateLimited {
                    unique_name: hit.unique_name.clone(),
                    max: hit.max,
                    interval: hit.interval,
                    retry_after: (hit.counter.expires_at - now).max(1),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(name: &str) -> RateLimit {
        RateLimit { sid: format!("RK{name}"), unique_name: name.into(), description: None, created_at: 0, updated_at: 0, buckets: vec![] }
    }

    fn bucket(sid: &str, max: u64, interval: u64) -> Bucket {
        Bucket { sid: sid.into(), max, interval, created_at: 0, updated_at: 0 }
    }

    #[test]
    fn names_follow_twilios_rule() {
        for ok in ["end_user_ip_address", "a", "x.y-z_1"] {
            assert!(check_unique_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "has space", "é", "a/b", &"x".repeat(MAX_UNIQUE_NAME + 1)] {
            assert_eq!(check_unique_name(bad).unwrap_err().code, code::BAD_NAME, "{bad}");
        }
    }

    #[test]
    fn duplicates_and_maxima_are_refused() {
        let mut set = RateLimits::default();
        set.add_limit(limit("ip")).unwrap();
        assert_eq!(set.add_limit(limit("ip")).unwrap_err().code, code::DUPLICATE_NAME);
        for i in 1..MAX_LIMITS_PER_SERVICE {
            set.add_limit(limit(&format!("l{i}"))).unwrap();
        }
        assert_eq!(set.add_limit(limit("one_more")).unwrap_err().code, code::TOO_MANY_LIMITS);

        let l = set.limit_mut("RKip").unwrap();
        l.add_bucket(bucket("BL1", 5, 60)).unwrap();
        assert_eq!(l.add_bucket(bucket("BL2", 9, 60)).unwrap_err().code, code::DUPLICATE_INTERVAL);
        for i in 2..=MAX_BUCKETS_PER_LIMIT as u64 {
            l.add_bucket(bucket(&format!("BL{i}"), 5, 60 * i)).unwrap();
        }
        assert_eq!(l.add_bucket(bucket("BLx", 5, 7)).unwrap_err().code, code::TOO_MANY_BUCKETS);
        // Moving a bucket onto another's interval is refused too.
        assert_eq!(l.update_bucket("BL1", None, Some(120), 5).unwrap().unwrap_err().code, code::DUPLICATE_INTERVAL);
        assert!(l.update_bucket("BL1", Some(3), Some(30), 5).unwrap().is_ok());
        assert_eq!(l.bucket("BL1").unwrap().max, 3);
        assert!(l.update_bucket("BLnone", Some(3), None, 5).is_none());
    }

    #[test]
    fn windows_are_aligned_to_the_interval() {
        assert_eq!(window_start(1_000_059, 60), 1_000_020);
        assert_eq!(window_start(1_000_080, 60), 1_000_080);
        assert_eq!(window_start(-1, 60), -60);
    }

    #[test]
    fn hits_name_every_bucket_of_every_named_limit_keyed_on_the_value() {
        let mut set = RateLimits::default();
        let mut ip = limit("ip");
        ip.buckets = vec![bucket("BLb", 10, 60), bucket("BLa", 100, 3600)];
        set.add_limit(ip).unwrap();
        set.add_limit(limit("account")).unwrap();
        let named = vec![("ip".to_owned(), "203.0.113.7".to_owned())];
        let hits = hits("VA1", &set, &named, 7_230, |sid, v| format!("h({sid},{})", v.len())).unwrap();
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].counter.key, "RLC#VA1#BLa#h(RKip,11)#7200");
        assert_eq!(hits[0].counter.adds, vec![Add { name: "n", amount: 1, cap: Some(100) }]);
        assert_eq!(hits[0].counter.expires_at, 10_800);
        assert_eq!(hits[1].counter.key, "RLC#VA1#BLb#h(RKip,11)#7200");
        assert!(hits.iter().all(|h| !h.counter.key.contains("203.0.113.7")));
        // A limit without buckets limits nothing; an unknown name is an error.
        let none = vec![("account".to_owned(), "x".to_owned())];
        assert!(super::hits("VA1", &set, &none, 0, |_, _| String::new()).unwrap().is_empty());
        let unknown = vec![("nope".to_owned(), "x".to_owned())];
        assert_eq!(super::hits("VA1", &set, &unknown, 0, |_, _| String::new()).unwrap_err(), "nope");
    }

    #[test]
    fn the_start_parameter_takes_strings_and_numbers() {
        let obj = |s: &str| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(s).unwrap();
        assert_eq!(
            parse_start_param(&obj(r#"{"ip":" 10.0.0.1 ","account":42}"#)).unwrap(),
            vec![("account".to_owned(), "42".to_owned()), ("ip".to_owned(), "10.0.0.1".to_owned())]
        );
        for bad in [r#"{"ip":""}"#, r#"{"ip":null}"#, r#"{"ip":[1]}"#, r#"{"bad name":"x"}"#] {
            let e = parse_start_param(&obj(bad)).unwrap_err();
            assert!(!e.contains("10.0.0.1"), "{e}");
        }
    }
}
