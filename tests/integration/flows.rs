//! The verification flow against real DynamoDB-compatible engines: every
//! test runs on embedded dynoxide and on moto's server.

use crate::support::*;
use verify_core::config::{Limits, Service};
use verify_core::otp::Code;
use verify_core::phone::PhoneNumber;
use verify_core::record::{Status, StoredStatus};
use verify_core::service::{CheckTarget, StartRequest, VerifyError};
use verify_core::store::{RecordKey, Store};

fn start_req(to: &str) -> StartRequest {
    start_request(to)
}

fn by_number(to: &str) -> CheckTarget {
    CheckTarget::To(PhoneNumber::parse(to).unwrap().into())
}

fn code(s: &str) -> Code {
    Code::parse(s, 6).unwrap()
}

/// A 6-digit code that is certainly not `right`.
fn wrong(right: &str) -> Code {
    code(if right == "000000" { "111111" } else { "000000" })
}

async fn start_then_check_approves_once(engine: Engine) {
    let h = harness(engine, Limits::default()).await;
    let to = fresh_number();
    let v = h.start(&start_req(&to)).await.unwrap();
    assert_eq!(v.status_at(T0, h.limits()), Status::Pending);
    let sent = h.outbox.messages(Some(&to));
    assert_eq!(sent.len(), 1);
    assert!(sent[0].body.starts_with("Your Acme verification code is: "), "{}", sent[0].body);
    let right = last_code(&h.outbox, &to);

    let miss = h.check(&by_number(&to), &wrong(&right)).await.unwrap();
    assert!(!miss.approved);
    assert_eq!(miss.record.attempts, 1);
    let hit = h.check(&by_number(&to), &code(&right)).await.unwrap();
    assert!(hit.approved);
    assert_eq!(hit.record.status, StoredStatus::Approved);
    assert_eq!(hit.record.failures, 0, "an approval resets the number's failure count");
    assert_eq!(h.check(&by_number(&to), &code(&right)).await, Err(VerifyError::NotFound));
}

async fn check_by_sid_and_wrong_sid(engine: Engine) {
    let h = harness(engine, Limits::default()).await;
    let to = fresh_number();
    let v = h.start(&start_req(&to)).await.unwrap();
    let right = last_code(&h.outbox, &to);
    let other = verify_core::sid::new_sid("VE");
    assert_eq!(h.check(&CheckTarget::Sid(other), &code(&right)).await, Err(VerifyError::NotFound));
    let ok = h.check(&CheckTarget::Sid(v.sid.clone()), &code(&right)).await.unwrap();
    assert!(ok.approved);
    assert_eq!(ok.record.sid, v.sid);
}

/// A verification started before sids were sealed (or by a deployment
/// without the number key) is still found by its random sid, through the
/// index, by one that seals; and a sealed sid of another number finds
/// nothing.
async fn random_and_foreign_sids_after_sealing(engine: Engine) {
    let mut h = harness(engine, Limits::default()).await;
    let (old, other) = (fresh_number(), fresh_number());
    let sealing = std::mem::replace(&mut h.verifier.keys, unsealed_keys());
    let before = h.start(&start_req(&old)).await.unwrap();
    h.verifier.keys = sealing;
    assert_eq!(h.verifier.keys.open_sid(&before.sid), None, "a random sid");
    let sealed = h.start(&start_req(&other)).await.unwrap();
    assert_eq!(h.verifier.keys.open_sid(&sealed.sid).as_deref(), Some(other.as_str()));
    // A sealed sid naming `old`'s record, but not its verification.
    let foreign = h.verifier.keys.new_verification_sid(&old);
    assert_eq!(h.check(&CheckTarget::Sid(foreign), &code(&last_code(&h.outbox, &old))).await, Err(VerifyError::NotFound));
    assert_eq!(h.verifier.fetch(h.service(), &CheckTarget::Sid(before.sid.clone())).await.unwrap().sid, before.sid);
    assert!(h.check(&CheckTarget::Sid(before.sid.clone()), &code(&last_code(&h.outbox, &old))).await.unwrap().approved);
    assert!(h.check(&CheckTarget::Sid(sealed.sid.clone()), &code(&last_code(&h.outbox, &other))).await.unwrap().approved);
}

