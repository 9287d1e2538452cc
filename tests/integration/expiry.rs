//! Real-time expiry on every store: the sweep notes a pending verification
//! once its code expired, exactly once (repeated sweeps, and concurrent
//! ones where the engine's conditional writes are atomic), and never one
//! approved, canceled, resent or replaced first, nor one whose checks ran
//! out (that one is `max_attempts_reached`). On the DynamoDB engines
//! the sweep finds the sends in the events webhook-report stored from the
//! stream (handed to it before each sweep here), and the notes go through
//! the stream to `verification.expired` events: one per verification, the
//! TTL removal afterwards adds none, and the event store keeps one per id.

use crate::support::*;
use std::collections::HashMap;
use verify_aws::events::stream::parse_record;
use verify_core::clock::Clock;
use verify_core::config::Limits;
use verify_core::events::{Event, EventType};
use verify_core::otp::Code;
use verify_core::phone::PhoneNumber;
use verify_core::record::StoredStatus;
use verify_core::service::CheckTarget;
use verify_core::store::expiries::{ExpiryStore, Swept, sweep};
use verify_core::store::{RecordKey, Store};

/// Sweeps cover the minute before their tick, as on Lambda.
const PERIOD: i64 = 60;

fn services() -> Vec<Swept> {
    vec![Swept::of(&verify_core::config::Service::new(SERVICE_SID.into(), "Acme".into(), Limits::default()))]
}

/// What webhook-report does between sweeps on a DynamoDB engine: stores
/// the events of the stream so far (a replayed record stores nothing new).
async fn store_events(h: &Harness) {
    if h.verifier.store.is_dynamo() {
        let app = crate::report_counters::report_app(h);
        assert!(app.dispatcher.handle_records(&stream_records(h).await).await.failed.is_empty());
    }
}

fn by_number(to: &str) -> CheckTarget {
    CheckTarget::To(PhoneNumber::parse(to).unwrap().into())
}

async fn sweep_at(h: &Harness, now: i64) -> usize {
    h.clock.set(now);
    store_events(h).await;
    sweep(&h.verifier.store, &services(), now, PERIOD, h.clock.now_ms()).await.unwrap()
}

async fn record(h: &Harness, to: &str) -> verify_core::record::VerificationRecord {
    let key = RecordKey { service_sid: SERVICE_SID.into(), to: to.into() };
    h.verifier.store.read(&key).await.unwrap().unwrap()
}

