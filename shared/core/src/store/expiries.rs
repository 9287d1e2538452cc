//! Real-time expiry: finding pending verifications whose time ran out, so
//! that `verification.expired` is reported as it happens rather than when
//! the store gets round to deleting the record (DynamoDB's TTL: up to 48 h
//! late). The note itself is an ordinary guarded
//! [`Change`](crate::change::Change) ([`crate::record::note_expired`]), so
//! a candidate that changed (a resend, an approval or a cancel, a new
//! verification, a note already made) writes nothing.
//!
//! Candidates come from the sends already kept for the Attempts reports,
//! not from an index of their own: a code sent at `t` under a service whose
//! codes are valid for `v` seconds expires at `t + v`, so a sweep at `now`
//! over the sends of the `period` seconds up to `now - v` meets every code
//! that expired since the previous sweep. That costs a read of each
//! verification once (a resend is met again at its own time) and no write
//! on the way of a verification that is approved; a sparse index of
//! pending expiries would cost its row's write at the start and its
//! removal at the approval.
//!
//! What this gives up: a code sent before its service's validity was
//! shortened is met while it is still valid and not again, and one sent
//! before it was lengthened is met late; either is then reported when the
//! store deletes the record, as before the sweep existed.

#[cfg(doc)]
use super::Store;
use super::{RecordKey, StoreError};
use crate::clock::{Millis, Seconds, secs_of};
use crate::record::VerificationRecord;
use futures_util::stream::{self, StreamExt};
use std::collections::BTreeSet;
use std::future::Future;

/// Records read at a time.
pub const PAGE: usize = 100;
/// Notes of one page in flight at once.
const NOTES_IN_FLIGHT: usize = 16;

pub trait ExpiryStore: Send + Sync {
    /// The sids of the verifications of `service_sid` that sent a code at
    /// a whole second in `(after, until]` (each once).
    fn sent_between(
        &self,
        service_sid: &str,
        after: Seconds,
        until: Seconds,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;

    /// The records whose current verification is one of `sids` (at most
    /// [`PAGE`]), with their keys; a sid no record holds any more is left
    /// out. May lag a write: the note's guard is the judge.
    fn current_records(
        &self,
        service_sid: &str,
        sids: &[String],
    ) -> impl Future<Output = Result<Vec<(RecordKey, VerificationRecord)>, StoreError>> + Send;

    /// The tick up to which sweeps have covered every expiry (`None`
    /// before the first sweep).
    fn sweep_mark(&self) -> impl Future<Output = Result<Option<Seconds>, StoreError>> + Send;

    /// Moves the mark forward to `tick` (never back: of two sweeps that
    /// finish out of order, the later tick stays).
    fn save_sweep_mark(&self, tick: Seconds) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Applies [`crate::record::note_expired`] as [`Store::apply`] would
    /// (a store whose `apply` also carries puts may apply this update
    /// alone, so the sweep's binary does not link the rest).
    fn note_expired(&self, key: &RecordKey, now_ms: Millis) -> impl Future<Output = Result<VerificationRecord, StoreError>> + Send;
}

/// A service the sweep looks after: how long its codes are valid, and how
/// many checks a verification may make (one whose checks ran out is
/// reported as `max_attempts_reached`, so noting its expiry would be a
/// write no event comes of).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Swept {
    pub service_sid: String,
    pub validity_secs: Seconds,
    pub max_check_attempts: u32,
}

impl Swept {
    pub fn of(service: &crate::config::Service) -> Swept {
        Swept {
            service_sid: service.sid.clone(),
            validity_secs: service.limits.validity_secs,
            max_check_attempts: service.limits.max_check_attempts,
        }
    }
}

/// The most a sweep covers: after a longer pause (or from a mark left by a
/// replayed old event) it covers the last hour before its tick, and what
/// expired before that is reported when the store deletes the record.
pub const MAX_SPAN_SECS: Seconds = 3_600;

