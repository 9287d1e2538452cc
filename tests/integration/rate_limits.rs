//! Programmable rate limits on every store (memory, dynoxide, moto): the
//! definitions document's optimistic versioning, the counters' atomic
//! conditional increments, and the rule over them: a start naming a limit
//! counts on each of its buckets, a full bucket refuses it (429) with
//! nothing written or sent and the other buckets given back, the next
//! window starts afresh. The 200-way burst runs on memory and dynoxide
//! (moto's conditional writes are not atomic under concurrency, see
//! concurrency.rs).

use crate::support::*;
use std::sync::Arc;
use verify_core::config::Limits;
use verify_core::rate_limits::{Bucket, RateLimit, RateLimits, window_start};
use verify_core::service::VerifyError;
use verify_core::store::counters::{Add, Counter, CounterStore};
use verify_core::store::rate_limits::RateLimitStore;
use verify_core::store::{Store, StoreError};

fn limit(name: &str, buckets: &[(u64, u64)]) -> RateLimit {
    RateLimit {
        sid: verify_core::sid::new_sid("RK"),
        unique_name: name.into(),
        description: None,
        created_at: T0,
        updated_at: T0,
        buckets: buckets
            .iter()
            .map(|&(max, interval)| Bucket { sid: verify_core::sid::new_sid("BL"), max, interval, created_at: T0, updated_at: T0 })
            .collect(),
    }
}

async fn define(h: &Harness, limits: Vec<RateLimit>) {
    let set = RateLimits { version: 1, limits };
    h.verifier.store.save_rate_limits(SERVICE_SID, &set).await.unwrap();
}

fn named(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
}

async fn definitions_are_versioned(engine: Engine) {
    let store = backend(engine).await.store;
    let sid = format!("VA{}", &verify_core::sid::new_sid("VA")[2..]);
    assert_eq!(store.rate_limits(&sid).await.unwrap(), RateLimits::default(), "none defined: empty, version 0");
    let v1 = RateLimits { version: 1, limits: vec![limit("ip", &[(5, 60)])] };
    store.save_rate_limits(&sid, &v1).await.unwrap();
    assert!(matches!(store.save_rate_limits(&sid, &v1).await, Err(StoreError::Conflict(None))), "version 1 exists");
    assert_eq!(store.rate_limits(&sid).await.unwrap(), v1);
    let v2 = RateLimits { version: 2, limits: vec![] };
    store.save_rate_limits(&sid, &v2).await.unwrap();
    let stale = RateLimits { version: 2, limits: vec![limit("late", &[])] };
    assert!(matches!(store.save_rate_limits(&sid, &stale).await, Err(StoreError::Conflict(None))), "a stale write loses");
    assert_eq!(store.rate_limits(&sid).await.unwrap(), v2);
    assert!(matches!(store.broken().rate_limits(&sid).await, Err(StoreError::Unavailable(_))));

    // Deleted (its service is), on the version read: a stale delete loses;
    // then none are defined, and a new document starts again at version 1.
    assert!(matches!(store.delete_rate_limits(&sid, 1).await, Err(StoreError::Conflict(None))), "a stale delete loses");
    assert_eq!(store.rate_limits(&sid).await.unwrap(), v2, "nothing deleted");
    store.delete_rate_limits(&sid, 2).await.unwrap();
    assert_eq!(store.rate_limits(&sid).await.unwrap(), RateLimits::default(), "deleted: empty, version 0");
    assert!(matches!(store.save_rate_limits(&sid, &v2).await, Err(StoreError::Conflict(None))), "a writer that read version 1 loses");
    store.save_rate_limits(&sid, &v1).await.unwrap();
    assert_eq!(store.rate_limits(&sid).await.unwrap(), v1);
}

async fn counters_stop_at_their_max_and_give_back(engine: Engine) {
    let store = backend(engine).await.store;
    let hit = Counter { key: verify_core::sid::new_sid("XX"), adds: vec![Add { name: "n", amount: 1, cap: Some(3) }], expires_at: T0 + 60 };
    for _ in 0..3 {
        assert!(store.take(&hit).await.unwrap());
    }
    assert!(!store.take(&hit).await.unwrap(), "full");
    store.give_back(&hit).await.unwrap();
    assert!(store.take(&hit).await.unwrap(), "one given back, one taken again");
    assert!(!store.take(&hit).await.unwrap());

    // Two totals on one counter, both capped: the first to run out refuses.
    let spend = Counter {
        key: verify_core::sid::new_sid("XX"),
        adds: vec![Add { name: "n", amount: 1, cap: Some(3) }, Add { name: "spend", amount: 400, cap: Some(1000) }],
        expires_at: T0 + 60,
    };
    assert!(store.take(&spend).await.unwrap());
    assert!(store.take(&spend).await.unwrap());
    assert!(!store.take(&spend).await.unwrap(), "1,200 would pass the spend cap of 1,000");
    store.give_back(&spend).await.unwrap();
    assert!(store.take(&spend).await.unwrap());
    let dear = Counter { adds: vec![Add { name: "spend", amount: 1001, cap: Some(1000) }], ..spend.clone() };
    assert!(!store.take(&dear).await.unwrap(), "an amount above its cap never passes");
    let gone = Counter { key: verify_core::sid::new_sid("XX"), ..spend };
    store.give_back(&gone).await.unwrap();
}

