//! Starts refused by a rule before a code exists (geo permissions today;
//! the fraud guard, rate limits and budgets use the same note): counted on
//! an item of their own per (service, recipient), so the event stream
//! carries each refusal as a `verification.blocked` event with its reason,
//! even for a number that never had a verification.

use super::StoreError;
use crate::clock::Millis;
use std::future::Future;

/// Why a start was blocked, as events and reports name it.
pub mod reason {
    /// The service does not send to the number's country (403/60605).
    pub const GEO_PERMISSIONS: &str = "geo_permissions";
    /// The number's country is monitored (`countries_monitor`): the geo
    /// permissions would have refused this start; it went ahead.
    pub const GEO_PERMISSIONS_MONITOR: &str = "geo_permissions_monitor";
    /// A programmable rate limit's bucket was full (429/20429).
    pub const RATE_LIMIT: &str = "rate_limit";
    /// A daily cap of the service's budget was reached (429/20429).
    pub const BUDGET: &str = "budget";
    /// The fraud guard blocks the number's prefix (403/60410).
    pub const FRAUD_GUARD: &str = "fraud_guard";
    /// The fraud guard, at `monitor`, would have blocked this start; it
    /// went ahead (the monitor flag is this reason).
    pub const FRAUD_GUARD_MONITOR: &str = "fraud_guard_monitor";
}

/// The blocked starts of one recipient within one service, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockedStarts {
    pub service_sid: String,
    /// The recipient's key ([`crate::recipient::Recipient::key`]).
    pub key: String,
    /// Where the code would have gone (E.164 or address).
    pub to: String,
    pub channel: String,
    pub country: Option<String>,
    /// Refused starts so far; every note adds one.
    pub count: u64,
    /// The last refusal's reason and time.
    pub reason: String,
    pub changed_ms: Millis,
}

pub trait BlockedStore: Send + Sync {
    /// Counts one blocked start (one write: add 1 to the count, set the
    /// reason and time; `note.count` is ignored).
    fn note_blocked(&self, note: &BlockedStarts) -> impl Future<Output = Result<(), StoreError>> + Send;
}
