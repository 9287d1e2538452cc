//! Shared test plumbing: the stores the contract suite runs on (the
//! in-memory reference store, and the DynamoDB store on real engines:
//! embedded dynoxide and moto's server), a verifier over them with an
//! injectable clock, and the local outbox as the SMS sink.
//!
//! The flows, limits, expiry, concurrency and budget tests take a
//! [`TestStore`] and so run on every backend: a new backend is one more
//! [`Engine`] here.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use verify_aws::store::{DynamoStore, ensure_table};
use verify_core::change::Change;
use verify_core::clock::ManualClock;
use verify_core::config::{Limits, Service, Services};
use verify_core::fraud_guard::{Block, Window};
use verify_core::otp::Code;
use verify_core::otp::{CodeKey, CodeKeys};
use verify_core::phone::PhoneNumber;
use verify_core::rate_limits::RateLimits;
use verify_core::record::VerificationRecord;
use verify_core::sender::outbox::Outbox;
use verify_core::service::Verifier;
use verify_core::service::{CheckOutcome, CheckTarget, StartRequest, VerifyError};
use verify_core::service_catalog::StoredServices;
use verify_core::store::blocked::{BlockedStarts, BlockedStore};
use verify_core::store::counters::{Counter, CounterStore};
use verify_core::store::expiries::ExpiryStore;
use verify_core::store::fraud_guard::{FraudGuardStore, Tally};
use verify_core::store::memory::MemoryStore;
use verify_core::store::rate_limits::RateLimitStore;
use verify_core::store::safe_list::{SafeListEntry, SafeListStore};
use verify_core::store::services::ServiceStore;
use verify_core::store::{RecordKey, Store, StoreError};

pub const T0: i64 = 1_800_000_000;
pub const SERVICE_SID: &str = "VA0123456789abcdef0123456789abcdef";

/// Which backend a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// `verify_core::store::memory`: the reference meaning of every guard.
    Memory,
    Dynoxide,
    Moto,
}

/// A store of any backend, through the one `Store` trait, counting the
/// calls it serves (for the budget contract).
#[derive(Clone)]
pub struct TestStore {
    backend: Backing,
    calls: Arc<std::sync::Mutex<Vec<&'static str>>>,
}

#[derive(Clone)]
enum Backing {
    Memory(MemoryStore),
    Dynamo(DynamoStore),
    /// Fails every call as an unreachable store would.
    Broken,
}

impl TestStore {
    fn new(backend: Backing) -> TestStore {
        TestStore { backend, calls: Arc::default() }
    }

    /// The same backend failing every call (a fault, not a refusal): for a
    /// DynamoDB engine a table that does not exist, else a store that is down.
    pub fn broken(&self) -> TestStore {
        match &self.backend {
            Backing::Dynamo(d) => TestStore::new(Backing::Dynamo(DynamoStore::new(d.client().clone(), "no-such-table"))),
            _ => TestStore::new(Backing::Broken),
        }
    }

    /// The DynamoDB store, for tests of what only it has (its table, its stream).
    pub fn dynamo(&self) -> &DynamoStore {
        match &self.backend {
            Backing::Dynamo(d) => d,
            _ => panic!("not a DynamoDB store"),
        }
    }

    pub fn is_dynamo(&self) -> bool {
        matches!(self.backend, Backing::Dynamo(_))
    }

    /// The calls served since the last take (`read`, `apply`, `find_by_sid`).
    pub fn take_calls(&self) -> Vec<&'static str> {
        std::mem::take(&mut self.calls.lock().unwrap())
    }

    fn log(&self, call: &'static str) {
        self.calls.lock().unwrap().push(call);
    }
}

impl Store for TestStore {
    async fn read(&self, key: &RecordKey) -> Result<Option<VerificationRecord>, StoreError> {
        self.log("read");
        match &self.backend {
            Backing::Memory(m) => m.read(key).await,
            Backing::Dynamo(d) => d.read(key).await,
            Backing::Broken => Err(StoreError::Unavailable("down".into())),
        }
    }

    async fn apply(&self, change: &Change) -> Result<VerificationRecord, StoreError> {
        self.log("apply");
        match &self.backend {
            Backing::Memory(m) => m.apply(change).await,
            Backing::Dynamo(d) => d.apply(change).await,
            Backing::Broken => Err(StoreError::Unavailable("down".into())),
        }
    }