async fn resend_keeps_sid_and_invalidates_old_code(engine: Engine) {
    let h = harness(engine, Limits::default()).await;
    let to = fresh_number();
    let first = h.start(&start_req(&to)).await.unwrap();
    let old = last_code(&h.outbox, &to);
    h.clock.advance(30);
    let second = h.start(&start_req(&to)).await.unwrap();
    let new = last_code(&h.outbox, &to);
    assert_eq!(first.sid, second.sid);
    assert_eq!(second.send_attempts.len(), 2);
    if old != new {
        let r = h.check(&by_number(&to), &code(&old)).await.unwrap();
        assert!(!r.approved, "the old code must not approve after a resend");
    }
    assert!(h.check(&by_number(&to), &code(&new)).await.unwrap().approved);
}

async fn sixth_send_is_refused(engine: Engine) {
    let h = harness(engine, Limits::default()).await;
    let to = fresh_number();
    for _ in 0..5 {
        h.start(&start_req(&to)).await.unwrap();
        h.clock.advance(10);
    }
    let refused = h.start(&start_req(&to)).await;
    assert!(matches!(refused, Err(VerifyError::SendsExhausted { retry_after }) if retry_after == 550), "{refused:?}");
    assert_eq!(h.outbox.messages(Some(&to)).len(), 5, "no SMS for a refused start");
    h.clock.advance(600);
    h.start(&start_req(&to)).await.expect("a new window allows sending again");
}

async fn five_wrong_codes_then_locked(engine: Engine) {
    let h = harness(engine, Limits::default()).await;
    let to = fresh_number();
    h.start(&start_req(&to)).await.unwrap();
    let right = last_code(&h.outbox, &to);
    for i in 1..=5 {
        let r = h.check(&by_number(&to), &wrong(&right)).await.unwrap();
        assert_eq!((r.approved, r.record.attempts), (false, i));
    }
    let sixth = h.check(&by_number(&to), &code(&right)).await;
    assert!(matches!(sixth, Err(VerifyError::AttemptsExhausted { .. })), "{sixth:?}");
}

async fn failures_span_verifications_until_approval(engine: Engine) {
    let limits = Limits { max_failures: 7, ..Limits::default() };
    let h = harness(engine, limits).await;
    let to = fresh_number();
    // 5 wrong on the first verification, then a new one (after the attempts
    // ran out) gets only 2 more before the number is locked.
    h.start(&start_req(&to)).await.unwrap();
    let right = last_code(&h.outbox, &to);
    for _ in 0..5 {
        h.check(&by_number(&to), &wrong(&right)).await.unwrap();
    }
    h.clock.advance(60);
    h.start(&start_req(&to)).await.unwrap();
    let right = last_code(&h.outbox, &to);
    for _ in 0..2 {
        assert!(!h.check(&by_number(&to), &wrong(&right)).await.unwrap().approved);
    }
    // Locked (not "this verification's attempts are used up"), until the
    // failure window that began with the first wrong code ends.
    let unlocks = T0 + 24 * 3600;
    let locked = h.check(&by_number(&to), &code(&right)).await;
    assert!(matches!(locked, Err(VerifyError::Locked { until, .. }) if until == unlocks), "{locked:?}");
    let restart = h.start(&start_req(&to)).await;
    assert!(matches!(restart, Err(VerifyError::Locked { until, .. }) if until == unlocks), "a locked number gets no new code: {restart:?}");
    // After the failure window the number may try again, and an approval
    // resets the count.
    h.clock.advance(24 * 3600);
    h.start(&start_req(&to)).await.unwrap();
    let right = last_code(&h.outbox, &to);
    h.check(&by_number(&to), &wrong(&right)).await.unwrap();
    let ok = h.check(&by_number(&to), &code(&right)).await.unwrap();
    assert!(ok.approved);
    assert_eq!(ok.record.failures, 0);
}

