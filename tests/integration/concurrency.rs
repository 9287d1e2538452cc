//! Limits under concurrency, in the style of Ory Kratos's tests: many
//! requests released together against one verification on a real engine.

use crate::support::*;
use std::sync::Arc;
use tokio::sync::Barrier;
use verify_core::config::Limits;
use verify_core::otp::Code;
use verify_core::phone::PhoneNumber;
use verify_core::service::{CheckTarget, VerifyError};

async fn burst_of_checks(h: Arc<Harness>, to: &str, codes: Vec<String>) -> Vec<Result<bool, VerifyError>> {
    let barrier = Arc::new(Barrier::new(codes.len()));
    let tasks: Vec<_> = codes
        .into_iter()
        .map(|c| {
            let (h, barrier, to) = (h.clone(), barrier.clone(), to.to_owned());
            tokio::spawn(async move {
                let target = CheckTarget::To(PhoneNumber::parse(&to).unwrap().into());
                let code = Code::parse(&c, 6).unwrap();
                barrier.wait().await;
                h.check(&target, &code).await.map(|o| o.approved)
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

async fn started(engine: Engine) -> (Arc<Harness>, String, String) {
    let h = harness(engine, Limits { max_failures: 1000, ..Limits::default() }).await;
    let to = fresh_number();
    let req = start_request(&to);
    h.start(&req).await.unwrap();
    let code = last_code(&h.outbox, &to);
    (Arc::new(h), to, code)
}

async fn fifty_right_codes_approve_exactly_once(engine: Engine) {
    for round in 0..5 {
        let (h, to, right) = started(engine).await;
        let results = burst_of_checks(h, &to, vec![right; 50]).await;
        let approved = results.iter().filter(|r| matches!(r, Ok(true))).count();
        assert_eq!(approved, 1, "round {round}: {results:?}");
        // The others lost the race to the approval: they get what a check
        // after an approval gets (not found), never "attempts exhausted".
        assert!(results.iter().all(|r| matches!(r, Ok(true) | Err(VerifyError::NotFound))), "round {round}: {results:?}");
    }
}

/// Many rounds of a smaller burst, where the losers' refusals and the
/// approval interleave in every order.
async fn losers_of_an_approval_race_are_not_found(engine: Engine) {
    let mut exhausted = 0;
    for _ in 0..30 {
        let (h, to, right) = started(engine).await;
        let results = burst_of_checks(h, &to, vec![right; 16]).await;
        assert_eq!(results.iter().filter(|r| matches!(r, Ok(true))).count(), 1, "{results:?}");
        exhausted += results.iter().filter(|r| matches!(r, Err(VerifyError::AttemptsExhausted { .. }))).count();
        assert!(
            results.iter().all(|r| matches!(r, Ok(true) | Err(VerifyError::NotFound | VerifyError::AttemptsExhausted { .. }))),
            "{results:?}"
        );
    }
    assert_eq!(exhausted, 0, "checks that lost to an approval were answered 429");
}

async fn two_hundred_wrong_codes_evaluate_at_most_five(engine: Engine) {
    let (h, to, right) = started(engine).await;
    let wrong = wrong_code_for(&right);
    let results = burst_of_checks(h.clone(), &to, vec![wrong.to_owned(); 200]).await;
    let evaluated = results.iter().filter(|r| matches!(r, Ok(false))).count();
    let refused = results.iter().filter(|r| matches!(r, Err(VerifyError::AttemptsExhausted { .. }))).count();
    assert!(evaluated <= 5, "{evaluated} wrong codes were compared");
    assert_eq!(evaluated + refused, 200, "{results:?}");
    let after = burst_of_checks(h, &to, vec![right]).await;
    assert!(matches!(after[0], Err(VerifyError::AttemptsExhausted { .. })), "the right code afterwards: {after:?}");
}

async fn parallel_starts_never_exceed_the_send_cap(engine: Engine) {
    let h = Arc::new(harness(engine, Limits::default()).await);
    let to = fresh_number();
    let barrier = Arc::new(Barrier::new(20));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (h, barrier, to) = (h.clone(), barrier.clone(), to.clone());
            tokio::spawn(async move {
                let req = start_request(&to);
                barrier.wait().await;
                h.start(&req).await
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(VerifyError::SendsExhausted { .. } | VerifyError::Busy) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    let sent = h.outbox.messages(Some(&to)).len();
    assert_eq!(sent, ok, "one SMS per accepted start");
    assert!(sent <= 5, "{sent} SMS sent for one number in one window");
    assert!(sent >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn dynoxide_fifty_right_codes_approve_exactly_once() {
    fifty_right_codes_approve_exactly_once(Engine::Dynoxide).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn dynoxide_losers_of_an_approval_race_are_not_found() {
    losers_of_an_approval_race_are_not_found(Engine::Dynoxide).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn dynoxide_two_hundred_wrong_codes_evaluate_at_most_five() {
    two_hundred_wrong_codes_evaluate_at_most_five(Engine::Dynoxide).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn dynoxide_parallel_starts_never_exceed_the_send_cap() {
    parallel_starts_never_exceed_the_send_cap(Engine::Dynoxide).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn memory_fifty_right_codes_approve_exactly_once() {
    fifty_right_codes_approve_exactly_once(Engine::Memory).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn memory_losers_of_an_approval_race_are_not_found() {
    losers_of_an_approval_race_are_not_found(Engine::Memory).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn memory_two_hundred_wrong_codes_evaluate_at_most_five() {
    two_hundred_wrong_codes_evaluate_at_most_five(Engine::Memory).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn memory_parallel_starts_never_exceed_the_send_cap() {
    parallel_starts_never_exceed_the_send_cap(Engine::Memory).await
}

// Not run on moto: its server evaluates a conditional write and applies it
// without a lock across request threads, so under a burst two approvals or
// ten evaluations slip through (observed while writing these tests). DynamoDB
// guarantees single-item conditional writes are atomic, and dynoxide, which
// serialises writes, upholds that; moto still runs every sequential flow.
