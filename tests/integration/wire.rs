//! The v2 wire layer against a real DynamoDB engine: `record::close`
//! (cancel / manual approval) applied by the store on the embedded engine and, when
//! `MOTO_ENDPOINT` is set (tests/run.sh sets it), on moto too; and
//! `Api::handle` as each Lambda function routes, with a manual clock.

use crate::support::wrong_code_for;
use bytes::Bytes;
use http::{Method, Request};
use serde_json::Value;
use std::sync::Arc;
use verify_aws::store::{DynamoStore, ensure_table};
use verify_core::api::Api;
use verify_core::api::auth::{ApiKey, Credentials};
use verify_core::api::cors::Cors;
use verify_core::api::routes::Function;
use verify_core::clock::{Clock, ManualClock, Seconds};
use verify_core::config::{Limits, Service, Services};
use verify_core::otp::{CodeKey, CodeKeys};
use verify_core::record::{self, StoredStatus, VerificationRecord};
use verify_core::sender::outbox::Outbox;
use verify_core::service::Verifier;
use verify_core::sid;
use verify_core::store::{RecordKey, Store, StoreError};

const T0: Seconds = 1_900_000_000;

/// A DynamoDB client for the embedded engine, served on a loopback port.
async fn embedded() -> aws_sdk_dynamodb::Client {
    let db = dynoxide::Database::memory().expect("in-memory engine");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(dynoxide::server::serve_on(listener, db));
    verify_aws::clients::dynamodb_at(&endpoint)
}

/// Both engines, each with a fresh table (moto is required: a missing
/// MOTO_ENDPOINT fails the test rather than dropping the moto case).
async fn stores() -> Vec<(&'static str, DynamoStore)> {
    let engines = vec![("embedded", embedded().await), ("moto", verify_aws::clients::dynamodb_at(&crate::support::moto_endpoint()))];
    let mut stores = Vec::new();
    for (name, client) in engines {
        let table = format!("wire-{}", sid::new_sid("T"));
        ensure_table(&client, &table).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        stores.push((name, DynamoStore::new(client, table)));
    }
    stores
}

fn planned(old: Option<&VerificationRecord>, to: &str, new_sid: &str, now: Seconds) -> VerificationRecord {
    record::example::start(old, to, new_sid, "VL1", now).unwrap()
}

async fn put_new(store: &DynamoStore, to: &str, sid: &str) -> VerificationRecord {
    let r = planned(None, to, sid, T0);
    let change = record::plan_start_of(None, r.clone(), &Limits::default());
    store.apply(&change).await.unwrap()
}

/// Cancels or approves (without a code) the record of `to`, as the service does.
async fn close(store: &DynamoStore, to: &str, sid: &str, status: StoredStatus, now: Seconds) -> Result<VerificationRecord, StoreError> {
    store.apply(&record::close(&key(to), sid, status, "RQtest", now * 1000, &Limits::default())).await
}

fn key(to: &str) -> RecordKey {
    RecordKey { service_sid: "VA1".into(), to: to.into() }
}

#[tokio::test]
async fn close_cancels_or_approves_only_a_pending_current_verification() {
    for (engine, store) in stores().await {
        let to = "+14155550101";
        let r = put_new(&store, to, "VEa").await;

        let canceled = close(&store, to, "VEa", StoredStatus::Canceled, T0 + 1).await.unwrap();
        assert_eq!((canceled.status, canceled.version, canceled.updated_at), (StoredStatus::Canceled, r.version + 1, T0 + 1), "{engine}");
        assert_eq!((canceled.sends, canceled.failures), (r.sends, r.failures), "{engine}: counters are untouched");
        match close(&store, to, "VEa", StoredStatus::Canceled, T0 + 2).await {
            Err(StoreError::Conflict(Some(stood))) => assert_eq!(stood.status, StoredStatus::Canceled, "{engine}"),
            other => panic!("{engine}: second cancel: {other:?}"),
        }

        // A new verification for the number: the old sid no longer closes anything.
        let next = planned(Some(&canceled), to, "VEb", T0 + 3);
        assert_eq!(next.sid, "VEb");
        store.apply(&record::plan_start_of(Some(&canceled), next, &Limits::default())).await.unwrap();
        assert!(matches!(close(&store, to, "VEa", StoredStatus::Approved, T0 + 4).await, Err(StoreError::Conflict(_))), "{engine}");
        let approved = close(&store, to, "VEb", StoredStatus::Approved, T0 + 4).await.unwrap();
        assert_eq!((approved.status, approved.checked_by.as_deref()), (StoredStatus::Approved, Some("RQtest")), "{engine}");

        // Nothing there at all.
        assert!(
            matches!(close(&store, "+14155550199", "VEz", StoredStatus::Canceled, T0).await, Err(StoreError::Conflict(None))),
            "{engine}"
        );
    }
}

