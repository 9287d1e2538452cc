//! A service's daily budget on every store (memory, dynoxide, moto): the
//! day's caps on sends, on estimated spend and on sends to one country;
//! a refused start sends nothing; a start that sends nothing after all (a
//! per-number limit) gives its count back; test recipients are not
//! counted; the caps reset at midnight UTC.

use crate::support::*;
use verify_core::budget::{BudgetCap, parse};
use verify_core::config::{Limits, Service};
use verify_core::service::VerifyError;

async fn harness_with_budget(engine: Engine, budget: serde_json::Value, limits: Limits) -> Harness {
    let mut service = Service::new(SERVICE_SID.into(), "Acme".into(), limits);
    service.daily_budget = Some(parse(&budget).unwrap());
    harness_for(engine, service).await
}

fn refused_by(e: VerifyError) -> BudgetCap {
    match e {
        VerifyError::BudgetExhausted { cap, retry_after } => {
            assert!((1..=86_400).contains(&retry_after), "{retry_after}");
            cap
        }
        other => panic!("{other:?}"),
    }
}

async fn the_days_sends_are_capped_until_midnight(engine: Engine) {
    let h = harness_with_budget(engine, serde_json::json!({"max_sends": 3}), Limits::default()).await;
    for _ in 0..3 {
        h.start(&start_request(&fresh_number())).await.unwrap();
    }
    let refused = fresh_number();
    assert_eq!(refused_by(h.start(&start_request(&refused)).await.unwrap_err()), BudgetCap::Service);
    assert!(h.outbox.messages(Some(&refused)).is_empty(), "nothing sent");
    h.clock.set((T0 / 86_400 + 1) * 86_400);
    h.start(&start_request(&refused)).await.unwrap();
    assert_eq!(h.outbox.messages(Some(&refused)).len(), 1, "a new day, a new budget");
}

async fn spend_and_a_countrys_sends_are_capped(engine: Engine) {
    let budget = serde_json::json!({
        "max_spend_usd": 0.10, "price_usd": {"*": 0.04, "US": 0.01},
        "max_sends_by_country": {"GB": 1}
    });
    let h = harness_with_budget(engine, budget, Limits::default()).await;
    h.start(&start_request("+442079460981")).await.unwrap();
    let e = h.start(&start_request("+442079460982")).await.unwrap_err();
    assert_eq!(refused_by(e), BudgetCap::Country("GB".into()));
    // Spent so far: one GB send, 0.04 (the refused one was given back).
    h.start(&start_request("+33142685300")).await.unwrap();
    for _ in 0..2 {
        h.start(&start_request(&fresh_number())).await.unwrap();
    }
    // 0.04 + 0.04 + 0.01 + 0.01 = 0.10: the next send would pass the cap.
    assert_eq!(refused_by(h.start(&start_request(&fresh_number())).await.unwrap_err()), BudgetCap::Service);
}

async fn a_start_that_sends_nothing_gives_its_count_back(engine: Engine) {
    let limits = Limits { max_sends: 1, ..Limits::default() };
    let h = harness_with_budget(engine, serde_json::json!({"max_sends": 2}), limits).await;
    let a = fresh_number();
    h.start(&start_request(&a)).await.unwrap();
    assert!(matches!(h.start(&start_request(&a)).await, Err(VerifyError::SendsExhausted { .. })));
    h.start(&start_request(&fresh_number())).await.unwrap();
    assert!(matches!(h.start(&start_request(&fresh_number())).await, Err(VerifyError::BudgetExhausted { .. })));
}

async fn test_recipients_are_not_counted(engine: Engine) {
    let mut service = Service::new(SERVICE_SID.into(), "Acme".into(), Limits::default());
    service.daily_budget = Some(parse(&serde_json::json!({"max_sends": 1})).unwrap());
    let tester = fresh_number();
    let code = verify_core::otp::Code::parse("424242", 6).unwrap();
    service.test_recipients = vec![verify_core::config::TestRecipient { key: tester.clone(), code }];
    let h = harness_for(engine, service).await;
    for _ in 0..3 {
        h.start(&start_request(&tester)).await.unwrap();
    }
    h.start(&start_request(&fresh_number())).await.unwrap();
}

on_every_store!(
    the_days_sends_are_capped_until_midnight,
    spend_and_a_countrys_sends_are_capped,
    a_start_that_sends_nothing_gives_its_count_back,
    test_recipients_are_not_counted,
);

async fn two_hundred_starts_pass_exactly_the_days_cap(engine: Engine) {
    use std::sync::Arc;
    let h = Arc::new(harness_with_budget(engine, serde_json::json!({"max_sends": 7}), Limits::default()).await);
    let results = starts_released_together(&h, 200, |h, req| async move { h.start(&req).await }).await;
    let mut sent = 0;
    for result in results {
        match result {
            Ok(_) => sent += 1,
            Err(VerifyError::BudgetExhausted { .. }) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(sent, 7);
    assert_eq!(h.outbox.messages(None).len(), 7);
}

/// Concurrency on the engines whose conditional writes are atomic (moto's
/// are not, see concurrency.rs).
mod burst {
    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn on_memory() {
        two_hundred_starts_pass_exactly_the_days_cap(Engine::Memory).await
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn on_dynoxide() {
        two_hundred_starts_pass_exactly_the_days_cap(Engine::Dynoxide).await
    }
}
