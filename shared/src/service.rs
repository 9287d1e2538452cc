//! The verification flow: start (send a code) and check (compare a code),
//! composed from the pure rules in [`crate::record`], a [`Store`] and a
//! [`Sender`].

use crate::clock::{Clock, Seconds};
use crate::config::{Limits, Service};
use crate::message;
use crate::otp::{self, Code, CodeKeys};
use crate::phone::PhoneNumber;
use crate::record::{self, CheckRefusal, StartInput, StartRefusal, StoredStatus, VerificationRecord};
use crate::sender::{Sender, Sms};
use crate::sid;
use crate::store::{Approval, Expect, RecordKey, Store, StoreError};

/// How often a start re-plans after losing a race for the same number
/// before answering "too many concurrent requests".
const MAX_START_RACES: usize = 8;

/// Why a start or check did not go through, in domain terms; the HTTP layer
/// maps each to Twilio's error codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// No pending verification to check (never started, approved, canceled,
    /// expired, or not this number's current verification).
    NotFound,
    /// Check attempts used up, for this verification or this number.
    AttemptsExhausted { retry_after: Seconds },
    /// Too many sends to this number in the window.
    SendsExhausted { retry_after: Seconds },
    /// Lost too many races for one number at once; retry.
    Busy,
    /// DynamoDB failed or could not be reached; retry.
    StoreUnavailable(String),
    /// The SMS provider refused or failed; the code was voided; retry.
    SendFailed(String),
}

impl From<StoreError> for VerifyError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) => VerifyError::StoreUnavailable(m),
            // Callers handle conflicts themselves; one reaching here means the
            // record changed under us in a way we do not retry.
            StoreError::Conflict(_) => VerifyError::Busy,
        }
    }
}

/// Which verification a check is for.
#[derive(Clone, Debug)]
pub enum CheckTarget {
    To(PhoneNumber),
    Sid(String),
}

#[derive(Clone, Debug)]
pub struct StartRequest {
    pub to: PhoneNumber,
    pub channel: String,
    /// A language we have a template for, already validated; `None` picks
    /// one from the number's country.
    pub language: Option<&'static str>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckOutcome {
    pub record: VerificationRecord,
    pub approved: bool,
}

pub struct Verifier<S, M, C> {
    pub store: S,
    pub sender: M,
    pub clock: C,
    pub service: Service,
    pub keys: CodeKeys,
}

impl<S: Store, M: Sender, C: Clock> Verifier<S, M, C> {
    pub fn limits(&self) -> &Limits {
        &self.service.limits
    }

    fn key_for(&self, to: &str) -> RecordKey {
        RecordKey { service_sid: self.service.sid.clone(), to: to.to_owned() }
    }

