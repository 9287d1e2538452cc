//! One event to one endpoint: its state, and what an attempt's outcome
//! makes of it. Pure; [`super::store`] persists it.
//!
//! Retry schedule (Standard Webhooks' example): after the 1st failed attempt
//! wait 5 s, then 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h: ten
//! attempts over about 75 hours. Each wait is jittered by ±20 % (spread per
//! delivery, so endpoints coming back are not hit by every retry at once),
//! and a `Retry-After` longer than the wait is honoured (up to 24 h). Retries
//! are made by the scheduled run, so a wait is rounded up to its period.

use crate::clock::Seconds;
use sha2::{Digest, Sha256};

/// Waits before attempt 2, 3, … 10.
pub const RETRY_DELAYS: [Seconds; 9] = [5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 86_400];
pub const MAX_ATTEMPTS: u32 = RETRY_DELAYS.len() as u32 + 1;
pub const JITTER: f64 = 0.2;
pub const MAX_RETRY_AFTER: Seconds = 86_400;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Not delivered yet; will be tried at `next_attempt_at`.
    Pending,
    Delivered,
    /// Every attempt failed, or the destination was refused. Kept, not retried.
    Failed,
    /// The endpoint answered 410 Gone (or was disabled): not sent.
    Disabled,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Disabled => "disabled",
        }
    }
    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        Some(match s {
            "pending" => DeliveryStatus::Pending,
            "delivered" => DeliveryStatus::Delivered,
            "failed" => DeliveryStatus::Failed,
            "disabled" => DeliveryStatus::Disabled,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    /// The exact body signed and sent, the same bytes on every attempt.
    pub body: String,
    pub status: DeliveryStatus,
    /// Attempts made (whose outcome was recorded).
    pub attempts: u32,
    pub created_at: Seconds,
    pub next_attempt_at: Seconds,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub delivered_at: Option<Seconds>,
}

/// What one attempt came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Any 2xx.
    Delivered { status: u16 },
    /// 410: the receiver wants no more; the endpoint is disabled.
    Gone,
    /// Another status, a timeout, or no connection: retry later.
    Failed { status: Option<u16>, error: String, retry_after: Option<Seconds> },
    /// The destination is not allowed (SSRF rules) or the URL is unusable.
    Refused { reason: String },
}

impl Outcome {
    pub fn from_status(status: u16, retry_after: Option<Seconds>) -> Outcome {
        match status {
            200..=299 => Outcome::Delivered { status },
            410 => Outcome::Gone,
            s => Outcome::Failed { status: Some(s), error: format!("HTTP {s}"), retry_after },
        }
    }
}

/// The wait before the next attempt after `failed` failed attempts, or
/// `None` once all are used. Jitter is drawn from `key` (the delivery), so
/// the schedule of one delivery is reproducible.
pub fn retry_delay(failed: u32, key: &str) -> Option<Seconds> {
    let base = *RETRY_DELAYS.get(failed.checked_sub(1)? as usize)?;
    let d = Sha256::new_with_prefix(key.as_bytes()).chain_update(failed.to_be_bytes()).finalize();
    let unit = u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as f64 / u32::MAX as f64; // 0..=1
    let factor = 1.0 - JITTER + 2.0 * JITTER * unit;
    Some(((base as f64) * factor).round().max(1.0) as Seconds)
}

/// The longest wait `retry_delay` can give after `failed` failures.
pub fn max_retry_delay(failed: u32) -> Seconds {
    RETRY_DELAYS.get(failed.saturating_sub(1) as usize).map_or(0, |b| (*b as f64 * (1.0 + JITTER)).ceil() as Seconds)
}

impl Delivery {
    pub fn key(&self) -> String {
        format!("{}#{}", self.endpoint_id, self.event_id)
    }

    /// The delivery after an attempt made at `now`.
    pub fn after(&self, outcome: &Outcome, now: Seconds) -> Delivery {
        let mut d = self.clone();
        d.attempts += 1;
        match outcome {
            Outcome::Delivered { status } => {
                d.status = DeliveryStatus::Delivered;
                d.last_status = Some(*status);
                d.last_error = None;
                d.delivered_at = Some(now);
            }
            Outcome::Gone => {
                d.status = DeliveryStatus::Disabled;
                d.last_status = Some(410);
                d.last_error = Some("410 Gone: endpoint disabled".into());
            }
            Outcome::Refused { reason } => {
                d.status = DeliveryStatus::Failed;
                d.last_status = None;
                d.last_error = Some(reason.clone());
            }
            Outcome::Failed { status, error, retry_after } => {
                d.last_status = *status;
                d.last_error = Some(error.clone());
                match retry_delay(d.attempts, &self.key()) {
                    Some(wait) => {
                        let honoured = retry_after.map_or(0, |r| r.clamp(0, MAX_RETRY_AFTER));
                        d.next_attempt_at = now + wait.max(honoured);
                    }
                    None => d.status = DeliveryStatus::Failed,
                }
            }
        }
        d
    }
}

