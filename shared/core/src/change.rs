//! What the state machine asks a store to do: one write and the guard under
//! which it is valid. The core decides both ([`crate::record`]'s operations);
//! a store only translates them, mechanically: DynamoDB turns the guard into
//! a `ConditionExpression` and the write into a `PutItem` or an
//! `UpdateExpression`, a SQL store would turn them into a `WHERE` and a
//! `SET`, and [`crate::store::memory`] evaluates them on a record in memory.
//! No store restates a rule of its own.
//!
//! Every limit holds under concurrency because the guard is checked and the
//! write applied atomically, on one item, by the store.

use crate::clock::{Millis, Seconds};
use crate::otp::CodeHash;
use crate::record::{StoredStatus, VerificationRecord};
use crate::store::RecordKey;

/// One atomic change of one record.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub key: RecordKey,
    pub write: Write,
    pub guard: Guard,
}

impl Change {
    /// The record a put writes (a start's); panics on an update, which a
    /// caller that planned a start never holds.
    pub fn into_record(self) -> VerificationRecord {
        match self.write {
            Write::Put(record) => *record,
            Write::Update(_) => panic!("a start's change is a put"),
        }
    }

    pub fn put_record(&self) -> Option<&VerificationRecord> {
        match &self.write {
            Write::Put(record) => Some(record),
            Write::Update(_) => None,
        }
    }
}

/// What is written.
#[derive(Clone, Debug, PartialEq)]
pub enum Write {
    /// The whole record (a start or a resend).
    Put(Box<VerificationRecord>),
    /// Some fields, in place: counters are added to as stored (a check adds
    /// 1 to the attempts), never written back from what was read.
    Update(Vec<Assign>),
}

/// One field of an update.
#[derive(Clone, Debug, PartialEq)]
pub enum Assign {
    Set(Field, Value),
    /// Adds (or, negative, subtracts) to a number, absent counting as 0.
    Add(Field, i64),
}

/// The fields of a record an update may change. (A put writes them all.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    Status,
    Attempts,
    Failures,
    Sends,
    Version,
    ChangedMs,
    UpdatedAt,
    Ttl,
    CheckedBy,
    FailedChecks,
    RefusedStarts,
    RefusedAt,
    RefusedReason,
    /// [`crate::record::Activity::expiry_noted`] (1 for true).
    ExpiryNoted,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i64),
    Text(String),
    Status(StoredStatus),
}

/// The conditions a change needs the stored record to meet, all of them.
/// Each is named for the rule it carries; `None` means "no condition".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Guard {
    /// `Some(false)`: there is no record yet; `Some(true)`: there is one.
    pub exists: Option<bool>,
    /// The record is exactly at this version (nothing changed it since it was read).
    pub version: Option<u64>,
    pub status: Option<StoredStatus>,
    /// The record's current verification is this one.
    pub sid: Option<String>,
    /// The verification has not expired at this second (`expires_at > t`).
    pub unexpired_at: Option<Seconds>,
    /// The verification has expired at this second (`expires_at <= t`).
    pub expired_at: Option<Seconds>,
    /// Whether the expiry sweep has noted the verification's expiry.
    pub expiry_noted: Option<bool>,
    /// Fewer checks than this were counted against the verification.
    pub attempts_below: Option<u32>,
    /// Fewer wrong codes than this were counted against the number.
    pub failures_below: Option<u32>,
    /// At least this many sends are counted in the number's window.
    pub sends_at_least: Option<u32>,
    /// The code hash (digest and key id) is still this one: no resend
    /// replaced the code in between.
    pub code_hash: Option<CodeHash>,
    /// No refused start was noted in this second or later (at most one such
    /// note per second, so a flood of refusals is not a flood of writes).
    pub no_refusal_noted_since: Option<Seconds>,
    /// There is no record, or one in which nothing counts any more
    /// ([`Idle`]): a start planned without reading may write over it as
    /// over none.
    pub absent_or_idle: Option<Idle>,
}

/// A record in which nothing counts any more at a moment, so that a start
/// planned from it would be the start planned from no record (but for its
/// `version`): its verification expired, its send window is over, and it
/// has no failures or their window is over. Such an item only waits for TTL
/// to delete it, which DynamoDB does days late.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Idle {
    /// `expires_at <= expired_by`.
    pub expired_by: Seconds,
    /// `send_window_start <= send_window_started_by`.
    pub send_window_started_by: Seconds,
    /// `failures == 0 || failure_window_start <= failure_window_started_by`.
    pub failure_window_started_by: Seconds,
}