#[tokio::test]
async fn close_refuses_expired_and_exhausted_verifications() {
    for (engine, store) in stores().await {
        let to = "+14155550102";
        let r = put_new(&store, to, "VEc").await;
        // Expired means expired, whatever TTL has (not) done yet.
        let at_expiry = close(&store, to, "VEc", StoredStatus::Canceled, r.expires_at).await;
        assert!(matches!(at_expiry, Err(StoreError::Conflict(Some(_)))), "{engine}");
        // Out of attempts.
        for _ in 0..5 {
            let read = store.read(&key(to)).await.unwrap().unwrap();
            store.apply(&record::check(&read, false, "RQ", (T0 + 1) * 1000, &Limits::default())).await.unwrap();
        }
        assert!(matches!(close(&store, to, "VEc", StoredStatus::Approved, T0 + 2).await, Err(StoreError::Conflict(_))), "{engine}");
        let still = store.read(&key(to)).await.unwrap().unwrap();
        assert_eq!(still.status, StoredStatus::Pending, "{engine}: a refused close writes nothing");
    }
}

// ---- Api::handle as the Lambda functions route ----

const VA: &str = "VA0123456789abcdef0123456789abcdef";

struct Harness {
    api: Api<DynamoStore, Arc<ManualClock>>,
    outbox: Outbox,
    clock: Arc<ManualClock>,
}

async fn harness(public_base_url: Option<&str>) -> Harness {
    let client = embedded().await;
    ensure_table(&client, "verify").await.unwrap();
    let outbox = Outbox::new();
    let clock = Arc::new(ManualClock::at(T0));
    let mut credentials = Credentials::default();
    credentials.add_key(ApiKey::from_secret("SKtest", "secret").unwrap()).unwrap();
    let api = Api {
        verifier: Verifier {
            store: DynamoStore::new(client, "verify"),
            senders: verify_core::sender::Senders::sms(outbox.clone()),
            clock: clock.clone(),
            services: Services::single(Service::new(VA.into(), "Wire".into(), Limits::default())).into(),
            keys: CodeKeys::new(CodeKey::new(&[9u8; 32]).unwrap(), None),
        },
        account_sid: format!("AC{}", "0".repeat(32)),
        public_base_url: public_base_url.map(str::to_owned),
        credentials,
        cors: Cors::default(),
        metrics: Arc::new(verify_core::metrics::NoMetrics),
        api_webhooks: Default::default(),
    };
    Harness { api, outbox, clock }
}

const BASIC: &str = "Basic U0t0ZXN0OnNlY3JldA=="; // SKtest:secret

fn request(method: Method, path: &str, body: &str, auth: bool) -> Request<Bytes> {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "abc.lambda-url.us-east-1.on.aws")
        .header("x-forwarded-proto", "https")
        .header("content-type", "application/x-www-form-urlencoded");
    if auth {
        b = b.header("authorization", BASIC);
    }
    b.body(Bytes::from(body.to_owned())).unwrap()
}

impl Harness {
    async fn call(&self, f: Function, method: Method, path: &str, body: &str) -> (u16, Value) {
        let resp = self.api.handle(f, &request(method, path, body, true)).await;
        (resp.status().as_u16(), serde_json::from_str(resp.body()).unwrap_or(Value::Null))
    }

    fn code(&self, to: &str) -> String {
        let body = self.outbox.messages(Some(to)).last().expect("an SMS").body.clone();
        body.rsplit(' ').next().unwrap().to_owned()
    }
}

#[tokio::test]
async fn each_function_serves_its_routes_and_the_plain_endpoints_still_work() {
    let h = harness(None).await;
    let to = "%2B14155550103";
    let (status, v) = h.call(Function::StartVerify, Method::POST, "/", &format!("to={to}")).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["success"], true);
    assert_eq!(v["service_sid"], VA);
    assert!(v["url"].as_str().unwrap().starts_with("https://abc.lambda-url.us-east-1.on.aws/v2/Services/"));
    let code = h.code("+14155550103");

    // Each function answers 404 for the other's routes.
    let check_path = format!("/v2/Services/{VA}/VerificationCheck");
    let (status, _) = h.call(Function::StartVerify, Method::POST, &check_path, &format!("To={to}&Code={code}")).await;
    assert_eq!(status, 404);
    let (status, _) = h.call(Function::CheckVerify, Method::GET, "/v2/Services", "").await;
    assert_eq!(status, 404);

    let (status, c) = h.call(Function::CheckVerify, Method::POST, "/", &format!("to={to}&code={code}")).await;
    assert_eq!((status, c["status"].as_str()), (200, Some("approved")), "{c}");
}

