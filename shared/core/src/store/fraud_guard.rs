//! The fraud guard's counters and blocks ([`crate::fraud_guard`]): what a
//! start reads (one bounded read: the window's buckets and the block), and
//! the atomic additions a send and an approval make. Counters are best
//! effort on purpose: the caller logs a failed addition and carries on, so
//! the guard never fails a user's start or check.

use super::StoreError;
use crate::clock::Millis;
use crate::fraud_guard::{Block, Window};
use std::future::Future;

/// Which counter an addition is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tally {
    Send,
    Approval,
}

pub trait FraudGuardStore: Send + Sync {
    /// The window at `now_ms` for a prefix of a service (its buckets, oldest
    /// first, and its block): a fixed number of items, whatever the traffic.
    fn fraud_window(&self, service_sid: &str, prefix: &str, now_ms: Millis) -> impl Future<Output = Result<Window, StoreError>> + Send;

    /// Adds one send or approval to the prefix's and the service's counters
    /// of the bucket `now_ms` falls in (atomic additions).
    fn fraud_tally(
        &self,
        service_sid: &str,
        prefix: &str,
        tally: Tally,
        now_ms: Millis,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Stores `block` for the prefix if the stored block is still
    /// `previous` (none, or the one a start read); otherwise another start
    /// stored one first and this one changes nothing (`Err(Conflict(None))`).
    fn fraud_block(
        &self,
        service_sid: &str,
        prefix: &str,
        block: &Block,
        previous: Option<&Block>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
