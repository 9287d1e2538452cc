//! The verification flow: start (send a code) and check (compare a code),
//! composed from the pure rules in [`crate::record`], a [`Store`] that
//! applies them, and the channel's [`crate::sender::Sender`].

use crate::budget::{BudgetCap, until_midnight};
use crate::channel::Channel;
use crate::clock::{Clock, Millis, Seconds, secs_of};
use crate::config::Service;
use crate::fraud_guard::{self, Decision, Level};
use crate::message::{self, Content, EmailFrom};
use crate::otp::{self, Code, CodeKeys};
use crate::recipient::{Recipient, mask_address};
use crate::record::{self, CheckRefusal, StartInput, StartRefusal, Status, StoredStatus, VerificationRecord};
use crate::sender::{Message, Senders};
use crate::sid;
use crate::store::Stores;
use crate::store::blocked::{BlockedStarts, reason};
use crate::store::counters::{Counter, give_back_all, take_all};
use crate::store::fraud_guard::Tally;
use crate::store::{RecordKey, StoreError};
use std::time::{Duration, Instant};

/// How often a start re-plans after losing a race for the same number
/// before answering "too many concurrent requests".
const MAX_START_RACES: usize = 8;

/// How long into a start it may try again to void a code nobody received
/// (a failed send, or a write whose answer was lost). The first try always
/// runs; another starts only while the request is younger than this, and
/// each ends within the SDK's 3 s operation timeout (`crate::aws`), so the
/// request ends by 9 s, inside the functions' 10 s.
const VOID_RETRIES_UNTIL: Duration = Duration::from_secs(6);
const VOID_PAUSE: Duration = Duration::from_millis(100);

/// Why a start or check did not go through, in domain terms; the HTTP layer
/// maps each to Twilio's error codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// No pending verification to check (never started, approved, canceled,
    /// expired, or not this number's current verification).
    NotFound,
    /// This verification's check attempts are used up.
    AttemptsExhausted { retry_after: Seconds },
    /// The number is locked: too many wrong codes across its verifications
    /// in the failure window. No check and no new code until it passes.
    Locked { retry_after: Seconds, until: Seconds },
    /// Too many sends to this number in the window.
    SendsExhausted { retry_after: Seconds },
    /// Lost too many races for one number at once; retry.
    Busy,
    /// DynamoDB failed or could not be reached; retry.
    StoreUnavailable(String),
    /// The SMS provider refused or failed; the code was voided; retry.
    SendFailed(String),
    /// The service does not send to this number's country.
    CountryNotAllowed,
    /// The service does not deliver on this channel, or no sender for it
    /// is configured.
    ChannelDisabled(String),
    /// The request asks for something this service does not allow.
    FeatureDisabled(&'static str),
    /// An SMS to a number its plan calls a fixed line, on a service that
    /// skips those (`skip_sms_to_landlines`).
    SmsToLandline,
    /// A programmable rate limit the start named is full for its value.
    RateLimited { unique_name: String, max: u64, interval: u64, retry_after: Seconds },
    /// The start named a rate limit the service does not define.
    UnknownRateLimit(String),
    /// A daily cap of the service's budget is reached ([`crate::budget`]).
    BudgetExhausted { cap: crate::budget::BudgetCap, retry_after: Seconds },
    /// The fraud guard blocks the number's prefix (SMS pumping suspected)
    /// for this long yet.
    FraudGuard { retry_after: Seconds },
}

/// Twilio's `RiskCheck` on a start: `Disable` skips the fraud guard for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RiskCheck {
    #[default]
    Enable,
    Disable,
}

/// What the fraud guard did on a request besides its answer, for metrics:
/// a block it only recorded (`monitor`), and counter reads or writes that
/// failed (logged; the request went ahead regardless).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GuardNotes {
    pub monitored: bool,
    pub counter_failures: u32,
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

/// Which verification a check, fetch or update is for: the recipient's
/// current one, or the one with this sid (if it is still its recipient's
/// current one).
#[derive(Clone, Debug)]
pub enum CheckTarget {
    To(Recipient),
    Sid(String),
}

#[derive(Clone, Debug)]
pub struct StartRequest {
    /// Already parsed as the kind of recipient `channel` takes.
    pub to: Recipient,
    pub channel: Channel,
    /// A language we have a template for, already validated; `None` picks
    /// one from the recipient's country.
    pub language: Option<&'static str>,
    /// Replaces the service's name in the SMS (`CustomFriendlyName`),
    /// already checked with [`crate::config::check_friendly_name`].
    pub friendly_name: Option<String>,
    /// E-mail only: the sender a start chose (`ChannelConfiguration`),
    /// already allowed by the service.
    pub email_from: EmailFrom,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckOutcome {
    pub record: VerificationRecord,
    pub approved: bool,
}

pub struct Verifier<S, C> {
    pub store: S,
    /// One sender per channel the deployment delivers on.
    pub senders: Senders,
    pub clock: C,
    /// The services requests name: the configuration document's, with
    /// those created or changed over the API ([`crate::service_catalog`]).
    pub services: crate::service_catalog::Catalog,
    pub keys: CodeKeys,
}

impl<S: Stores, C: Clock> Verifier<S, C> {
    /// Sends a fresh code: a new verification, or a resend of the pending one.
    /// The service's channels, countries and features are checked first:
    /// a refused request writes nothing and sends nothing.
    pub async fn start(&self, service: &Service, req: &StartRequest) -> Result<VerificationRecord, VerifyError> {
        self.start_guarded(service, req, RiskCheck::Enable, &mut GuardNotes::default()).await
    }

