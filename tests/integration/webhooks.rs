//! webhook-report against a real store (embedded dynoxide) and a real HTTP
//! receiver on 127.0.0.1: stream records to events and deliveries, retries
//! on a manual clock, endpoints that fail, time out, are down or gone, and
//! the reporting routes. [`event_pipeline`] runs the verifier in front of it.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use verify_aws::events::stream::{StreamRecord, parse_record};
use verify_aws::webhook_report::{ReportSettings, WebhookReport, build};
use verify_core::clock::{Clock, ManualClock, Seconds};
use verify_core::events::Event;
use verify_core::events::EventType;
use verify_core::events::derive::Deriver;
use verify_core::events::number_key::{NumberKey, NumberKeys};
use verify_core::webhooks::config::{DeliverySettings, Endpoint};
use verify_core::webhooks::delivery::{DeliveryStatus, max_retry_delay};
use verify_core::webhooks::signing::Secret;
use verify_core::webhooks::ssrf::Allow;

mod event_pipeline;

const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const NUMBER_KEY: &str = "integration-test-number-key-0123456789";
const T0: Seconds = 1_700_000_000;
const FIXTURE_SERVICE: &str = "VA11111111111111111111111111111111";

/// What the fixtures' service derives events with: its limits, the test key.
fn derive(record: &StreamRecord) -> Vec<Event> {
    let vars = HashMap::from([("VERIFY_SERVICE_SID".to_owned(), FIXTURE_SERVICE.to_owned())]);
    let (services, _) = verify_core::config::services_and_account(&vars).unwrap();
    let numbers = NumberKeys::new(NumberKey::new(NUMBER_KEY.as_bytes()).unwrap(), None);
    Deriver { services, numbers }.derive(&record.change())
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/../events/webhook-report/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

fn records(v: &Value) -> Vec<Value> {
    v["Records"].as_array().unwrap().clone()
}

// ---------------------------------------------------------------- fixtures

#[test]
fn fixture_records_become_events_and_ttl_removal_is_expired() {
    let batch = fixture("stream-batch.json");
    let types: Vec<&str> = records(&batch).iter().flat_map(|r| derive(&parse_record(r).unwrap())).map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["verification.pending", "verification.check_failed"]);

    let ttl = fixture("stream-ttl-remove.json");
    let record = parse_record(&ttl["Records"][0]).unwrap();
    assert!(record.ttl_removal, "userIdentity principal dynamodb.amazonaws.com");
    let events = derive(&record);
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.event_type, EventType::Expired);
    assert_eq!(e.to_masked, "+1415555****");
    let body = e.payload().to_string();
    assert!(!body.contains("+14155550123") && !body.contains("3q2+7w=="), "{body}");
    // The same record twice: one id.
    assert_eq!(derive(&parse_record(&ttl["Records"][0]).unwrap())[0].id, e.id);
}

// ---------------------------------------------------------------- harness

/// What the receiver answers, in order; the last one repeats.
#[derive(Clone, Debug)]
enum Reply {
    Status(u16),
    /// Answers 200 only after this long (longer than the client's timeout).
    Hang(Duration),
}

#[derive(Clone, Debug)]
struct Received {
    headers: HashMap<String, String>,
    body: String,
}

#[derive(Clone, Default)]
struct Receiver {
    replies: Arc<Mutex<VecDeque<Reply>>>,
    received: Arc<Mutex<Vec<Received>>>,
}

async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    let headers = headers.iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())).collect();
    r.received.lock().unwrap().push(Received { headers, body });
    let reply = {
        let mut q = r.replies.lock().unwrap();
        if q.len() > 1 { q.pop_front().unwrap() } else { q.front().cloned().unwrap_or(Reply::Status(200)) }
    };
    match reply {
        Reply::Status(s) => StatusCode::from_u16(s).unwrap(),
        Reply::Hang(d) => {
            tokio::time::sleep(d).await;
            StatusCode::OK
        }
    }
}

