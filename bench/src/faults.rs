//! Fault injection under load: the real [`Api`] over [`DynamoStore`], its
//! DynamoDB client configured as the Lambda functions configure theirs
//! ([`verify_aws::clients::LambdaEnv`]: same retries, same timeouts), talking
//! to the engine verify-local embeds (dynoxide on loopback) through a
//! [`FaultProxy`]; a sender that fails a share of sends; concurrent clients
//! starting and checking with right and wrong codes. Afterwards the engine is
//! read directly (not through the proxy), and its stream run through the real
//! event derivation, to check the invariants in [`Report::invariants`].
//!
//! `bench-faults` runs it big (README, "Robustness"); `bench/tests/faults.rs`
//! runs it small in CI with 0 violations asserted.

use crate::fault_proxy::{Fault, FaultProxy, Rng};
use bytes::Bytes;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use verify_aws::events::stream::parse_record;
use verify_aws::store::{DynamoStore, ensure_table};
use verify_core::api::Api;
use verify_core::api::auth::Credentials;
use verify_core::api::cors::Cors;
use verify_core::api::routes::Function;
use verify_core::clock::ManualClock;
use verify_core::config::{Limits, Settings, env};
use verify_core::events::EventType;
use verify_core::events::derive::Deriver;
use verify_core::events::number_key::{NumberKey, NumberKeys};
use verify_core::otp::Code;
use verify_core::record::{Status, VerificationRecord};
use verify_core::sender::{Message, SendError, SendFuture, Sender, Senders};
use verify_core::service::Verifier;
use verify_core::store::{RecordKey, Store};

/// The Lambda functions' timeout (template.yaml): an answer later than this
/// is no answer at all for the client (the function is killed).
pub const LAMBDA_TIMEOUT: Duration = Duration::from_secs(10);
const TABLE: &str = "verify-faults";
/// A fixed time: the whole run is inside one send window and one validity,
/// so every limit can be checked by counting.
const NOW: i64 = 1_800_000_000;
/// How long a "lost" answer is held: past the Lambda timeout, i.e. never.
pub const HANG: Duration = Duration::from_secs(30);

#[derive(Clone, Debug)]
pub struct Config {
    pub seed: u64,
    /// Client operations (a start, a check, or a race of three checks).
    pub operations: usize,
    /// Concurrent clients.
    pub clients: usize,
    /// Distinct phone numbers the clients share.
    pub numbers: usize,
    /// Share of DynamoDB requests that get a fault.
    pub fault_rate: f64,
    /// Share of SMS sends that fail.
    pub send_failure_rate: f64,
    /// How long the proxy holds an answer it "loses".
    pub hold: Duration,
}

impl Config {
    /// The CI run: small, a few seconds.
    pub fn small(seed: u64) -> Config {
        Config { seed, operations: 240, clients: 16, numbers: 30, fault_rate: 0.3, send_failure_rate: 0.2, hold: HANG }
    }
}

/// One answer a client saw.
#[derive(Clone, Debug)]
struct Answer {
    kind: Kind,
    to: String,
    status: u16,
    body: Value,
    retry_after: bool,
    took: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Start,
    Check { right: bool },
}

/// A phone that receives what the flaky sender delivers.
pub struct FlakySender {
    rate: f64,
    rng: Mutex<Rng>,
    /// Number -> codes delivered to it, in order.
    inbox: Mutex<HashMap<String, Vec<String>>>,
    failed: AtomicU64,
}

impl FlakySender {
    fn latest(&self, to: &str) -> Option<String> {
        self.inbox.lock().expect("inbox").get(to).and_then(|v| v.last().cloned())
    }
}

#[derive(Clone)]
pub struct SharedSender(Arc<FlakySender>);

impl SharedSender {
    fn deliver(&self, message: &Message) -> Result<(), SendError> {
        let fails = self.0.rng.lock().expect("rng").unit() < self.0.rate;
        if fails {
            self.0.failed.fetch_add(1, Ordering::Relaxed);
            return Err(SendError("injected: provider refused".into()));
        }
        let code = crate::code_in(message.content.text()).expect("an SMS carries a code");
        self.0.inbox.lock().expect("inbox").entry(message.to.clone()).or_default().push(code);
        Ok(())
    }
}