    /// [`Verifier::start`] with the request's `RiskCheck`, noting what the
    /// fraud guard did in `notes`.
    pub async fn start_guarded(
        &self,
        service: &Service,
        req: &StartRequest,
        risk: RiskCheck,
        notes: &mut GuardNotes,
    ) -> Result<VerificationRecord, VerifyError> {
        let started = Instant::now();
        if !service.allows_channel(req.channel) || self.senders.get(req.channel).is_none() {
            return Err(VerifyError::ChannelDisabled(req.channel.as_str().to_owned()));
        }
        // The Safe List is read only when the country rule would refuse, so
        // it costs nothing on allowed traffic.
        if !service.allows_country(req.to.country()) && !self.safe_listed(&req.to).await? {
            if !service.monitors_country(req.to.country()) {
                self.note_blocked(service, req, reason::GEO_PERMISSIONS).await;
                return Err(VerifyError::CountryNotAllowed);
            }
            self.note_blocked(service, req, reason::GEO_PERMISSIONS_MONITOR).await;
        }
        if req.channel == Channel::Sms && service.skip_sms_to_landlines && req.to.is_fixed_line() {
            return Err(VerifyError::SmsToLandline);
        }
        if req.friendly_name.is_some() && !service.custom_friendly_name {
            return Err(VerifyError::FeatureDisabled("CustomFriendlyName"));
        }
        let test = service.test_code(&req.to).is_some();
        let prefix = self.fraud_guard(service, req, risk, test, notes).await?;
        let budget = if test { Vec::new() } else { self.take_budget(service, req).await? };
        let issued = self.issue(service, req, started).await;
        if issued.is_err() {
            // No code went out: the send it was counted for did not happen.
            give_back_all(&self.store, &budget).await;
        }
        self.tally_sent(service, prefix.as_deref(), issued, notes).await
    }

    /// Writes a new code (a new verification, or a resend) and sends it.
    async fn issue(&self, service: &Service, req: &StartRequest, started: Instant) -> Result<VerificationRecord, VerifyError> {
        let limits = &service.limits;
        // Test mode: a test recipient's code is the configured one (stored
        // hashed like any other) and nothing is sent to it.
        let test_code = service.test_code(&req.to);
        let code = test_code.cloned().unwrap_or_else(|| otp::generate(limits.code_length));
        let new_sid = self.keys.new_verification_sid(&req.to.key());
        let attempt_sid = sid::new_sid(sid::ATTEMPT);
        let language = req.language.unwrap_or_else(|| message::language_for_country(req.to.country()));
        // The locale the message is really in (a call without a voice for
        // it is read in the fallback's): what the record and resource say.
        let language = message::language_used(req.channel, language);
        let hash_for = |sid: &str| self.keys.hash(sid, &code);
        let mut current = None::<VerificationRecord>;
        for _ in 0..MAX_START_RACES {
            let input = StartInput {
                service_sid: &service.sid,
                to: req.to.address(),
                country: req.to.country(),
                channel: req.channel.as_str(),
                locale: language,
                new_sid: &new_sid,
                attempt_sid: &attempt_sid,
                now_ms: self.clock.now_ms(),
                hash_for: &hash_for,
                test: test_code.is_some(),
            };
            let change = match record::plan_start(current.as_ref(), &input, limits) {
                Ok(change) => change,
                Err(refusal) => return Err(self.refused_start(service, req, refusal, input.now_ms).await),
            };
            match self.store.apply(&change).await {
                Ok(record) => return self.deliver(record, service, req, language, &code, started).await,
                // Our own write, landed on an earlier try whose answer was
                // lost (the SDK retried it): it is done, send its code.
                // Planning again on it would count a second send for one
                // SMS, or refuse the start on the limit it just used up and
                // leave a code nobody received.
                Err(StoreError::Conflict(Some(stored))) if is_own_write(&stored, &attempt_sid) => {
                    return self.deliver(*stored, service, req, language, &code, started).await;
                }
                // Someone else wrote this recipient meanwhile: plan again from
                // what is there now (returned with the refusal, no extra read).
                Err(StoreError::Conflict(now_stored)) => current = now_stored.map(|r| *r),
                Err(e) => {
                    // The write may have landed with its answer lost: a
                    // pending code nobody will receive. Undo it if it did.
                    if let Some(record) = change.put_record() {
                        self.void_unsent(record, started).await;
                    }
                    return Err(e.into());
                }
            }
        }
        Err(VerifyError::Busy)
    }