impl Receiver {
    async fn start(replies: Vec<Reply>) -> (Receiver, String, tokio::task::JoinHandle<()>) {
        let r = Receiver { replies: Arc::new(Mutex::new(replies.into())), ..Receiver::default() };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let app = Router::new().route("/hook", post(hook)).with_state(r.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        (r, url, task)
    }
    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

struct Harness {
    app: WebhookReport,
    clock: Arc<ManualClock>,
    _server: tokio::task::JoinHandle<()>,
}

async fn harness(endpoints: Vec<Endpoint>, allow: Allow) -> Harness {
    let db = dynoxide::Database::memory().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let _ = dynoxide::server::serve_on(listener, db).await;
    });
    let client = verify_aws::clients::dynamodb_at(&endpoint);
    verify_aws::store::ensure_table(&client, "verify").await.unwrap();
    let mut settings = ReportSettings::from_vars(&HashMap::from([
        ("VERIFY_SERVICE_SID".into(), FIXTURE_SERVICE.into()),
        ("VERIFY_NUMBER_KEY".into(), NUMBER_KEY.into()),
    ]))
    .unwrap();
    settings.endpoints = endpoints;
    // Signs the webhooks created over the API (none unless a test stores one).
    settings.api_secrets = vec![Secret::parse(SECRET).unwrap()];
    settings.delivery = DeliverySettings { allow, timeout: Duration::from_secs(1), immediate_budget: Duration::from_secs(5) };
    let clock = Arc::new(ManualClock::at(T0));
    let app = build(settings, client, clock.clone());
    Harness { app, clock, _server: server }
}

fn endpoint(url: &str) -> Endpoint {
    Endpoint::new(url, vec![Secret::parse(SECRET).unwrap()], None, None)
}

fn insert_batch() -> Vec<Value> {
    vec![fixture("stream-batch.json")["Records"][0].clone()]
}

/// The one event of [`insert_batch`].
fn insert_event_id() -> String {
    derive(&parse_record(&insert_batch()[0]).unwrap())[0].id.clone()
}

fn verify_signature(r: &Received) {
    let id = &r.headers["webhook-id"];
    let ts: i64 = r.headers["webhook-timestamp"].parse().unwrap();
    let expected = Secret::parse(SECRET).unwrap().sign(id, ts, r.body.as_bytes());
    assert!(r.headers["webhook-signature"].split(' ').any(|s| s == expected), "{:?}", r.headers);
}