async fn expiry_is_exact(engine: Engine) {
    let h = harness(engine, Limits::default()).await;
    let (a, b) = (fresh_number(), fresh_number());
    h.start(&start_req(&a)).await.unwrap();
    h.start(&start_req(&b)).await.unwrap();
    let (code_a, code_b) = (last_code(&h.outbox, &a), last_code(&h.outbox, &b));
    h.clock.advance(599);
    assert!(h.check(&by_number(&a), &code(&code_a)).await.unwrap().approved, "valid at T+599 s");
    h.clock.advance(2);
    assert_eq!(
        h.check(&by_number(&b), &code(&code_b)).await,
        Err(VerifyError::NotFound),
        "expired at T+601 s, although TTL has deleted nothing"
    );
}

async fn expired_item_left_by_ttl_does_not_count_as_live(engine: Engine) {
    let h = harness(engine, Limits::default()).await;
    let to = fresh_number();
    let first = h.start(&start_req(&to)).await.unwrap();
    let old = last_code(&h.outbox, &to);
    h.clock.advance(601);
    let key = RecordKey { service_sid: SERVICE_SID.into(), to: to.clone() };
    assert!(h.verifier.store.read(&key).await.unwrap().is_some(), "the item is still there (TTL lag)");
    let second = h.start(&start_req(&to)).await.unwrap();
    assert_ne!(first.sid, second.sid, "a start after expiry creates a new verification");
    let new = last_code(&h.outbox, &to);
    if old != new {
        assert!(!h.check(&by_number(&to), &code(&old)).await.unwrap().approved);
    }
    assert!(h.check(&by_number(&to), &code(&new)).await.unwrap().approved);
}

async fn failed_sms_voids_the_code_and_gives_the_send_back(engine: Engine) {
    let h = harness(engine, Limits::default()).await;
    let to = fresh_number();
    h.outbox.fail_with(Some("provider down"));
    let err = h.start(&start_req(&to)).await;
    assert!(matches!(err, Err(VerifyError::SendFailed(_))), "{err:?}");
    let key = RecordKey { service_sid: SERVICE_SID.into(), to: to.clone() };
    let stored = h.verifier.store.read(&key).await.unwrap().unwrap();
    assert_eq!((stored.status, stored.sends), (StoredStatus::Failed, 0));
    // Whatever code was generated, it cannot be checked now.
    assert_eq!(h.check(&by_number(&to), &code("123456")).await, Err(VerifyError::NotFound));
    h.outbox.fail_with(None);
    let retried = h.start(&start_req(&to)).await.unwrap();
    assert_eq!(retried.sends, 1, "the failed send did not use up the window");
    assert!(h.check(&by_number(&to), &code(&last_code(&h.outbox, &to))).await.unwrap().approved);
}

/// Test mode: a start to a test recipient sends nothing, is recorded (and
/// persisted) as a test, and only its fixed code approves it; a wrong code
/// counts as an attempt like any other.
async fn test_recipients_get_no_message_and_their_fixed_code(engine: Engine) {
    let to = fresh_number();
    let mut service = verify_core::config::Service::new(crate::support::SERVICE_SID.into(), "Acme".into(), Limits::default());
    service.test_recipients = vec![verify_core::config::TestRecipient { key: to.clone(), code: code("424242") }];
    let h = crate::support::harness_for(engine, service).await;
    let started = h.start(&start_req(&to)).await.unwrap();
    assert!(started.test && started.sends == 1, "{started:?}");
    assert!(h.outbox.messages(None).is_empty(), "nothing is sent to a test recipient");
    let key = RecordKey { service_sid: crate::support::SERVICE_SID.into(), to: to.clone() };
    assert!(h.verifier.store.read(&key).await.unwrap().unwrap().test, "the test flag is stored");
    let wrong = h.check(&by_number(&to), &code("123456")).await.unwrap();
    assert!(!wrong.approved && wrong.record.attempts == 1, "a wrong code is an attempt: {wrong:?}");
    let resent = h.start(&start_req(&to)).await.unwrap();
    assert_eq!((resent.sends, resent.sid.as_str()), (2, started.sid.as_str()), "a resend counts as a send");
    let right = h.check(&by_number(&to), &code("424242")).await.unwrap();
    assert!(right.approved && right.record.test);
    // Anyone else gets a real message and a random code.
    let other = fresh_number();
    assert!(!h.start(&start_req(&other)).await.unwrap().test);
    assert_eq!(h.outbox.messages(Some(&other)).len(), 1);
}

