//! The verification state machine, as pure functions over one record.
//!
//! One record exists per (service, recipient key). It holds the current
//! verification (sid, code hash, status, check attempts, expiry) and the
//! recipient's own counters (sends in the current window, failed checks in
//! the current window), so every limit can be enforced by one conditional
//! write on a single item. Each operation here returns a [`Change`]: what
//! to write and the [`Guard`] under which the write is valid. A store only
//! applies it (see [`crate::change`]); no rule is restated anywhere else.

use crate::change::{Assign, Change, Field, Guard, Idle, Value, Write};
use crate::clock::{Millis, Seconds, secs_of};
use crate::config::Limits;
use crate::otp::CodeHash;
use crate::store::RecordKey;

/// What is stored. `Pending` is the only state a code can be checked in;
/// expiry and exhausted attempts are derived from time and counters (see
/// [`VerificationRecord::status_at`]), so no write is needed for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoredStatus {
    Pending,
    Approved,
    Canceled,
    /// The SMS could not be sent; the code was never delivered.
    Failed,
}

/// What a client sees, in Twilio's vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Pending,
    Approved,
    Canceled,
    MaxAttemptsReached,
    Expired,
    Failed,
}

impl StoredStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StoredStatus::Pending => "pending",
            StoredStatus::Approved => "approved",
            StoredStatus::Canceled => "canceled",
            StoredStatus::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<StoredStatus> {
        Some(match s {
            "pending" => StoredStatus::Pending,
            "approved" => StoredStatus::Approved,
            "canceled" => StoredStatus::Canceled,
            "failed" => StoredStatus::Failed,
            _ => return None,
        })
    }
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Canceled => "canceled",
            Status::MaxAttemptsReached => "max_attempts_reached",
            Status::Expired => "expired",
            Status::Failed => "failed",
        }
    }
}

/// One send of a code, as Twilio lists them in `send_code_attempts`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendAttempt {
    pub attempt_sid: String,
    pub time: Seconds,
    pub channel: String,
}

/// At most this many sends are remembered per verification (the newest).
pub const MAX_SEND_ATTEMPTS_KEPT: usize = 10;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerificationRecord {
    pub service_sid: String,
    pub to: String,
    pub country: Option<String>,
    pub sid: String,
    pub channel: String,
    pub locale: String,
    pub status: StoredStatus,
    pub code_hash: CodeHash,
    /// Checks counted against this verification (each answered check is
    /// counted by the same write that records its outcome, [`check`]).
    pub attempts: u32,
    pub created_at: Seconds,
    pub updated_at: Seconds,
    pub expires_at: Seconds,
    pub send_attempts: Vec<SendAttempt>,
    /// Sends to this number in the window that began at `send_window_start`.
    pub sends: u32,
    pub send_window_start: Seconds,
    /// Checks of this number, across verifications, since the window began
    /// or since the last approval. A new code does not reset it (NIST).
    pub failures: u32,
    pub failure_window_start: Seconds,
    /// Bumped by every write to the item, so it counts the item's changes:
    /// a start writes only if it is unchanged, and the events derived from a
    /// change carry it as their `sequence` (and their ids are made from it).
    pub version: u64,
    /// When the last write happened, in milliseconds (set by every write
    /// with `version`); orders events within a second.
    pub changed_ms: Millis,
    /// The request whose check (right or wrong) or close (cancel, approval
    /// by hand) wrote last, so a request whose write landed but whose
    /// answer was lost recognises its own write when the SDK's retry is
    /// refused.
    pub checked_by: Option<String>,
    /// When the store may delete the record (see [`VerificationRecord::ttl_for`]).
    pub ttl: Seconds,
    /// What happened to the record that changes none of the above, noted
    /// for the event stream only.
    pub activity: Activity,
    /// The recipient is one of its service's test recipients (test mode):
    /// nothing was sent, and its events and reports say so.
    pub test: bool,
}

/// Outcomes that change no rule's inputs, noted on the record so the event
/// stream (which sees only records) can report them. A full write (start,
/// resend) starts them afresh.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Activity {
    /// Wrong codes entered for the current verification, counted with the
    /// attempt, so the event stream tells a failed check from an approval.
    pub failed_checks: u32,
    /// Starts refused by a limit since the last full write, when the last
    /// one was (whole seconds), and why (`max_sends` or `locked`).
    pub refused_starts: u32,
    pub refused_at: Seconds,
    pub refused_reason: Option<String>,
    /// The expiry sweep noted that this pending verification ran out of
    /// time ([`note_expired`]): the stream reports `verification.expired`
    /// from this note, as it happens, and not again at TTL removal.
    pub expiry_noted: bool,
}

