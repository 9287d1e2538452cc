//! Verification events: what happened to a verification, derived from the
//! verification table's DynamoDB stream (old and new images of one item).
//!
//! An event never carries the code nor the full number: the number is masked
//! (`+1415555****`) and, for the `ChannelData.To` report filter, stored only
//! as a keyed hash ([`number_key`]). Event ids are deterministic, so a
//! replayed stream record yields the same ids and every retry of a webhook
//! the same `webhook-id`; and they are made from the verification's change
//! counter, so two real changes never share one.
//!
//! Order: every event carries `sequence`, the change counter of its
//! verification's record, which grows with every change of that record, and
//! a millisecond time. Within one verification `sequence` is the order in
//! which things happened; times come from the clocks of the functions that
//! wrote, so across verifications they order to within clock skew.

pub mod derive;
pub mod number_key;

use crate::clock::{Millis, Seconds, secs_of};
use crate::time_fmt::iso8601_ms;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    /// A verification was created, or its code resent.
    Pending,
    Approved,
    /// A wrong code was entered.
    CheckFailed,
    /// The wrong code used up the verification's last check attempt.
    MaxAttemptsReached,
    Canceled,
    /// The verification ran out of time while pending.
    Expired,
    /// A start was refused: too many sends, or the number is locked.
    SendRateLimited,
    /// A start was refused by a rule before any code existed (`reason`:
    /// `geo_permissions`; later the fraud guard, rate limits, budgets).
    Blocked,
}

impl EventType {
    pub const ALL: [EventType; 8] = [
        EventType::Pending,
        EventType::Approved,
        EventType::CheckFailed,
        EventType::MaxAttemptsReached,
        EventType::Canceled,
        EventType::Expired,
        EventType::SendRateLimited,
        EventType::Blocked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Pending => "verification.pending",
            EventType::Approved => "verification.approved",
            EventType::CheckFailed => "verification.check_failed",
            EventType::MaxAttemptsReached => "verification.max_attempts_reached",
            EventType::Canceled => "verification.canceled",
            EventType::Expired => "verification.expired",
            EventType::SendRateLimited => "verification.send_rate_limited",
            EventType::Blocked => "verification.blocked",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        let s = s.trim();
        EventType::ALL.into_iter().find(|t| t.as_str() == s || t.as_str().strip_prefix("verification.") == Some(s))
    }

    /// The verification status the event leaves behind, in Twilio's words.
    pub fn status(self) -> &'static str {
        match self {
            EventType::Pending | EventType::CheckFailed | EventType::SendRateLimited => "pending",
            EventType::Approved => "approved",
            EventType::MaxAttemptsReached => "max_attempts_reached",
            EventType::Canceled => "canceled",
            EventType::Expired => "expired",
            // No verification was created.
            EventType::Blocked => "blocked",
        }
    }
}

/// One event. Everything here may leave the service (webhooks, reports).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub id: String,
    pub event_type: EventType,
    /// When it happened (Unix milliseconds).
    pub time_ms: Millis,
    /// The verification record's change counter at the change this event
    /// comes from: grows with every change, not necessarily by one. Events
    /// of one change share it, and come in the order derived.
    pub sequence: u64,
    pub service_sid: String,
    pub verification_sid: String,
    pub channel: String,
    pub country: Option<String>,
    /// The number with its last four digits hidden.
    pub to_masked: String,
    /// Keyed hash of the E.164 number, for filtering by number only.
    pub to_hash: String,
    /// Checks counted against the verification so far.
    pub check_attempts: u32,
    /// Codes sent for the verification so far.
    pub send_attempts: u32,
    /// The send this event is about (`pending` only): the Attempt's sid.
    pub attempt_sid: Option<String>,
    /// `pending` only: whether this was a resend of an existing verification.
    pub resend: bool,
    /// `send_rate_limited`: `max_sends` or `locked`; `blocked`: the rule
    /// (`geo_permissions`).
    pub reason: Option<String>,
    /// A test recipient's verification (test mode): nothing was sent.
    pub test: bool,
}

impl Event {
    pub fn time_secs(&self) -> Seconds {
        secs_of(self.time_ms)
    }

    /// The webhook body and the `/events` JSON: Standard Webhooks' suggested
    /// `{type, timestamp, data}` envelope, plus the id.
    pub fn payload(&self) -> Value {
        let mut data = json!({
            "service_sid": self.service_sid,
            "verification_sid": self.verification_sid,
            "channel": self.channel,
            "country": self.country,
            "to": self.to_masked,
            "status": self.event_type.status(),
            "check_attempts": self.check_attempts,
            "send_attempts": self.send_attempts,
            "sequence": self.sequence,
        });
        if let Some(a) = &self.attempt_sid {
            data["attempt_sid"] = json!(a);
            data["resend"] = json!(self.resend);
        }
        if let Some(r) = &self.reason {
            data["reason"] = json!(r);
        }
        if self.test {
            data["test"] = json!(true);
        }
        json!({
            "id": self.id,
            "type": self.event_type.as_str(),
            "timestamp": iso8601_ms(self.time_ms),
            "data": data,
        })
    }
}

/// A deterministic event id: the same facts always give the same id.
/// `subject` is what the event is about (a verification sid, or for
/// `pending` the attempt sid), `occurrence` tells its occurrences apart
/// (the change counter; empty for what happens once per subject).
pub fn event_id(service_sid: &str, subject: &str, event_type: EventType, occurrence: &str) -> String {
    let digest = Sha256::new_with_prefix(b"verify-event:")
        .chain_update(service_sid)
        .chain_update(b"|")
        .chain_update(subject)
        .chain_update(b"|")
        .chain_update(event_type.as_str())
        .chain_update(b"|")
        .chain_update(occurrence)
        .finalize();
    format!("evt_{}", hex::encode(&digest[..16]))
}

/// The id of the `pending` event of one send: one send, one event, so it
/// is found from the attempt sid alone (`GET /v2/Attempts/{sid}`).
pub fn attempt_event_id(service_sid: &str, attempt_sid: &str) -> String {
    event_id(service_sid, attempt_sid, EventType::Pending, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_parse_with_or_without_prefix() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
        assert_eq!(EventType::parse("approved"), Some(EventType::Approved));
        assert_eq!(EventType::parse("verification.nope"), None);
    }

    #[test]
    fn ids_are_deterministic_and_distinct() {
        let a = event_id("VA1", "VE1", EventType::Approved, "");
        assert_eq!(a, event_id("VA1", "VE1", EventType::Approved, ""));
        assert_ne!(a, event_id("VA1", "VE1", EventType::Expired, ""));
        assert_ne!(a, event_id("VA1", "VE2", EventType::Approved, ""));
        assert!(a.starts_with("evt_") && a.len() == 36 && !a.contains('.'));
    }
}
