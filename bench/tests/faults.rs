//! The fault-injection harness, small and seeded, in CI: 30 % of DynamoDB
//! requests throttled, failed, unanswered or answered-lost-after-applying,
//! 20 % of sends failed, under concurrent starts and checks; every invariant
//! must hold (see `verify_bench::faults`). `bench-faults` is the big run.

use verify_bench::faults::{Config, markdown, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invariants_hold_under_injected_faults() {
    let report = run(Config::small(20_250_101)).await;
    println!("{}", markdown(&report));
    // The load did what it is meant to: faults of every kind were injected,
    // codes were delivered and approved, and every invariant looked at something.
    let c = report.config.as_ref().unwrap();
    assert!(report.injected() as f64 >= 0.2 * report.requests() as f64, "{} of {} faulted", report.injected(), report.requests());
    assert!(report.faults.keys().map(|(_, f)| *f).collect::<std::collections::HashSet<_>>().len() >= 8, "every kind of fault, and none");
    assert!(report.sends_delivered > 0 && report.sends_failed > 0);
    assert!(report.answers.iter().any(|((op, status), _)| op.starts_with("check (right") && *status == 200));
    assert!(report.invariants.iter().all(|i| i.checked > 0), "an invariant checked nothing");
    assert!(report.answers.values().sum::<u64>() >= c.operations as u64);
    assert_eq!(report.violations(), 0, "{}", markdown(&report));
}

use std::time::Duration;
use verify_bench::fault_proxy::{Fault, FaultProxy};
use verify_bench::faults::{HANG, LAMBDA_TIMEOUT, World};
use verify_core::events::EventType;

const TO: &str = "+4915199990001";

/// A world where only `rule`'s requests are faulted.
async fn world_with(rule: impl Fn(&str, &[u8]) -> Option<Fault> + Send + Sync + 'static) -> World {
    World::new(FaultProxy::new(0.0, HANG, 1).with_rule(rule), 0.0, 1).await
}

// Regression: a wrong code whose note (`failed_checks`, the source of the
// check_failed event) could not be written was answered 200 "pending" with
// no event ever derived. It is now a retryable 503, so every verdict a
// client sees has its event (since the attempt and its note became one
// write, the failed write counts nothing either).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_code_whose_note_fails_is_retryable_and_loses_no_event() {
    let w = world_with(|op, body| {
        (op == "UpdateItem" && String::from_utf8_lossy(body).contains("#failed_checks")).then_some(Fault::Unavailable)
    })
    .await;
    assert_eq!(w.post("Verifications", &[("To", TO), ("Channel", "sms")]).await.0, 201);
    let wrong = if w.latest_code(TO).unwrap() == "000000" { "111111" } else { "000000" };
    let (status, body, _) = w.post("VerificationCheck", &[("To", TO), ("Code", wrong)]).await;
    assert_eq!((status, body["code"].as_u64()), (503, Some(20503)), "{body}");
    let events = w.events();
    assert!(events.iter().any(|e| e.event_type == EventType::Pending));
    assert!(!events.iter().any(|e| e.event_type == EventType::CheckFailed), "no verdict was given, so no event is due");
    // The right code still works: the failed note changed nothing else.
    let right = w.latest_code(TO).unwrap();
    let (status, body, _) = w.post("VerificationCheck", &[("To", TO), ("Code", &right)]).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("approved")), "{body}");
}

// Regression: the AWS clients had no attempt or operation timeout (the SDK
// default is a connect timeout only), so a DynamoDB answer that never came
// held the request until Lambda killed it: a bare 504 after 10 s. Now the
// SDK gives up, retries, and the client gets a retryable 503 in time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_dynamodb_call_is_a_retryable_error_before_the_lambda_timeout() {
    let w = world_with(|op, _| (op == "PutItem").then_some(Fault::Timeout)).await;
    let (status, body, took) = w.post("Verifications", &[("To", TO), ("Channel", "sms")]).await;
    assert_eq!((status, body["code"].as_u64()), (503, Some(20503)), "{body} after {took:?}");
    assert!(took < LAMBDA_TIMEOUT - Duration::from_secs(2), "answered after {took:?}");
    assert!(w.latest_code(TO).is_none(), "nothing was sent");
}