    /// The channel `Channel=auto` stands for: a text, unless the number's
    /// plan calls it a fixed line, then a call; the other one when the
    /// first is not allowed by the service or has no sender; refused when
    /// neither is usable.
    pub fn auto_channel(&self, service: &Service, to: &Recipient) -> Result<Channel, VerifyError> {
        let order = if to.is_fixed_line() { [Channel::Call, Channel::Sms] } else { [Channel::Sms, Channel::Call] };
        order
            .into_iter()
            .find(|c| service.allows_channel(*c) && self.senders.get(*c).is_some())
            .ok_or_else(|| VerifyError::ChannelDisabled("auto (this service delivers neither sms nor call)".into()))
    }

    /// A start refused by a limit: noted on the record (seen by the event
    /// stream as verification.send_rate_limited), then the error.
    async fn refused_start(&self, service: &Service, req: &StartRequest, refusal: StartRefusal, now_ms: Millis) -> VerifyError {
        let (reason, err) = match refusal {
            StartRefusal::SendsExhausted { retry_after } => ("max_sends", VerifyError::SendsExhausted { retry_after }),
            StartRefusal::Locked { retry_after } => ("locked", VerifyError::Locked { retry_after, until: secs_of(now_ms) + retry_after }),
        };
        let note = record::note_start_refused(&key_for(&service.sid, &req.to.key()), reason, now_ms);
        if let Err(e) = self.store.apply(&note).await
            && !matches!(e, StoreError::Conflict(_))
        {
            tracing::warn!(error = ?e, "could not note a refused start");
        }
        err
    }

    /// Voids `record`'s code if it is still the stored one (nobody received
    /// it) and gives its send back. Retried while the start (begun at
    /// `started`) is younger than [`VOID_RETRIES_UNTIL`]: a code left behind
    /// is one nobody can enter, and a send counted for nothing.
    async fn void_unsent(&self, record: &VerificationRecord, started: Instant) {
        loop {
            match self.store.apply(&record::void_unsent(record, self.clock.now_ms())).await {
                // Voided, or nothing of ours there to void.
                Ok(_) | Err(StoreError::Conflict(_)) => return,
                Err(e) if started.elapsed() + VOID_PAUSE >= VOID_RETRIES_UNTIL => {
                    tracing::warn!(sid = %record.sid, error = ?e, "could not void an unsent code");
                    return;
                }
                // A pause, so a throttled table is not answered with a burst.
                Err(_) => tokio::time::sleep(VOID_PAUSE).await,
            }
        }
    }

    async fn deliver(
        &self,
        record: VerificationRecord,
        service: &Service,
        req: &StartRequest,
        language: &str,
        code: &Code,
        started: Instant,
    ) -> Result<VerificationRecord, VerifyError> {
        if record.test {
            tracing::info!(sid = %record.sid, to = %mask_address(&record.to), channel = %record.channel, sends = record.sends, "test recipient: nothing sent");
            return Ok(record);
        }
        let name = req.friendly_name.as_deref().unwrap_or(&service.friendly_name);
        let channel = Channel::parse(&record.channel).map_err(|_| VerifyError::ChannelDisabled(record.channel.clone()))?;
        let mut content = channel.content(&message::Params { language, name, code });
        if let Content::Email(email) = &mut content {
            email.from = req.email_from.clone();
        }
        let sms_profile = match channel {
            Channel::Sms => service.sms_profiles.for_country(record.country.as_deref()).cloned(),
            _ => None,
        };
        let message = Message { channel, to: record.to.clone(), content, sms_profile };
        let sent = match self.senders.get(channel) {
            Some(sender) => sender.send(&message).await,
            None => Err(crate::sender::SendError(format!("no sender for {}", channel.as_str()))),
        };
        match sent {
            Ok(()) => {
                tracing::info!(sid = %record.sid, to = %mask_address(&record.to), channel = channel.as_str(), sends = record.sends, "code sent");
                Ok(record)
            }
            Err(e) => {
                // Nobody received this code: void it so it cannot be used, and
                // give the send back so the caller's retry is not penalised.
                self.void_unsent(&record, started).await;
                tracing::warn!(sid = %record.sid, to = %mask_address(&record.to), error = %e.0, "send failed");
                Err(VerifyError::SendFailed(e.0))
            }
        }
    }

    /// Checks a code: reads the verification, compares the code with its
    /// hash in constant time, and counts the attempt with its outcome in
    /// one write guarded by the version read ([`record::check`]). A check
    /// that lost the write to a parallel one compares again on what stands
    /// now (returned with the refusal, no extra read).
    pub async fn check(&self, service: &Service, target: &CheckTarget, code: &Code) -> Result<CheckOutcome, VerifyError> {
        self.check_noted(service, target, code, &mut GuardNotes::default()).await
    }