/// Parses `Retry-After`: delay-seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: Seconds) -> Option<Seconds> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<i64>() {
        return Some(secs.max(0));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    let at = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs() as Seconds;
    Some((at - now).max(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending() -> Delivery {
        Delivery {
            endpoint_id: "we1".into(),
            event_id: "evt_1".into(),
            event_type: "verification.approved".into(),
            body: "{}".into(),
            status: DeliveryStatus::Pending,
            attempts: 0,
            created_at: 1000,
            next_attempt_at: 1000,
            last_status: None,
            last_error: None,
            delivered_at: None,
        }
    }

    fn fail(retry_after: Option<Seconds>) -> Outcome {
        Outcome::Failed { status: Some(500), error: "HTTP 500".into(), retry_after }
    }

    #[test]
    fn the_schedule_spans_more_than_a_day_with_bounded_jitter() {
        let total: Seconds = RETRY_DELAYS.iter().sum();
        assert!(total > 86_400 * 3, "{total}");
        for failed in 1..MAX_ATTEMPTS {
            let base = RETRY_DELAYS[failed as usize - 1] as f64;
            let mut seen = std::collections::HashSet::new();
            for k in 0..50 {
                let d = retry_delay(failed, &format!("k{k}")).unwrap() as f64;
                assert!(d >= (base * 0.8).floor() && d <= max_retry_delay(failed) as f64, "{failed}: {d}");
                seen.insert(d as i64);
            }
            assert!(seen.len() > 1 || base < 10.0, "jitter spreads deliveries");
            assert_eq!(retry_delay(failed, "same"), retry_delay(failed, "same"));
        }
        assert_eq!(retry_delay(MAX_ATTEMPTS, "k"), None);
        assert_eq!(retry_delay(0, "k"), None);
    }

    #[test]
    fn failures_back_off_then_give_up() {
        let mut d = pending();
        let mut now = 1000;
        let mut waits = Vec::new();
        while d.status == DeliveryStatus::Pending {
            d = d.after(&fail(None), now);
            if d.status == DeliveryStatus::Pending {
                waits.push(d.next_attempt_at - now);
                now = d.next_attempt_at;
            }
        }
        assert_eq!(d.attempts, MAX_ATTEMPTS);
        assert_eq!(d.status, DeliveryStatus::Failed);
        assert!(waits.windows(2).all(|w| w[0] < w[1]), "{waits:?}");
        assert!(now - 1000 >= 86_400, "retried over at least a day");
    }

    #[test]
    fn retry_after_is_honoured_but_bounded() {
        let d = pending().after(&fail(Some(3600)), 1000);
        assert_eq!(d.next_attempt_at, 4600);
        let d = pending().after(&fail(Some(10 * 86_400)), 1000);
        assert_eq!(d.next_attempt_at, 1000 + MAX_RETRY_AFTER);
        let d = pending().after(&fail(Some(1)), 1000);
        assert!(d.next_attempt_at >= 1004, "a short Retry-After does not shorten the backoff");
        assert_eq!(parse_retry_after("120", 0), Some(120));
        assert_eq!(parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", 40), Some(60));
        assert_eq!(parse_retry_after("soon", 0), None);
    }

    #[test]
    fn outcomes_settle_the_delivery() {
        assert_eq!(Outcome::from_status(204, None), Outcome::Delivered { status: 204 });
        assert_eq!(Outcome::from_status(410, None), Outcome::Gone);
        let ok = pending().after(&Outcome::Delivered { status: 200 }, 1001);
        assert_eq!((ok.status, ok.attempts, ok.delivered_at), (DeliveryStatus::Delivered, 1, Some(1001)));
        let gone = pending().after(&Outcome::Gone, 1001);
        assert_eq!(gone.status, DeliveryStatus::Disabled);
        let refused = pending().after(&Outcome::Refused { reason: "loopback".into() }, 1001);
        assert_eq!(refused.status, DeliveryStatus::Failed);
    }
}