async fn expiry_is_noted_once_and_only_for_what_ran_out(engine: Engine) {
    let h = harness(engine, Limits::default()).await;
    let [left, approved, canceled, resent, replaced, exhausted] = std::array::from_fn(|_| fresh_number());
    let mut sids = HashMap::new();
    for to in [&left, &approved, &canceled, &resent, &replaced, &exhausted] {
        sids.insert(to.clone(), h.start(&start_request(to)).await.unwrap().sid);
    }
    let right = Code::parse(&last_code(&h.outbox, &approved), 6).unwrap();
    assert!(h.check(&by_number(&approved), &right).await.unwrap().approved);
    let wrong = Code::parse(wrong_code_for(&last_code(&h.outbox, &exhausted)), 6).unwrap();
    for _ in 0..Limits::default().max_check_attempts {
        assert!(!h.check(&by_number(&exhausted), &wrong).await.unwrap().approved);
    }
    h.verifier.close(h.service(), &by_number(&canceled), StoredStatus::Canceled).await.unwrap();
    h.clock.set(T0 + 300);
    h.start(&start_request(&resent)).await.unwrap();

    assert_eq!(sweep_at(&h, T0 + 599).await, 0, "{engine:?}: nothing is due before the expiry");
    // Expired, then replaced by a new verification before any sweep.
    h.clock.set(T0 + 650);
    let second = h.start(&start_request(&replaced)).await.unwrap();
    assert_ne!(second.sid, sids[&replaced]);
    assert_eq!(sweep_at(&h, T0 + 650).await, 1, "{engine:?}: only the one left to expire");
    assert!(record(&h, &left).await.activity.expiry_noted);
    assert_eq!(sweep_at(&h, T0 + 651).await, 0, "{engine:?}: a second sweep notes nothing");
    // Two sweeps at once: the resent one, once. (Not on moto: its server
    // checks a condition and writes without a lock, so two conditional
    // writes racing on one item can both pass there, unlike on DynamoDB; the
    // concurrency suites run on dynoxide for the same reason.)
    h.clock.set(T0 + 900);
    if matches!(engine, Engine::Moto) {
        assert_eq!(sweep_at(&h, T0 + 900).await, 1, "{engine:?}");
    } else {
        store_events(&h).await;
        let swept = services();
        let sweep_now = || sweep(&h.verifier.store, &swept, T0 + 900, PERIOD, h.clock.now_ms());
        let (a, b) = tokio::join!(sweep_now(), sweep_now());
        assert_eq!(a.unwrap() + b.unwrap(), 1, "{engine:?}");
    }
    assert_eq!(sweep_at(&h, T0 + 1250).await, 1, "{engine:?}: the replacement, at its own expiry");
    for to in [&approved, &canceled, &exhausted] {
        assert!(!record(&h, to).await.activity.expiry_noted, "{engine:?}: {to} ended first");
    }
    // A retried tick covers nothing again (the mark is past it), the next one nothing new.
    h.clock.set(T0 + 1310);
    for tick in [T0 + 1250, T0 + 1310] {
        assert_eq!(sweep(&h.verifier.store, &services(), tick, PERIOD, h.clock.now_ms()).await.unwrap(), 0, "{engine:?}");
    }
    assert_eq!(h.verifier.store.sweep_mark().await.unwrap(), Some(T0 + 1310), "{engine:?}");
    if matches!(engine, Engine::Memory) {
        return;
    }

    // The stream: one expired event per verification that ran out.
    let app = crate::report_counters::report_app(&h);
    let expired = |records: &[serde_json::Value]| -> Vec<Event> {
        records
            .iter()
            .flat_map(|r| app.dispatcher.deriver.derive(&parse_record(r).unwrap().change()))
            .filter(|e| e.event_type == EventType::Expired)
            .collect()
    };
    let records = stream_records(&h).await;
    let events = expired(&records);
    let mut got: Vec<&str> = events.iter().map(|e| e.verification_sid.as_str()).collect();
    got.sort();
    let mut want = vec![sids[&left].as_str(), sids[&resent].as_str(), sids[&replaced].as_str(), second.sid.as_str()];
    want.sort();
    assert_eq!(got, want, "{engine:?}");
    assert_eq!(events[0].time_ms % 1000, 0, "timed at the expiry's second");
    // Handled twice (a replayed batch): each event stored once.
    for _ in 0..2 {
        assert!(app.dispatcher.handle_records(&records).await.failed.is_empty());
    }
    for e in &events {
        assert!(app.dispatcher.events.put(e).await.unwrap().is_none(), "{engine:?}: {} is stored already, once", e.id);
    }
    // The TTL removals that follow (dynoxide sweeps on demand) add none.
    if let (Some(db), Some(clock)) = (&h.dynoxide, &h.engine_clock) {
        clock.set((T0 + 30 * 86_400) as u64);
        let db = db.clone();
        assert!(tokio::task::spawn_blocking(move || db.sweep_ttl()).await.unwrap().unwrap() >= 5);
        let after = stream_records(&h).await;
        assert!(after.len() > records.len());
        assert_eq!(expired(&after).len(), events.len(), "{engine:?}: TTL removal after the note says nothing");
    }
}

/// A busy minute: more expiries than a page of records and than the notes
/// a page sends at once, one of them approved first. One sweep notes every
/// other one, once; the next notes nothing. (The numbers share a prefix,
/// so the fraud guard is off: this many unchecked sends to one prefix is
/// what it blocks.)
async fn a_busy_minute_is_noted_whole_and_once(engine: Engine) {
    let mut service = verify_core::config::Service::new(SERVICE_SID.into(), "Acme".into(), Limits::default());
    service.fraud_guard.level = verify_core::fraud_guard::Level::Off;
    let h = harness_for(engine, service).await;
    let numbers: Vec<String> = (0..verify_core::store::expiries::PAGE + 20).map(|_| fresh_number()).collect();
    for to in &numbers {
        h.start(&start_request(to)).await.unwrap();
    }
    let approved = &numbers[7];
    let right = Code::parse(&last_code(&h.outbox, approved), 6).unwrap();
    assert!(h.check(&by_number(approved), &right).await.unwrap().approved);
    assert_eq!(sweep_at(&h, T0 + 650).await, numbers.len() - 1, "{engine:?}");
    for to in &numbers {
        assert_eq!(record(&h, to).await.activity.expiry_noted, to != approved, "{engine:?}: {to}");
    }
    assert_eq!(sweep_at(&h, T0 + 710).await, 0, "{engine:?}");
}

on_every_store!(expiry_is_noted_once_and_only_for_what_ran_out, a_busy_minute_is_noted_whole_and_once);