/// Whether the number's stored verification is still pending (checkable).
async fn pending(w: &World) -> bool {
    let key = verify_core::store::RecordKey { service_sid: w.service_sid(), to: TO.into() };
    let r = verify_core::store::Store::read(&w.direct, &key).await.unwrap();
    r.is_some_and(|r| r.status == verify_core::record::StoredStatus::Pending)
}

// Regression: a start whose write landed but whose every answer was lost
// answered 503 and left a pending code nobody received (and a send counted).
// The start now voids its own write before answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_whose_write_landed_unanswered_leaves_no_usable_code() {
    let w = world_with(|op, _| (op == "PutItem").then_some(Fault::AppliedThen500)).await;
    let (status, body, _) = w.post("Verifications", &[("To", TO), ("Channel", "sms")]).await;
    assert_eq!((status, body["code"].as_u64()), (503, Some(20503)), "{body}");
    assert!(w.latest_code(TO).is_none());
    assert!(!pending(&w).await, "the landed write must have been voided");
}

// Regression: when the SMS failed and the one call voiding its code failed
// too (three SDK attempts), the code stayed pending though nobody received
// it. The void is now tried again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_send_whose_first_void_fails_still_leaves_no_usable_code() {
    let failed_voids = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let counted = failed_voids.clone();
    let proxy = FaultProxy::new(0.0, HANG, 1).with_rule(move |op, body| {
        // The void is the one update guarded on a counted send (`#sends >=`).
        let void = op == "UpdateItem" && String::from_utf8_lossy(body).contains("#sends >= ");
        assert!(!void || String::from_utf8_lossy(body).contains("failed"), "the void marks the code failed");
        (void && counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 3).then_some(Fault::Throttling)
    });
    let w = World::new(proxy, 1.0, 1).await;
    let (status, body, _) = w.post("Verifications", &[("To", TO), ("Channel", "sms")]).await;
    assert_eq!((status, body["code"].as_u64()), (503, Some(20503)), "{body}");
    assert!(!pending(&w).await, "the unsent code must have been voided");
    assert!(failed_voids.load(std::sync::atomic::Ordering::SeqCst) >= 3, "the injected void failures happened");
}

// Regression: a right code whose approval lost the race to a resend (the
// code was replaced between the comparison and the approval) was answered
// as a wrong code, but never noted: no check_failed event for a verdict the
// client saw. Since the check is one write on the version it read, the
// approval's write is refused, the code is compared again with the code
// that replaced it, and the wrong code is counted and noted like any other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_replaced_before_its_approval_is_a_noted_wrong_code() {
    let w = std::sync::Arc::new(
        world_with(|op, body| {
            let body = String::from_utf8_lossy(body);
            // The approval: the one check write that sets "approved".
            (op == "UpdateItem" && body.contains("#checked_by") && body.contains("\"approved\"")).then_some(Fault::Slow)
        })
        .await,
    );
    assert_eq!(w.post("Verifications", &[("To", TO), ("Channel", "sms")]).await.0, 201);
    let first = w.latest_code(TO).unwrap();
    let checking = {
        let w = w.clone();
        tokio::spawn(async move { w.post("VerificationCheck", &[("To", TO), ("Code", &first)]).await })
    };
    tokio::time::sleep(verify_bench::fault_proxy::SLOW / 5).await;
    assert_eq!(w.post("Verifications", &[("To", TO), ("Channel", "sms")]).await.0, 201, "the resend");
    let (status, body, _) = checking.await.unwrap();
    assert_eq!((status, body["status"].as_str()), (200, Some("pending")), "{body}");
    let sid = body["sid"].as_str().unwrap();
    let failed = w.events().into_iter().filter(|e| e.event_type == EventType::CheckFailed && e.verification_sid == sid).count();
    assert_eq!(failed, 1, "the verdict's event");
}

