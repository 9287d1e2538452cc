//! Persistence of verification records behind a small trait, so the rules
//! are independent of any database: [`memory`] (the reference, in process)
//! and DynamoDB's store implement it. The Safe List has its own small trait
//! ([`safe_list::SafeListStore`]), implemented by the same stores.
//!
//! Every change is one conditional write (or one read), so each limit holds
//! under any concurrency: the guard, not the caller, decides.

pub mod blocked;
pub mod counters;
pub mod expiries;
pub mod fraud_guard;
pub mod memory;
pub mod rate_limits;
pub mod safe_list;
pub mod services;

use crate::change::Change;
use crate::record::VerificationRecord;
use std::future::Future;

/// Identifies the one record of a subscriber within a service.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RecordKey {
    pub service_sid: String,
    /// The recipient's key ([`crate::recipient::Recipient::key`]), not
    /// necessarily the spelling codes are delivered to (`VerificationRecord::to`).
    pub to: String,
}

impl RecordKey {
    /// The key a record is stored under.
    pub fn of(r: &VerificationRecord) -> RecordKey {
        RecordKey { service_sid: r.service_sid.clone(), to: crate::recipient::key_of_address(&r.to) }
    }
}

/// Keys are logged when a write fails: only the masked recipient.
impl std::fmt::Debug for RecordKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecordKey({}, {})", self.service_sid, crate::recipient::mask_address(&self.to))
    }
}

pub enum StoreError {
    /// The write's condition did not hold; here is the record as it stood
    /// (from ReturnValuesOnConditionCheckFailure, so no extra read).
    Conflict(Option<Box<VerificationRecord>>),
    /// The store could not be reached or failed: retryable, nothing changed
    /// as far as we know.
    Unavailable(String),
}

/// Store errors reach logs (`error = ?e`): a conflict names the record it
/// found by sid and version only, never its number or code hash.
impl std::fmt::Debug for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Conflict(None) => f.write_str("Conflict(no record)"),
            StoreError::Conflict(Some(r)) => write!(f, "Conflict(record {} at version {})", r.sid, r.version),
            StoreError::Unavailable(cause) => write!(f, "Unavailable({cause})"),
        }
    }
}

/// What the verification flow needs of a store: read a record, apply a
/// [`Change`] under its guard (atomically), find a record by verification
/// sid. Every rule is in the change; a store translates it and nothing more.
pub trait Store: Send + Sync {
    /// Reads a record (strongly consistent).
    fn read(&self, key: &RecordKey) -> impl Future<Output = Result<Option<VerificationRecord>, StoreError>> + Send;

    /// Applies the change if its guard holds for the record as stored, and
    /// returns the record after it. When the guard does not hold, nothing
    /// changes and the error carries the record as it stood
    /// ([`StoreError::Conflict`]), so the caller can tell why without a read.
    fn apply(&self, change: &Change) -> impl Future<Output = Result<VerificationRecord, StoreError>> + Send;

    /// The record whose current verification has this sid, within a service.
    fn find_by_sid(&self, service_sid: &str, sid: &str) -> impl Future<Output = Result<Option<RecordKey>, StoreError>> + Send;
}

/// Every store a verifier and the API need, as one bound: each backend
/// (memory, DynamoDB, the tests' wrapper) implements them all.
pub trait Stores:
    Store
    + safe_list::SafeListStore
    + blocked::BlockedStore
    + rate_limits::RateLimitStore
    + services::ServiceStore
    + counters::CounterStore
    + fraud_guard::FraudGuardStore
{
}

impl<T> Stores for T where
    T: Store
        + safe_list::SafeListStore
        + blocked::BlockedStore
        + rate_limits::RateLimitStore
        + services::ServiceStore
        + counters::CounterStore
        + fraud_guard::FraudGuardStore
{
}