impl Sender for SharedSender {
    fn send<'a>(&'a self, message: &'a Message) -> SendFuture<'a> {
        Box::pin(async move { self.deliver(message) })
    }
}

type FaultApi = Api<DynamoStore, Arc<ManualClock>>;

/// One invariant: how many things it looked at, and what broke it.
#[derive(Clone, Debug, Default)]
pub struct Invariant {
    pub name: &'static str,
    pub checked: u64,
    pub violations: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Report {
    pub config: Option<Config>,
    pub seconds: f64,
    /// Client-visible answers by (operation, HTTP status).
    pub answers: BTreeMap<(String, u16), u64>,
    /// DynamoDB requests by (operation, fault).
    pub faults: BTreeMap<(String, Fault), u64>,
    pub sends_delivered: u64,
    pub sends_failed: u64,
    pub stream_records: u64,
    pub events: u64,
    /// Approvals stored whose client saw only retryable errors (the approval's
    /// answer was lost on every retry); the client's own retry then gets 404,
    /// as Twilio answers a check of an approved verification.
    pub approvals_unseen: u64,
    /// Sends counted in the store beyond the messages delivered (a write
    /// applied whose answer was lost, then retried): over-counting, the safe side.
    pub sends_overcounted: u64,
    pub invariants: Vec<Invariant>,
}

impl Report {
    pub fn violations(&self) -> usize {
        self.invariants.iter().map(|i| i.violations.len()).sum()
    }

    pub fn requests(&self) -> u64 {
        self.faults.values().sum()
    }

    pub fn injected(&self) -> u64 {
        self.faults.iter().filter(|((_, f), _)| *f != Fault::None).map(|(_, n)| n).sum()
    }
}

/// The service under test and what surrounds it.
pub struct World {
    /// One function instance (tests use this one; the load gives each client its own).
    pub api: Arc<FaultApi>,
    /// The proxy's endpoint, for more instances.
    proxied: String,
    pub sender: Arc<FlakySender>,
    pub proxy: Arc<FaultProxy>,
    /// The engine itself, for reading the stream.
    pub db: dynoxide::Database,
    /// The store read directly (not through the proxy).
    pub direct: DynamoStore,
    pub settings: Settings,
}

impl World {
    /// Engine, proxy (with `proxy`'s faults) and the Api over them.
    pub async fn new(proxy: FaultProxy, send_failure_rate: f64, seed: u64) -> World {
        let db = dynoxide::Database::memory().expect("engine");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind engine");
        let engine = format!("http://{}", listener.local_addr().expect("engine address"));
        tokio::spawn(dynoxide::server::serve_on(listener, db.clone()));
        let direct = verify_aws::clients::dynamodb_at(&engine);
        ensure_table(&direct, TABLE).await.expect("table");
        let proxy = Arc::new(proxy.upstream(&engine));
        let proxied = proxy.clone().serve().await;
        let settings = settings();
        let sender = Arc::new(FlakySender {
            rate: send_failure_rate,
            rng: Mutex::new(Rng::new(seed ^ 0x5e4d)),
            inbox: Mutex::new(HashMap::new()),
            failed: AtomicU64::new(0),
        });
        let api = instance(&proxied, &sender, &settings);
        World { api, proxied, sender, proxy, db, direct: DynamoStore::new(direct, TABLE), settings }
    }

    /// Another function instance: its own DynamoDB client (so its own SDK
    /// retry quota, as each Lambda execution environment has), the same
    /// proxy, phones and settings.
    pub fn instance(&self) -> Arc<FaultApi> {
        instance(&self.proxied, &self.sender, &self.settings)
    }

    pub fn service_sid(&self) -> String {
        self.settings.services.default_service().sid.clone()
    }

    /// The events the table's stream gives through the real derivation.
    pub fn events(&self) -> Vec<verify_core::events::Event> {
        let numbers = NumberKeys::new(NumberKey::new(b"fault-harness-number-key-0123456789").expect("key"), None);
        let deriver = Deriver { services: self.settings.services.clone(), numbers };
        read_stream(&self.db, TABLE).iter().filter_map(|v| parse_record(v).ok()).flat_map(|r| deriver.derive(&r.change())).collect()
    }

