//! The fraud guard (pumping protection) on every store: the benchmark's
//! scenario in a short deterministic form (the injectable clock, no timing
//! assertions) against the targets at `standard`; a 200-way burst at a
//! pumped prefix; refusals that write no code and send nothing; the Safe
//! List, `RiskCheck=disable` and test recipients passing; `monitor`.

use crate::support::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use verify_core::config::{Limits, Service};
use verify_core::fraud_guard::{self, Level};
use verify_core::otp::Code;
use verify_core::phone::PhoneNumber;
use verify_core::recipient::Recipient;
use verify_core::service::{CheckTarget, GuardNotes, RiskCheck, VerifyError};
use verify_core::store::fraud_guard::FraudGuardStore;
use verify_core::store::safe_list::{SafeListEntry, SafeListStore};
use verify_core::store::{RecordKey, Store};

fn service(level: Level, min_sends: Option<u64>) -> Service {
    let mut s = Service::new(SERVICE_SID.into(), "Acme".into(), Limits::default());
    s.fraud_guard = fraud_guard::FraudGuard { level, min_sends };
    s
}

pub(crate) async fn guarded(engine: Engine, level: Level) -> Harness {
    harness_for(engine, service(level, None)).await
}

fn recipient(number: &str) -> Recipient {
    PhoneNumber::parse(number).unwrap().into()
}

pub(crate) fn prefix(number: &str) -> String {
    fraud_guard::prefix_of(&recipient(number).key()).unwrap()
}

