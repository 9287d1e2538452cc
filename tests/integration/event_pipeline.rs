//! The whole event pipeline on one embedded engine: the real verifier writes
//! verification items (on a manual clock, so writes can be placed within one
//! second), the table's stream is read as Lambda would get it, webhook-report
//! stores events, delivers them to a receiver on 127.0.0.1 and serves the
//! reports. Each test names the hardening item it covers.

use super::{Receiver, Reply, StreamReader, endpoint};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use verify_aws::store::DynamoStore;
use verify_aws::webhook_report::{ReportSettings, WebhookReport, build};
use verify_core::clock::{Clock, ManualClock};
use verify_core::config::{Service, Settings};
use verify_core::events::number_key::{NumberKey, NumberKeys};
use verify_core::otp::Code;
use verify_core::phone::PhoneNumber;
use verify_core::record;
use verify_core::sender::outbox::Outbox;
use verify_core::service::{CheckTarget, StartRequest, Verifier, VerifyError};
use verify_core::time_fmt::iso8601;
use verify_core::webhooks::config::Endpoint;
use verify_core::webhooks::ssrf::Allow;

const NUMBER_KEY: &str = "pipeline-test-number-key-0123456789abcdef";
const OTHER_NUMBER_KEY: &str = "pipeline-test-number-key-after-rotation!!";
const DEFAULT_SERVICE: &str = "VA0000000000000000000000000000000a";
const STRICT_SERVICE: &str = "VA0000000000000000000000000000000b";
/// Two services: the default with generous limits (so races and long runs
/// of wrong codes stay within them), and one with 3 check attempts.
const SERVICES: &str = r#"{"default_service_sid": "VA0000000000000000000000000000000a", "services": [
    {"sid": "VA0000000000000000000000000000000a", "friendly_name": "Acme",
     "max_check_attempts": 100, "max_sends": 100, "max_failures": 100},
    {"sid": "VA0000000000000000000000000000000b", "friendly_name": "Strict", "max_check_attempts": 3},
    {"sid": "VA0000000000000000000000000000000c", "friendly_name": "Acme US", "countries": ["US"]}]}"#;
const US_ONLY_SERVICE: &str = "VA0000000000000000000000000000000c";

type TestVerifier = Verifier<DynamoStore, Arc<ManualClock>>;

struct Pipeline {
    verifier: Arc<TestVerifier>,
    outbox: Outbox,
    clock: Arc<ManualClock>,
    client: aws_sdk_dynamodb::Client,
    stream: StreamReader,
    app: WebhookReport,
}

fn vars(number_key: &str, previous: Option<&str>) -> HashMap<String, String> {
    let mut v = HashMap::from([
        ("VERIFY_CODE_KEY".to_owned(), "pipeline-test-code-key-0123456789abcdef".to_owned()),
        ("VERIFY_NUMBER_KEY".to_owned(), number_key.to_owned()),
        ("VERIFY_SERVICES".to_owned(), SERVICES.to_owned()),
    ]);
    if let Some(p) = previous {
        v.insert("VERIFY_NUMBER_KEY_PREVIOUS".to_owned(), p.to_owned());
    }
    v
}

/// webhook-report over `client`, reading reports as `SKtest:pw`.
fn report_app(
    client: &aws_sdk_dynamodb::Client,
    clock: &Arc<ManualClock>,
    vars: &HashMap<String, String>,
    endpoints: Vec<Endpoint>,
) -> WebhookReport {
    let mut settings = ReportSettings::from_vars(vars).unwrap();
    settings.endpoints = endpoints;
    settings.delivery.allow = Allow::LOOPBACK;
    settings.credentials.add_key(verify_core::api::auth::ApiKey::from_secret("SKtest", "pw").unwrap()).unwrap();
    build(settings, client.clone(), clock.clone())
}