    async fn find_by_sid(&self, service_sid: &str, sid: &str) -> Result<Option<RecordKey>, StoreError> {
        self.log("find_by_sid");
        match &self.backend {
            Backing::Memory(m) => m.find_by_sid(service_sid, sid).await,
            Backing::Dynamo(d) => d.find_by_sid(service_sid, sid).await,
            Backing::Broken => Err(StoreError::Unavailable("down".into())),
        }
    }
}

impl ServiceStore for TestStore {
    async fn stored_services(&self) -> Result<StoredServices, StoreError> {
        self.log("stored_services");
        match &self.backend {
            Backing::Memory(m) => m.stored_services().await,
            Backing::Dynamo(d) => d.stored_services().await,
            Backing::Broken => Err(StoreError::Unavailable("down".into())),
        }
    }

    async fn save_stored_services(&self, services: &StoredServices) -> Result<(), StoreError> {
        self.log("save_stored_services");
        match &self.backend {
            Backing::Memory(m) => m.save_stored_services(services).await,
            Backing::Dynamo(d) => d.save_stored_services(services).await,
            Backing::Broken => Err(StoreError::Unavailable("down".into())),
        }
    }
}

impl ExpiryStore for TestStore {
    async fn sent_between(&self, service_sid: &str, after: i64, until: i64) -> Result<Vec<String>, StoreError> {
        self.log("sent_between");
        match &self.backend {
            Backing::Memory(m) => m.sent_between(service_sid, after, until).await,
            Backing::Dynamo(d) => dynamo_expiries(d).sent_between(service_sid, after, until).await,
            Backing::Broken => Err(StoreError::Unavailable("down".into())),
        }
    }

    async fn current_records(&self, service_sid: &str, sids: &[String]) -> Result<Vec<(RecordKey, VerificationRecord)>, StoreError> {
        self.log("current_records");
        match &self.backend {
            Backing::Memory(m) => m.current_records(service_sid, sids).await,
            Backing::Dynamo(d) => dynamo_expiries(d).current_records(service_sid, sids).await,
            Backing::Broken => Err(StoreError::Unavailable("down".into())),
        }
    }

    async fn sweep_mark(&self) -> Result<Option<i64>, StoreError> {
        match &self.backend {
            Backing::Memory(m) => m.sweep_mark().await,
            Backing::Dynamo(d) => dynamo_expiries(d).sweep_mark().await,
            Backing::Broken => Err(StoreError::Unavailable("down".into())),
        }
    }

    async fn save_sweep_mark(&self, tick: i64) -> Result<(), StoreError> {
        match &self.backend {
            Backing::Memory(m) => m.save_sweep_mark(tick).await,
            Backing::Dynamo(d) => dynamo_expiries(d).save_sweep_mark(tick).await,
            Backing::Broken => Err(StoreError::Unavailable("down".into())),
        }
    }

    async fn note_expired(&self, key: &RecordKey, now_ms: i64) -> Result<VerificationRecord, StoreError> {
        self.log("note_expired");
        match &self.backend {
            Backing::Memory(m) => m.note_expired(key, now_ms).await,
            Backing::Dynamo(d) => d.note_expired(key, now_ms).await,
            Backing::Broken => Err(StoreError::Unavailable("down".into())),
        }
    }
}

/// The sweep's store on a DynamoDB engine: the records, and the events
/// webhook-report keeps in the same table.
fn dynamo_expiries(d: &DynamoStore) -> verify_aws::expiries::DynamoExpiries {
    // (`d` seals as the API's store does: webhook-report's opens the same sids.)
    use verify_aws::events::store::{DEFAULT_RETENTION_DAYS, DEFAULT_SHARDS, EventStore};
    let events = EventStore::new(d.client().clone(), d.table(), DEFAULT_SHARDS, DEFAULT_RETENTION_DAYS);
    verify_aws::expiries::DynamoExpiries { store: d.clone(), events }
}

impl RateLimitStore for TestStore {
    async fn rate_limits(&self, service_sid: &str) -> Result<RateLimits, StoreError> {
        self.log("rate_limits");
        match &self.backend {
            Backing::Memory(m) => m.rate_limits(service_sid).await,
            Backing::Dynamo(d) => d.rate_limits(service_sid).await,
            Backing::Broken => Err(StoreError::Unavailable("down".into())),
        }
    }

    async fn save_rate_limits(&self, service_sid: &str, limits: &RateLimits) -> Result<(), StoreError> {
        self.log("save_rate_limits");
        match &self.backend {
            Backing::Memory(m) => m.save_rate_limits(service_sid, limits).await,
            Backing::Dynamo(d) => d.save_rate_limits(service_sid, limits).await,
            Backing::Broken => Err(StoreError::Unavailable("down".into())),
        }
    }