// Regression: a start whose write landed but whose answer was lost saw its
// own write in the SDK's retry (a failed condition) and planned again on
// it: a second send counted for one SMS, and at the send limit the start
// refused itself (429) leaving a pending code nobody received. It now
// recognises its own write and sends that code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_recognises_its_own_write_whose_answer_was_lost() {
    let lost = std::sync::atomic::AtomicBool::new(false);
    let w = world_with(move |op, _| {
        (op == "PutItem" && !lost.swap(true, std::sync::atomic::Ordering::SeqCst)).then_some(Fault::AppliedThen500)
    })
    .await;
    let (status, body, _) = w.post("Verifications", &[("To", TO), ("Channel", "sms")]).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["send_code_attempts"].as_array().map(Vec::len), Some(1), "{body}");
    let key = verify_core::store::RecordKey { service_sid: w.service_sid(), to: TO.into() };
    let stored = verify_core::store::Store::read(&w.direct, &key).await.unwrap().unwrap();
    assert_eq!((stored.sends, stored.send_attempts.len()), (1, 1), "one SMS, one send counted");
    let code = w.latest_code(TO).unwrap();
    let (status, body, _) = w.post("VerificationCheck", &[("To", TO), ("Code", &code)]).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("approved")), "{body}");
}

// Regression: a wrong code whose write landed but whose answer was lost saw
// its own write refused in the SDK's retry, compared again on it and counted
// a second attempt and a second failure for one wrong code (an approval
// already recognised its own write). Every check write now records its
// request, and a refused retry that finds it answers from what it wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_code_whose_answer_was_lost_is_counted_once() {
    let lost = std::sync::atomic::AtomicBool::new(false);
    let w = world_with(move |op, body| {
        let wrong_code = op == "UpdateItem" && String::from_utf8_lossy(body).contains("#failed_checks");
        (wrong_code && !lost.swap(true, std::sync::atomic::Ordering::SeqCst)).then_some(Fault::AppliedThen500)
    })
    .await;
    assert_eq!(w.post("Verifications", &[("To", TO), ("Channel", "sms")]).await.0, 201);
    let right = w.latest_code(TO).unwrap();
    let wrong = if right == "000000" { "111111" } else { "000000" };
    let (status, body, _) = w.post("VerificationCheck", &[("To", TO), ("Code", wrong)]).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("pending")), "{body}");
    let key = verify_core::store::RecordKey { service_sid: w.service_sid(), to: TO.into() };
    let stored = verify_core::store::Store::read(&w.direct, &key).await.unwrap().unwrap();
    assert_eq!((stored.attempts, stored.failures, stored.activity.failed_checks), (1, 1, 1), "one wrong code, counted once");
    let failed = w.events().into_iter().filter(|e| e.event_type == EventType::CheckFailed).count();
    assert_eq!(failed, 1, "one check_failed event");
    let (status, body, _) = w.post("VerificationCheck", &[("To", TO), ("Code", &right)]).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("approved")), "{body}");
}

// Regression: a cancel whose write landed but whose answer was lost was
// answered 404 (the SDK's retry found the verification no longer pending),
// though it had been canceled; an approval by hand the same, and its
// conversion was never tallied. A close now records its request too, and
// recognises its own write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_whose_answer_was_lost_answers_canceled() {
    let lost = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let faulted = lost.clone();
    let w = world_with(move |op, body| {
        let cancel = op == "UpdateItem" && String::from_utf8_lossy(body).contains("\"canceled\"");
        (cancel && !faulted.swap(true, std::sync::atomic::Ordering::SeqCst)).then_some(Fault::AppliedThen500)
    })
    .await;
    let (status, body, _) = w.post("Verifications", &[("To", TO), ("Channel", "sms")]).await;
    assert_eq!(status, 201, "{body}");
    let sid = body["sid"].as_str().unwrap().to_owned();
    let (status, body, _) = w.post(&format!("Verifications/{sid}"), &[("Status", "canceled")]).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("canceled")), "{body}");
    assert!(lost.load(std::sync::atomic::Ordering::SeqCst), "the fault was injected");
}