#[tokio::test]
async fn nothing_happens_without_credentials() {
    let h = harness(None).await;
    for (f, path) in [(Function::StartVerify, "/"), (Function::StartVerify, &*format!("/v2/Services/{VA}/Verifications"))] {
        let resp = h.api.handle(f, &request(Method::POST, path, "To=%2B14155550104", false)).await;
        assert_eq!(resp.status(), 401);
        assert_eq!(resp.headers()["www-authenticate"], "Basic realm=\"Twilio API\"");
    }
    assert!(h.outbox.messages(None).is_empty());
    let open = verify_core::config::Settings::from_vars(&[("VERIFY_CODE_KEY".to_owned(), "k".repeat(32))].into_iter().collect()).unwrap();
    assert!(verify_lambda::app::require_credentials(&open).unwrap_err().contains("VERIFY_API_KEYS"));
}

#[tokio::test]
async fn expired_means_expired_for_fetch_check_and_cancel() {
    let h = harness(Some("https://verify.example.com")).await;
    let (status, v) =
        h.call(Function::StartVerify, Method::POST, &format!("/v2/Services/{VA}/Verifications"), "To=%2B14155550105&Channel=sms").await;
    assert_eq!(status, 201);
    let sid = v["sid"].as_str().unwrap().to_owned();
    assert_eq!(v["url"], format!("https://verify.example.com/v2/Services/{VA}/Verifications/{sid}"));
    let code = h.code("+14155550105");
    let fetch = format!("/v2/Services/{VA}/Verifications/{sid}");
    h.clock.advance(599);
    assert_eq!(h.call(Function::StartVerify, Method::GET, &fetch, "").await.0, 200);
    h.clock.advance(1);
    assert_eq!(h.clock.now(), T0 + 600);
    assert_eq!(h.call(Function::StartVerify, Method::GET, &fetch, "").await.0, 404);
    assert_eq!(h.call(Function::StartVerify, Method::GET, &format!("/v2/Services/{VA}/Verifications/+14155550105"), "").await.0, 404);
    assert_eq!(h.call(Function::StartVerify, Method::POST, &fetch, "Status=canceled").await.0, 404);
    let check = format!("/v2/Services/{VA}/VerificationCheck");
    assert_eq!(h.call(Function::CheckVerify, Method::POST, &check, &format!("VerificationSid={sid}&Code={code}")).await.0, 404);
}

#[tokio::test]
async fn a_superseded_sid_is_gone_and_the_number_names_the_current_one() {
    let h = harness(None).await;
    let create = format!("/v2/Services/{VA}/Verifications");
    let (_, first) = h.call(Function::StartVerify, Method::POST, &create, "To=%2B14155550106&Channel=sms").await;
    let first_sid = first["sid"].as_str().unwrap().to_owned();
    let by_number = format!("/v2/Services/{VA}/Verifications/%2B14155550106");
    let (status, canceled) = h.call(Function::StartVerify, Method::POST, &by_number, "Status=canceled").await;
    assert_eq!((status, canceled["status"].as_str()), (200, Some("canceled")));
    let (_, second) = h.call(Function::StartVerify, Method::POST, &create, "To=%2B14155550106&Channel=sms").await;
    let second_sid = second["sid"].as_str().unwrap();
    assert_ne!(first_sid, second_sid);
    assert_eq!(h.call(Function::StartVerify, Method::GET, &format!("{create}/{first_sid}"), "").await.0, 404);
    let (status, current) = h.call(Function::StartVerify, Method::GET, &by_number, "").await;
    assert_eq!((status, current["sid"].as_str()), (200, Some(second_sid)));
    // Sends carry over a cancel: it is not a way around the send limit.
    assert_eq!(h.outbox.messages(Some("+14155550106")).len(), 2);
}

/// A Lambda function URL event (payload 2.0) as AWS delivers it.
fn function_url_event(method: &str, raw_path: &str, raw_query: &str, headers: Value, body: Option<&str>) -> String {
    serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abc",
            "domainName": "abc.lambda-url.us-east-1.on.aws",
            "domainPrefix": "abc",
            "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9", "userAgent": "twilio-python/9.13.0"},
            "requestId": "r1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "22/Nov/2026:03:00:00 +0000",
            "timeEpoch": 1_900_000_000_000u64
        },
        "body": body,
        "isBase64Encoded": false
    })
    .to_string()
}

