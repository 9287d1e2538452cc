//! The Safe List's persistence: numbers that geo permissions (and, later,
//! the fraud guard) never refuse. One entry per number, keyed by the
//! number's [`crate::recipient::Recipient::key`], so every spelling of a
//! number finds the same entry. Listed numbers still count against the
//! per-number send and check limits: those live on the verification record
//! and are not consulted here.

use super::StoreError;
use crate::clock::Seconds;
use std::future::Future;

/// A listed number, as `/v2/SafeList/Numbers` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SafeListEntry {
    /// `GN` + 32 hex.
    pub sid: String,
    /// The recipient key the entry is stored under.
    pub key: String,
    /// The number as E.164, as listed.
    pub phone_number: String,
    pub created_at: Seconds,
}

/// Adding, reading and removing Safe List entries: each one conditional
/// write or one read of one item.
pub trait SafeListStore: Send + Sync {
    /// Lists the number; when an entry for its key exists already, nothing
    /// changes and the answer is `Err(Conflict(None))`.
    fn add_safe_number(&self, entry: &SafeListEntry) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The entry for this recipient key, if listed (strongly consistent).
    fn safe_number(&self, key: &str) -> impl Future<Output = Result<Option<SafeListEntry>, StoreError>> + Send;

    /// Removes the entry; `false` when there was none.
    fn remove_safe_number(&self, key: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;
}
