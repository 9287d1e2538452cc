//! Real-time expiry: finding pending verifications whose time ran out, so
//! that `verification.expired` is reported as it happens rather than when
//! the store gets round to deleting the record (DynamoDB's TTL: up to 48 h
//! late). A store lists the due records' keys; the note itself is an
//! ordinary guarded [`Change`](crate::change::Change)
//! ([`crate::record::note_expired`]), so a stale listing (a resend, an
//! approval or a cancel since, or a note already made) writes nothing.

#[cfg(doc)]
use super::Store;
use super::{RecordKey, StoreError};
use crate::clock::{Millis, Seconds, secs_of};
use crate::record::VerificationRecord;
use std::future::Future;

/// Records due at most this many at a time.
pub const PAGE: usize = 100;
/// Pages per sweep: a backlog beyond them waits for the next sweep.
pub const MAX_PAGES: usize = 20;

pub trait ExpiryStore: Send + Sync {
    /// Keys of records whose current verification is pending, not yet noted
    /// expired, and expired at or before `now`; at most `limit`, the oldest
    /// expiries first as far as the store can tell. May lag a write (an
    /// index read): the note's guard is the judge.
    fn due_expiries(&self, now: Seconds, limit: usize) -> impl Future<Output = Result<Vec<RecordKey>, StoreError>> + Send;

    /// Applies [`crate::record::note_expired`] as [`Store::apply`] would
    /// (a store whose `apply` also carries puts may apply this update
    /// alone, so the sweep's binary does not link the rest).
    fn note_expired(&self, key: &RecordKey, now_ms: Millis) -> impl Future<Output = Result<VerificationRecord, StoreError>> + Send;
}

/// One sweep at `now_ms`: notes every due expiry it finds, a page at a
/// time; returns how many it noted. A record that changed since it was
/// listed is left as it is (its guard fails), so a sweep repeated, or run
/// twice at once, notes each expiry once.
pub async fn sweep<S: ExpiryStore>(store: &S, now_ms: Millis) -> Result<usize, StoreError> {
    let mut noted = 0;
    for _ in 0..MAX_PAGES {
        let due = store.due_expiries(secs_of(now_ms), PAGE).await?;
        let mut changed = 0;
        for key in &due {
            match store.note_expired(key, now_ms).await {
                Ok(_) => changed += 1,
                Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        noted += changed;
        // A short page is the end; a page of nothing but stale entries (an
        // index that has not caught up) would only be read again.
        if due.len() < PAGE || changed == 0 {
            break;
        }
    }
    Ok(noted)
}