impl VerificationRecord {
    /// The status a client sees at `now`: an expired or exhausted pending
    /// verification is reported as such even though no write recorded it.
    pub fn status_at(&self, now: Seconds, limits: &Limits) -> Status {
        match self.status {
            StoredStatus::Pending if now >= self.expires_at => Status::Expired,
            StoredStatus::Pending if self.attempts_used_up(limits.max_check_attempts) => Status::MaxAttemptsReached,
            StoredStatus::Pending => Status::Pending,
            StoredStatus::Approved => Status::Approved,
            StoredStatus::Canceled => Status::Canceled,
            StoredStatus::Failed => Status::Failed,
        }
    }

    /// Whether this verification's check attempts are used up under a
    /// service allowing `max_check_attempts`: it then ends as
    /// `max_attempts_reached`, never as `expired`.
    pub fn attempts_used_up(&self, max_check_attempts: u32) -> bool {
        self.attempts >= max_check_attempts
    }

    /// A code can be checked only while pending, unexpired and not exhausted.
    pub fn is_checkable(&self, now: Seconds, limits: &Limits) -> bool {
        self.status_at(now, limits) == Status::Pending
    }

    /// When DynamoDB may delete the item: once the verification, the send
    /// window and (if any failures are counted) the failure window are all
    /// over. Only garbage collection depends on this; every rule compares
    /// `expires_at` and the windows itself, because TTL deletes days late.
    pub fn ttl_for(&self, limits: &Limits) -> Seconds {
        let mut ttl = self.expires_at.max(self.send_window_start + limits.send_window_secs);
        if self.failures > 0 {
            ttl = ttl.max(self.failure_window_start + limits.failure_window_secs);
        }
        ttl
    }
}

/// Why a start is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartRefusal {
    /// Too many sends to this number in the window (Twilio 60203).
    SendsExhausted { retry_after: Seconds },
    /// Too many failed checks of this number (Twilio 60202): no new code
    /// until the window passes, so resending cannot reset the count.
    Locked { retry_after: Seconds },
}

/// The fresh values a start brings: a new sid (used if a new verification is
/// needed), the attempt sid, and how to hash the code under a given sid.
pub struct StartInput<'a> {
    pub service_sid: &'a str,
    pub to: &'a str,
    pub country: Option<&'a str>,
    pub channel: &'a str,
    pub locale: &'a str,
    pub new_sid: &'a str,
    pub attempt_sid: &'a str,
    /// The moment of the start; every rule reads its whole second ([`StartInput::now`]).
    pub now_ms: Millis,
    pub hash_for: &'a (dyn Fn(&str) -> CodeHash + Sync),
    /// A test recipient's start (see [`VerificationRecord::test`]).
    pub test: bool,
}

impl StartInput<'_> {
    pub fn now(&self) -> Seconds {
        secs_of(self.now_ms)
    }
}

/// Decides what a start writes, given the record now stored (if any): the
/// whole new record, on condition that nothing changed the stored one since
/// it was read (or that there still is none).
///
/// A pending, unexpired, unexhausted verification is resent: same sid, fresh
/// code, fresh validity. Anything else (none, approved, canceled, failed,
/// expired, exhausted) gives way to a new verification. The recipient's
/// send and failure counters carry over within their windows either way.
pub fn plan_start(old: Option<&VerificationRecord>, input: &StartInput<'_>, limits: &Limits) -> Result<Change, StartRefusal> {
    Ok(plan_start_of(old, new_record(old, input, limits)?, limits))
}

/// The change that writes a start's new `record` over `old`, the record it
/// was planned from: only if that is still what is stored. Planned from no
/// record (a start that has read nothing), it may also write over a record
/// that is [`Idle`] at its moment under `limits`: the plan would have been
/// the same but for `version`, which then starts again at 1 (events are
/// named by sid, so a new verification's cannot meet its predecessor's).
/// A returning number whose last verification is over (expired or
/// approved, its send window past, no failures counting) so costs one
/// write, not a refused one and a second.
pub fn plan_start_of(old: Option<&VerificationRecord>, record: VerificationRecord, limits: &Limits) -> Change {
    let guard = match old {
        None => Guard {
            absent_or_idle: Some(Idle::at(record.updated_at, limits.send_window_secs, limits.failure_window_secs)),
            ..Guard::default()
        },
        Some(o) => Guard { version: Some(o.version), ..Guard::default() },
    };
    Change { key: RecordKey::of(&record), write: Write::Put(Box::new(record)), guard }
}