async fn pipeline(endpoints: Vec<Endpoint>) -> Pipeline {
    let db = dynoxide::Database::memory().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(dynoxide::server::serve_on(listener, db.clone()));
    let client = verify_aws::clients::dynamodb_at(&url);
    verify_aws::store::ensure_table(&client, "verify").await.unwrap();
    // Now, to the second: the reports look back from their clock.
    let clock = Arc::new(ManualClock::at(verify_core::clock::SystemClock.now()));
    let vars = vars(NUMBER_KEY, None);
    let settings = Settings::from_vars(&vars).unwrap();
    let outbox = Outbox::new();
    let verifier = Arc::new(Verifier {
        store: DynamoStore::new(client.clone(), "verify"),
        senders: verify_core::sender::Senders::sms(outbox.clone()),
        clock: clock.clone(),
        services: settings.services.into(),
        keys: settings.keys,
    });
    let app = report_app(&client, &clock, &vars, endpoints);
    Pipeline { verifier, outbox, clock, client, stream: StreamReader { db, after: None }, app }
}

impl Pipeline {
    fn service(&self, sid: &str) -> Service {
        self.verifier.services.seeded().get(sid).unwrap().clone()
    }

    async fn start(&self, service: &str, to: &str) -> String {
        let req = StartRequest {
            to: PhoneNumber::parse(to).unwrap().into(),
            channel: verify_core::channel::Channel::Sms,
            language: None,
            friendly_name: None,
            email_from: Default::default(),
        };
        self.verifier.start(&self.service(service), &req).await.unwrap().sid
    }

    fn code(&self, to: &str) -> String {
        let body = self.outbox.messages(Some(to)).last().unwrap().body.clone();
        body.rsplit(' ').next().unwrap().to_owned()
    }

    /// Checks `code`; true when it approved.
    async fn check(&self, service: &str, to: &str, code: &str) -> bool {
        let target = CheckTarget::To(PhoneNumber::parse(to).unwrap().into());
        let code = Code::parse(code, 6).unwrap();
        self.verifier.check(&self.service(service), &target, &code).await.unwrap().approved
    }

    /// A six-digit code that is not the one last sent to `to`.
    fn wrong(&self, to: &str) -> String {
        if self.code(to) == "000000" { "111111".into() } else { "000000".into() }
    }

    /// Hands every stream record so far to webhook-report, as Lambda would.
    async fn drain_stream(&mut self) {
        let records = self.stream.read();
        let outcome = self.app.dispatcher.handle_records(&records).await;
        assert!(outcome.failed.is_empty(), "{outcome:?}");
    }

    async fn get(&self, uri: &str) -> (u16, http::HeaderMap, String) {
        let req = http::Request::get(uri)
            .header("host", "reports.test")
            .header("authorization", "Basic U0t0ZXN0OnB3") // SKtest:pw
            .body(bytes::Bytes::new())
            .unwrap();
        let resp = self.app.reports.handle(&req).await;
        (resp.status().as_u16(), resp.headers().clone(), resp.body().clone())
    }

    async fn get_json(&self, uri: &str) -> Value {
        let (status, _, body) = self.get(uri).await;
        assert_eq!(status, 200, "{uri}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Every stored event of one verification, in `/events` order.
    async fn events_of(&self, verification_sid: &str) -> Vec<Value> {
        let page = self.get_json(&format!("/events?verification_sid={verification_sid}&limit=1000")).await;
        assert!(page["next_page_token"].is_null());
        page["events"].as_array().unwrap().clone()
    }
}

fn of_type<'a>(events: &'a [Value], t: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == t).collect()
}