/// One sweep at the schedule's `tick` (at or before `now_ms`, when the notes
/// are made): covers the codes that expired after the stored mark and at or
/// before `tick` (the `first_span_secs` before it when there is no mark
/// yet; at most [`MAX_SPAN_SECS`]), notes every expiry it meets, then moves
/// the mark; returns how many
/// it noted. A failed sweep leaves the mark, so the next covers its span
/// again. A record that changed since it was read is left as it is (its
/// guard fails), so a sweep repeated, or run twice at once, notes each
/// expiry once.
pub async fn sweep<S: ExpiryStore>(
    store: &S,
    services: &[Swept],
    tick: Seconds,
    first_span_secs: Seconds,
    now_ms: Millis,
) -> Result<usize, StoreError> {
    let tick = tick.min(secs_of(now_ms));
    let after = store.sweep_mark().await?.unwrap_or(tick - first_span_secs.max(1)).max(tick - MAX_SPAN_SECS);
    if tick <= after {
        return Ok(0);
    }
    let mut noted = 0;
    for service in services {
        let v = service.validity_secs;
        let sids: BTreeSet<String> = store.sent_between(&service.service_sid, after - v, tick - v).await?.into_iter().collect();
        let sids: Vec<String> = sids.into_iter().collect();
        for page in sids.chunks(PAGE) {
            let records = store.current_records(&service.service_sid, page).await?;
            // Notes are independent writes (each its own guard): a page's
            // go out together, so a busy sweep waits one round trip per
            // NOTES_IN_FLIGHT notes, not one per note.
            let notes: Vec<_> = records.iter().map(|(key, record)| note_if_due(store, service, key, record, now_ms)).collect();
            let results: Vec<Result<bool, StoreError>> = stream::iter(notes).buffer_unordered(NOTES_IN_FLIGHT).collect().await;
            for done in results {
                noted += done? as usize;
            }
        }
    }
    store.save_sweep_mark(tick).await?;
    Ok(noted)
}

/// Notes `record`'s expiry if the note's own guard holds on what was read
/// (so an approved or resent verification costs no refused write) and its
/// checks did not run out (it ends as `max_attempts_reached` then, and no
/// event would come of the note); whether it was noted.
async fn note_if_due<S: ExpiryStore>(
    store: &S,
    service: &Swept,
    key: &RecordKey,
    record: &VerificationRecord,
    now_ms: Millis,
) -> Result<bool, StoreError> {
    if record.attempts_used_up(service.max_check_attempts) || !crate::record::note_expired(key, now_ms).guard.holds(Some(record)) {
        return Ok(false);
    }
    match store.note_expired(key, now_ms).await {
        Ok(_) => Ok(true),
        Err(StoreError::Conflict(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Records the spans asked for; holds no sends (the notes are the
    /// integration tests', on every engine).
    #[derive(Default)]
    struct Spans {
        asked: Mutex<Vec<(Seconds, Seconds)>>,
        mark: Mutex<Option<Seconds>>,
        down: Mutex<bool>,
    }

    impl ExpiryStore for Spans {
        async fn sent_between(&self, _: &str, after: Seconds, until: Seconds) -> Result<Vec<String>, StoreError> {
            if *self.down.lock().unwrap() {
                return Err(StoreError::Unavailable("down".into()));
            }
            self.asked.lock().unwrap().push((after, until));
            Ok(Vec::new())
        }
        async fn current_records(&self, _: &str, _: &[String]) -> Result<Vec<(RecordKey, VerificationRecord)>, StoreError> {
            Ok(Vec::new())
        }
        async fn sweep_mark(&self) -> Result<Option<Seconds>, StoreError> {
            Ok(*self.mark.lock().unwrap())
        }
        async fn save_sweep_mark(&self, tick: Seconds) -> Result<(), StoreError> {
            let mut m = self.mark.lock().unwrap();
            *m = Some(m.map_or(tick, |m| m.max(tick)));
            Ok(())
        }
        async fn note_expired(&self, _: &RecordKey, _: Millis) -> Result<VerificationRecord, StoreError> {
            unreachable!("no record is read")
        }
    }

    /// Each sweep covers the sends whose codes expired since the last one
    /// that finished, whatever the ticks' spacing, at most the last hour.
    #[tokio::test]
    async fn spans_follow_the_mark() {
        let s = Spans::default();
        let services = [Swept { service_sid: "VA1".into(), validity_secs: 600, max_check_attempts: 5 }];
        let run = |tick: Seconds| sweep(&s, &services, tick, 60, (tick + 5) * 1000);
        let asked = || std::mem::take(&mut *s.asked.lock().unwrap());
        run(10_000).await.unwrap();
        assert_eq!(asked(), [(9_340, 9_400)], "no mark yet: the first period");
        run(10_090).await.unwrap();
        assert_eq!(asked(), [(9_400, 9_490)], "from the mark, however late the tick");
        *s.down.lock().unwrap() = true;
        assert!(run(10_150).await.is_err());
        *s.down.lock().unwrap() = false;
        run(10_210).await.unwrap();
        assert_eq!(asked(), [(9_490, 9_610)], "a failed sweep's span is covered by the next");
        run(10_210).await.unwrap();
        run(9_000).await.unwrap();
        assert_eq!(asked(), [], "a retried or replayed old tick covers nothing");
        run(30_000).await.unwrap();
        assert_eq!(asked(), [(25_800, 29_400)], "after a long pause, the last hour");
        assert_eq!(*s.mark.lock().unwrap(), Some(30_000));
    }
}
