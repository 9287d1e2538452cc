//! The report counters (issue 14, pre-aggregated reporting) against a full
//! count of the events on the same data: real verifications through the
//! core flows, the table's real stream fed to webhook-report (twice: a
//! replay counts once), then a concurrent burst handled by concurrent
//! batches, each batch twice (one after another on moto, which does not
//! isolate concurrent writes). The counters must equal, cell by cell, what
//! the stored events add up to, and the Summary must equal the join of
//! attempts and approvals it used to compute from events. On embedded
//! dynoxide and on moto (the memory store has no events: reports are
//! DynamoDB's).

use crate::support::*;
use http::Request;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use verify_aws::counters::{Cell, cells_of};
use verify_aws::events::store::EventQuery;
use verify_aws::webhook_report::{ReportSettings, WebhookReport, build};
use verify_core::clock::Clock;
use verify_core::config::Limits;
use verify_core::events::{Event, EventType};
use verify_core::otp::Code;
use verify_core::phone::PhoneNumber;
use verify_core::service::CheckTarget;
use verify_core::time_fmt::iso8601;

pub(crate) fn report_app(h: &Harness) -> WebhookReport {
    let vars = HashMap::from([
        ("VERIFY_SERVICE_SID".to_owned(), SERVICE_SID.to_owned()),
        ("VERIFY_TABLE".to_owned(), h.verifier.store.dynamo().table().to_owned()),
        ("VERIFY_NUMBER_KEY".to_owned(), "counter-test-number-key-0123456789abcdef".to_owned()),
    ]);
    let mut settings = ReportSettings::from_vars(&vars).unwrap();
    settings.credentials.add_key(verify_core::api::auth::ApiKey::from_secret("SKtest", "pw").unwrap()).unwrap();
    build(settings, h.verifier.store.dynamo().client().clone(), h.clock.clone())
}

/// One verification: `sends` codes sent, `wrong` wrong codes, then the right
/// code if `approve`.
async fn verification(h: &Harness, to: &str, sends: usize, wrong: usize, approve: bool) {
    let target = CheckTarget::To(PhoneNumber::parse(to).unwrap().into());
    for _ in 0..sends {
        h.start(&start_request(to)).await.unwrap();
    }
    let code = last_code(&h.outbox, to);
    let bad = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..wrong {
        h.check(&target, &Code::parse(bad, 6).unwrap()).await.unwrap();
    }
    if approve {
        assert!(h.check(&target, &Code::parse(&code, 6).unwrap()).await.unwrap().approved);
    }
}