    /// Answers one form POST as verify-local would (within the Lambda timeout).
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, Value, Duration) {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let started = Instant::now();
        let resp = call(&self.api, &format!("/v2/Services/{}/{path}", self.service_sid()), body).await;
        (resp.status().as_u16(), serde_json::from_str(resp.body()).unwrap_or(Value::Null), started.elapsed())
    }

    /// The code the phone last received.
    pub fn latest_code(&self, to: &str) -> Option<String> {
        self.sender.latest(to)
    }
}

fn instance(proxied: &str, sender: &Arc<FlakySender>, settings: &Settings) -> Arc<FaultApi> {
    Arc::new(Api {
        verifier: Verifier {
            store: DynamoStore::new(lambda_client(proxied), TABLE).sealing_like(&settings.keys),
            senders: Senders::sms(SharedSender(sender.clone())),
            clock: Arc::new(ManualClock::at(NOW)),
            services: settings.services.clone().into(),
            keys: settings.keys.clone(),
        },
        account_sid: settings.account_sid.clone(),
        public_base_url: None,
        credentials: Credentials::default(),
        cors: Cors::default(),
        metrics: Arc::new(verify_core::metrics::NoMetrics),
        api_webhooks: Default::default(),
    })
}

/// A DynamoDB client built as a Lambda function builds its own (the same
/// retries and timeouts, from the same variables), pointed at `endpoint`.
fn lambda_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let env = verify_aws::clients::LambdaEnv::from_lookup(|name| match name {
        "AWS_REGION" => Some("us-east-1".into()),
        "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" => Some("local".into()),
        "AWS_ENDPOINT_URL_DYNAMODB" => Some(endpoint.into()),
        _ => None,
    });
    env.expect("Lambda environment").dynamodb()
}

/// One request through `Api::handle`; an answer later than the Lambda
/// timeout becomes the bare 504 a client would see.
async fn call(api: &FaultApi, path: &str, body: String) -> http::Response<String> {
    let req = http::Request::builder()
        .method("POST")
        .uri(path)
        .header("host", "verify.faults.local")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Bytes::from(body))
        .expect("request");
    match tokio::time::timeout(LAMBDA_TIMEOUT, api.handle(Function::Local, &req)).await {
        Ok(resp) => resp,
        Err(_) => http::Response::builder().status(504).body(String::new()).expect("response"),
    }
}

/// Runs the load and checks the invariants. Needs a multi-thread runtime.
pub async fn run(config: Config) -> Report {
    let proxy = FaultProxy::new(config.fault_rate, config.hold, config.seed);
    let world = World::new(proxy, config.send_failure_rate, config.seed).await;
    let (sender, settings) = (world.sender.clone(), &world.settings);
    let limits = settings.services.default_service().limits.clone();
    let numbers: Vec<String> = (0..config.numbers).map(|i| format!("+49151{:08}", config.seed % 1000 * 100_000 + i as u64)).collect();

    let started = Instant::now();
    let answers = Arc::new(Mutex::new(Vec::<Answer>::new()));
    let next_op = Arc::new(AtomicU64::new(0));
    let mut clients = tokio::task::JoinSet::new();
    for c in 0..config.clients {
        let client = Client {
            // A Lambda instance serves one request at a time: a client's
            // requests go to an instance of its own.
            api: world.instance(),
            sender: sender.clone(),
            numbers: numbers.clone(),
            answers: answers.clone(),
            rng: Rng::new(config.seed.wrapping_mul(1_000_003).wrapping_add(c as u64)),
            service_sid: settings.services.default_service().sid.clone(),
        };
        let (next_op, total) = (next_op.clone(), config.operations as u64);
        clients.spawn(client.run(next_op, total));
    }
    while let Some(r) = clients.join_next().await {
        r.expect("client task");
    }
    let seconds = started.elapsed().as_secs_f64();
    // Writes in flight at the engine when their client gave up land now.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let answers = answers.lock().expect("answers").clone();
    let store = &world.direct;
    let mut records = HashMap::new();
    for to in &numbers {
        let key = RecordKey { service_sid: settings.services.default_service().sid.clone(), to: to.clone() };
        if let Some(r) = store.read(&key).await.expect("direct read") {
            records.insert(to.clone(), r);
        }
    }
    let stream = read_stream(&world.db, TABLE);
    let stream_records = stream.len() as u64;
    let events = world.events();
    let inbox = sender.inbox.lock().expect("inbox").clone();

    let mut report = Report {
        config: Some(config),
        seconds,
        faults: world.proxy.tally(),
        sends_delivered: inbox.values().map(|v| v.len() as u64).sum(),
        sends_failed: sender.failed.load(Ordering::Relaxed),
        stream_records,
        events: events.len() as u64,
        ..Report::default()
    };
    for a in &answers {
        let op = match a.kind {
            Kind::Start => "start",
            Kind::Check { right: true } => "check (right code)",
            Kind::Check { right: false } => "check (wrong code)",
        };
        *report.answers.entry((op.to_owned(), a.status)).or_default() += 1;
    }
    let check = Check {
        stream: &stream,
        answers: &answers,
        records: &records,
        events: &events,
        inbox: &inbox,
        limits: &limits,
        keys: &settings.keys,
    };
    report.invariants = vec![
        check.one_approval_each(),
        check.attempts_within_limits(),
        check.sends_within_limits(),
        check.no_unreceived_usable_code(),
        check.refusals_are_clear_and_retryable(),
        check.no_event_lost(),
    ];
    report.approvals_unseen = check.approvals_unseen();
    report.sends_overcounted =
        records.iter().map(|(to, r)| u64::from(r.sends).saturating_sub(inbox.get(to).map_or(0, |v| v.len() as u64))).sum();
    report
}