    /// [`Verifier::check`], noting in `notes` a fraud-guard counter that
    /// could not be added to (the approval stands).
    pub async fn check_noted(
        &self,
        service: &Service,
        target: &CheckTarget,
        code: &Code,
        notes: &mut GuardNotes,
    ) -> Result<CheckOutcome, VerifyError> {
        let limits = &service.limits;
        let (key, sid) = self.locate(service, target).await?;
        let mut current = self.store.read(&key).await?;
        // Recorded by the check's write, so a retried write recognises its own.
        let request_id = sid::new_sid("RQ");
        // Each lost race means another write landed on this record: a check
        // (at most the attempt limit), a resend (at most the send limit), a
        // refusal note (one a second), the expiry note or a close.
        for _ in 0..CHECK_TRIES {
            let now_ms = self.clock.now_ms();
            let now = secs_of(now_ms);
            let read = record::checkable(current.as_ref(), sid, now, limits).map_err(|refusal| refusal_error(refusal, now))?;
            let right = self.keys.matches(&read.code_hash, &read.sid, code);
            match self.store.apply(&record::check(read, right, &request_id, now_ms, limits)).await {
                Ok(record) => return Ok(self.checked(service, record, right, notes).await),
                // Our own write, landed on an earlier try whose answer was
                // lost (the SDK retried it): this attempt is counted once.
                Err(StoreError::Conflict(Some(stood))) if is_own_update(&stood, &request_id) => {
                    return Ok(self.checked(service, *stood, right, notes).await);
                }
                Err(StoreError::Conflict(stood)) => current = stood.map(|r| *r),
                Err(e) => return Err(e.into()),
            }
        }
        Err(VerifyError::Busy)
    }

    /// The answer to a counted check.
    async fn checked(&self, service: &Service, record: VerificationRecord, approved: bool, notes: &mut GuardNotes) -> CheckOutcome {
        if approved {
            tracing::info!(sid = %record.sid, "approved");
            self.tally_approved(service, &record, notes).await;
        } else {
            tracing::info!(sid = %record.sid, attempts = record.attempts, "wrong code");
        }
        CheckOutcome { record, approved }
    }

    /// The verification a fetch names, while it is pending. Like Twilio,
    /// one that was approved, canceled, expired, ran out of attempts or
    /// failed to send is gone as far as clients are concerned.
    pub async fn fetch(&self, service: &Service, target: &CheckTarget) -> Result<VerificationRecord, VerifyError> {
        let (key, sid) = self.locate(service, target).await?;
        let record = self.store.read(&key).await?.ok_or(VerifyError::NotFound)?;
        let now = self.clock.now();
        if sid.is_some_and(|s| s != record.sid) || record.status_at(now, &service.limits) != Status::Pending {
            return Err(VerifyError::NotFound);
        }
        Ok(record)
    }

    /// Cancels (`Canceled`) or approves without a code (`Approved`) a pending
    /// verification, with one conditional write. Counters stay as they are.
    pub async fn close(&self, service: &Service, target: &CheckTarget, status: StoredStatus) -> Result<VerificationRecord, VerifyError> {
        let (key, sid) = self.locate(service, target).await?;
        let current_sid = match sid {
            Some(s) => s.to_owned(),
            // By number: whichever verification is current; the write is
            // conditioned on that sid, so a resend in between is harmless.
            None => match self.store.read(&key).await? {
                Some(r) => r.sid,
                None => return Err(VerifyError::NotFound),
            },
        };
        let request_id = sid::new_sid("RQ");
        let change = record::close(&key, &current_sid, status, &request_id, self.clock.now_ms(), &service.limits);
        let closed = match self.store.apply(&change).await {
            Ok(record) => record,
            // Our own write, landed on an earlier try whose answer was lost
            // (the SDK retried it and the retry found it closed).
            Err(StoreError::Conflict(Some(stood))) if is_own_update(&stood, &request_id) => *stood,
            Err(StoreError::Conflict(_)) => return Err(VerifyError::NotFound),
            Err(e) => return Err(e.into()),
        };
        tracing::info!(sid = %closed.sid, status = status.as_str(), "closed by request");
        if status == StoredStatus::Approved {
            // An app that checks codes itself approves this way: its
            // approvals are its conversion.
            self.tally_approved(service, &closed, &mut GuardNotes::default()).await;
        }
        Ok(closed)
    }