    async fn delete_rate_limits(&self, service_sid: &str, version: u64) -> Result<(), StoreError> {
        self.log("delete_rate_limits");
        match &self.backend {
            Backing::Memory(m) => m.delete_rate_limits(service_sid, version).await,
            Backing::Dynamo(d) => d.delete_rate_limits(service_sid, version).await,
            Backing::Broken => Err(StoreError::Unavailable("down".into())),
        }
    }
}

impl CounterStore for TestStore {
    async fn take(&self, counter: &Counter) -> Result<bool, StoreError> {
        self.log("take");
        match &self.backend {
            Backing::Memory(m) => m.take(counter).await,
            Backing::Dynamo(d) => d.take(counter).await,
            Backing::Broken => Err(StoreError::Unavailable("down".into())),
        }
    }

    async fn give_back(&self, counter: &Counter) -> Result<(), StoreError> {
        self.log("give_back");
        match &self.backend {
            Backing::Memory(m) => m.give_back(counter).await,
            Backing::Dynamo(d) => d.give_back(counter).await,
            Backing::Broken => Err(StoreError::Unavailable("down".into())),
        }
    }
}

impl SafeListStore for TestStore {
    async fn add_safe_number(&self, entry: &SafeListEntry) -> Result<(), StoreError> {
        self.log("add_safe_number");
        match &self.backend {
            Backing::Memory(m) => m.add_safe_number(entry).await,
            Backing::Dynamo(d) => d.add_safe_number(entry).await,
            Backing::Broken => Err(StoreError::Unavailable("down".into())),
        }
    }

    async fn safe_number(&self, key: &str) -> Result<Option<SafeListEntry>, StoreError> {
        self.log("safe_number");
        match &self.backend {
            Backing::Memory(m) => m.safe_number(key).await,
            Backing::Dynamo(d) => d.safe_number(key).await,
            Backing::Broken => Err(StoreError::Unavailable("down".into())),
        }
    }

    async fn remove_safe_number(&self, key: &str) -> Result<bool, StoreError> {
        self.log("remove_safe_number");
        match &self.backend {
            Backing::Memory(m) => m.remove_safe_number(key).await,
            Backing::Dynamo(d) => d.remove_safe_number(key).await,
            Backing::Broken => Err(StoreError::Unavailable("down".into())),
        }
    }
}

impl BlockedStore for TestStore {
    async fn note_blocked(&self, note: &BlockedStarts) -> Result<(), StoreError> {
        self.log("note_blocked");
        match &self.backend {
            Backing::Memory(m) => m.note_blocked(note).await,
            Backing::Dynamo(d) => d.note_blocked(note).await,
            Backing::Broken => Err(StoreError::Unavailable("down".into())),
        }
    }
}

impl FraudGuardStore for TestStore {
    async fn fraud_window(&self, service_sid: &str, prefix: &str, now_ms: i64) -> Result<Window, StoreError> {
        self.log("fraud_window");
        match &self.backend {
            Backing::Memory(m) => m.fraud_window(service_sid, prefix, now_ms).await,
            Backing::Dynamo(d) => d.fraud_window(service_sid, prefix, now_ms).await,
            Backing::Broken => Err(StoreError::Unavailable("down".into())),
        }
    }

    async fn fraud_tally(&self, service_sid: &str, prefix: &str, tally: Tally, now_ms: i64) -> Result<(), StoreError> {
        self.log("fraud_tally");
        match &self.backend {
            Backing::Memory(m) => m.fraud_tally(service_sid, prefix, tally, now_ms).await,
            Backing::Dynamo(d) => d.fraud_tally(service_sid, prefix, tally, now_ms).await,
            Backing::Broken => Err(StoreError::Unavailable("down".into())),
        }
    }

    async fn fraud_block(&self, service_sid: &str, prefix: &str, block: &Block, previous: Option<&Block>) -> Result<(), StoreError> {
        self.log("fraud_block");
        match &self.backend {
            Backing::Memory(m) => m.fraud_block(service_sid, prefix, block, previous).await,
            Backing::Dynamo(d) => d.fraud_block(service_sid, prefix, block, previous).await,
            Backing::Broken => Err(StoreError::Unavailable("down".into())),
        }
    }
}

/// A store on a fresh table, plus the embedded database when there is one
/// (to force TTL sweeps and inspect items) and that engine's own clock.
pub struct Backend {
    pub store: TestStore,
    pub dynoxide: Option<dynoxide::Database>,
    /// dynoxide's clock: set, never read from the wall, so what a TTL sweep
    /// deletes depends on the test's time and not on today's date.
    pub engine_clock: Option<EngineClock>,
}