impl Idle {
    /// Idle at `now` under windows of these lengths (a window counts while
    /// `now < start + length`).
    pub fn at(now: Seconds, send_window_secs: Seconds, failure_window_secs: Seconds) -> Idle {
        Idle { expired_by: now, send_window_started_by: now - send_window_secs, failure_window_started_by: now - failure_window_secs }
    }

    pub fn holds(&self, r: &VerificationRecord) -> bool {
        r.expires_at <= self.expired_by
            && r.send_window_start <= self.send_window_started_by
            && (r.failures == 0 || r.failure_window_start <= self.failure_window_started_by)
    }
}

impl Guard {
    /// Whether the guard holds for the record as stored (`None`: no record).
    /// This is the meaning every store's translation must keep.
    pub fn holds(&self, stored: Option<&VerificationRecord>) -> bool {
        let Some(r) = stored else {
            // Without a record only "absent" (or "absent or idle") can hold;
            // any condition on a field fails, as a DynamoDB condition on a
            // missing item does.
            return self.exists != Some(true) && self.conditions_on_fields() == 0;
        };
        self.exists != Some(false)
            && self.version.is_none_or(|v| r.version == v)
            && self.status.is_none_or(|s| r.status == s)
            && self.sid.as_ref().is_none_or(|s| r.sid == *s)
            && self.unexpired_at.is_none_or(|t| r.expires_at > t)
            && self.expired_at.is_none_or(|t| r.expires_at <= t)
            && self.expiry_noted.is_none_or(|b| r.activity.expiry_noted == b)
            && self.attempts_below.is_none_or(|n| r.attempts < n)
            && self.failures_below.is_none_or(|n| r.failures < n)
            && self.sends_at_least.is_none_or(|n| r.sends >= n)
            && self.code_hash.as_ref().is_none_or(|h| r.code_hash == *h)
            && self.no_refusal_noted_since.is_none_or(|t| r.activity.refused_at < t)
            && self.absent_or_idle.as_ref().is_none_or(|i| i.holds(r))
    }

    fn conditions_on_fields(&self) -> usize {
        [
            self.version.is_some(),
            self.status.is_some(),
            self.sid.is_some(),
            self.unexpired_at.is_some(),
            self.expired_at.is_some(),
            self.expiry_noted.is_some(),
            self.attempts_below.is_some(),
            self.failures_below.is_some(),
            self.sends_at_least.is_some(),
            self.code_hash.is_some(),
            // An absent record has noted no refusal: "not since t" holds,
            // but only where the record exists (refusals are noted on it).
            self.no_refusal_noted_since.is_some(),
        ]
        .into_iter()
        .filter(|c| *c)
        .count()
    }
}

impl Write {
    /// The record after this write, from the record before it. This is what
    /// a write means; DynamoDB's translation must do the same to the item.
    pub fn applied_to(&self, before: Option<&VerificationRecord>) -> Option<VerificationRecord> {
        match self {
            Write::Put(record) => Some((**record).clone()),
            Write::Update(assigns) => {
                let mut r = before?.clone();
                for a in assigns {
                    a.apply(&mut r);
                }
                Some(r)
            }
        }
    }
}

impl Assign {
    fn apply(&self, r: &mut VerificationRecord) {
        match self {
            Assign::Set(field, value) => set(r, *field, value),
            Assign::Add(field, delta) => {
                let now = int_of(r, *field);
                set(r, *field, &Value::Int(now + delta));
            }
        }
    }
}

fn int_of(r: &VerificationRecord, field: Field) -> i64 {
    match field {
        Field::Attempts => r.attempts.into(),
        Field::Failures => r.failures.into(),
        Field::Sends => r.sends.into(),
        Field::Version => r.version as i64,
        Field::ChangedMs => r.changed_ms,
        Field::UpdatedAt => r.updated_at,
        Field::Ttl => r.ttl,
        Field::FailedChecks => r.activity.failed_checks.into(),
        Field::RefusedStarts => r.activity.refused_starts.into(),
        Field::RefusedAt => r.activity.refused_at,
        Field::ExpiryNoted => r.activity.expiry_noted.into(),
        Field::Status | Field::CheckedBy | Field::RefusedReason => 0,
    }
}