/// What the Lambda mains do with lambda_http's request.
fn from_lambda(event: &str) -> Request<Bytes> {
    let req = lambda_http::request::from_str(event).expect("a function URL event");
    let (parts, body) = req.into_parts();
    Request::from_parts(parts, Bytes::copy_from_slice(body.as_ref()))
}

#[tokio::test]
async fn function_url_events_route_authenticate_and_verify_signatures_as_sent() {
    use verify_core::api::auth::{AuthToken, form_pairs, signature};
    let mut h = harness(None).await;
    let token = "0123456789abcdef0123456789abcdef";
    h.api.credentials.add_token(AuthToken::new(token).unwrap());
    let host = "abc.lambda-url.us-east-1.on.aws";
    let headers = |extra: &[(&str, &str)]| {
        let mut m = serde_json::Map::new();
        m.insert("host".into(), host.into());
        m.insert("x-forwarded-proto".into(), "https".into());
        m.insert("content-type".into(), "application/x-www-form-urlencoded".into());
        for (k, v) in extra {
            m.insert((*k).into(), (*v).into());
        }
        Value::Object(m)
    };

    // Signed as Twilio signs: the URL the client used, query included, plus the form.
    let path = format!("/v2/Services/{VA}/Verifications");
    let body = "To=%2B14155550107&Channel=sms";
    let sig = signature(token.as_bytes(), &format!("https://{host}{path}?From=studio"), &form_pairs(body.as_bytes()));
    let event = function_url_event("POST", &path, "From=studio", headers(&[("x-twilio-signature", &sig)]), Some(body));
    let resp = h.api.handle(Function::StartVerify, &from_lambda(&event)).await;
    assert_eq!(resp.status(), 201, "{}", resp.body());
    let v: Value = serde_json::from_str(resp.body()).unwrap();
    assert!(v["url"].as_str().unwrap().starts_with(&format!("https://{host}/v2/Services/{VA}/Verifications/VE")));
    let other_query = function_url_event("POST", &path, "From=studiO", headers(&[("x-twilio-signature", &sig)]), Some(body));
    assert_eq!(h.api.handle(Function::StartVerify, &from_lambda(&other_query)).await.status(), 401);

    // Fetch by number with the `+` raw in the path, as the helper libraries send it.
    let fetch = function_url_event("GET", &format!("{path}/+14155550107"), "", headers(&[("authorization", BASIC)]), None);
    let resp = h.api.handle(Function::StartVerify, &from_lambda(&fetch)).await;
    assert_eq!(resp.status(), 200, "{}", resp.body());

    // The plain endpoint of check-verify, with Basic credentials.
    let code = h.code("+14155550107");
    let check = function_url_event("POST", "/", "", headers(&[("authorization", BASIC)]), Some(&format!("to=%2B14155550107&code={code}")));
    let resp = h.api.handle(Function::CheckVerify, &from_lambda(&check)).await;
    let c: Value = serde_json::from_str(resp.body()).unwrap();
    assert_eq!((resp.status().as_u16(), c["status"].as_str()), (200, Some("approved")));
}