/// The clock an embedded dynoxide runs on (TTL sweeps, stream timestamps).
pub type EngineClock = dynoxide::storage_backend::ManualClock;

static TABLES: AtomicU64 = AtomicU64::new(0);

/// moto's address, from tests/run.sh. Missing means the suite was not started
/// the documented way: fail loudly rather than skip.
pub fn moto_endpoint() -> String {
    std::env::var("MOTO_ENDPOINT").expect("MOTO_ENDPOINT is not set: run the suite with `bash tests/run.sh`, which starts moto")
}

pub async fn backend(engine: Engine) -> Backend {
    let n = TABLES.fetch_add(1, Ordering::SeqCst);
    match engine {
        Engine::Memory => Backend { store: TestStore::new(Backing::Memory(MemoryStore::new())), dynoxide: None, engine_clock: None },
        Engine::Dynoxide => {
            let engine_clock = EngineClock::new(T0 as u64);
            let db = dynoxide::Database::memory_with_clock(engine_clock.arc()).expect("in-memory dynoxide");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let endpoint = format!("http://{}", listener.local_addr().unwrap());
            tokio::spawn(dynoxide::server::serve_on(listener, db.clone()));
            let client = verify_aws::clients::dynamodb_at(&endpoint);
            ensure_table(&client, "verify").await.unwrap();
            let store = TestStore::new(Backing::Dynamo(DynamoStore::new(client, "verify").sealing_like(&keys())));
            Backend { store, dynoxide: Some(db), engine_clock: Some(engine_clock) }
        }
        Engine::Moto => {
            let client = verify_aws::clients::dynamodb_at(&moto_endpoint());
            let table = format!("verify-{}-{n}", std::process::id());
            ensure_table(&client, &table).await.unwrap();
            Backend {
                store: TestStore::new(Backing::Dynamo(DynamoStore::new(client, table).sealing_like(&keys()))),
                dynoxide: None,
                engine_clock: None,
            }
        }
    }
}

pub type TestVerifier = Verifier<TestStore, Arc<ManualClock>>;

pub struct Harness {
    pub verifier: TestVerifier,
    pub outbox: Outbox,
    pub clock: Arc<ManualClock>,
    pub dynoxide: Option<dynoxide::Database>,
    /// dynoxide's own clock, starting at [`T0`] like `clock`.
    pub engine_clock: Option<EngineClock>,
}

/// The number key the harness seals sids with, as a deployment does.
pub const NUMBER_KEY: &str = "integration-number-key-0123456789abcdef";

/// The code keys, sealing sids under [`NUMBER_KEY`].
pub fn keys() -> CodeKeys {
    unsealed_keys().with_sid_seal(number_keys().sid_seal())
}

/// The code keys of a deployment without the number key: random sids.
pub fn unsealed_keys() -> CodeKeys {
    CodeKeys::new(CodeKey::new(b"integration-test-key-0123456789abcdef").unwrap(), None)
}

pub fn number_keys() -> verify_core::events::number_key::NumberKeys {
    verify_core::events::number_key::NumberKeys::new(verify_core::events::number_key::NumberKey::new(NUMBER_KEY.as_bytes()).unwrap(), None)
}

pub async fn harness(engine: Engine, limits: Limits) -> Harness {
    harness_for(engine, Service::new(SERVICE_SID.into(), "Acme".into(), limits)).await
}

/// A harness whose one service is `service` (its sid should be [`SERVICE_SID`]).
pub async fn harness_for(engine: Engine, service: Service) -> Harness {
    let b = backend(engine).await;
    let outbox = Outbox::new();
    let clock = Arc::new(ManualClock::at(T0));
    let verifier = Verifier {
        store: b.store,
        senders: verify_core::sender::Senders::sms(outbox.clone()),
        clock: clock.clone(),
        services: Services::single(service).into(),
        keys: keys(),
    };
    Harness { verifier, outbox, clock, dynoxide: b.dynoxide, engine_clock: b.engine_clock }
}

static NUMBERS: AtomicU64 = AtomicU64::new(0);

/// A distinct valid US number per call, so tests never share limits.
pub fn fresh_number() -> String {
    let n = NUMBERS.fetch_add(1, Ordering::SeqCst) + (std::process::id() as u64 % 50) * 100;
    format!("+1415555{:04}", n % 10_000)
}

/// The code in the newest message to `to`.
/// A code that is not `right` (both six digits).
pub fn wrong_code_for(right: &str) -> &'static str {
    if right == "000000" { "111111" } else { "000000" }
}