    /// Sends a fresh code: a new verification, or a resend of the pending one.
    pub async fn start(&self, req: &StartRequest) -> Result<VerificationRecord, VerifyError> {
        let limits = self.limits();
        let code = otp::generate(limits.code_length);
        let new_sid = sid::new_sid(sid::VERIFICATION);
        let attempt_sid = sid::new_sid(sid::ATTEMPT);
        let language = req.language.unwrap_or_else(|| message::language_for_country(req.to.country()));
        let hash_for = |sid: &str| self.keys.hash(sid, &code);
        let (mut current, mut expect) = (None::<VerificationRecord>, Expect::Absent);
        for _ in 0..MAX_START_RACES {
            let input = StartInput {
                service_sid: &self.service.sid,
                to: req.to.e164(),
                country: req.to.country(),
                channel: &req.channel,
                locale: language,
                new_sid: &new_sid,
                attempt_sid: &attempt_sid,
                now: self.clock.now(),
                hash_for: &hash_for,
            };
            let record = match record::plan_start(current.as_ref(), &input, limits) {
                Ok(record) => record,
                Err(refusal) => {
                    let (reason, err) = match refusal {
                        StartRefusal::SendsExhausted { retry_after } => {
                            ("max_sends", VerifyError::SendsExhausted { retry_after })
                        }
                        StartRefusal::Locked { retry_after } => ("locked", VerifyError::AttemptsExhausted { retry_after }),
                    };
                    // Seen by the event stream as verification.send_rate_limited.
                    let key = self.key_for(req.to.e164());
                    if let Err(e) = self.store.note_start_refused(&key, reason, input.now).await
                        && !matches!(e, StoreError::Conflict(_))
                    {
                        tracing::warn!(error = ?e, "could not note a refused start");
                    }
                    return Err(err);
                }
            };
            match self.store.put(&record, record.ttl(limits), expect).await {
                Ok(()) => return self.deliver(record, language, &code).await,
                // Someone else wrote this number meanwhile: plan again from
                // what is there now (returned with the refusal, no extra read).
                Err(StoreError::Conflict(now_stored)) => {
                    expect = now_stored.as_ref().map_or(Expect::Absent, |r| Expect::Version(r.version));
                    current = now_stored.map(|r| *r);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(VerifyError::Busy)
    }

    async fn deliver(&self, record: VerificationRecord, language: &str, code: &Code) -> Result<VerificationRecord, VerifyError> {
        let sms = Sms { to: record.to.clone(), body: message::sms_text(language, &self.service.friendly_name, code) };
        match self.sender.send(&sms).await {
            Ok(()) => {
                tracing::info!(sid = %record.sid, to = %mask(&record.to), sends = record.sends, "code sent");
                Ok(record)
            }
            Err(e) => {
                // Nobody received this code: void it so it cannot be used, and
                // give the send back so the caller's retry is not penalised.
                let key = self.key_for(&record.to);
                if let Err(v) = self.store.void_unsent(&key, &record.sid, &record.code_hash, self.clock.now()).await {
                    tracing::warn!(sid = %record.sid, error = ?v, "could not void an unsent code");
                }
                tracing::warn!(sid = %record.sid, to = %mask(&record.to), error = %e.0, "SMS send failed");
                Err(VerifyError::SendFailed(e.0))
            }
        }
    }

    /// Checks a code: counts the attempt, compares in constant time, and on a
    /// match approves with a guarded write that exactly one caller can win.
    pub async fn check(&self, target: &CheckTarget, code: &Code) -> Result<CheckOutcome, VerifyError> {
        let limits = self.limits();
        let (key, sid) = match target {
            CheckTarget::To(to) => (self.key_for(to.e164()), None),
            CheckTarget::Sid(sid) => match self.store.find_by_sid(&self.service.sid, sid).await? {
                Some(key) => (key, Some(sid.as_str())),
                None => return Err(VerifyError::NotFound),
            },
        };
        let now = self.clock.now();
        let counted = match self.store.count_check(&key, sid, now, limits).await {
            Ok(r) => r,
            Err(StoreError::Conflict(stood)) => return Err(refusal(stood.as_deref(), sid, now, limits)),
            Err(e) => return Err(e.into()),
        };
        if !self.keys.matches(&counted.code_hash, &counted.sid, code) {
            tracing::info!(sid = %counted.sid, attempts = counted.attempts, "wrong code");
            // Seen by the event stream as verification.check_failed.
            if let Err(e) = self.store.note_check_failed(&key, &counted.sid).await {
                tracing::warn!(sid = %counted.sid, error = ?e, "could not note a failed check");
            }
            return Ok(CheckOutcome { record: counted, approved: false });
        }
        let request_id = sid::new_sid("RQ");
        let approval = Approval {
            sid: &counted.sid,
            code_hash: &counted.code_hash,
            now,
            request_id: &request_id,
            // After approval only the send window still matters.
            ttl: (counted.send_window_start + limits.send_window_secs).max(now),
        };
        match self.store.approve(&key, &approval).await {
            Ok(record) => {
                tracing::info!(sid = %record.sid, "approved");
                Ok(CheckOutcome { record, approved: true })
            }
            Err(StoreError::Conflict(stood)) => settle_lost_approval(stood.map(|r| *r), counted, &request_id),
            Err(e) => Err(e.into()),
        }
    }
}

fn refusal(stood: Option<&VerificationRecord>, sid: Option<&str>, now: Seconds, limits: &Limits) -> VerifyError {
    match record::why_not_checkable(stood, sid, now, limits) {
        CheckRefusal::NotFound => VerifyError::NotFound,
        CheckRefusal::AttemptsExhausted { retry_after } => VerifyError::AttemptsExhausted { retry_after },
    }
}

/// The approval's condition failed. Either our own earlier try succeeded (a
/// retried write), a resend replaced the code (this code is now just wrong),
/// or someone else approved or it expired (nothing left to check).
fn settle_lost_approval(
    stood: Option<VerificationRecord>,
    counted: VerificationRecord,
    request_id: &str,
) -> Result<CheckOutcome, VerifyError> {
    match stood {
        Some(r) if r.status == StoredStatus::Approved && r.approved_by.as_deref() == Some(request_id) => {
            Ok(CheckOutcome { record: r, approved: true })
        }
        Some(r) if r.sid == counted.sid && r.status == StoredStatus::Pending && r.code_hash != counted.code_hash => {
            Ok(CheckOutcome { record: counted, approved: false })
        }
        _ => Err(VerifyError::NotFound),
    }
}

fn mask(e164: &str) -> String {
    PhoneNumber::from_stored(e164.to_owned(), None).masked()
}