#[tokio::test]
async fn cross_site_requests_and_unreadable_bodies_do_nothing_on_lambda() {
    let h = harness(None).await;
    let check = format!("/v2/Services/{VA}/VerificationCheck");
    let create = format!("/v2/Services/{VA}/Verifications");
    // Credentials do not make a request from another origin acceptable.
    for (f, path) in [
        (Function::StartVerify, "/"),
        (Function::StartVerify, create.as_str()),
        (Function::CheckVerify, "/"),
        (Function::CheckVerify, check.as_str()),
    ] {
        for origin in ["https://evil.example", "null"] {
            let mut req = request(Method::POST, path, "To=%2B14155550108&Code=123456", true);
            req.headers_mut().insert("origin", origin.parse().unwrap());
            let resp = h.api.handle(f, &req).await;
            let v: Value = serde_json::from_str(resp.body()).unwrap();
            assert_eq!((resp.status().as_u16(), v["code"].as_u64()), (403, Some(20403)), "{f:?} {path} {origin}: {v}");
        }
        // Neither form nor JSON: not guessed at.
        let mut req = request(Method::POST, path, r#"{"To":"+14155550108","Code":"123456"}"#, true);
        req.headers_mut().insert("content-type", "text/plain;charset=UTF-8".parse().unwrap());
        let resp = h.api.handle(f, &req).await;
        assert_eq!(resp.status(), 415, "{f:?} {path}: {}", resp.body());
    }
    // A JSON name given twice is refused as a form's is.
    let mut req = request(Method::POST, "/", r#"{"To":"+14155550108","to":"+14155550109"}"#, true);
    req.headers_mut().insert("content-type", "application/json".parse().unwrap());
    let resp = h.api.handle(Function::StartVerify, &req).await;
    assert_eq!(resp.status(), 400, "{}", resp.body());
    assert!(resp.body().contains("more than once"), "{}", resp.body());
    assert!(h.outbox.messages(None).is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_wrong_code_on_the_plain_endpoint_says_so_and_the_v2_check_stays_twilios() {
    let h = harness(None).await;
    let (status, _) = h.call(Function::StartVerify, Method::POST, "/", "To=%2B14155550110").await;
    assert_eq!(status, 201);
    let code = h.code("+14155550110");
    let wrong = wrong_code_for(&code);
    let (status, plain) = h.call(Function::CheckVerify, Method::POST, "/", &format!("To=%2B14155550110&Code={wrong}")).await;
    assert_eq!((status, plain["status"].as_str(), plain["message"].as_str()), (200, Some("pending"), Some("Incorrect token.")));
    let v2 = format!("/v2/Services/{VA}/VerificationCheck");
    let (status, resource) = h.call(Function::CheckVerify, Method::POST, &v2, &format!("To=%2B14155550110&Code={wrong}")).await;
    assert_eq!((status, resource["status"].as_str()), (200, Some("pending")));
    assert!(resource.get("message").is_none(), "the VerificationCheck resource has no message: {resource}");
    let (_, approved) = h.call(Function::CheckVerify, Method::POST, "/", &format!("To=%2B14155550110&Code={code}")).await;
    assert_eq!((approved["status"].as_str(), approved["message"].as_str()), (Some("approved"), Some("Verification success.")));
}

/// Each request through the real handler (embedded DynamoDB, outbox)
/// leaves exactly one EMF line that parses as EMF, saying what happened,
/// with no number and no code in it.
#[tokio::test]
async fn every_request_emits_one_emf_line_of_its_outcome() {
    use verify_core::metrics::{CapturedEmf, check_emf_line, check_no_number_or_code};
    let mut h = harness(None).await;
    let captured = Arc::new(CapturedEmf::default());
    h.api.metrics = captured.clone();
    let to = "%2B14155550177";
    let (status, _) = h.call(Function::StartVerify, Method::POST, "/", &format!("to={to}")).await;
    assert_eq!(status, 201);
    let code = h.code("+14155550177");
    let wrong = wrong_code_for(&code);
    let (status, c) = h.call(Function::CheckVerify, Method::POST, "/", &format!("to={to}&code={wrong}")).await;
    assert_eq!((status, c["status"].as_str()), (200, Some("pending")));
    let (status, c) = h.call(Function::CheckVerify, Method::POST, "/", &format!("to={to}&code={code}")).await;
    assert_eq!((status, c["status"].as_str()), (200, Some("approved")));
    // A refusal by a rule: a country this service does not send to is not
    // configured here, so the sixth send in the window.
    let other = "%2B14155550178";
    for _ in 0..5 {
        assert_eq!(h.call(Function::StartVerify, Method::POST, "/", &format!("to={other}")).await.0, 201);
    }
    let (status, _) = h.call(Function::StartVerify, Method::POST, "/", &format!("to={other}")).await;
    assert_eq!(status, 429);

    let lines = captured.lines.lock().unwrap().clone();
    assert_eq!(lines.len(), 9, "one line per request: {lines:#?}");
    let parsed: Vec<Value> = lines.iter().map(|l| check_emf_line(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    for line in &lines {
        check_no_number_or_code(line, &[&code, "14155550177", "14155550178"]).unwrap();
    }
    let (start, wrong_check, right_check, refused) = (&parsed[0], &parsed[1], &parsed[2], &parsed[8]);
    assert_eq!((start["Sends"].as_f64(), start["Channel"].as_str(), start["Country"].as_str()), (Some(1.0), Some("sms"), Some("US")));
    assert_eq!(start["Route"], "start_verify");
    assert!(start["Latency"].as_f64().is_some_and(|ms| ms >= 0.0));
    assert_eq!((wrong_check["WrongCodes"].as_f64(), wrong_check.get("Approvals")), (Some(1.0), None));
    assert_eq!((right_check["Approvals"].as_f64(), right_check["Country"].as_str()), (Some(1.0), Some("US")));
    assert_eq!((refused["Blocks"].as_f64(), refused["Reason"].as_str(), refused.get("Sends")), (Some(1.0), Some("max_sends"), None));
}