async fn store_faults_are_retryable_errors(engine: Engine) {
    let h = harness(engine, Limits::default()).await;
    // Same code, a store that fails every call (for DynamoDB, a table that
    // does not exist): every call fails as a fault.
    let broken = verify_core::service::Verifier {
        store: h.verifier.store.broken(),
        senders: verify_core::sender::Senders::sms(h.outbox.clone()),
        clock: h.clock.clone(),
        services: h.verifier.services.clone(),
        keys: keys(),
    };
    let to = fresh_number();
    assert!(matches!(broken.start(h.service(), &start_req(&to)).await, Err(VerifyError::StoreUnavailable(_))));
    assert!(h.outbox.messages(Some(&to)).is_empty(), "no SMS when the state could not be written");
    assert!(matches!(broken.check(h.service(), &by_number(&to), &code("123456")).await, Err(VerifyError::StoreUnavailable(_))));
}

on_every_store!(
    start_then_check_approves_once,
    check_by_sid_and_wrong_sid,
    random_and_foreign_sids_after_sealing,
    resend_keeps_sid_and_invalidates_old_code,
    sixth_send_is_refused,
    five_wrong_codes_then_locked,
    failures_span_verifications_until_approval,
    expiry_is_exact,
    expired_item_left_by_ttl_does_not_count_as_live,
    failed_sms_voids_the_code_and_gives_the_send_back,
    store_faults_are_retryable_errors,
    test_recipients_get_no_message_and_their_fixed_code,
);

/// dynoxide's TTL sweep, run on the engine's own clock at chosen times (never
/// the wall clock): an item stays while a rule still reads it and is deleted
/// once its TTL has passed. A pending verification is needed until its code
/// expires and its send window closes (T0 + 600 s); a number with a failed
/// check keeps its item for the failure window (T0 + 24 h).
#[tokio::test(flavor = "multi_thread")]
async fn ttl_sweep_removes_only_what_no_rule_needs() {
    // Verification items only: the fraud guard's counters expire on their
    // own schedule (fraud_guard.rs), so it is off here.
    let mut service = Service::new(SERVICE_SID.into(), "Acme".into(), Limits::default());
    service.fraud_guard.level = verify_core::fraud_guard::Level::Off;
    let h = harness_for(Engine::Dynoxide, service).await;
    let (db, engine_clock) = (h.dynoxide.clone().unwrap(), h.engine_clock.clone().unwrap());
    let sweep_at = |t: i64| {
        engine_clock.set(t as u64);
        let db = db.clone();
        async move { tokio::task::spawn_blocking(move || db.sweep_ttl()).await.unwrap().unwrap() }
    };
    let key = |to: &str| RecordKey { service_sid: SERVICE_SID.into(), to: to.to_owned() };
    let (pending, failed) = (fresh_number(), fresh_number());
    h.start(&start_req(&pending)).await.unwrap();
    h.start(&start_req(&failed)).await.unwrap();
    let right = last_code(&h.outbox, &failed);
    assert!(!h.check(&by_number(&failed), &wrong(&right)).await.unwrap().approved);

    assert_eq!(sweep_at(T0 + 600).await, 0, "both items are still needed at T+600 s");
    assert!(h.verifier.store.read(&key(&pending)).await.unwrap().is_some());

    assert_eq!(sweep_at(T0 + 601).await, 1, "only the pending verification is past its TTL");
    assert!(h.verifier.store.read(&key(&pending)).await.unwrap().is_none(), "deleted once its windows closed");
    let kept = h.verifier.store.read(&key(&failed)).await.unwrap().expect("the failure window still counts it");
    assert_eq!(kept.failures, 1);

    assert_eq!(sweep_at(T0 + 86_400).await, 0, "the failure counts until T+24 h");
    assert_eq!(sweep_at(T0 + 86_401).await, 1);
    assert!(h.verifier.store.read(&key(&failed)).await.unwrap().is_none());
}