/// Sends `n` codes to consecutive numbers from `first` (never checked):
/// the attack's pattern. Returns how many were delivered.
pub(crate) async fn pump(h: &Harness, first: u64, n: u64) -> u64 {
    let mut delivered = 0;
    for i in 0..n {
        match h.start(&start_request(&format!("+{}", first + i))).await {
            Ok(_) => delivered += 1,
            Err(VerifyError::FraudGuard { .. }) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    delivered
}

/// The window's sends and approvals for a prefix, and the service's.
async fn totals(h: &Harness, number: &str) -> (u64, u64, u64, u64) {
    let w = h.verifier.store.fraud_window(SERVICE_SID, &prefix(number), h.clock.now_ms()).await.unwrap();
    w.buckets
        .iter()
        .fold((0, 0, 0, 0), |t, b| (t.0 + b.prefix.sends, t.1 + b.prefix.approvals, t.2 + b.service.sends, t.3 + b.service.approvals))
}

use verify_core::clock::Clock;

// ---------------------------------------------------------------- scenario

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    /// A legitimate user's start (index into the legitimate numbers).
    Legit(usize),
    /// Their check, within a minute of the start.
    Check(usize),
    /// The attack's next number.
    Attack(usize),
}

/// Valid US area codes for the legitimate traffic's many prefixes.
const AREAS: &[u32] = &[201, 202, 206, 212, 213, 303, 305, 312, 404, 415, 503, 512, 602, 614, 617, 646, 702, 713, 718, 801];

/// The benchmark's scenario, short and deterministic: over 20 minutes, 400
/// legitimate starts (one in four to one busy prefix, the rest spread over
/// 300 prefixes; 6 of 7 checked 5 to 54 seconds later) and, from minute 5,
/// an attack of 1,800 starts to sequential numbers in three prefixes (two
/// British mobile blocks and one US exchange), never checked.
async fn pumping_scenario_meets_the_targets_at_standard(engine: Engine) {
    let h = guarded(engine, Level::Standard).await;
    let legit: Vec<String> = (0..400)
        .map(|i| match i % 4 {
            0 => format!("+1212555{:04}", 1000 + i),
            _ => format!("+1{}{}{:04}", AREAS[i % AREAS.len()], 200 + (i % 15) * 50 + i % 7, i),
        })
        .collect();
    let attack: Vec<String> = (0..1800)
        .map(|i| match i % 3 {
            0 => format!("+4474001{:05}", i / 3),
            1 => format!("+4474002{:05}", i / 3),
            _ => format!("+1415556{:04}", i / 3),
        })
        .collect();
    let mut plan: BTreeMap<(i64, Step), ()> = BTreeMap::new();
    for i in 0..legit.len() {
        let at = i as i64 * 3_000;
        plan.insert((at, Step::Legit(i)), ());
        if i % 7 != 0 {
            plan.insert((at + 5_000 + (i as i64 * 7_919) % 50_000, Step::Check(i)), ());
        }
    }
    for j in 0..attack.len() {
        plan.insert((300_000 + j as i64 * 333, Step::Attack(j)), ());
    }
    let (mut attack_sent, mut legit_sent, mut legit_blocked) = (0u64, 0u64, 0u64);
    let mut attack_blocked = BTreeMap::<String, u64>::new();
    let mut delivered_before_block = BTreeMap::<String, u64>::new();
    for ((at, step), ()) in plan {
        h.clock.set(T0);
        h.clock.advance_ms(at);
        match step {
            Step::Legit(i) => match h.start(&start_request(&legit[i])).await {
                Ok(_) => legit_sent += 1,
                Err(VerifyError::FraudGuard { .. }) => legit_blocked += 1,
                Err(e) => panic!("{engine:?}: legitimate start: {e:?}"),
            },
            Step::Check(i) => {
                if h.outbox.messages(Some(&legit[i])).is_empty() {
                    continue; // blocked: nothing to check
                }
                let code = Code::parse(&last_code(&h.outbox, &legit[i]), 6).unwrap();
                assert!(h.check(&CheckTarget::To(recipient(&legit[i])), &code).await.unwrap().approved);
            }
            Step::Attack(j) => {
                let p = prefix(&attack[j]);
                match h.start(&start_request(&attack[j])).await {
                    Ok(_) => {
                        attack_sent += 1;
                        if !attack_blocked.contains_key(&p) {
                            *delivered_before_block.entry(p).or_default() += 1;
                        }
                    }
                    Err(VerifyError::FraudGuard { retry_after }) => {
                        assert!(retry_after > 0);
                        *attack_blocked.entry(p).or_default() += 1;
                    }
                    Err(e) => panic!("{engine:?}: attack start: {e:?}"),
                }
            }
        }
    }
    let attack_share = attack_sent as f64 / attack.len() as f64;
    let legit_share = legit_blocked as f64 / legit.len() as f64;
    eprintln!(
        "{engine:?}: attack delivered {attack_sent}/{} ({:.1} %), before the blocks {delivered_before_block:?}; legitimate blocked {legit_blocked}/{}",
        attack.len(),
        attack_share * 100.0,
        legit.len()
    );
    assert_eq!(attack_blocked.len(), 3, "{engine:?}: every attacked prefix is blocked");
    assert!(attack_share <= 0.05, "{engine:?}: at most 5 % of the attack's sends delivered, got {attack_share}");
    assert!(legit_share <= 0.005, "{engine:?}: at most 0.5 % of legitimate sends blocked, got {legit_share}");
    assert_eq!(legit_sent + legit_blocked, legit.len() as u64);
    // Every delivered SMS was counted, and nothing else.
    let (_, _, service_sends, service_approvals) = totals(&h, &legit[0]).await;
    assert_eq!(service_sends, legit_sent + attack_sent, "{engine:?}: counters exact");
    assert_eq!(service_approvals, (0..legit.len()).filter(|i| i % 7 != 0).count() as u64);
    assert_eq!(h.outbox.messages(None).len() as u64, legit_sent + attack_sent);
}

// --------------------------------------------------------------- the rules

/// Past the floor with no approvals, a 200-way burst at the prefix: the
/// block is stored once, all 200 are refused, none sent, the counters
/// stay exact.
async fn a_burst_at_a_pumped_prefix_sends_nothing_and_stores_one_block(engine: Engine) {
    let h = Arc::new(guarded(engine, Level::Standard).await);
    let floor = Level::Standard.thresholds().unwrap().min_sends;
    assert_eq!(pump(&h, 447400300000, floor).await, floor, "below the floor nothing is judged");
    let sent_before = h.outbox.messages(None).len();
    let burst: Vec<_> = (0..200)
        .map(|i| {
            let h = h.clone();
            tokio::spawn(async move { h.start(&start_request(&format!("+{}", 447400305000u64 + i))).await })
        })
        .collect();
    for t in burst {
        assert!(matches!(t.await.unwrap(), Err(VerifyError::FraudGuard { .. })), "{engine:?}");
    }
    assert_eq!(h.outbox.messages(None).len(), sent_before, "{engine:?}: nothing sent");
    assert_eq!(totals(&h, "+447400300000").await.0, floor, "{engine:?}: only the delivered sends counted");
    let w = h.verifier.store.fraud_window(SERVICE_SID, &prefix("+447400300000"), h.clock.now_ms()).await.unwrap();
    assert_eq!(w.block.map(|b| b.strikes), Some(1), "{engine:?}: one block, stored once");
    let calls = h.verifier.store.take_calls();
    assert_eq!(calls.iter().filter(|c| **c == "note_blocked").count(), 200, "{engine:?}: each refusal is a blocked event");
}

/// 200 concurrent sends below the floor (a floor of 1,000): every one is
/// delivered and counted exactly once, on the prefix and on the service.
/// (One after another on moto: its server applies an `ADD` without a lock,
/// so two racing on one item can lose one, unlike on DynamoDB; the
/// concurrency runs on dynoxide and the memory store.)
async fn concurrent_counts_are_exact(engine: Engine) {
    let h = Arc::new(harness_for(engine, service(Level::Standard, Some(1000))).await);
    let to = |i: u64| format!("+{}", 14155570000u64 + i);
    if matches!(engine, Engine::Moto) {
        for i in 0..200 {
            h.start(&start_request(&to(i))).await.unwrap();
        }
    } else {
        let burst: Vec<_> = (0..200)
            .map(|i| {
                let (h, to) = (h.clone(), to(i));
                tokio::spawn(async move { h.start(&start_request(&to)).await })
            })
            .collect();
        for t in burst {
            t.await.unwrap().unwrap();
        }
    }
    let (sends, approvals, service_sends, _) = totals(&h, "+14155570000").await;
    assert_eq!((sends, approvals, service_sends), (200, 0, 200), "{engine:?}");
}

/// A refused start writes no verification, sends nothing, is noted for
/// the blocked event, and says how long the block lasts.
async fn a_refused_start_writes_no_code_and_sends_nothing(engine: Engine) {
    let h = guarded(engine, Level::Standard).await;
    let floor = Level::Standard.thresholds().unwrap().min_sends;
    pump(&h, 14155580000, floor).await;
    let sent = h.outbox.messages(None).len();
    h.verifier.store.take_calls();
    let to = "+14155581234";
    let err = h.start(&start_request(to)).await.unwrap_err();
    assert_eq!(err, VerifyError::FraudGuard { retry_after: fraud_guard::BASE_COOLDOWN_MS / 1000 }, "{engine:?}");
    assert_eq!(h.verifier.store.take_calls(), ["fraud_window", "safe_number", "fraud_block", "note_blocked"], "{engine:?}");
    assert_eq!(h.verifier.store.read(&RecordKey { service_sid: SERVICE_SID.into(), to: recipient(to).key() }).await.unwrap(), None);
    assert_eq!(h.outbox.messages(None).len(), sent, "{engine:?}: nothing sent");
    // Blocked: the next start reads the block and refuses, writing no block again.
    h.clock.advance(60);
    h.verifier.store.take_calls();
    assert!(
        matches!(h.start(&start_request("+14155581235")).await, Err(VerifyError::FraudGuard { retry_after }) if retry_after == fraud_guard::BASE_COOLDOWN_MS / 1000 - 60)
    );
    assert_eq!(h.verifier.store.take_calls(), ["fraud_window", "safe_number", "note_blocked"], "{engine:?}");
    // Other prefixes are untouched; when the cool-down ends the prefix sends again.
    h.start(&start_request("+14155590000")).await.unwrap();
    h.clock.advance(fraud_guard::BASE_COOLDOWN_MS / 1000);
    h.start(&start_request("+14155581236")).await.unwrap();
}

/// A Safe-Listed number and a start with RiskCheck=disable go through a
/// blocked prefix (and are counted as sends); a test recipient too, and it
/// is neither judged nor counted.
async fn the_safe_list_risk_check_and_test_recipients_pass_a_blocked_prefix(engine: Engine) {
    let mut s = service(Level::Standard, None);
    s.test_recipients =
        vec![verify_core::config::TestRecipient { key: recipient("+14155609999").key(), code: Code::parse("424242", 6).unwrap() }];
    let h = harness_for(engine, s).await;
    let floor = Level::Standard.thresholds().unwrap().min_sends;
    pump(&h, 14155600000, floor).await;
    assert!(matches!(h.start(&start_request("+14155600100")).await, Err(VerifyError::FraudGuard { .. })));
    let listed = recipient("+14155600200");
    let entry = SafeListEntry {
        sid: verify_core::sid::new_sid("GN"),
        key: listed.key(),
        phone_number: listed.address().to_owned(),
        created_at: T0,
    };
    h.verifier.store.add_safe_number(&entry).await.unwrap();
    h.start(&start_request("+14155600200")).await.expect("Safe-Listed");
    let mut notes = GuardNotes::default();
    h.verifier.start_guarded(h.service(), &start_request("+14155600300"), RiskCheck::Disable, &mut notes).await.expect("RiskCheck=disable");
    assert_eq!(notes, GuardNotes::default());
    let test = h.start(&start_request("+14155609999")).await.expect("a test recipient");
    assert!(test.test);
    assert_eq!(h.outbox.messages(Some("+14155609999")).len(), 0);
    // Two real sends more (the listed number, RiskCheck=disable), no test one.
    assert_eq!(totals(&h, "+14155600000").await.0, floor + 2, "{engine:?}");
    assert!(matches!(h.start(&start_request("+14155600400")).await, Err(VerifyError::FraudGuard { .. })), "still blocked for others");
}

/// `monitor` refuses nothing and notes each start it would have refused.
async fn monitor_records_what_it_would_have_blocked(engine: Engine) {
    let h = guarded(engine, Level::Monitor).await;
    let floor = Level::Monitor.thresholds().unwrap().min_sends;
    assert_eq!(pump(&h, 14155610000, floor + 10).await, floor + 10, "{engine:?}: nothing refused");
    let calls = h.verifier.store.take_calls();
    assert_eq!(calls.iter().filter(|c| **c == "note_blocked").count(), 10, "{engine:?}: the 10 past the floor noted");
    let mut notes = GuardNotes::default();
    h.verifier.start_guarded(h.service(), &start_request("+14155611000"), RiskCheck::Enable, &mut notes).await.unwrap();
    assert!(notes.monitored);
    // Off: nothing read, nothing counted.
    let off = guarded(engine, Level::Off).await;
    off.verifier.store.take_calls();
    off.start(&start_request("+14155612000")).await.unwrap();
    assert_eq!(off.verifier.store.take_calls(), ["apply"]);
}

/// Approvals lift a prefix's conversion: a busy prefix whose codes are
/// checked is never blocked, however many sends it has.
async fn a_busy_prefix_that_converts_is_never_blocked(engine: Engine) {
    let h = guarded(engine, Level::Max).await;
    for i in 0..60u64 {
        let to = format!("+{}", 14155620000 + i);
        h.start(&start_request(&to)).await.expect("never blocked");
        if i % 3 != 0 {
            let code = Code::parse(&last_code(&h.outbox, &to), 6).unwrap();
            assert!(h.check(&CheckTarget::To(recipient(&to)), &code).await.unwrap().approved);
        }
        h.clock.advance(2);
    }
    let (sends, approvals, _, _) = totals(&h, "+14155620000").await;
    assert_eq!((sends, approvals), (60, 40), "{engine:?}");
}

on_every_store!(
    pumping_scenario_meets_the_targets_at_standard,
    a_burst_at_a_pumped_prefix_sends_nothing_and_stores_one_block,
    concurrent_counts_are_exact,
    a_refused_start_writes_no_code_and_sends_nothing,
    the_safe_list_risk_check_and_test_recipients_pass_a_blocked_prefix,
    monitor_records_what_it_would_have_blocked,
    a_busy_prefix_that_converts_is_never_blocked,
);