    /// The record key a target names, and the sid it must carry (when the
    /// target is a sid). A sid is looked up only within `service`.
    async fn locate<'t>(&self, service: &Service, target: &'t CheckTarget) -> Result<(RecordKey, Option<&'t str>), VerifyError> {
        match target {
            CheckTarget::To(to) => Ok((key_for(&service.sid, &to.key()), None)),
            // A sealed sid names its record: no lookup (the write's guard
            // compares the sid, so one that is not the record's current
            // verification finds nothing).
            CheckTarget::Sid(sid) if let Some(to) = self.keys.open_sid(sid) => Ok((key_for(&service.sid, &to), Some(sid.as_str()))),
            CheckTarget::Sid(sid) => match self.store.find_by_sid(&service.sid, sid).await? {
                Some(key) => Ok((key, Some(sid.as_str()))),
                None => Err(VerifyError::NotFound),
            },
        }
    }
}

impl<S: Stores, C: Clock> Verifier<S, C> {
    /// Records a start refused by a rule, for the `verification.blocked`
    /// event. The refusal stands whether or not this is recorded: a store
    /// fault here is logged, not answered.
    pub(crate) async fn note_blocked(&self, service: &Service, req: &StartRequest, why: &str) {
        let note = BlockedStarts {
            service_sid: service.sid.clone(),
            key: req.to.key(),
            to: req.to.address().to_owned(),
            channel: req.channel.as_str().to_owned(),
            country: req.to.country().map(str::to_owned),
            count: 0,
            reason: why.to_owned(),
            changed_ms: self.clock.now_ms(),
        };
        if let Err(e) = self.store.note_blocked(&note).await {
            tracing::warn!(error = ?e, to = %req.to.masked(), reason = why, "a blocked start was not recorded");
        }
    }

    /// Counts the send against the service's daily budget, or refuses the
    /// start (429, a blocked event) when a cap is reached. The counters
    /// taken are returned, to give back if no code goes out. (Test
    /// recipients cost nothing: the caller does not count them.)
    async fn take_budget(&self, service: &Service, req: &StartRequest) -> Result<Vec<Counter>, VerifyError> {
        let Some(budget) = &service.daily_budget else { return Ok(Vec::new()) };
        let now = self.clock.now();
        let priced = req.channel != Channel::Email;
        let (counters, caps): (Vec<Counter>, Vec<BudgetCap>) =
            budget.counters(&service.sid, req.to.country(), priced, now).into_iter().unzip();
        match take_all(&self.store, &counters).await? {
            Ok(()) => Ok(counters),
            Err(full) => {
                self.note_blocked(service, req, crate::store::blocked::reason::BUDGET).await;
                Err(VerifyError::BudgetExhausted { cap: caps[full].clone(), retry_after: until_midnight(now) })
            }
        }
    }

    /// The fraud guard's verdict on a start ([`crate::fraud_guard`]): the
    /// prefix to count its send under when it goes ahead (`None`: not
    /// counted), or the refusal. Guarded: SMS to a number, on a service
    /// whose level is not `off`, except a test recipient (its traffic is the
    /// developer's, neither counted nor judged); `RiskCheck=disable` is
    /// counted but not judged. The Safe List is read only when the guard would refuse.
    /// A failed read of the counters lets the start go ahead (logged and
    /// noted): the guard never adds a way for a start to fail.
    async fn fraud_guard(
        &self,
        service: &Service,
        req: &StartRequest,
        risk: RiskCheck,
        test: bool,
        notes: &mut GuardNotes,
    ) -> Result<Option<String>, VerifyError> {
        let guard = service.fraud_guard;
        let Some(thresholds) = guard.thresholds() else { return Ok(None) };
        if req.channel != Channel::Sms || test {
            return Ok(None);
        }
        let Some(prefix) = fraud_guard::prefix_of(&req.to.key()) else { return Ok(None) };
        // Not judged, but counted: it is a send to the prefix all the same.
        if risk == RiskCheck::Disable {
            return Ok(Some(prefix));
        }
        let now_ms = self.clock.now_ms();
        let window = match self.store.fraud_window(&service.sid, &prefix, now_ms).await {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(error = ?e, to = %req.to.masked(), "fraud guard: counters unreadable; start not judged");
                notes.counter_failures += 1;
                return Ok(Some(prefix));
            }
        };
        let decision = fraud_guard::decide(&thresholds, &window, now_ms);
        let Some(block) = decision.block() else { return Ok(Some(prefix)) };
        if self.safe_listed(&req.to).await? {
            return Ok(Some(prefix));
        }
        if let Decision::NewBlock { block, previous } = decision {
            match self.store.fraud_block(&service.sid, &prefix, &block, previous.as_ref()).await {
                Ok(()) => {
                    tracing::warn!(to = %req.to.masked(), strikes = block.strikes, until_ms = block.until_ms, level = guard.level.as_str(), "fraud guard: prefix blocked")
                }
                // Another start stored the block first.
                Err(StoreError::Conflict(_)) => {}
                Err(e) => {
                    tracing::warn!(error = ?e, to = %req.to.masked(), "fraud guard: block not stored");
                    notes.counter_failures += 1;
                }
            }
        }
        if guard.level == Level::Monitor {
            notes.monitored = true;
            self.note_blocked(service, req, reason::FRAUD_GUARD_MONITOR).await;
            return Ok(Some(prefix));
        }
        self.note_blocked(service, req, reason::FRAUD_GUARD).await;
        let retry_after = ((block.until_ms - now_ms + 999) / 1000).max(1);
        Err(VerifyError::FraudGuard { retry_after })
    }

    /// Counts a delivered send for the fraud guard (not a test recipient's:
    /// nothing was sent). A failed count is logged and noted, never answered.
    async fn tally_sent(
        &self,
        service: &Service,
        prefix: Option<&str>,
        sent: Result<VerificationRecord, VerifyError>,
        notes: &mut GuardNotes,
    ) -> Result<VerificationRecord, VerifyError> {
        if let (Ok(record), Some(prefix)) = (&sent, prefix)
            && !record.test
        {
            self.tally(&service.sid, prefix, Tally::Send, notes).await;
        }
        sent
    }

    /// Counts an approval of an SMS verification (not a test recipient's)
    /// under its number's prefix, whatever the service's level now (so a
    /// level raised later starts from true conversions).
    async fn tally_approved(&self, service: &Service, record: &VerificationRecord, notes: &mut GuardNotes) {
        if service.fraud_guard.level == Level::Off || record.test || record.channel != Channel::Sms.as_str() {
            return;
        }
        if let Some(prefix) = fraud_guard::prefix_of(&crate::recipient::key_of_address(&record.to)) {
            self.tally(&service.sid, &prefix, Tally::Approval, notes).await;
        }
    }

    async fn tally(&self, service_sid: &str, prefix: &str, tally: Tally, notes: &mut GuardNotes) {
        if let Err(e) = self.store.fraud_tally(service_sid, prefix, tally, self.clock.now_ms()).await {
            tracing::warn!(error = ?e, ?tally, "fraud guard: counter not added to");
            notes.counter_failures += 1;
        }
    }

    /// Whether the recipient is a number on the Safe List (addresses never are).
    async fn safe_listed(&self, to: &Recipient) -> Result<bool, VerifyError> {
        match to {
            Recipient::Phone(_) => Ok(self.store.safe_number(&to.key()).await?.is_some()),
            Recipient::Email(_) => Ok(false),
        }
    }
}