fn new_record(old: Option<&VerificationRecord>, input: &StartInput<'_>, limits: &Limits) -> Result<VerificationRecord, StartRefusal> {
    let now = input.now();
    let (sends, send_window_start) = match old {
        Some(o) if now < o.send_window_start + limits.send_window_secs => {
            if o.sends >= limits.max_sends {
                let retry_after = o.send_window_start + limits.send_window_secs - now;
                return Err(StartRefusal::SendsExhausted { retry_after });
            }
            (o.sends + 1, o.send_window_start)
        }
        _ => (1, now),
    };
    // Without failures there is no failure window to carry: it starts again
    // (so an idle record plans as no record does; see [`Idle`]).
    let (failures, failure_window_start) = match old {
        Some(o) if o.failures > 0 && now < o.failure_window_start + limits.failure_window_secs => {
            if o.failures >= limits.max_failures {
                let retry_after = o.failure_window_start + limits.failure_window_secs - now;
                return Err(StartRefusal::Locked { retry_after });
            }
            (o.failures, o.failure_window_start)
        }
        _ => (0, now),
    };
    let attempt = SendAttempt { attempt_sid: input.attempt_sid.to_owned(), time: now, channel: input.channel.to_owned() };
    let resend = old.filter(|o| o.is_checkable(now, limits));
    let (sid, created_at, attempts, mut send_attempts) = match resend {
        Some(o) => (o.sid.clone(), o.created_at, o.attempts, o.send_attempts.clone()),
        None => (input.new_sid.to_owned(), now, 0, Vec::new()),
    };
    send_attempts.push(attempt);
    if send_attempts.len() > MAX_SEND_ATTEMPTS_KEPT {
        send_attempts.drain(..send_attempts.len() - MAX_SEND_ATTEMPTS_KEPT);
    }
    let mut record = VerificationRecord {
        service_sid: input.service_sid.to_owned(),
        to: input.to.to_owned(),
        country: input.country.map(str::to_owned),
        code_hash: (input.hash_for)(&sid),
        sid,
        channel: input.channel.to_owned(),
        locale: input.locale.to_owned(),
        status: StoredStatus::Pending,
        attempts,
        created_at,
        updated_at: now,
        expires_at: now + limits.validity_secs,
        send_attempts,
        sends,
        send_window_start,
        failures,
        failure_window_start,
        version: old.map_or(1, |o| o.version + 1),
        changed_ms: input.now_ms,
        checked_by: None,
        ttl: 0,
        activity: Activity::default(),
        test: input.test,
    };
    record.ttl = record.ttl_for(limits);
    Ok(record)
}

/// Every change is numbered and timed: `version` counts the item's changes
/// (a start that read an older one re-plans instead of overwriting), and
/// the event stream makes each event's sequence, id and sub-second time
/// from the two.
fn stamp(now_ms: Millis) -> [Assign; 2] {
    [Assign::Add(Field::Version, 1), Assign::Set(Field::ChangedMs, Value::Int(now_ms))]
}

fn update(key: &RecordKey, guard: Guard, now_ms: Millis, assigns: impl IntoIterator<Item = Assign>) -> Change {
    let write = Write::Update(assigns.into_iter().chain(stamp(now_ms)).collect());
    Change { key: key.clone(), write, guard }
}

/// The longest any record must be kept after a write that counts something.
pub fn longest_window(limits: &Limits) -> Seconds {
    limits.failure_window_secs.max(limits.validity_secs).max(limits.send_window_secs)
}