fn set(r: &mut VerificationRecord, field: Field, value: &Value) {
    let int = |v: &Value| match v {
        Value::Int(n) => *n,
        _ => 0,
    };
    let count = |v: &Value| int(v).clamp(0, u32::MAX as i64) as u32;
    let text = |v: &Value| match v {
        Value::Text(s) => Some(s.clone()),
        _ => None,
    };
    match field {
        Field::Status => {
            if let Value::Status(s) = value {
                r.status = *s;
            }
        }
        Field::Attempts => r.attempts = count(value),
        Field::Failures => r.failures = count(value),
        Field::Sends => r.sends = count(value),
        Field::Version => r.version = int(value).max(0) as u64,
        Field::ChangedMs => r.changed_ms = int(value) as Millis,
        Field::UpdatedAt => r.updated_at = int(value),
        Field::Ttl => r.ttl = int(value),
        Field::CheckedBy => r.checked_by = text(value),
        Field::FailedChecks => r.activity.failed_checks = count(value),
        Field::RefusedStarts => r.activity.refused_starts = count(value),
        Field::RefusedAt => r.activity.refused_at = int(value),
        Field::RefusedReason => r.activity.refused_reason = text(value),
        Field::ExpiryNoted => r.activity.expiry_noted = int(value) != 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> VerificationRecord {
        crate::record::example::start(None, "+14155550123", "VEa", "VL1", 1_700_000_000).unwrap()
    }

    #[test]
    fn an_empty_guard_holds_whatever_is_stored() {
        assert!(Guard::default().holds(None));
        assert!(Guard::default().holds(Some(&record())));
    }

    #[test]
    fn absence_and_presence() {
        let absent = Guard { exists: Some(false), ..Guard::default() };
        assert!(absent.holds(None) && !absent.holds(Some(&record())));
        let present = Guard { exists: Some(true), ..Guard::default() };
        assert!(!present.holds(None) && present.holds(Some(&record())));
        // A condition on a field fails without a record, as in DynamoDB.
        let on_status = Guard { status: Some(StoredStatus::Pending), ..Guard::default() };
        assert!(!on_status.holds(None) && on_status.holds(Some(&record())));
    }

    #[test]
    fn each_condition_can_fail_on_its_own() {
        let r = record();
        let fails = [
            Guard { version: Some(r.version + 1), ..Guard::default() },
            Guard { status: Some(StoredStatus::Approved), ..Guard::default() },
            Guard { sid: Some("VEother".into()), ..Guard::default() },
            Guard { unexpired_at: Some(r.expires_at), ..Guard::default() },
            Guard { expired_at: Some(r.expires_at - 1), ..Guard::default() },
            Guard { expiry_noted: Some(true), ..Guard::default() },
            Guard { attempts_below: Some(r.attempts), ..Guard::default() },
            Guard { failures_below: Some(r.failures), ..Guard::default() },
            Guard { sends_at_least: Some(r.sends + 1), ..Guard::default() },
            Guard { code_hash: Some(CodeHash { key_id: "k".into(), digest: vec![0] }), ..Guard::default() },
            Guard { no_refusal_noted_since: Some(r.activity.refused_at), ..Guard::default() },
        ];
        for g in fails {
            assert!(!g.holds(Some(&r)), "{g:?}");
        }
        let holds = Guard {
            exists: Some(true),
            version: Some(r.version),
            status: Some(r.status),
            sid: Some(r.sid.clone()),
            unexpired_at: Some(r.expires_at - 1),
            expired_at: Some(r.expires_at),
            expiry_noted: Some(false),
            attempts_below: Some(r.attempts + 1),
            failures_below: Some(r.failures + 1),
            sends_at_least: Some(r.sends),
            code_hash: Some(r.code_hash.clone()),
            no_refusal_noted_since: Some(r.activity.refused_at + 1),
            absent_or_idle: None,
        };
        assert!(holds.holds(Some(&r)));
    }

    #[test]
    fn updates_add_and_set() {
        let r = record();
        let w = Write::Update(vec![
            Assign::Add(Field::Attempts, 1),
            Assign::Add(Field::Sends, -1),
            Assign::Set(Field::Status, Value::Status(StoredStatus::Canceled)),
            Assign::Set(Field::CheckedBy, Value::Text("RQ1".into())),
        ]);
        let after = w.applied_to(Some(&r)).unwrap();
        assert_eq!((after.attempts, after.sends, after.status), (r.attempts + 1, r.sends - 1, StoredStatus::Canceled));
        assert_eq!(after.checked_by.as_deref(), Some("RQ1"));
        assert_eq!(w.applied_to(None), None, "an update needs a record");
    }
}