/// How many times a check compares again after losing its write to a
/// parallel change of the same record before answering "busy, retry"
/// ([`VerifyError::Busy`]). With the default limits a burst of checks of one
/// verification ends after five counted attempts, well within it.
pub const CHECK_TRIES: usize = 16;

fn refusal_error(refusal: CheckRefusal, now: Seconds) -> VerifyError {
    match refusal {
        CheckRefusal::NotFound => VerifyError::NotFound,
        CheckRefusal::AttemptsExhausted { retry_after } => VerifyError::AttemptsExhausted { retry_after },
        CheckRefusal::Locked { retry_after } => VerifyError::Locked { retry_after, until: now + retry_after },
    }
}

/// Whether `stored` is a start's own write: its last send is this start's
/// attempt (a fresh sid per start request), still pending.
fn is_own_write(stored: &VerificationRecord, attempt_sid: &str) -> bool {
    stored.status == StoredStatus::Pending && stored.send_attempts.last().is_some_and(|a| a.attempt_sid == attempt_sid)
}

/// Whether `stored` carries a check's or a close's own write: the request
/// id that write recorded (a fresh one per request).
fn is_own_update(stored: &VerificationRecord, request_id: &str) -> bool {
    stored.checked_by.as_deref() == Some(request_id)
}

/// The record of a recipient (by its [`Recipient::key`]) in a service.
fn key_for(service_sid: &str, subscriber: &str) -> RecordKey {
    RecordKey { service_sid: service_sid.to_owned(), to: subscriber.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::config::Limits;
    use crate::otp::CodeKey;
    use crate::phone::PhoneNumber;
    use crate::sender::outbox::Outbox;
    use crate::store::Store;
    use crate::store::blocked::BlockedStore;
    use crate::store::counters::{Counter, CounterStore};
    use crate::store::fraud_guard::FraudGuardStore;
    use crate::store::memory::MemoryStore;
    use crate::store::rate_limits::RateLimitStore;
    use crate::store::safe_list::SafeListStore;
    use std::sync::Arc;

    const MOBILE: &str = "+447400123456";
    const FIXED: &str = "+442079460000";

    fn verifier(senders: &[Channel]) -> (Verifier<MemoryStore, ManualClock>, Outbox) {
        let outbox = Outbox::new();
        let senders = senders.iter().fold(Senders::none(), |all, c| all.with(*c, Arc::new(outbox.clone())));
        let service = Service::new("VA".to_owned() + &"0".repeat(32), "Acme".into(), Limits::default());
        let keys = CodeKeys::new(CodeKey::new(&[7; 32]).unwrap(), None);
        let v = Verifier {
            store: MemoryStore::new(),
            senders,
            clock: ManualClock::at(1_800_000_000),
            services: crate::config::Services::single(service).into(),
            keys,
        };
        (v, outbox)
    }

    fn to(number: &str) -> Recipient {
        PhoneNumber::parse(number).unwrap().into()
    }

    #[test]
    fn auto_texts_a_mobile_and_calls_a_fixed_line_falling_back_to_what_is_there() {
        let (both, _) = verifier(&[Channel::Sms, Channel::Call]);
        let service = both.services.seeded().default_service();
        assert_eq!(both.auto_channel(service, &to(MOBILE)), Ok(Channel::Sms));
        assert_eq!(both.auto_channel(service, &to(FIXED)), Ok(Channel::Call));
        assert_eq!(both.auto_channel(service, &to("+14155550123")), Ok(Channel::Sms), "US numbers may be mobiles");
        let (sms_only, _) = verifier(&[Channel::Sms]);
        assert_eq!(sms_only.auto_channel(service, &to(FIXED)), Ok(Channel::Sms), "no call sender");
        let mut calls_only = service.clone();
        calls_only.channels = vec![Channel::Call];
        assert_eq!(both.auto_channel(&calls_only, &to(MOBILE)), Ok(Channel::Call), "the service allows only calls");
        let (none, _) = verifier(&[]);
        assert!(matches!(none.auto_channel(service, &to(MOBILE)), Err(VerifyError::ChannelDisabled(m)) if m.starts_with("auto")));
    }

    #[tokio::test]
    async fn a_text_goes_out_with_its_countrys_sender_profile_then_alls() {
        use crate::messaging::{CountryProfiles, MessagingConfiguration, SmsProfiles};
        let (uk, any) = ("MG0000000000000000000000000000000a", "MG0000000000000000000000000000000b");
        let profiles = SmsProfiles::parse(&format!(
            r#"{{"{uk}":{{"origination_identity":"+447700900123"}},"{any}":{{"origination_identity":"pool-0123"}}}}"#
        ))
        .unwrap();
        let (v, outbox) = verifier(&[Channel::Sms, Channel::Call]);
        let mut service = v.services.seeded().default_service().clone();
        let config = |country: &str, mg: &str| MessagingConfiguration {
            service_sid: service.sid.clone(),
            country: country.into(),
            messaging_service_sid: mg.into(),
            created_at: 1,
            updated_at: 1,
        };
        let only_gb = [config("GB", uk)];
        service.sms_profiles = CountryProfiles::resolve(&service.sid, &only_gb, &profiles);
        let start = |number: &str, channel| StartRequest {
            to: to(number),
            channel,
            language: None,
            friendly_name: None,
            email_from: Default::default(),
        };
        let sent = |number: &str| outbox.messages(Some(number)).pop().unwrap();
        v.start(&service, &start(MOBILE, Channel::Sms)).await.unwrap();
        assert_eq!((sent(MOBILE).from.as_deref(), sent(MOBILE).messaging_service_sid.as_deref()), (Some("+447700900123"), Some(uk)));
        v.start(&service, &start("+14155550123", Channel::Sms)).await.unwrap();
        assert_eq!(sent("+14155550123").messaging_service_sid, None, "no configuration for US: the deployment's settings");
        v.start(&service, &start(FIXED, Channel::Call)).await.unwrap();
        assert_eq!(sent(FIXED).messaging_service_sid, None, "a call is not a text");
        service.sms_profiles = CountryProfiles::resolve(&service.sid, &[only_gb[0].clone(), config("all", any)], &profiles);
        v.start(&service, &start("+14155550124", Channel::Sms)).await.unwrap();
        assert_eq!(sent("+14155550124").messaging_service_sid.as_deref(), Some(any));
    }

    #[tokio::test]
    async fn skip_sms_to_landlines_refuses_before_anything_is_written_or_sent() {
        let (v, outbox) = verifier(&[Channel::Sms, Channel::Call]);
        let mut service = v.services.seeded().default_service().clone();
        service.skip_sms_to_landlines = true;
        let start = |number: &str, channel| StartRequest {
            to: to(number),
            channel,
            language: None,
            friendly_name: None,
            email_from: Default::default(),
        };
        assert_eq!(v.start(&service, &start(FIXED, Channel::Sms)).await, Err(VerifyError::SmsToLandline));
        let key = key_for(&service.sid, &to(FIXED).key());
        assert_eq!(v.store.read(&key).await.unwrap(), None, "nothing written");
        assert!(outbox.messages(None).is_empty(), "nothing sent");
        // A call to it, and a text to a mobile, go ahead.
        assert_eq!(v.start(&service, &start(FIXED, Channel::Call)).await.unwrap().channel, "call");
        assert_eq!(v.start(&service, &start(MOBILE, Channel::Sms)).await.unwrap().channel, "sms");
        // Without the setting, a fixed line is texted as before.
        let plain = v.services.seeded().default_service();
        let other_fixed = "+442079460001";
        assert_eq!(v.start(plain, &start(other_fixed, Channel::Sms)).await.unwrap().channel, "sms");
    }

    /// The memory store with the fraud guard's counters down: a double for
    /// this one rule (a counter fault never fails a start or a check).
    struct CountersDown(MemoryStore);

    impl Store for CountersDown {
        async fn read(&self, key: &RecordKey) -> Result<Option<VerificationRecord>, StoreError> {
            self.0.read(key).await
        }
        async fn apply(&self, change: &crate::change::Change) -> Result<VerificationRecord, StoreError> {
            self.0.apply(change).await
        }
        async fn find_by_sid(&self, service_sid: &str, sid: &str) -> Result<Option<RecordKey>, StoreError> {
            self.0.find_by_sid(service_sid, sid).await
        }
    }

    impl SafeListStore for CountersDown {
        async fn add_safe_number(&self, e: &crate::store::safe_list::SafeListEntry) -> Result<(), StoreError> {
            self.0.add_safe_number(e).await
        }
        async fn safe_number(&self, key: &str) -> Result<Option<crate::store::safe_list::SafeListEntry>, StoreError> {
            self.0.safe_number(key).await
        }
        async fn remove_safe_number(&self, key: &str) -> Result<bool, StoreError> {
            self.0.remove_safe_number(key).await
        }
    }

    impl BlockedStore for CountersDown {
        async fn note_blocked(&self, note: &BlockedStarts) -> Result<(), StoreError> {
            self.0.note_blocked(note).await
        }
    }

    impl RateLimitStore for CountersDown {
        async fn rate_limits(&self, service_sid: &str) -> Result<crate::rate_limits::RateLimits, StoreError> {
            self.0.rate_limits(service_sid).await
        }
        async fn save_rate_limits(&self, service_sid: &str, limits: &crate::rate_limits::RateLimits) -> Result<(), StoreError> {
            self.0.save_rate_limits(service_sid, limits).await
        }
        async fn delete_rate_limits(&self, service_sid: &str, version: u64) -> Result<(), StoreError> {
            self.0.delete_rate_limits(service_sid, version).await
        }
    }

    impl crate::store::services::ServiceStore for CountersDown {
        async fn stored_services(&self) -> Result<crate::service_catalog::StoredServices, StoreError> {
            self.0.stored_services().await
        }
        async fn save_stored_services(&self, s: &crate::service_catalog::StoredServices) -> Result<(), StoreError> {
            self.0.save_stored_services(s).await
        }
    }

    impl CounterStore for CountersDown {
        async fn take(&self, counter: &Counter) -> Result<bool, StoreError> {
            self.0.take(counter).await
        }
        async fn give_back(&self, counter: &Counter) -> Result<(), StoreError> {
            self.0.give_back(counter).await
        }
    }

    impl FraudGuardStore for CountersDown {
        async fn fraud_window(&self, _: &str, _: &str, _: Millis) -> Result<fraud_guard::Window, StoreError> {
            Err(StoreError::Unavailable("down".into()))
        }
        async fn fraud_tally(&self, _: &str, _: &str, _: Tally, _: Millis) -> Result<(), StoreError> {
            Err(StoreError::Unavailable("down".into()))
        }
        async fn fraud_block(&self, _: &str, _: &str, _: &fraud_guard::Block, _: Option<&fraud_guard::Block>) -> Result<(), StoreError> {
            Err(StoreError::Unavailable("down".into()))
        }
    }

    #[tokio::test]
    async fn counters_that_fail_never_fail_a_start_or_a_check() {
        let (v, outbox) = verifier(&[Channel::Sms]);
        let v =
            Verifier { store: CountersDown(MemoryStore::new()), senders: v.senders, clock: v.clock, services: v.services, keys: v.keys };
        let service = v.services.seeded().default_service().clone();
        assert_eq!(service.fraud_guard.level, Level::Standard);
        let start =
            StartRequest { to: to(MOBILE), channel: Channel::Sms, language: None, friendly_name: None, email_from: Default::default() };
        let mut notes = GuardNotes::default();
        v.start_guarded(&service, &start, RiskCheck::Enable, &mut notes).await.expect("sent");
        assert_eq!(notes, GuardNotes { monitored: false, counter_failures: 2 }, "the unread window and the uncounted send");
        let body = outbox.messages(Some(MOBILE)).last().unwrap().body.clone();
        let code = Code::parse(body.rsplit(' ').next().unwrap(), 6).unwrap();
        let mut notes = GuardNotes::default();
        assert!(v.check_noted(&service, &CheckTarget::To(to(MOBILE)), &code, &mut notes).await.unwrap().approved);
        assert_eq!(notes.counter_failures, 1, "the uncounted approval");
    }
}