/// One check of a code against the record as it was read, `right` being
/// what the constant-time comparison of the code with the read hash found:
/// a single write that counts the attempt and records its outcome.
///
/// The guard holds the record at the version that was read, so an answer is
/// given only when its attempt was counted on exactly the record it was
/// compared with. Of any number of parallel checks, each version lets one
/// write through; the others are refused and compare again on what stands
/// now. So every answer a client gets is a counted attempt, and no more
/// answers are given than the limits allow (Kratos counts first and
/// compares after, in two writes; the version gives the same bound in one).
/// The other conditions restate what the caller found on the read (pending,
/// the same sid, unexpired at this second, attempts and failures below
/// their limits) so the write carries its rule whatever read it followed.
///
/// Either way the write records `request_id`, so a write that landed but
/// whose answer was lost recognises itself in the refusal of the SDK's
/// retry and is not counted twice. A right code approves and resets the
/// recipient's failure count; after it only the send window matters to
/// the record's lifetime. A wrong code
/// counts a failure for the recipient (across verifications, NIST) and for
/// the event stream, and keeps the record as long as any window.
pub fn check(read: &VerificationRecord, right: bool, request_id: &str, now_ms: Millis, limits: &Limits) -> Change {
    let now = secs_of(now_ms);
    let guard = Guard {
        exists: Some(true),
        version: Some(read.version),
        status: Some(StoredStatus::Pending),
        sid: Some(read.sid.clone()),
        unexpired_at: Some(now),
        attempts_below: Some(limits.max_check_attempts),
        failures_below: Some(limits.max_failures),
        ..Guard::default()
    };
    let counted = [
        Assign::Add(Field::Attempts, 1),
        Assign::Set(Field::UpdatedAt, Value::Int(now)),
        Assign::Set(Field::CheckedBy, Value::Text(request_id.to_owned())),
    ];
    let outcome = if right {
        let ttl = (read.send_window_start + limits.send_window_secs).max(now);
        vec![
            Assign::Set(Field::Status, Value::Status(StoredStatus::Approved)),
            Assign::Set(Field::Failures, Value::Int(0)),
            Assign::Set(Field::Ttl, Value::Int(ttl)),
        ]
    } else {
        vec![
            Assign::Add(Field::Failures, 1),
            Assign::Add(Field::FailedChecks, 1),
            Assign::Set(Field::Ttl, Value::Int(now + longest_window(limits))),
        ]
    };
    update(&RecordKey::of(read), guard, now_ms, counted.into_iter().chain(outcome))
}

/// Marks a verification whose code could not be sent as failed, and gives
/// the send back to the recipient's window, if nothing replaced it meanwhile.
pub fn void_unsent(record: &VerificationRecord, now_ms: Millis) -> Change {
    let guard = Guard {
        exists: Some(true),
        status: Some(StoredStatus::Pending),
        sid: Some(record.sid.clone()),
        code_hash: Some(record.code_hash.clone()),
        sends_at_least: Some(1),
        ..Guard::default()
    };
    update(
        &RecordKey::of(record),
        guard,
        now_ms,
        [
            Assign::Set(Field::Status, Value::Status(StoredStatus::Failed)),
            Assign::Add(Field::Sends, -1),
            Assign::Set(Field::UpdatedAt, Value::Int(secs_of(now_ms))),
        ],
    )
}

/// Ends a verification by hand: `Canceled`, or `Approved` without a code.
/// Only if `sid` is still the recipient's current verification and it is
/// pending, unexpired and not out of attempts (what
/// [`VerificationRecord::status_at`] calls pending). The send and failure
/// counters are left as they are, so canceling cannot be used to send more
/// codes or guess more often; the TTL already outlives every window (each
/// counting write set it so), and ending the verification extends none.
pub fn close(key: &RecordKey, sid: &str, status: StoredStatus, request_id: &str, now_ms: Millis, limits: &Limits) -> Change {
    debug_assert!(matches!(status, StoredStatus::Canceled | StoredStatus::Approved));
    let now = secs_of(now_ms);
    let guard = Guard {
        exists: Some(true),
        status: Some(StoredStatus::Pending),
        sid: Some(sid.to_owned()),
        unexpired_at: Some(now),
        attempts_below: Some(limits.max_check_attempts),
        ..Guard::default()
    };
    let assigns = [
        Assign::Set(Field::Status, Value::Status(status)),
        Assign::Set(Field::UpdatedAt, Value::Int(now)),
        Assign::Set(Field::CheckedBy, Value::Text(request_id.to_owned())),
    ];
    update(key, guard, now_ms, assigns)
}