/// Item 9: wrong codes racing resends. Every resend restarts the
/// failure marker's count, so ids made from the counters repeated and
/// later failures were dropped as replays; every wrong code must become
/// its own stored event.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_wrong_code_racing_resends_becomes_an_event() {
    let mut p = pipeline(Vec::new()).await;
    let to = "+14155550140";
    let sid = p.start(DEFAULT_SERVICE, to).await;
    let wrong = p.wrong(to);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..90 {
        let (v, service, wrong) = (p.verifier.clone(), p.service(DEFAULT_SERVICE), wrong.clone());
        tasks.spawn(async move {
            let target = CheckTarget::To(PhoneNumber::parse(to).unwrap().into());
            if i % 3 == 0 {
                let req = StartRequest {
                    to: PhoneNumber::parse(to).unwrap().into(),
                    channel: verify_core::channel::Channel::Sms,
                    language: None,
                    friendly_name: None,
                    email_from: Default::default(),
                };
                // Busy (a lost race too many) is retryable, as for a check.
                loop {
                    match v.start(&service, &req).await {
                        Err(VerifyError::Busy) => continue,
                        outcome => break (false, outcome.is_ok()),
                    }
                }
            } else {
                // A resend may have sent this very code: then it approves.
                // Sixty checks of one verification at once: one lost race
                // too many is a "busy, retry" (429), and a client retries.
                loop {
                    match v.check(&service, &target, &Code::parse(&wrong, 6).unwrap()).await {
                        Err(VerifyError::Busy) => continue,
                        outcome => break (true, outcome.is_ok_and(|o| !o.approved)),
                    }
                }
            }
        });
    }
    let (mut failed_checks, mut resends) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        match r.unwrap() {
            (true, true) => failed_checks += 1,
            (false, true) => resends += 1,
            _ => {}
        }
    }
    assert!(failed_checks >= 50 && resends >= 5, "the race happened: {failed_checks} wrong codes, {resends} resends");
    p.drain_stream().await;
    let events = p.events_of(&sid).await;
    let failures = of_type(&events, "verification.check_failed");
    assert_eq!(failures.len(), failed_checks, "one event per wrong code");
    let ids: HashSet<&str> = failures.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), failed_checks);
    assert_eq!(of_type(&events, "verification.pending").len(), 1 + resends);
    // Replaying the whole stream changes nothing.
    p.stream.after = None;
    p.drain_stream().await;
    assert_eq!(p.events_of(&sid).await, events);
}

/// Item 9: a resend restarts the wrong-code count (`failed_checks`), so a
/// wrong code after it brings the count back to where it was before: it is
/// a new change (its own version), not a replay of the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_code_after_a_resend_is_not_taken_for_a_replay() {
    use verify_core::store::{RecordKey, Store};
    let mut p = pipeline(Vec::new()).await;
    let to = "+14155550149";
    let sid = p.start(DEFAULT_SERVICE, to).await;
    let (store, limits) = (&p.verifier.store, p.service(DEFAULT_SERVICE).limits);
    let key = RecordKey { service_sid: DEFAULT_SERVICE.into(), to: to.into() };
    for resend in [true, false] {
        p.clock.advance_ms(5);
        let read = store.read(&key).await.unwrap().unwrap();
        let failed = store.apply(&record::check(&read, false, "RQ", p.clock.now_ms(), &limits)).await.unwrap();
        assert_eq!(failed.activity.failed_checks, 1);
        if resend {
            p.clock.advance_ms(5);
            assert_eq!(p.start(DEFAULT_SERVICE, to).await, sid, "a resend");
        }
    }
    p.drain_stream().await;
    let events = p.events_of(&sid).await;
    assert_eq!(of_type(&events, "verification.check_failed").len(), 2, "{events:#?}");
}

/// Item 10: a service with 3 check attempts reaches max_attempts_reached
/// at its third wrong code, though the default service allows 100.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_is_judged_by_its_own_check_limit() {
    let mut p = pipeline(Vec::new()).await;
    let (strict_to, default_to) = ("+14155550141", "+14155550142");
    let strict = p.start(STRICT_SERVICE, strict_to).await;
    let default = p.start(DEFAULT_SERVICE, default_to).await;
    for _ in 0..3 {
        assert!(!p.check(STRICT_SERVICE, strict_to, &p.wrong(strict_to)).await);
        assert!(!p.check(DEFAULT_SERVICE, default_to, &p.wrong(default_to)).await);
    }
    p.drain_stream().await;
    let strict_events = p.events_of(&strict).await;
    let types: Vec<&str> = strict_events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "verification.pending",
            "verification.check_failed",
            "verification.check_failed",
            "verification.check_failed",
            "verification.max_attempts_reached"
        ]
    );
    assert_eq!(strict_events[4]["data"]["status"], "max_attempts_reached");
    assert!(of_type(&p.events_of(&default).await, "verification.max_attempts_reached").is_empty());
}