fn settings() -> Settings {
    let vars: HashMap<String, String> = [
        (env::CODE_KEY, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
        (env::TABLE, TABLE),
        (env::WARM_UP, "false"),
        // The load is pumping-shaped by construction (sequential numbers in
        // one prefix, most codes never approved because their answers were
        // faulted): the fraud guard would rightly refuse it with 403/60410,
        // which is not what this harness measures.
        (env::SERVICES, r#"{"services":[{"friendly_name":"Faults","fraud_guard":"off"}]}"#),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    Settings::from_vars(&vars).expect("settings")
}

struct Client {
    api: Arc<FaultApi>,
    sender: Arc<FlakySender>,
    numbers: Vec<String>,
    answers: Arc<Mutex<Vec<Answer>>>,
    rng: Rng,
    service_sid: String,
}

impl Client {
    async fn run(mut self, next_op: Arc<AtomicU64>, total: u64) {
        let mut sids: HashMap<String, String> = HashMap::new();
        while next_op.fetch_add(1, Ordering::Relaxed) < total {
            let to = self.numbers[self.rng.below(self.numbers.len())].clone();
            let roll = self.rng.unit();
            let by_sid = self.rng.unit() < 0.3;
            let sid = sids.get(&to).cloned().filter(|_| by_sid);
            if roll < 0.35 {
                if let Some(a) = self.retrying(Kind::Start, &to, None, None).await
                    && let Some(s) = a.body["sid"].as_str()
                {
                    sids.insert(to.clone(), s.to_owned());
                }
            } else if roll < 0.65 {
                let code = self.sender.latest(&to);
                let _ = self.retrying(Kind::Check { right: true }, &to, code, sid).await;
            } else if roll < 0.85 {
                let wrong = format!("{:06}", self.rng.below(1_000_000));
                let _ = self.retrying(Kind::Check { right: false }, &to, Some(wrong), sid).await;
            } else {
                // Three checks of the right code at once: one approval at most.
                let code = self.sender.latest(&to);
                let k = Kind::Check { right: true };
                let (a, b, c) = (
                    self.call(k, &to, code.clone(), sid.clone()),
                    self.call(k, &to, code.clone(), sid.clone()),
                    self.call(k, &to, code.clone(), sid.clone()),
                );
                let _ = tokio::join!(a, b, c);
            }
        }
    }

    /// A call, retried once or twice on a retryable error as a client would
    /// (and sometimes not at all, as a user who gives up).
    async fn retrying(&mut self, kind: Kind, to: &str, code: Option<String>, sid: Option<String>) -> Option<Answer> {
        let tries = 1 + self.rng.below(3);
        let mut last = None;
        for _ in 0..tries {
            let a = self.call(kind, to, code.clone(), sid.clone()).await;
            let again = a.status == 503 || (a.status == 429 && a.body["code"] == 60212);
            last = Some(a);
            if !again {
                break;
            }
        }
        last.filter(|a| a.status < 300)
    }

    async fn call(&self, kind: Kind, to: &str, code: Option<String>, sid: Option<String>) -> Answer {
        let (path, body) = {
            let mut form = form_urlencoded::Serializer::new(String::new());
            let path = match kind {
                Kind::Start => {
                    form.append_pair("To", to).append_pair("Channel", "sms");
                    "Verifications"
                }
                Kind::Check { .. } => {
                    match &sid {
                        Some(s) => form.append_pair("VerificationSid", s),
                        None => form.append_pair("To", to),
                    };
                    form.append_pair("Code", code.as_deref().unwrap_or("000000"));
                    "VerificationCheck"
                }
            };
            (format!("/v2/Services/{}/{path}", self.service_sid), form.finish())
        };
        let started = Instant::now();
        let resp = call(&self.api, &path, body).await;
        let answer = Answer {
            kind,
            to: to.to_owned(),
            status: resp.status().as_u16(),
            body: serde_json::from_str(resp.body()).unwrap_or(Value::Null),
            retry_after: resp.headers().contains_key("retry-after"),
            took: started.elapsed(),
        };
        self.answers.lock().expect("answers").push(answer.clone());
        answer
    }
}

/// The stream of the table as the engine keeps it, every record in order.
fn read_stream(db: &dynoxide::Database, table: &str) -> Vec<Value> {
    verify_aws::events::embedded::records_after(db, table, None, None).expect("the stream")
}

/// The invariants, over what the clients saw, what the store holds, what
/// the phones received and what the stream says.
struct Check<'a> {
    stream: &'a [Value],
    answers: &'a [Answer],
    records: &'a HashMap<String, VerificationRecord>,
    events: &'a [verify_core::events::Event],
    inbox: &'a HashMap<String, Vec<String>>,
    limits: &'a Limits,
    keys: &'a verify_core::otp::CodeKeys,
}

impl Check<'_> {
    fn checks(&self) -> impl Iterator<Item = &Answer> {
        self.answers.iter().filter(|a| matches!(a.kind, Kind::Check { .. }) && a.status == 200)
    }

    fn sid_of(a: &Answer) -> String {
        a.body["sid"].as_str().unwrap_or_default().to_owned()
    }

    /// At most one check per verification is told "approved", and the stream
    /// holds at most one approval per verification.
    fn one_approval_each(&self) -> Invariant {
        let mut inv = Invariant { name: "at most one approval per verification", ..Default::default() };
        let mut seen: HashMap<String, u32> = HashMap::new();
        for a in self.checks().filter(|a| a.body["status"] == "approved") {
            *seen.entry(Self::sid_of(a)).or_default() += 1;
        }
        let mut events: HashMap<&str, HashSet<&str>> = HashMap::new();
        for e in self.events.iter().filter(|e| e.event_type == EventType::Approved) {
            events.entry(&e.verification_sid).or_default().insert(&e.id);
        }
        let sids: HashSet<&str> = self.answers.iter().filter_map(|a| a.body["sid"].as_str()).collect();
        inv.checked = sids.len() as u64;
        for (sid, n) in &seen {
            if *n > 1 {
                inv.violations.push(format!("{sid}: {n} checks were told approved; its writes: {}", self.history(sid)));
            }
        }
        for (sid, ids) in &events {
            if ids.len() > 1 {
                inv.violations.push(format!("{sid}: {} approval events", ids.len()));
            }
        }
        inv
    }

    /// Verdicts (right or wrong) per verification never exceed its attempts,
    /// and no stored counter is past its limit.
    fn attempts_within_limits(&self) -> Invariant {
        let mut inv = Invariant { name: "check attempts never exceed the limits", ..Default::default() };
        let mut verdicts: HashMap<String, u32> = HashMap::new();
        for a in self.checks() {
            *verdicts.entry(Self::sid_of(a)).or_default() += 1;
        }
        for (sid, n) in &verdicts {
            inv.checked += 1;
            if *n > self.limits.max_check_attempts {
                inv.violations.push(format!("{sid}: {n} verdicts, limit {}", self.limits.max_check_attempts));
            }
        }
        for (to, r) in self.records {
            inv.checked += 1;
            if r.attempts > self.limits.max_check_attempts || r.failures > self.limits.max_failures {
                inv.violations.push(format!("{to}: stored attempts {} failures {}", r.attempts, r.failures));
            }
        }
        inv
    }

    /// No number received more codes than the send limit in its window (the
    /// whole run is one window), and no stored count is past it.
    fn sends_within_limits(&self) -> Invariant {
        let mut inv = Invariant { name: "sends never exceed the limit", ..Default::default() };
        for (to, codes) in self.inbox {
            inv.checked += 1;
            if codes.len() as u32 > self.limits.max_sends {
                inv.violations.push(format!("{to}: {} codes delivered, limit {}", codes.len(), self.limits.max_sends));
            }
        }
        for (to, r) in self.records {
            if r.sends > self.limits.max_sends {
                inv.violations.push(format!("{to}: stored sends {}", r.sends));
            }
        }
        inv
    }

    /// Every code that can still be checked was delivered to its number.
    fn no_unreceived_usable_code(&self) -> Invariant {
        let mut inv = Invariant { name: "no usable code that nobody received", ..Default::default() };
        for (to, r) in self.records {
            inv.checked += 1;
            if r.status_at(NOW, self.limits) != Status::Pending {
                continue;
            }
            let delivered = self
                .inbox
                .get(to)
                .into_iter()
                .flatten()
                .any(|code| Code::parse(code, self.limits.code_length).is_some_and(|c| self.keys.hash(&r.sid, &c) == r.code_hash));
            if !delivered {
                let starts: Vec<u16> = self.answers.iter().filter(|a| a.kind == Kind::Start && a.to == *to).map(|a| a.status).collect();
                inv.violations.push(format!(
                    "{to}: {} is pending with a code never delivered (version {}, sends {}, {} delivered; starts answered {starts:?}); its writes: {}",
                    r.sid,
                    r.version,
                    r.sends,
                    self.inbox.get(to).map_or(0, Vec::len),
                    self.history(&r.sid)
                ));
            }
        }
        inv
    }

    /// Every answer is a success, a Twilio-shaped refusal of the request
    /// itself (404 nothing to check, 429 limit with Retry-After), or a
    /// retryable 503 with Retry-After; and it comes within the Lambda timeout.
    fn refusals_are_clear_and_retryable(&self) -> Invariant {
        let mut inv = Invariant { name: "every refusal a clear (retryable) error, in time", ..Default::default() };
        for a in self.answers {
            inv.checked += 1;
            let shaped = a.body["code"].is_u64() && a.body["message"].is_string();
            let ok = match a.status {
                200 | 201 => true,
                404 => shaped,
                429 | 503 => shaped && a.retry_after,
                _ => false,
            };
            if !ok || a.took >= LAMBDA_TIMEOUT {
                inv.violations.push(format!("{:?} {}: {} after {:?}: {}", a.kind, a.to, a.status, a.took, a.body));
            }
        }
        inv
    }

    /// Every send, approval and failed check a client was told of is in the
    /// stream's events.
    fn no_event_lost(&self) -> Invariant {
        let mut inv = Invariant { name: "no event lost", ..Default::default() };
        let attempts: HashSet<&str> =
            self.events.iter().filter(|e| e.event_type == EventType::Pending).filter_map(|e| e.attempt_sid.as_deref()).collect();
        for a in self.answers.iter().filter(|a| a.kind == Kind::Start && a.status == 201) {
            inv.checked += 1;
            let last = a.body["send_code_attempts"].as_array().and_then(|v| v.last()).and_then(|x| x["attempt_sid"].as_str());
            if !last.is_some_and(|s| attempts.contains(s)) {
                inv.violations.push(format!("start of {}: no pending event for attempt {last:?}", a.to));
            }
        }
        let approved: HashSet<&str> =
            self.events.iter().filter(|e| e.event_type == EventType::Approved).map(|e| e.verification_sid.as_str()).collect();
        let mut failed_events: HashMap<&str, HashSet<&str>> = HashMap::new();
        for e in self.events.iter().filter(|e| e.event_type == EventType::CheckFailed) {
            failed_events.entry(&e.verification_sid).or_default().insert(&e.id);
        }
        let mut wrong: HashMap<String, usize> = HashMap::new();
        for a in self.checks() {
            inv.checked += 1;
            let sid = Self::sid_of(a);
            if a.body["status"] == "approved" {
                if !approved.contains(sid.as_str()) {
                    inv.violations.push(format!("{sid}: a client was told approved, no approved event"));
                }
            } else {
                *wrong.entry(sid).or_default() += 1;
            }
        }
        for (sid, n) in wrong {
            let events = failed_events.get(sid.as_str()).map_or(0, HashSet::len);
            if events < n {
                inv.violations.push(format!("{sid}: {n} wrong-code verdicts, {events} check_failed events"));
            }
        }
        inv
    }

    /// A verification's writes as the stream has them: status, version,
    /// sends, attempts and code hash (first bytes) after each.
    fn history(&self, sid: &str) -> String {
        let mut out = Vec::new();
        for v in self.stream {
            let Ok(r) = parse_record(v) else { continue };
            let Some(new) = r.new_image.as_ref().and_then(verify_aws::item::from_item) else { continue };
            if new.sid == sid {
                let checked_by = new.checked_by.as_deref().unwrap_or("-");
                let hash: String = new.code_hash.digest.iter().take(3).map(|b| format!("{b:02x}")).collect();
                out.push(format!(
                    "[{} v{} sends {} attempts {} hash {hash} by {checked_by}]",
                    new.status.as_str(),
                    new.version,
                    new.sends,
                    new.attempts
                ));
            }
        }
        out.join(" ")
    }

    /// Stored approvals no check was told of (see [`Report::approvals_unseen`]).
    fn approvals_unseen(&self) -> u64 {
        let told: HashSet<String> = self.checks().filter(|a| a.body["status"] == "approved").map(Self::sid_of).collect();
        let stored: HashSet<&str> =
            self.events.iter().filter(|e| e.event_type == EventType::Approved).map(|e| e.verification_sid.as_str()).collect();
        stored.iter().filter(|s| !told.contains(**s)).count() as u64
    }
}

/// The report as Markdown: load, faults by kind, answers, invariants.
pub fn markdown(r: &Report) -> String {
    let c = r.config.as_ref().expect("config");
    let mut s = String::new();
    let mut line = |l: String| {
        s.push_str(&l);
        s.push('\n');
    };
    line(format!(
        "Load: {} client operations by {} concurrent clients on {} numbers in {:.1} s; seed {}; {:.0} % of DynamoDB requests faulted, {:.0} % of sends failed; answers held {} ms.",
        c.operations,
        c.clients,
        c.numbers,
        r.seconds,
        c.seed,
        c.fault_rate * 100.0,
        c.send_failure_rate * 100.0,
        c.hold.as_millis()
    ));
    line(String::new());
    line("| DynamoDB requests (as the engine's proxy saw them) | count |".into());
    line("| --- | ---: |".into());
    let mut by_fault: BTreeMap<Fault, u64> = BTreeMap::new();
    for ((_, f), n) in &r.faults {
        *by_fault.entry(*f).or_default() += n;
    }
    for (f, n) in &by_fault {
        line(format!("| {} | {n} |", f.as_str()));
    }
    line(format!(
        "| **total** ({} faulted, {:.1} %) | {} |",
        r.injected(),
        100.0 * r.injected() as f64 / r.requests().max(1) as f64,
        r.requests()
    ));
    line(String::new());
    line(format!("SMS sends: {} delivered, {} failed (injected).", r.sends_delivered, r.sends_failed));
    line(String::new());
    line("| client answers | HTTP status | count |".into());
    line("| --- | ---: | ---: |".into());
    for ((op, status), n) in &r.answers {
        line(format!("| {op} | {status} | {n} |"));
    }
    line(String::new());
    line("| invariant (checked afterwards) | items checked | violations |".into());
    line("| --- | ---: | ---: |".into());
    for i in &r.invariants {
        line(format!("| {} | {} | {} |", i.name, i.checked, i.violations.len()));
    }
    line(String::new());
    line(format!(
        "Stream: {} records, {} events derived. Approvals whose every answer was lost (the client saw 503, its retry 404): {}. Sends counted beyond those delivered (a write applied whose answer was lost, then retried): {}.",
        r.stream_records, r.events, r.approvals_unseen, r.sends_overcounted
    ));
    for i in r.invariants.iter().filter(|i| !i.violations.is_empty()) {
        line(String::new());
        line(format!("Violations of \"{}\" (first 10):", i.name));
        for v in i.violations.iter().take(10) {
            line(format!("- {v}"));
        }
    }
    s
}