async fn a_full_bucket_refuses_the_start_and_writes_nothing(engine: Engine) {
    let h = harness(engine, Limits::default()).await;
    // Per minute: 2; per hour: 3.
    define(&h, vec![limit("end_user_ip_address", &[(2, 60), (3, 3600)]), limit("account", &[(100, 60)])]).await;
    let service = h.service();
    let ip = named(&[("end_user_ip_address", "203.0.113.7")]);
    // Starting 60 s into an hour, so the minute windows below stay inside it.
    h.clock.set(window_start(T0, 3600) + 3600 + 60);
    for _ in 0..2 {
        let to = fresh_number();
        h.verifier.take_rate_limits(service, &start_request(&to), &ip).await.unwrap();
        h.start(&start_request(&to)).await.unwrap();
    }
    let refused = fresh_number();
    let e = h.verifier.take_rate_limits(service, &start_request(&refused), &ip).await.unwrap_err();
    let VerifyError::RateLimited { unique_name, max, interval, retry_after } = e else { panic!("{e:?}") };
    assert_eq!((unique_name.as_str(), max, interval), ("end_user_ip_address", 2, 60));
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert!(h.outbox.messages(Some(&refused)).is_empty(), "nothing sent");
    let key = verify_core::store::RecordKey { service_sid: SERVICE_SID.into(), to: start_request(&refused).to.key() };
    assert!(h.verifier.store.read(&key).await.unwrap().is_none(), "no code written");

    // Another value has its own counters.
    let other = named(&[("end_user_ip_address", "198.51.100.1")]);
    h.verifier.take_rate_limits(service, &start_request(&fresh_number()), &other).await.unwrap();

    // The next minute: the per-minute bucket is empty again, the hour's has
    // one left; the refused start took nothing from it.
    h.clock.advance(60);
    h.verifier.take_rate_limits(service, &start_request(&fresh_number()), &ip).await.unwrap();
    let e = h.verifier.take_rate_limits(service, &start_request(&fresh_number()), &ip).await.unwrap_err();
    assert!(matches!(e, VerifyError::RateLimited { interval: 3600, .. }), "{e:?}");
    // ...and that refusal gave the minute's count back: after the hour
    // rolls, two more pass in one minute.
    h.clock.advance(3600);
    for _ in 0..2 {
        h.verifier.take_rate_limits(service, &start_request(&fresh_number()), &ip).await.unwrap();
    }

    let unknown = named(&[("nope", "x")]);
    let e = h.verifier.take_rate_limits(service, &start_request(&fresh_number()), &unknown).await.unwrap_err();
    assert_eq!(e, VerifyError::UnknownRateLimit("nope".into()));
    // Naming nothing reads nothing.
    h.verifier.store.take_calls();
    h.verifier.take_rate_limits(service, &start_request(&fresh_number()), &[]).await.unwrap();
    assert!(h.verifier.store.take_calls().is_empty());
}

async fn two_hundred_starts_at_one_bucket_pass_exactly_its_max(engine: Engine) {
    let h = Arc::new(harness(engine, Limits::default()).await);
    define(&h, vec![limit("session", &[(7, 3600)])]).await;
    let session = || named(&[("session", "s-1")]);
    let results =
        starts_released_together(&h, 200, move |h, req| async move { h.verifier.take_rate_limits(h.service(), &req, &session()).await })
            .await;
    let mut passed = 0;
    for result in results {
        match result {
            Ok(()) => passed += 1,
            Err(VerifyError::RateLimited { .. }) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(passed, 7);
}

on_every_store!(definitions_are_versioned, counters_stop_at_their_max_and_give_back, a_full_bucket_refuses_the_start_and_writes_nothing);

mod burst {
    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn on_memory() {
        two_hundred_starts_at_one_bucket_pass_exactly_its_max(Engine::Memory).await
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn on_dynoxide() {
        two_hundred_starts_at_one_bucket_pass_exactly_its_max(Engine::Dynoxide).await
    }
}