/// Every stored event of the service, page by page (the full count).
async fn every_event(app: &WebhookReport, from: i64, to: i64) -> Vec<Event> {
    let q = EventQuery { services: vec![SERVICE_SID.to_owned()], from, to, ..EventQuery::default() };
    let (mut out, mut cursor) = (Vec::new(), None);
    loop {
        let page = app.reports.events.page(&q, cursor.as_ref(), 1000).await.unwrap();
        out.extend(page.events);
        match page.next {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
}

async fn summary(app: &WebhookReport, from: i64) -> Value {
    let uri = format!("/v2/Attempts/Summary?DateCreatedAfter={}", iso8601(from).replace(':', "%3A"));
    let req = Request::get(uri).header("host", "r.test").header("authorization", "Basic U0t0ZXN0OnB3").body(bytes::Bytes::new()).unwrap();
    let resp = app.reports.handle(&req).await;
    assert_eq!(resp.status(), 200, "{}", resp.body());
    serde_json::from_str(resp.body()).unwrap()
}

fn assert_same_cells(engine: Engine, items: &str, counted: &BTreeMap<Cell, u64>, expected: &BTreeMap<Cell, u64>, events: usize) {
    let differ: Vec<_> = expected
        .keys()
        .chain(counted.keys())
        .filter(|c| counted.get(*c) != expected.get(*c))
        .map(|c| (c, counted.get(c), expected.get(c)))
        .collect();
    assert!(
        differ.is_empty(),
        "{engine:?}: {items} counters differ from the full count of {events} events (cell, counted, events): {differ:?}"
    );
}

/// Counters equal the events' cells, and the Summary the attempts/approvals join.
async fn assert_counters_agree(engine: Engine, app: &WebhookReport, h: &Harness, expect_events: usize) {
    let (from, to) = (T0 - 86_400, h.clock.now() + 86_400);
    let events = every_event(app, from, to).await;
    assert!(events.len() >= expect_events, "{engine:?}: {} events stored, expected at least {expect_events}", events.len());
    let mut expected: BTreeMap<Cell, u64> = BTreeMap::new();
    for e in &events {
        for (cell, n) in cells_of(e) {
            *expected.entry(cell).or_default() += n as u64;
        }
    }
    let counted = app.reports.counters.read(&[SERVICE_SID.to_owned()], from, to, false).await.unwrap();
    assert_same_cells(engine, "hour", &counted, &expected, events.len());
    // The day roll-ups, over whole UTC days covering the same events: the
    // same cells with each hour taken to its day.
    let (d0, d1) = (from - from.rem_euclid(86_400), to - to.rem_euclid(86_400) + 86_400);
    let by_day = app.reports.counters.read(&[SERVICE_SID.to_owned()], d0, d1, true).await.unwrap();
    let mut expected_by_day: BTreeMap<Cell, u64> = BTreeMap::new();
    for (cell, n) in &expected {
        *expected_by_day.entry(Cell { hour: cell.hour - cell.hour.rem_euclid(86_400), ..cell.clone() }).or_default() += n;
    }
    assert_same_cells(engine, "day", &by_day, &expected_by_day, events.len());
    // The Summary as it was computed from events: attempts (sends), those of
    // approved verifications converted.
    let attempts: Vec<&Event> = events.iter().filter(|e| e.event_type == EventType::Pending && !e.test).collect();
    let approved: HashSet<&str> =
        events.iter().filter(|e| e.event_type == EventType::Approved).map(|e| e.verification_sid.as_str()).collect();
    let converted = attempts.iter().filter(|e| approved.contains(e.verification_sid.as_str())).count();
    let s = summary(app, T0 - 3_600).await;
    assert_eq!(
        (s["total_attempts"].as_u64().unwrap() as usize, s["total_converted"].as_u64().unwrap() as usize),
        (attempts.len(), converted),
        "{engine:?}: {s}"
    );
}

async fn counters_agree_with_the_events_under_replay_and_bursts(engine: Engine) {
    let h = harness(engine, Limits::default()).await;
    let app = report_app(&h);
    // Approved after a resend and a wrong code; approved at once; locked out;
    // never checked; in another hour; to another country.
    verification(&h, &fresh_number(), 2, 1, true).await;
    verification(&h, &fresh_number(), 1, 0, true).await;
    verification(&h, &fresh_number(), 1, Limits::default().max_check_attempts as usize, false).await;
    verification(&h, &fresh_number(), 1, 0, false).await;
    h.clock.advance(3_600);
    verification(&h, "+442079460958", 1, 0, true).await;
    let records = stream_records(&h).await;
    for pass in 0..2 {
        let outcome = app.dispatcher.handle_records(&records).await;
        assert!(outcome.failed.is_empty(), "{engine:?} pass {pass}: {:?}", outcome.failed);
    }
    assert_counters_agree(engine, &app, &h, 13).await;
    let before = app.reports.counters.read(&[SERVICE_SID.to_owned()], T0 - 86_400, h.clock.now() + 86_400, false).await.unwrap();
    assert!(before.keys().any(|c| c.country == "GB") && before.keys().any(|c| c.country == "US"), "{engine:?}: {before:?}");

    // A burst: 24 verifications at once, then their records handled by four
    // concurrent batches, each batch twice at once.
    let numbers: Vec<String> = (0..24).map(|_| fresh_number()).collect();
    futures::future::join_all(numbers.iter().enumerate().map(|(i, to)| verification(&h, to, 1, i % 2, i % 3 != 0))).await;
    let all = stream_records(&h).await;
    let fresh = &all[records.len()..];
    let batches: Vec<&[Value]> = fresh.chunks(fresh.len().div_ceil(4)).collect();
    let outcomes = if engine == Engine::Moto {
        // moto's server applies concurrent writes to one item without
        // isolation (a conditional put or an ADD can be lost or doubled),
        // so there the batches and their replays go one after another.
        let mut outcomes = Vec::new();
        for b in batches.iter().chain(batches.iter()) {
            outcomes.push(app.dispatcher.handle_records(b).await);
        }
        outcomes
    } else {
        futures::future::join_all(batches.iter().chain(batches.iter()).map(|b| app.dispatcher.handle_records(b))).await
    };
    assert!(outcomes.iter().all(|o| o.failed.is_empty()), "{engine:?}: records handed back");
    assert_counters_agree(engine, &app, &h, 13 + 24 + 16 + 12).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn counters_agree_on_dynoxide() {
    counters_agree_with_the_events_under_replay_and_bursts(Engine::Dynoxide).await
}

#[tokio::test(flavor = "multi_thread")]
async fn counters_agree_on_moto() {
    counters_agree_with_the_events_under_replay_and_bursts(Engine::Moto).await
}

/// The fraud guard's refusals, through the real stream, are counted by
/// reason and by the prefix it blocked (the dashboard's blocks by prefix),
/// and still agree with the events.
async fn fraud_guard_blocks_are_counted_by_prefix(engine: Engine) {
    use verify_aws::counters::Outcome;
    use verify_core::fraud_guard::Level;
    let h = crate::fraud_guard::guarded(engine, Level::Standard).await;
    let app = report_app(&h);
    let floor = Level::Standard.thresholds().unwrap().min_sends;
    crate::fraud_guard::pump(&h, 14155580000, floor).await;
    for to in ["+14155581234", "+14155581235"] {
        let refused = h.start(&start_request(to)).await;
        assert!(matches!(refused, Err(verify_core::service::VerifyError::FraudGuard { .. })), "{engine:?}: {refused:?}");
    }
    let outcome = app.dispatcher.handle_records(&stream_records(&h).await).await;
    assert!(outcome.failed.is_empty(), "{engine:?}: {:?}", outcome.failed);
    let cells = app.reports.counters.read(&[SERVICE_SID.to_owned()], T0 - 86_400, h.clock.now() + 86_400, false).await.unwrap();
    let count = |o: Outcome| cells.iter().filter(|(c, _)| c.outcome == o).map(|(_, n)| *n).sum::<u64>();
    assert_eq!(count(Outcome::Blocked("fraud_guard".into())), 2, "{engine:?}: {cells:?}");
    assert_eq!(count(Outcome::BlockedPrefix(crate::fraud_guard::prefix("+14155581234"))), 2, "{engine:?}: {cells:?}");
    assert_counters_agree(engine, &app, &h, floor as usize + 2).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn fraud_guard_blocks_are_counted_by_prefix_on_dynoxide() {
    fraud_guard_blocks_are_counted_by_prefix(Engine::Dynoxide).await
}

#[tokio::test(flavor = "multi_thread")]
async fn fraud_guard_blocks_are_counted_by_prefix_on_moto() {
    fraud_guard_blocks_are_counted_by_prefix(Engine::Moto).await
}

/// The cell made unaddable. The first an approval's update names (cells go
/// in name order): moto applies an update's actions one by one and stops at
/// the bad one, where DynamoDB applies all or none, so a later bad cell
/// would leave moto's item half-updated.
const BAD_CELL: &str = "c.US.sms.approved";

/// A day roll-up whose update fails alone (its item holds a cell of the
/// wrong type, so DynamoDB refuses the ADD): the record is handed back, the
/// events are marked uncounted for their day part only, and the retry adds
/// that part once, without counting the hour items twice.
async fn a_failed_day_roll_up_is_added_once_on_retry(engine: Engine) {
    use aws_sdk_dynamodb::types::AttributeValue as AV;
    let h = harness(engine, Limits::default()).await;
    let app = report_app(&h);
    verification(&h, &fresh_number(), 2, 1, true).await;
    verification(&h, &fresh_number(), 1, 0, false).await;
    let day = h.clock.now() - h.clock.now().rem_euclid(86_400);
    let label = iso8601(day)[..10].replace('-', "");
    let (client, table) = (h.verifier.store.dynamo().client(), h.verifier.store.dynamo().table());
    let keys: Vec<String> = (0..verify_aws::counters::DEFAULT_SHARDS).map(|s| format!("CNT#{SERVICE_SID}#{label}#{s:02}")).collect();
    for pk in &keys {
        let put = client.put_item().table_name(table).item(verify_aws::item::attr::PK, AV::S(pk.clone()));
        put.item(BAD_CELL, AV::S("not a number".into())).send().await.unwrap();
    }
    let records = stream_records(&h).await;
    let first = app.dispatcher.handle_records(&records).await;
    assert!(!first.failed.is_empty(), "{engine:?}: the day roll-up's refused ADD hands the batch back");
    for pk in &keys {
        // Only the bad cell goes: what other ADDs applied to the item stays.
        let fix = client.update_item().table_name(table).key(verify_aws::item::attr::PK, AV::S(pk.clone()));
        fix.update_expression("REMOVE #c").expression_attribute_names("#c", BAD_CELL).send().await.unwrap();
    }
    let retry = app.dispatcher.handle_records(&records).await;
    assert!(retry.failed.is_empty(), "{engine:?}: {:?}", retry.failed);
    assert_counters_agree(engine, &app, &h, 5).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_day_roll_up_is_added_once_on_retry_on_dynoxide() {
    a_failed_day_roll_up_is_added_once_on_retry(Engine::Dynoxide).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_day_roll_up_is_added_once_on_retry_on_moto() {
    a_failed_day_roll_up_is_added_once_on_retry(Engine::Moto).await
}