/// Notes that a start was refused by a limit (`reason`: `max_sends` or
/// `locked`), at most once a second per recipient, so a flood of refused
/// starts cannot turn into a flood of writes.
pub fn note_start_refused(key: &RecordKey, reason: &str, now_ms: Millis) -> Change {
    let now = secs_of(now_ms);
    let guard = Guard { exists: Some(true), no_refusal_noted_since: Some(now), ..Guard::default() };
    update(
        key,
        guard,
        now_ms,
        [
            Assign::Add(Field::RefusedStarts, 1),
            Assign::Set(Field::RefusedAt, Value::Int(now)),
            Assign::Set(Field::RefusedReason, Value::Text(reason.to_owned())),
        ],
    )
}

/// Notes that the record's current verification expired unchecked, once:
/// only while it is pending, its `expires_at` is at or before `now` and no
/// note was made yet. The sweep finds candidates among the sends of the
/// span that just expired ([`crate::store::expiries`]); the guard, not what
/// the sweep read, decides. A resend or a
/// new verification in between moved `expires_at` past `now`, and an
/// approval or cancel changed the status, so neither is noted.
pub fn note_expired(key: &RecordKey, now_ms: Millis) -> Change {
    let guard = Guard {
        exists: Some(true),
        status: Some(StoredStatus::Pending),
        expired_at: Some(secs_of(now_ms)),
        expiry_noted: Some(false),
        ..Guard::default()
    };
    update(key, guard, now_ms, [Assign::Set(Field::ExpiryNoted, Value::Int(1))])
}

/// Why a check cannot be counted, read from the record as it stood.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckRefusal {
    /// No pending verification: never started, approved, canceled, failed,
    /// expired, or a sid that is not the number's current one (Twilio 20404).
    NotFound,
    /// This verification's attempts are used up (Twilio 60202).
    AttemptsExhausted { retry_after: Seconds },
    /// The number is locked after too many failures across verifications
    /// (Twilio 60202 too, with its own message and unlock time).
    Locked { retry_after: Seconds },
}

/// The record a code may be checked against now, or why there is none:
/// the recipient's current verification (`expected_sid`, when the check
/// names one), pending, unexpired, not out of attempts, and the recipient
/// not locked by failures. `current` is the record as read (`None`: there
/// is no record at all).
pub fn checkable<'r>(
    current: Option<&'r VerificationRecord>,
    expected_sid: Option<&str>,
    now: Seconds,
    limits: &Limits,
) -> Result<&'r VerificationRecord, CheckRefusal> {
    let Some(r) = current else { return Err(CheckRefusal::NotFound) };
    if expected_sid.is_some_and(|sid| sid != r.sid) {
        return Err(CheckRefusal::NotFound);
    }
    match r.status_at(now, limits) {
        Status::MaxAttemptsReached => Err(CheckRefusal::AttemptsExhausted { retry_after: r.expires_at - now }),
        Status::Pending if r.failures >= limits.max_failures => {
            Err(CheckRefusal::Locked { retry_after: (r.failure_window_start + limits.failure_window_secs - now).max(1) })
        }
        Status::Pending => Ok(r),
        _ => Err(CheckRefusal::NotFound),
    }
}

/// Fixtures for tests of whatever consumes records (this module's, the
/// event derivation's, the store's against real engines): one planned start
/// with fixed example inputs, so every suite builds records the same way.
#[doc(hidden)]
pub mod example {
    use super::*;

    /// A stand-in code hash: the sid's bytes under key "k".
    pub fn code_hash(sid: &str) -> CodeHash {
        CodeHash { key_id: "k".into(), digest: sid.as_bytes().to_vec() }
    }