pub fn last_code(outbox: &Outbox, to: &str) -> String {
    let body = outbox.messages(Some(to)).last().expect("a message was sent").body.clone();
    body.rsplit(' ').next().unwrap().to_owned()
}

impl Harness {
    /// The one service these tests configure.
    pub fn service(&self) -> &Service {
        self.verifier.services.seeded().default_service()
    }

    pub fn limits(&self) -> &Limits {
        &self.service().limits
    }

    pub async fn start(&self, req: &StartRequest) -> Result<VerificationRecord, VerifyError> {
        self.verifier.start(self.service(), req).await
    }

    pub async fn check(&self, target: &CheckTarget, code: &Code) -> Result<CheckOutcome, VerifyError> {
        self.verifier.check(self.service(), target, code).await
    }
}

/// A plain SMS start for `to`, as the function-URL endpoint builds it.
pub fn start_request(to: &str) -> StartRequest {
    StartRequest {
        to: PhoneNumber::parse(to).unwrap().into(),
        channel: verify_core::channel::Channel::Sms,
        language: None,
        friendly_name: None,
        email_from: Default::default(),
    }
}

/// `n` starts, each to a fresh number, released together behind one
/// barrier (the limits' concurrency tests): each one's `run(harness,
/// request)` result, in task order.
pub async fn starts_released_together<T, F, Fut>(h: &Arc<Harness>, n: usize, run: F) -> Vec<T>
where
    F: Fn(Arc<Harness>, StartRequest) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = T> + Send,
    T: Send + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (h, barrier, run) = (h.clone(), barrier.clone(), run.clone());
            tokio::spawn(async move {
                let req = start_request(&fresh_number());
                barrier.wait().await;
                run(h, req).await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await.expect("a start task panicked"));
    }
    out
}

/// Every record of the harness table's stream, oldest first, as a Lambda
/// stream event carries them: from dynoxide's own streams API, or from moto's
/// DynamoDB Streams endpoint.
pub async fn stream_records(h: &Harness) -> Vec<serde_json::Value> {
    match &h.dynoxide {
        Some(db) => {
            let (db, table) = (db.clone(), h.verifier.store.dynamo().table().to_owned());
            tokio::task::spawn_blocking(move || dynoxide_stream(&db, &table)).await.unwrap()
        }
        None => moto_stream(h.verifier.store.dynamo().table()).await,
    }
}

fn dynoxide_stream(db: &dynoxide::Database, table: &str) -> Vec<serde_json::Value> {
    verify_aws::events::embedded::records_after(db, table, None, None).unwrap()
}

async fn moto_stream(table: &str) -> Vec<serde_json::Value> {
    use serde_json::json;
    let call = |op: &'static str, body: serde_json::Value| async move {
        reqwest::Client::new()
            .post(moto_endpoint())
            .header("x-amz-target", format!("DynamoDBStreams_20120810.{op}"))
            .header("content-type", "application/x-amz-json-1.0")
            // moto's default server reads the service from the credential scope; it checks no signature.
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
            )
            .body(body.to_string())
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()
    };
    let streams = call("ListStreams", json!({"TableName": table})).await;
    let arn = streams["Streams"][0]["StreamArn"].as_str().expect("the table has a stream").to_owned();
    let desc = call("DescribeStream", json!({"StreamArn": arn})).await;
    let mut out = Vec::new();
    for shard in desc["StreamDescription"]["Shards"].as_array().unwrap() {
        let it =
            call("GetShardIterator", json!({"StreamArn": arn, "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"})).await;
        let got = call("GetRecords", json!({"ShardIterator": it["ShardIterator"], "Limit": 1000})).await;
        for mut r in got["Records"].as_array().cloned().unwrap_or_default() {
            r["eventSourceARN"] = json!(arn);
            out.push(r);
        }
    }
    out
}

/// One test function per store engine: `mod on_memory`, `on_dynoxide` and
/// `on_moto`, each calling the suite's `async fn name(Engine)`.
macro_rules! on_every_store {
    ($($name:ident),* $(,)?) => {
        mod on_memory {
            $( #[tokio::test(flavor = "multi_thread")] async fn $name() { super::$name(super::Engine::Memory).await } )*
        }
        mod on_dynoxide {
            $( #[tokio::test(flavor = "multi_thread")] async fn $name() { super::$name(super::Engine::Dynoxide).await } )*
        }
        mod on_moto {
            $( #[tokio::test(flavor = "multi_thread")] async fn $name() { super::$name(super::Engine::Moto).await } )*
        }
    };
}