// ---------------------------------------------------------------- delivery

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fails_500_500_times_out_then_200_and_is_delivered_once_more_with_the_same_id() {
    let (rx, url, _srv) =
        Receiver::start(vec![Reply::Status(500), Reply::Status(500), Reply::Hang(Duration::from_secs(3)), Reply::Status(200)]).await;
    let ep = endpoint(&url);
    let h = harness(vec![ep.clone()], Allow::LOOPBACK).await;
    let d = &h.app.dispatcher;
    let event_id = insert_event_id();

    let outcome = d.handle_records(&insert_batch()).await;
    assert!(outcome.failed.is_empty());
    assert_eq!((outcome.events, outcome.deliveries), (1, 1));
    let state = d.deliveries.get(&ep.id, &event_id).await.unwrap().unwrap();
    assert_eq!((state.status, state.attempts, state.last_status), (DeliveryStatus::Pending, 1, Some(500)));
    assert!(state.next_attempt_at > T0, "backs off");

    // Not yet due: nothing happens.
    assert_eq!(d.run_due().await.unwrap().attempted, 0);

    for (n, expect) in [(1, Some(500)), (2, None), (3, Some(200))] {
        h.clock.advance(max_retry_delay(n) + 1);
        let run = d.run_due().await.unwrap();
        assert_eq!(run.attempted, 1, "retry after attempt {n}");
        let state = d.deliveries.get(&ep.id, &event_id).await.unwrap().unwrap();
        assert_eq!(state.attempts, n + 1);
        assert_eq!(state.last_status, expect, "{state:?}");
        if n == 2 {
            assert!(state.last_error.as_deref().unwrap_or("").contains("timed out"), "{state:?}");
        }
    }
    let state = d.deliveries.get(&ep.id, &event_id).await.unwrap().unwrap();
    assert_eq!(state.status, DeliveryStatus::Delivered);

    // Delivered means done: later runs send nothing more.
    h.clock.advance(86_400 * 4);
    assert_eq!(d.run_due().await.unwrap().attempted, 0);

    let got = rx.received();
    assert_eq!(got.len(), 4, "1 first try + 3 retries");
    assert!(got.iter().all(|r| r.headers["webhook-id"] == event_id), "same webhook-id on every retry");
    assert!(got.iter().all(|r| r.body == got[0].body), "same bytes on every retry");
    got.iter().for_each(verify_signature);
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["type"], "verification.pending");
    assert_eq!(body["data"]["to"], "+1415555****");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_receiver_down_for_the_whole_test_loses_nothing() {
    // A port that was just free: connections are refused.
    let url = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/hook", l.local_addr().unwrap())
    };
    let ep = endpoint(&url);
    let h = harness(vec![ep.clone()], Allow::LOOPBACK).await;
    let d = &h.app.dispatcher;
    let event_id = insert_event_id();
    assert!(d.handle_records(&insert_batch()).await.failed.is_empty(), "a dead endpoint never fails the batch");
    for n in 1..=4 {
        h.clock.advance(max_retry_delay(n) + 1);
        assert_eq!(d.run_due().await.unwrap().attempted, 1);
    }
    let state = d.deliveries.get(&ep.id, &event_id).await.unwrap().unwrap();
    assert_eq!((state.status, state.attempts), (DeliveryStatus::Pending, 5));
    assert!(state.next_attempt_at > h.clock.now(), "still scheduled");
    assert!(state.last_error.as_deref().unwrap_or("").contains("request failed"), "{state:?}");
    // Replaying the same record changes nothing: no second delivery, no reset.
    let again = d.handle_records(&insert_batch()).await;
    assert_eq!(again.deliveries, 0);
    assert_eq!(d.deliveries.get(&ep.id, &event_id).await.unwrap().unwrap().attempts, 5);
}