/// Item 15: events of one second are listed in the order they happened,
/// and one verification's webhooks reach a real receiver in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_keep_their_order_within_a_second_and_on_the_wire() {
    let (rx, url, _srv) = Receiver::start(vec![Reply::Status(204)]).await;
    let mut p = pipeline(vec![endpoint(&url)]).await;
    let (a, b) = ("+14155550143", "+14155550144");
    // Two verifications, interleaved, 3 ms apart, all within one second.
    let second = p.clock.now();
    p.clock.set(second);
    let mut happened = Vec::new();
    let sid_a = p.start(DEFAULT_SERVICE, a).await;
    happened.push((sid_a.clone(), "verification.pending"));
    p.clock.advance_ms(3);
    let sid_b = p.start(DEFAULT_SERVICE, b).await;
    happened.push((sid_b.clone(), "verification.pending"));
    for _ in 0..20 {
        for (to, sid) in [(a, &sid_a), (b, &sid_b)] {
            p.clock.advance_ms(3);
            assert!(!p.check(DEFAULT_SERVICE, to, &p.wrong(to)).await);
            happened.push((sid.clone(), "verification.check_failed"));
        }
    }
    p.clock.advance_ms(3);
    assert!(p.check(DEFAULT_SERVICE, a, &p.code(a)).await);
    happened.push((sid_a.clone(), "verification.approved"));
    assert_eq!(p.clock.now(), second, "all within one second");
    p.drain_stream().await;

    // /events: the order they happened in, though all share one second.
    let page = p.get_json("/events?limit=1000").await;
    let listed: Vec<(String, &str)> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["data"]["verification_sid"].as_str().unwrap().to_owned(), e["type"].as_str().unwrap()))
        .collect();
    assert_eq!(listed, happened);
    let times: Vec<&str> = page["events"].as_array().unwrap().iter().map(|e| e["timestamp"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "millisecond timestamps: {times:?}");
    assert!(times[0].len() == "2026-01-01T00:00:00.000Z".len(), "{}", times[0]);
    // Paged one at a time: the same order.
    let (mut paged, mut next) = (Vec::new(), Some("/events?limit=7".to_owned()));
    while let Some(uri) = next {
        let page = p.get_json(&uri).await;
        paged.extend(page["events"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        next = page["next_page_url"].as_str().map(|u| u.strip_prefix("http://reports.test").unwrap().to_owned());
    }
    let ids: Vec<String> = page["events"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(paged, ids);

    // The receiver: each verification's webhooks in the order they happened,
    // with growing sequence numbers.
    let got: Vec<Value> = rx.received().iter().map(|r| serde_json::from_str(&r.body).unwrap()).collect();
    assert_eq!(got.len(), happened.len());
    for sid in [&sid_a, &sid_b] {
        let arrived: Vec<(&str, u64)> = got
            .iter()
            .filter(|e| e["data"]["verification_sid"] == sid.as_str())
            .map(|e| (e["type"].as_str().unwrap(), e["data"]["sequence"].as_u64().unwrap()))
            .collect();
        let expected: Vec<&str> = happened.iter().filter(|(s, _)| s == sid).map(|(_, t)| *t).collect();
        assert_eq!(arrived.iter().map(|(t, _)| *t).collect::<Vec<_>>(), expected, "{sid}");
        assert!(arrived.windows(2).all(|w| w[0].1 < w[1].1), "{sid}: {arrived:?}");
    }
}

/// Item 14: every listed attempt's `url` answers, with the attempt as listed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_listed_attempt_can_be_fetched_by_its_url() {
    let mut p = pipeline(Vec::new()).await;
    let (a, b) = ("+14155550145", "+442079460958");
    p.start(DEFAULT_SERVICE, a).await;
    p.start(DEFAULT_SERVICE, a).await; // a resend: a second attempt
    p.start(STRICT_SERVICE, b).await;
    assert!(p.check(DEFAULT_SERVICE, a, &p.code(a)).await);
    p.drain_stream().await;
    let list = p.get_json("/v2/Attempts").await;
    let attempts = list["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3, "{list}");
    for listed in attempts {
        let path = listed["url"].as_str().unwrap().strip_prefix("http://reports.test").unwrap();
        assert_eq!(&p.get_json(path).await, listed, "{path}");
    }
    assert_eq!(attempts.iter().filter(|x| x["conversion_status"] == "converted").count(), 2);
    // Unknown, malformed, or of a service not reported on: 404.
    for sid in [format!("VL{}", "0".repeat(32)), "VL123".into(), "nope".into()] {
        let (status, _, body) = p.get(&format!("/v2/Attempts/{sid}")).await;
        assert_eq!(status, 404, "{sid}: {body}");
        assert!(body.contains("20404"), "{body}");
    }
    let mut only_default = ReportSettings::from_vars(&vars(NUMBER_KEY, None)).unwrap();
    only_default.services = vec![DEFAULT_SERVICE.into()];
    only_default.credentials.add_key(verify_core::api::auth::ApiKey::from_secret("SKtest", "pw").unwrap()).unwrap();
    let narrower = build(only_default, p.client.clone(), p.clock.clone());
    let strict_attempt = attempts.iter().find(|x| x["service_sid"] == STRICT_SERVICE).unwrap();
    let req = http::Request::get(format!("/v2/Attempts/{}", strict_attempt["sid"].as_str().unwrap()))
        .header("authorization", "Basic U0t0ZXN0OnB3")
        .body(bytes::Bytes::new())
        .unwrap();
    assert_eq!(narrower.reports.handle(&req).await.status(), 404);
}

/// Item 13: a parameter that is not in its one documented format answers
/// 400 with no Retry-After, before anything is read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_report_parameters_answer_400() {
    let mut p = pipeline(Vec::new()).await;
    p.start(DEFAULT_SERVICE, "+14155550146").await;
    p.start(DEFAULT_SERVICE, "+14155550147").await;
    p.drain_stream().await;
    // A real token works; a damaged one is the caller's mistake.
    let first = p.get_json("/events?limit=1").await;
    let token = first["next_page_token"].as_str().unwrap().replace('#', "%23");
    assert_eq!(p.get_json(&format!("/events?limit=1&page_token={token}")).await["events"].as_array().unwrap().len(), 1);
    let now = p.clock.now();
    for uri in [
        "/events?page_token=garbage".to_owned(),
        format!("/events?page_token={}", &token[..token.len() - 1]),
        format!("/events?page_token={}", token.replacen("evt_", "evt_zz", 1)),
        "/v2/Attempts?PageToken=x%23y".to_owned(),
        format!("/events?to={now}"),
        format!("/events?from={}", now - 60),
        "/events?from=2024-13-01".to_owned(),
        "/events?limit=0".to_owned(),
        "/events?type=verification.nope".to_owned(),
        "/events?format=xml".to_owned(),
        "/events?verification_sid=VE123".to_owned(),
        "/v2/Attempts?DateCreatedAfter=2024-01-01".to_owned(),
        "/v2/Attempts?DateCreatedBefore=1700000000".to_owned(),
        "/v2/Attempts?PageSize=abc".to_owned(),
        "/v2/Attempts?Page=-1".to_owned(),
        "/v2/Attempts?Country=USA".to_owned(),
        "/v2/Attempts?Channel=pigeon".to_owned(),
        "/v2/Attempts?VerificationSid=VE1".to_owned(),
        "/v2/Attempts?VerifyServiceSid=VA1".to_owned(),
        "/v2/Attempts?ChannelData.To=call-me".to_owned(),
        "/v2/Attempts?Status=maybe".to_owned(),
        "/v2/Attempts/Summary?DestinationPrefix=%2B1-415".to_owned(),
    ] {
        let (status, headers, body) = p.get(&uri).await;
        assert_eq!(status, 400, "{uri}: {body}");
        assert!(headers.get("retry-after").is_none(), "{uri}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["code"], 60200, "{uri}");
    }
    // The dashboard's is a page, with the same status and code.
    let (status, headers, page) = p.get("/dashboard?from=last-week").await;
    assert_eq!(status, 400);
    assert!(headers.get("retry-after").is_none() && headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.contains("Invalid parameter: from (error 60200)"), "{page}");
    // The documented formats are accepted (recent periods: fewer days to read).
    let (hour_ago, today) = (iso8601(now - 3600), iso8601(now)[..10].to_owned());
    for uri in [
        format!("/events?from={today}&to={today}"),
        format!("/events?from={hour_ago}&format=csv"),
        format!("/v2/Attempts?DateCreatedAfter={hour_ago}&Country=us&Channel=SMS&Page=0"),
    ] {
        let (status, _, body) = p.get(&uri).await;
        assert_eq!(status, 200, "{uri}: {body}");
    }
}

/// Item 3: the stored stand-in for a number is a keyed hash. Lookups by
/// number find events hashed under the current or the previous key, and
/// nothing without the key that made them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbers_are_found_under_the_current_or_previous_key_only() {
    let mut p = pipeline(Vec::new()).await;
    let to = "+14155550148";
    p.start(DEFAULT_SERVICE, to).await;
    p.drain_stream().await;
    let by_number = "/v2/Attempts?ChannelData.To=%2B14155550148";
    assert_eq!(p.get_json(by_number).await["attempts"].as_array().unwrap().len(), 1);

    // What the table holds is the hash under the deployment's key.
    let scan = p.client.scan().table_name("verify").send().await.unwrap();
    let stored: Vec<&str> =
        scan.items().iter().filter_map(|i| i.get("to_hash")).filter_map(|v| v.as_s().ok()).map(String::as_str).collect();
    let key = |k: &str| NumberKeys::new(NumberKey::new(k.as_bytes()).unwrap(), None);
    assert_eq!(stored, [key(NUMBER_KEY).hash(DEFAULT_SERVICE, to)]);
    assert_ne!(stored[0], key(OTHER_NUMBER_KEY).hash(DEFAULT_SERVICE, to));

    let lookup = |number_key: &str, previous: Option<&str>| {
        let app = report_app(&p.client, &p.clock, &vars(number_key, previous), Vec::new());
        async move {
            let req = http::Request::get(by_number).header("authorization", "Basic U0t0ZXN0OnB3").body(bytes::Bytes::new()).unwrap();
            let body: Value = serde_json::from_str(app.reports.handle(&req).await.body()).unwrap();
            body["attempts"].as_array().unwrap().len()
        }
    };
    assert_eq!(lookup(OTHER_NUMBER_KEY, Some(NUMBER_KEY)).await, 1, "rotated: the previous key still finds it");
    assert_eq!(lookup(OTHER_NUMBER_KEY, None).await, 0, "another key finds nothing");
}

/// Every start refused by a rule is a `verification.blocked` event with its
/// reason, in `/events` and in webhooks' source, though no code and no
/// verification exist; the Safe List lifts the block.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_refused_by_geo_permissions_are_blocked_events() {
    use verify_core::store::safe_list::{SafeListEntry, SafeListStore};
    let mut p = pipeline(Vec::new()).await;
    let to = "+442079460970";
    let req = StartRequest {
        to: PhoneNumber::parse(to).unwrap().into(),
        channel: verify_core::channel::Channel::Sms,
        language: None,
        friendly_name: None,
        email_from: Default::default(),
    };
    let service = p.service(US_ONLY_SERVICE);
    for _ in 0..2 {
        let refused = p.verifier.start(&service, &req).await.unwrap_err();
        assert_eq!(refused, verify_core::service::VerifyError::CountryNotAllowed);
        p.clock.advance(1);
    }
    assert!(p.outbox.messages(Some(to)).is_empty(), "nothing sent");
    let entry = SafeListEntry { sid: verify_core::sid::new_sid("GN"), key: to.into(), phone_number: to.into(), created_at: p.clock.now() };
    p.verifier.store.add_safe_number(&entry).await.unwrap();
    p.verifier.start(&service, &req).await.unwrap();
    p.drain_stream().await;

    let page = p.get_json(&format!("/events?type=verification.blocked&service_sid={US_ONLY_SERVICE}&limit=100")).await;
    let events = page["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "one event per refused start: {page}");
    let ids: HashSet<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 2);
    for e in events {
        assert_eq!(e["data"]["reason"], "geo_permissions", "{e}");
        assert_eq!(e["data"]["country"], "GB", "{e}");
        assert!(!e.to_string().contains("460970"), "no full number in an event: {e}");
    }
    // The listed number's start is an ordinary pending one.
    let pending = p.get_json(&format!("/events?type=verification.pending&service_sid={US_ONLY_SERVICE}&limit=100")).await;
    assert_eq!(pending["events"].as_array().unwrap().len(), 1);
    // The dashboard counts them by reason.
    let (status, _, html) = p.get(&format!("/dashboard?service_sid={US_ONLY_SERVICE}")).await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"<b id="total-blocked">2</b><small id="blocked-by-reason">geo_permissions 2</small>"#), "{html}");
}

/// A service created over the API (in the services document, not in
/// `VERIFY_SERVICES`): webhook-report reads it through the catalog, so its
/// events are derived by its own limits (the deployment's defaults, fewer
/// check attempts than the default service's 100) and the reports cover it
/// without a request naming it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_service_created_over_the_api_is_derived_by_its_own_limits_and_reported() {
    use verify_core::service_catalog::{StoredService, StoredServices, merged};
    use verify_core::store::services::ServiceStore;
    let mut p = pipeline(Vec::new()).await;
    let created = format!("VA{}", "d".repeat(32));
    let now = p.clock.now();
    let stored = StoredService {
        sid: created.clone(),
        friendly_name: "Created".into(),
        code_length: 6,
        skip_sms_to_landlines: false,
        created_at: now,
        updated_at: now,
    };
    let doc = StoredServices { version: 1, services: vec![stored], ..Default::default() };
    p.verifier.store.save_stored_services(&doc).await.unwrap();
    let service = merged(p.verifier.services.seeded(), &doc).get(&created).unwrap().clone();
    let limit = service.limits.max_check_attempts;
    assert!(limit < p.service(DEFAULT_SERVICE).limits.max_check_attempts);

    let to = "+14155550160";
    let req = StartRequest {
        to: PhoneNumber::parse(to).unwrap().into(),
        channel: verify_core::channel::Channel::Sms,
        language: None,
        friendly_name: None,
        email_from: Default::default(),
    };
    let sid = p.verifier.start(&service, &req).await.unwrap().sid;
    let wrong = Code::parse(&p.wrong(to), 6).unwrap();
    for _ in 0..limit {
        let target = CheckTarget::To(PhoneNumber::parse(to).unwrap().into());
        assert!(!p.verifier.check(&service, &target, &wrong).await.unwrap().approved);
    }
    p.drain_stream().await;
    let events = p.events_of(&sid).await;
    assert_eq!(of_type(&events, "verification.check_failed").len(), limit as usize);
    assert_eq!(of_type(&events, "verification.max_attempts_reached").len(), 1, "by its own limit");
    let list = p.get_json("/v2/Attempts").await;
    assert!(list["attempts"].as_array().unwrap().iter().any(|a| a["service_sid"] == created.as_str()), "{list}");
}