    /// `plan_start` for service VA1, an SMS in English to `to` (a US
    /// number), with default limits.
    pub fn start(
        old: Option<&VerificationRecord>,
        to: &str,
        new_sid: &str,
        attempt_sid: &str,
        now: Seconds,
    ) -> Result<VerificationRecord, StartRefusal> {
        let input = StartInput {
            service_sid: "VA1",
            to,
            country: Some("US"),
            channel: "sms",
            locale: "en",
            new_sid,
            attempt_sid,
            now_ms: now * 1000,
            hash_for: &code_hash,
            test: false,
        };
        plan_start(old, &input, &Limits::default()).map(Change::into_record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Seconds = 1_700_000_000;

    use example::code_hash as hash;

    fn start(old: Option<&VerificationRecord>, now: Seconds, new_sid: &str) -> Result<VerificationRecord, StartRefusal> {
        example::start(old, "+14155550123", new_sid, "VL1", now)
    }

    #[test]
    fn first_start_creates_a_pending_verification() {
        let r = start(None, T0, "VEa").unwrap();
        assert_eq!((r.sid.as_str(), r.status, r.attempts, r.sends, r.version), ("VEa", StoredStatus::Pending, 0, 1, 1));
        assert_eq!(r.expires_at, T0 + 600);
        assert_eq!(r.code_hash, hash("VEa"));
        assert_eq!(r.changed_ms, T0 * 1000);
    }

    #[test]
    fn resend_keeps_the_sid_and_replaces_the_code() {
        let first = start(None, T0, "VEa").unwrap();
        let second = start(Some(&first), T0 + 60, "VEb").unwrap();
        assert_eq!(second.sid, "VEa");
        assert_eq!(second.sends, 2);
        assert_eq!(second.send_attempts.len(), 2);
        assert_eq!(second.expires_at, T0 + 660);
        assert_eq!(second.version, 2);
    }

    #[test]
    fn expired_or_finished_verifications_give_way_to_new_ones() {
        let first = start(None, T0, "VEa").unwrap();
        let after_expiry = start(Some(&first), T0 + 600, "VEb").unwrap();
        assert_eq!(after_expiry.sid, "VEb", "expired means expired, whatever TTL has done");
        let mut approved = first.clone();
        approved.status = StoredStatus::Approved;
        assert_eq!(start(Some(&approved), T0 + 1, "VEc").unwrap().sid, "VEc");
        let mut exhausted = first.clone();
        exhausted.attempts = 5;
        let fresh = start(Some(&exhausted), T0 + 1, "VEd").unwrap();
        assert_eq!((fresh.sid.as_str(), fresh.attempts), ("VEd", 0));
    }

    /// The sweep's rule: noted once, only at or after the expiry, only
    /// while pending; a resend or a closing write in between keeps it out.
    #[test]
    fn an_expiry_is_noted_once_and_only_when_due_and_pending() {
        let limits = Limits::default();
        let r = start(None, T0, "VEa").unwrap();
        let key = RecordKey::of(&r);
        let at = |now: Seconds| note_expired(&key, now * 1000);
        assert!(!at(r.expires_at - 1).guard.holds(Some(&r)), "not before the expiry");
        let change = at(r.expires_at);
        assert!(change.guard.holds(Some(&r)));
        let noted = change.write.applied_to(Some(&r)).unwrap();
        assert!(noted.activity.expiry_noted);
        assert_eq!((noted.version, noted.changed_ms, noted.status), (r.version + 1, r.expires_at * 1000, StoredStatus::Pending));
        assert_eq!(noted.status_at(r.expires_at, &limits), Status::Expired);
        assert!(!at(r.expires_at + 60).guard.holds(Some(&noted)), "a second sweep notes nothing");
        // Approved or canceled first: never noted.
        for status in [StoredStatus::Approved, StoredStatus::Canceled, StoredStatus::Failed] {
            let closed = close(&key, "VEa", StoredStatus::Canceled, "RQ", T0 * 1000, &limits).write.applied_to(Some(&r)).unwrap();
            let closed = VerificationRecord { status, ..closed };
            assert!(!at(r.expires_at).guard.holds(Some(&closed)), "{status:?}");
        }
        // Resent first: due only at the new expiry.
        let resent = start(Some(&r), T0 + 300, "VEb").unwrap();
        assert!(!at(r.expires_at).guard.holds(Some(&resent)));
        assert!(at(resent.expires_at).guard.holds(Some(&resent)));
        assert!(!at(r.expires_at).guard.holds(None), "nothing to note without a record");
    }

    #[test]
    fn sixth_send_in_the_window_is_refused_until_it_passes() {
        let mut r = start(None, T0, "VEa").unwrap();
        for i in 1..5 {
            r = start(Some(&r), T0 + i, "VEx").unwrap();
        }
        assert_eq!(r.sends, 5);
        assert_eq!(start(Some(&r), T0 + 10, "VEx"), Err(StartRefusal::SendsExhausted { retry_after: 590 }));
        assert_eq!(start(Some(&r), T0 + 600, "VEy").unwrap().sends, 1);
    }

    #[test]
    fn failures_carry_over_new_codes_and_lock_the_number() {
        let mut r = start(None, T0, "VEa").unwrap();
        r.failures = 20;
        assert_eq!(start(Some(&r), T0 + 700, "VEb"), Err(StartRefusal::Locked { retry_after: 86_400 - 700 }));
        r.failures = 7;
        let next = start(Some(&r), T0 + 700, "VEb").unwrap();
        assert_eq!(next.failures, 7, "a new code must not reset the failure count");
        let next_day = start(Some(&r), T0 + 86_400, "VEc").unwrap();
        assert_eq!(next_day.failures, 0);
    }

    #[test]
    fn status_is_derived_from_time_and_counters() {
        let limits = Limits::default();
        let mut r = start(None, T0, "VEa").unwrap();
        assert_eq!(r.status_at(T0 + 599, &limits), Status::Pending);
        assert_eq!(r.status_at(T0 + 600, &limits), Status::Expired);
        r.attempts = 5;
        assert_eq!(r.status_at(T0 + 1, &limits), Status::MaxAttemptsReached);
    }

    #[test]
    fn refused_checks_are_classified() {
        let limits = Limits::default();
        let mut r = start(None, T0, "VEa").unwrap();
        let refusal = |r: Option<&VerificationRecord>, sid: Option<&str>, now: Seconds| checkable(r, sid, now, &limits).err();
        assert_eq!(refusal(None, None, T0), Some(CheckRefusal::NotFound));
        assert_eq!(refusal(Some(&r), Some("VEother"), T0), Some(CheckRefusal::NotFound));
        assert_eq!(refusal(Some(&r), None, T0 + 601), Some(CheckRefusal::NotFound));
        assert_eq!(refusal(Some(&r), Some("VEa"), T0 + 599), None);
        r.attempts = 5;
        assert_eq!(refusal(Some(&r), None, T0 + 100), Some(CheckRefusal::AttemptsExhausted { retry_after: 500 }));
        r.attempts = 1;
        r.failures = 20;
        assert!(matches!(refusal(Some(&r), None, T0), Some(CheckRefusal::Locked { .. })));
        r.status = StoredStatus::Approved;
        assert_eq!(refusal(Some(&r), None, T0), Some(CheckRefusal::NotFound));
    }

    /// One write counts the attempt and records its outcome; it holds only
    /// on the version that was compared, so a parallel check that wrote
    /// first sends the other back to compare again.
    #[test]
    fn a_check_counts_and_decides_in_one_write_on_the_version_read() {
        let limits = Limits::default();
        let r = start(None, T0, "VEa").unwrap();
        let at = (T0 + 10) * 1000;
        let wrong = check(&r, false, "RQ1", at, &limits);
        assert!(wrong.guard.holds(Some(&r)));
        let failed = wrong.write.applied_to(Some(&r)).unwrap();
        assert_eq!((failed.status, failed.attempts, failed.failures), (StoredStatus::Pending, 1, 1));
        assert_eq!((failed.activity.failed_checks, failed.version, failed.ttl), (1, r.version + 1, T0 + 10 + 86_400));
        assert!(!wrong.guard.holds(Some(&failed)), "the same read cannot be answered twice");
        let right = check(&failed, true, "RQ2", at, &limits);
        assert!(right.guard.holds(Some(&failed)));
        assert!(!check(&r, true, "RQ2", at, &limits).guard.holds(Some(&failed)), "a stale read's answer does not stand");
        let approved = right.write.applied_to(Some(&failed)).unwrap();
        assert_eq!((approved.status, approved.attempts, approved.failures), (StoredStatus::Approved, 2, 0));
        assert_eq!((approved.activity.failed_checks, approved.checked_by.as_deref()), (1, Some("RQ2")));
        assert_eq!(approved.ttl, T0 + 600, "after approval only the send window counts");
        // Each limit is in the guard too, whatever the read said.
        let mut used_up = failed.clone();
        used_up.attempts = 5;
        assert!(!check(&used_up, true, "RQ", at, &limits).guard.holds(Some(&used_up)));
        let mut locked = failed.clone();
        locked.failures = 20;
        assert!(!check(&locked, true, "RQ", at, &limits).guard.holds(Some(&locked)));
        assert!(!check(&r, true, "RQ", (T0 + 600) * 1000, &limits).guard.holds(Some(&r)), "expired at this second");
    }

    /// A start that has read nothing may write over a record in which
    /// nothing counts any more (a returning number), never over one in
    /// which anything still does; what it writes is what reading it first
    /// would have planned, but for the version.
    #[test]
    fn a_blind_start_writes_over_an_idle_record_only() {
        let limits = Limits::default();
        let plan = |old: Option<&VerificationRecord>, now: Seconds| {
            let input = StartInput {
                service_sid: "VA1",
                to: "+14155550123",
                country: Some("US"),
                channel: "sms",
                locale: "en",
                new_sid: "VEb",
                attempt_sid: "VL2",
                now_ms: now * 1000,
                hash_for: &hash,
                test: false,
            };
            plan_start(old, &input, &limits).unwrap()
        };
        let blind = |now| plan(None, now).guard;
        let first = start(None, T0, "VEa").unwrap();
        let approved = check(&first, true, "RQ", (T0 + 30) * 1000, &limits).write.applied_to(Some(&first)).unwrap();
        assert!(blind(T0).holds(None), "no record");
        // Approved, but its send window (600 s from T0) still counts.
        assert!(!blind(T0 + 599).holds(Some(&approved)));
        assert!(blind(T0 + 600).holds(Some(&approved)));
        // Pending and unexpired: a resend, never a blind write.
        assert!(!blind(T0 + 599).holds(Some(&first)));
        // A wrong code counts for 24 hours, approval or not.
        let failed = check(&first, false, "RQ", (T0 + 30) * 1000, &limits).write.applied_to(Some(&first)).unwrap();
        assert!(!blind(T0 + 3600).holds(Some(&failed)));
        assert!(blind(T0 + 86_400).holds(Some(&failed)));
        // Over an idle record the blind plan is the informed one, version aside.
        let informed = plan(Some(&approved), T0 + 3600).into_record();
        let blind_record = plan(None, T0 + 3600).into_record();
        assert_eq!(VerificationRecord { version: informed.version, ..blind_record }, informed);
        // Without failures no failure window is carried: it starts again.
        assert_eq!((informed.failures, informed.failure_window_start), (0, T0 + 3600));
    }

    /// `Idle` (the blind start's condition, in thresholds a store can
    /// compare) and `ttl_for` (when nothing counts any more) are one rule.
    #[test]
    fn idle_is_exactly_past_the_ttl() {
        let limits = Limits::default();
        let first = start(None, T0, "VEa").unwrap();
        let approved = check(&first, true, "RQ", (T0 + 30) * 1000, &limits).write.applied_to(Some(&first)).unwrap();
        let failed = check(&first, false, "RQ", (T0 + 30) * 1000, &limits).write.applied_to(Some(&first)).unwrap();
        for r in [&first, &approved, &failed] {
            for now in [T0, T0 + 599, T0 + 600, T0 + 601, T0 + 86_399, T0 + 86_400, T0 + 86_430, T0 + 90_000] {
                let idle = Idle::at(now, limits.send_window_secs, limits.failure_window_secs).holds(r);
                assert_eq!(idle, r.ttl_for(&limits) <= now, "{now}: {r:?}");
            }
        }
    }

    #[test]
    fn ttl_outlives_every_window_that_still_counts() {
        let limits = Limits::default();
        let mut r = start(None, T0, "VEa").unwrap();
        assert_eq!(r.ttl_for(&limits), T0 + 600);
        assert_eq!(r.ttl, T0 + 600, "a start writes its TTL");
        r.failures = 1;
        assert_eq!(r.ttl_for(&limits), T0 + 86_400);
    }

    #[test]
    fn send_history_is_bounded() {
        let limits = Limits { max_sends: 100, ..Limits::default() };
        let mut r = start(None, T0, "VEa").unwrap();
        for i in 1..30 {
            let input = StartInput {
                service_sid: "VA1",
                to: "+1",
                country: None,
                channel: "sms",
                locale: "en",
                new_sid: "VEz",
                attempt_sid: "VL",
                now_ms: (T0 + i) * 1000,
                hash_for: &hash,
                test: false,
            };
            r = plan_start(Some(&r), &input, &limits).unwrap().into_record();
        }
        assert_eq!(r.sid, "VEa");
        assert_eq!(r.send_attempts.len(), MAX_SEND_ATTEMPTS_KEPT);
    }
}