/// Webhooks created over the API are read from the services document and
/// delivered to like configured endpoints, signed with the deployment's
/// secret; a disabled one gets nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhooks_created_over_the_api_are_delivered_signed_and_disabled_ones_get_nothing() {
    use verify_core::service_catalog::StoredServices;
    use verify_core::service_webhooks::StoredWebhook;
    use verify_core::store::services::ServiceStore;
    let (rx, url, _srv) = Receiver::start(vec![]).await;
    let h = harness(vec![], Allow::LOOPBACK).await;
    let d = &h.app.dispatcher;
    let hook = |sid: &str, enabled: bool| StoredWebhook {
        sid: sid.into(),
        service_sid: FIXTURE_SERVICE.into(),
        friendly_name: "Hook".into(),
        event_types: vec!["*".into()],
        enabled,
        version: "v2".into(),
        url: url.clone(),
        created_at: T0,
        updated_at: T0,
    };
    let (on, off) = (format!("YW{}", "1".repeat(32)), format!("YW{}", "2".repeat(32)));
    let doc = StoredServices { version: 1, webhooks: vec![hook(&on, true), hook(&off, false)], ..Default::default() };
    d.store.save_stored_services(&doc).await.unwrap();

    let outcome = d.handle_records(&insert_batch()).await;
    assert!(outcome.failed.is_empty());
    assert_eq!(outcome.deliveries, 1, "the enabled webhook only");
    let event_id = insert_event_id();
    let state = d.deliveries.get(&on, &event_id).await.unwrap().unwrap();
    assert_eq!(state.status, DeliveryStatus::Delivered);
    assert!(d.deliveries.get(&off, &event_id).await.unwrap().is_none());
    let got = rx.received();
    assert_eq!(got.len(), 1);
    verify_signature(&got[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn gone_disables_the_endpoint() {
    let (rx, url, _srv) = Receiver::start(vec![Reply::Status(410)]).await;
    let ep = endpoint(&url);
    let h = harness(vec![ep.clone()], Allow::LOOPBACK).await;
    let d = &h.app.dispatcher;
    d.handle_records(&insert_batch()).await;
    let state = d.deliveries.get(&ep.id, &insert_event_id()).await.unwrap().unwrap();
    assert_eq!(state.status, DeliveryStatus::Disabled);
    assert!(d.deliveries.endpoint_disabled(&ep.id).await.unwrap());
    // The next event is recorded but not sent.
    let ttl = fixture("stream-ttl-remove.json");
    let expired_id = derive(&parse_record(&ttl["Records"][0]).unwrap())[0].id.clone();
    d.handle_records(&records(&ttl)).await;
    let state = d.deliveries.get(&ep.id, &expired_id).await.unwrap().unwrap();
    assert_eq!(state.status, DeliveryStatus::Disabled);
    h.clock.advance(86_400);
    assert_eq!(d.run_due().await.unwrap().attempted, 0);
    assert_eq!(rx.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn loopback_is_refused_unless_allowed() {
    let (rx, url, _srv) = Receiver::start(vec![Reply::Status(200)]).await;
    let ep = endpoint(&url);
    let h = harness(vec![ep.clone()], Allow::NONE).await;
    let d = &h.app.dispatcher;
    d.handle_records(&insert_batch()).await;
    let state = d.deliveries.get(&ep.id, &insert_event_id()).await.unwrap().unwrap();
    assert_eq!(state.status, DeliveryStatus::Failed);
    assert!(state.last_error.unwrap().contains("destination refused"));
    assert!(rx.received().is_empty());
    // A name that resolves to loopback is refused at connection time too.
    let by_name = endpoint(&url.replace("http://127.0.0.1", "https://localhost"));
    let outcome = d.client.send(&by_name.url, &by_name.secrets, "evt_x", "{}", T0).await;
    match outcome {
        verify_core::webhooks::delivery::Outcome::Refused { reason } => assert!(reason.contains("loopback"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(rx.received().is_empty());
}

// ---------------------------------------------------------------- end to end

/// Reads every stream record of the table so far, as Lambda would get them.
struct StreamReader {
    db: dynoxide::Database,
    after: Option<String>,
}

impl StreamReader {
    fn read(&mut self) -> Vec<Value> {
        let records = verify_aws::events::embedded::records_after(&self.db, "verify", self.after.as_deref(), None).unwrap();
        if let Some(last) = records.last() {
            self.after = verify_aws::events::embedded::sequence_number(last).map(str::to_owned);
        }
        records
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_verification_flow_feeds_events_webhooks_and_reports() {
    use verify_aws::store::DynamoStore;
    use verify_core::sender::outbox::Outbox;

    // One engine on a manual clock, so its TTL sweep can run in the future.
    let now = verify_core::clock::SystemClock.now();
    let engine_clock = dynoxide::storage_backend::ManualClock::new(now as u64);
    let db = dynoxide::Database::memory_with_clock(Arc::new(engine_clock.clone())).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(dynoxide::server::serve_on(listener, db.clone()));
    let client = verify_aws::clients::dynamodb_at(&endpoint_url);
    verify_aws::store::ensure_table(&client, "verify").await.unwrap();

    let service = format!("VA{}", "2".repeat(32));
    let vars: HashMap<String, String> = HashMap::from([
        ("VERIFY_CODE_KEY".into(), "k".repeat(32)),
        ("VERIFY_NUMBER_KEY".into(), NUMBER_KEY.into()),
        ("VERIFY_SERVICE_SID".into(), service.clone()),
    ]);
    let settings = verify_core::config::Settings::from_vars(&vars).unwrap();
    let outbox = Outbox::new();
    let api =
        verify_core::api::Api::new(settings, DynamoStore::new(client.clone(), "verify"), verify_core::sender::Senders::sms(outbox.clone()));

    let (rx, hook_url, _srv) = Receiver::start(vec![Reply::Status(204)]).await;
    let mut report_settings = ReportSettings::from_vars(&vars).unwrap();
    report_settings.endpoints = vec![endpoint(&hook_url)];
    report_settings.delivery.allow = Allow::LOOPBACK;
    report_settings.credentials.add_key(verify_core::api::auth::ApiKey::from_secret("SKtest", "pw").unwrap()).unwrap();
    let app = build(report_settings, client.clone(), Arc::new(verify_core::clock::SystemClock));
    let mut stream = StreamReader { db: db.clone(), after: None };

    let post = |path: &str, body: &str| {
        http::Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(bytes::Bytes::from(body.to_owned()))
            .unwrap()
    };
    // Two verifications: one approved after a wrong code, one left to expire.
    for to in ["%2B14155550123", "%2B442079460958"] {
        let resp = api.handle(verify_core::api::routes::Function::Local, &post("/start-verify", &format!("To={to}"))).await;
        assert_eq!(resp.status(), 201, "{}", resp.body());
    }
    let resp = api.handle(verify_core::api::routes::Function::Local, &post("/check-verify", "To=%2B14155550123&Code=000000")).await;
    let wrong_ok = resp.status() == 200;
    let sms = outbox.messages(Some("+14155550123"))[0].body.clone();
    let code = &sms[sms.len() - 6..];
    if code != "000000" {
        assert!(wrong_ok);
    }
    let resp =
        api.handle(verify_core::api::routes::Function::Local, &post("/check-verify", &format!("To=%2B14155550123&Code={code}"))).await;
    assert!(resp.body().contains("approved"), "{}", resp.body());

    let batch = stream.read();
    let outcome = app.dispatcher.handle_records(&batch).await;
    assert!(outcome.failed.is_empty());
    let mut got: Vec<String> =
        rx.received().iter().map(|r| serde_json::from_str::<Value>(&r.body).unwrap()["type"].as_str().unwrap().to_owned()).collect();
    got.sort();
    let mut want = vec!["verification.pending", "verification.pending", "verification.approved"];
    if code != "000000" {
        want.push("verification.check_failed");
    }
    want.sort();
    assert_eq!(got, want);

    // Time passes; the engine's TTL sweep removes both items. Only the
    // still-pending one is an expiry.
    engine_clock.set((now + 10 * 86_400) as u64);
    let swept = tokio::task::spawn_blocking({
        let db = db.clone();
        move || db.sweep_ttl()
    });
    assert!(swept.await.unwrap().unwrap() >= 1);
    let batch = stream.read();
    assert!(batch.iter().any(|r| r["userIdentity"]["principalId"] == "dynamodb.amazonaws.com"), "{batch:?}");
    app.dispatcher.handle_records(&batch).await;
    let expired: Vec<Value> = rx
        .received()
        .iter()
        .map(|r| serde_json::from_str::<Value>(&r.body).unwrap())
        .filter(|b| b["type"] == "verification.expired")
        .collect();
    assert_eq!(expired.len(), 1, "{expired:?}");
    assert_eq!(expired[0]["data"]["to"], "+44207946****");
    assert_eq!(expired[0]["data"]["country"], "GB");
    rx.received().iter().for_each(verify_signature);

    // Reports: no credentials, no report.
    let get = |uri: &str, auth: bool| {
        let mut r = http::Request::get(uri).header("host", "reports.test");
        if auth {
            r = r.header("authorization", "Basic U0t0ZXN0OnB3"); // SKtest:pw
        }
        r.body(bytes::Bytes::new()).unwrap()
    };
    assert_eq!(app.reports.handle(&get("/v2/Attempts", false)).await.status(), 401);
    let since = "DateCreatedAfter=2000-01-01T00:00:00Z";
    let summary: Value =
        serde_json::from_str(app.reports.handle(&get(&format!("/v2/Attempts/Summary?{since}"), true)).await.body()).unwrap();
    assert_eq!(summary["total_attempts"], 2, "{summary}");
    assert_eq!(summary["total_converted"], 1);
    assert_eq!(summary["conversion_rate_percentage"], "50");
    // Paging one attempt at a time.
    let first: Value =
        serde_json::from_str(app.reports.handle(&get(&format!("/v2/Attempts?{since}&PageSize=1"), true)).await.body()).unwrap();
    assert_eq!(first["attempts"].as_array().unwrap().len(), 1, "{first}");
    let next = first["meta"]["next_page_url"].as_str().unwrap().strip_prefix("http://reports.test").unwrap().to_owned();
    let second: Value = serde_json::from_str(app.reports.handle(&get(&next, true)).await.body()).unwrap();
    assert_eq!(second["attempts"].as_array().unwrap().len(), 1);
    assert_ne!(first["attempts"][0]["sid"], second["attempts"][0]["sid"]);
    let statuses: Vec<&str> = [&first, &second].iter().map(|p| p["attempts"][0]["conversion_status"].as_str().unwrap()).collect();
    assert!(statuses.contains(&"converted") && statuses.contains(&"unconverted"), "{statuses:?}");
    let by_number: Value =
        serde_json::from_str(app.reports.handle(&get(&format!("/v2/Attempts?{since}&ChannelData.To=%2B442079460958"), true)).await.body())
            .unwrap();
    assert_eq!(by_number["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(by_number["attempts"][0]["channel_data"]["country"], "GB");
    // Events, JSON and CSV.
    let events: Value = serde_json::from_str(
        app.reports.handle(&get("/events?from=2000-01-01&to=2100-01-01&type=verification.expired", true)).await.body(),
    )
    .unwrap();
    assert_eq!(events["events"].as_array().unwrap().len(), 1);
    let mut csv_req = get("/events?from=2000-01-01&to=2100-01-01", true);
    csv_req.headers_mut().insert("accept", "text/csv".parse().unwrap());
    let csv = app.reports.handle(&csv_req).await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(csv.body().starts_with("id,type,timestamp"));
    assert!(!csv.body().contains("+14155550123"));
    assert_eq!(json!(csv.body().lines().count()), json!(1 + rx.received().len()));
}

// ---------------------------------------------------------------- event store

/// Events spread over 40 days and two services, one shard or eight: a
/// whole-range read (which fetches several days' buckets at once) returns
/// every event once, in time order, and walking pages of 7 returns the same.
#[tokio::test]
async fn multi_day_reads_return_every_event_in_order() {
    use verify_aws::events::store::{EventQuery, EventStore};
    use verify_core::events::{Event, EventType};
    let db = dynoxide::Database::memory().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { dynoxide::server::serve_on(listener, db).await });
    let client = verify_aws::clients::dynamodb_at(&endpoint);
    let services = [format!("VA{}", "1".repeat(32)), format!("VA{}", "2".repeat(32))];
    let event = |i: i64| Event {
        id: format!("evt_{i:032x}"),
        event_type: EventType::Pending,
        // Uneven gaps, several events on some days, none on others.
        time_ms: (T0 + i * 37_000 + (i % 3) * 500) * 1000,
        sequence: 1,
        service_sid: services[i as usize % 2].clone(),
        verification_sid: format!("VE{i:032}"),
        channel: "sms".into(),
        country: Some("US".into()),
        to_masked: "+1415555****".into(),
        to_hash: String::new(),
        check_attempts: 0,
        send_attempts: 1,
        attempt_sid: None,
        resend: false,
        reason: None,
        test: false,
    };
    let all: Vec<Event> = (0..93).map(event).collect();
    for shards in [1, 8] {
        // A table each: an event's item, once written, keeps its bucket.
        let table = format!("verify-{shards}");
        verify_aws::store::ensure_table(&client, &table).await.unwrap();
        let store = EventStore::new(client.clone(), table, shards, 90);
        for e in &all {
            store.put(e).await.unwrap();
        }
        let q = EventQuery {
            services: services.to_vec(),
            from: T0 - 86_400,
            to: T0 + 45 * 86_400,
            types: None,
            verification_sid: None,
            to_hashes: None,
            to_prefix: None,
            country: None,
            channel: None,
        };
        let ids = |events: &[Event]| events.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
        let expected = ids(&all);
        assert_eq!(ids(&store.page(&q, None, 1000).await.unwrap().events), expected, "one page, {shards} shard(s)");
        let (mut paged, mut token) = (Vec::new(), None);
        loop {
            let page = store.page(&q, token.as_ref(), 7).await.unwrap();
            paged.extend(ids(&page.events));
            match page.next {
                Some(next) => token = Some(next),
                None => break,
            }
        }
        assert_eq!(paged, expected, "pages of 7, {shards} shard(s)");
    }
}
