//! Persistence of verification records behind a small trait, so the service
//! logic is independent of DynamoDB, and the DynamoDB implementation.
//!
//! Every method is one conditional write (or one read), so each limit holds
//! under any concurrency: the condition, not the caller, decides. Every
//! write bumps the record's `version` and sets `changed_ms` to the moment it
//! is given, so the event stream can number and order the item's changes.

pub mod conditional;
pub mod dynamo;
pub mod item;

use crate::clock::{Millis, Seconds};
use crate::config::Limits;
use crate::otp::CodeHash;
use crate::record::{StoredStatus, VerificationRecord};
use std::future::Future;

/// Identifies the one record of a subscriber within a service.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RecordKey {
    pub service_sid: String,
    /// The number's [`crate::phone::subscriber_key`], not necessarily the
    /// spelling codes are delivered to (`VerificationRecord::to`).
    pub to: String,
}

impl RecordKey {
    /// The key a record is stored under.
    pub fn of(r: &VerificationRecord) -> RecordKey {
        RecordKey { service_sid: r.service_sid.clone(), to: crate::phone::subscriber_key(&r.to).into_owned() }
    }
}

/// Keys are logged when a write fails: only the masked number.
impl std::fmt::Debug for RecordKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecordKey({}, {})", self.service_sid, crate::phone::mask_e164(&self.to))
    }
}

/// What a full write of a record expects to find.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// No record for the number yet.
    Absent,
    /// The record at exactly this version (optimistic concurrency).
    Version(u64),
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

/// The operations the verification flow needs.
pub trait Store: Send + Sync {
    /// Writes a whole record (start, resend) if the stored one is as expected.
    fn put(&self, record: &VerificationRecord, ttl: Seconds, expect: Expect)
        -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Counts one check attempt, before any comparison, if the verification
    /// is pending, unexpired, and neither it nor the number is out of
    /// attempts; `sid`, when given, must be the current verification.
    /// Returns the record after counting. Every rule compares the whole
    /// second of `now_ms`.
    fn count_check(&self, key: &RecordKey, sid: Option<&str>, now_ms: Millis, limits: &Limits)
        -> impl Future<Output = Result<VerificationRecord, StoreError>> + Send;

    /// Approves the verification if it is still pending, unexpired, and still
    /// carries the code hash that matched; resets the number's failure count.
    /// Exactly one of any number of concurrent approvals succeeds.
    fn approve(&self, key: &RecordKey, approval: &Approval<'_>)
        -> impl Future<Output = Result<VerificationRecord, StoreError>> + Send;

    /// Marks a verification whose SMS could not be sent as failed, and gives
    /// the send back to the number's window, if nothing replaced it meanwhile.
    fn void_unsent(&self, key: &RecordKey, sid: &str, code_hash: &CodeHash, now_ms: Millis)
        -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Ends a verification by hand: `Status=canceled`, or `Status=approved`
    /// without a code. Only if `sid` is still the number's current
    /// verification and it is pending, unexpired and not out of attempts
    /// (what [`VerificationRecord::status_at`] calls pending). The number's
    /// send and failure counters are left as they are, so canceling cannot
    /// be used to send more codes or guess more often. Returns the record
    /// after the change.
    fn close(&self, key: &RecordKey, closing: &Closing<'_>)
        -> impl Future<Output = Result<VerificationRecord, StoreError>> + Send;

    /// The number a verification sid belongs to, if it is some number's
    /// current verification.
    fn find_by_sid(&self, service_sid: &str, sid: &str)
        -> impl Future<Output = Result<Option<RecordKey>, StoreError>> + Send;

    /// Notes that a code compared wrong, after the check was counted, so the
    /// event stream can tell a failed check from a successful one. Best effort:
    /// the verdict has already been decided.
    fn note_check_failed(&self, key: &RecordKey, sid: &str, now_ms: Millis)
        -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Notes that a start was refused by a limit (`reason`: `max_sends` or
    /// `locked`), at most once a second per number, for the event stream.
    fn note_start_refused(&self, key: &RecordKey, reason: &str, now_ms: Millis)
        -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Reads a record (strongly consistent).
    fn get(&self, key: &RecordKey) -> impl Future<Output = Result<Option<VerificationRecord>, StoreError>> + Send;
}

/// How a verification is ended by hand.
pub struct Closing<'a> {
    pub sid: &'a str,
    /// `Canceled` or `Approved`.
    pub status: StoredStatus,
    pub now_ms: Millis,
    pub max_check_attempts: u32,
    /// Recorded as `approved_by` for an approval, so a retried one is recognised.
    pub request_id: &'a str,
}

/// The facts an approval writes and is conditioned on.
pub struct Approval<'a> {
    pub sid: &'a str,
    pub code_hash: &'a CodeHash,
    pub now_ms: Millis,
    /// Unique per check request: lets a retried write recognise its own success.
    pub request_id: &'a str,
    pub ttl: Seconds,
}
