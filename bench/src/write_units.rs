//! DynamoDB capacity per completed verification, as DynamoDB bills it
//! (issue 14's write-unit count, measured rather than worked out by hand).
//!
//! The real pipeline on embedded dynoxide: the API (start-verify's and
//! check-verify's handler, `Api::handle`, behind lambda_http's decoding)
//! starts a verification and checks the right code; webhook-report's
//! dispatcher (`verify_aws::webhook_report::build`, as the function builds
//! it) then handles the table's stream records in batches, as Lambda's event
//! source mapping hands them over. Every DynamoDB call goes through one SDK
//! client whose [`Meter`] asks for `ReturnConsumedCapacity=INDEXES` and adds
//! up what comes back, per phase, per table and per index. dynoxide charges
//! as DynamoDB does, index replication included (its `index_capacity`
//! module: captured against real DynamoDB), so the sum is the bill.
//!
//! Two things the answers cannot carry: a write refused by its condition
//! (DynamoDB bills it as a write of the item's size, but the error has no
//! `ConsumedCapacity`), counted here as one unit each (every item here is
//! under 1 KB); and work that is not per verification (the expiry sweep's
//! and the retry schedule's queries, once a minute whatever the traffic),
//! left out.

use crate::in_process::{event, settings_with, through_lambda_http};
use aws_sdk_dynamodb::config::interceptors::{AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextMut};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::operation::{
    batch_get_item::{BatchGetItemInput, BatchGetItemOutput},
    delete_item::{DeleteItemInput, DeleteItemOutput},
    get_item::{GetItemInput, GetItemOutput},
    put_item::{PutItemInput, PutItemOutput},
    query::{QueryInput, QueryOutput},
    update_item::{UpdateItemInput, UpdateItemOutput},
};
use aws_sdk_dynamodb::types::{ConsumedCapacity, ReturnConsumedCapacity};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use verify_core::api::routes::Function;
use verify_core::clock::{Clock, ManualClock, Seconds, SystemClock};
use verify_core::sender::outbox::Outbox;

const TABLE: &str = "verify";
/// The service every request goes to, with the fraud guard's level set.
const SERVICE_SID: &str = "VA00000000000000000000000000000001";
/// The stream records Lambda hands webhook-report at most at once
/// (template.yaml's `BatchSize`).
pub const FULL_BATCH: usize = 100;

/// What DynamoDB billed, summed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally {
    /// Write units by where they were spent: `table`, or an index's name.
    pub writes: BTreeMap<String, f64>,
    pub reads: f64,
    /// Writes refused by their condition: billed, but not in any answer.
    pub refused_writes: u32,
    /// Calls by operation.
    pub calls: BTreeMap<&'static str, u32>,
}

impl Tally {
    /// The units billed: those answered, and one per refused write (its
    /// item's size rounded up; every item here is under 1 KB).
    pub fn write_units(&self) -> f64 {
        self.writes.values().sum::<f64>() + self.refused_writes as f64
    }

    fn add(&mut self, c: &ConsumedCapacity, write: bool) {
        if !write {
            self.reads += c.capacity_units.unwrap_or(0.0);
            return;
        }
        let table = c.table.as_ref().and_then(|t| t.capacity_units).or(c.capacity_units).unwrap_or(0.0);
        *self.writes.entry("table".into()).or_default() += table;
        for (index, units) in c.global_secondary_indexes.iter().flatten() {
            *self.writes.entry(index.clone()).or_default() += units.capacity_units.unwrap_or(0.0);
        }
    }

    /// Each figure divided by `n` (per verification), as JSON.
    pub fn per(&self, n: usize) -> serde_json::Value {
        let n = n.max(1) as f64;
        let round = |x: f64| (x / n * 1000.0).round() / 1000.0;
        serde_json::json!({
            "write_units": round(self.write_units()),
            "writes_by_target": self.writes.iter().map(|(k, v)| (k.clone(), serde_json::json!(round(*v)))).collect::<serde_json::Map<_, _>>(),
            "read_units": round(self.reads),
            "refused_writes": round(self.refused_writes as f64),
            "calls": self.calls.iter().map(|(k, v)| (k.to_string(), serde_json::json!(round(*v as f64)))).collect::<serde_json::Map<_, _>>(),
        })
    }
}

/// An SDK interceptor: asks every call for its consumed capacity (table and
/// indexes) and adds the answer to the current tally.
#[derive(Clone, Debug, Default)]
pub struct Meter(Arc<Mutex<Tally>>);

impl Meter {
    /// What was billed since the last take.
    pub fn take(&self) -> Tally {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

/// Sets `ReturnConsumedCapacity` on each kind of input the code sends.
macro_rules! ask_for_capacity {
    ($input:expr, $($ty:ty),+) => {{
        $(if let Some(i) = $input.downcast_mut::<$ty>() {
            i.return_consumed_capacity = Some(ReturnConsumedCapacity::Indexes);
            return Some(stringify!($ty).trim_end_matches("Input"));
        })+
        None
    }};
}

fn ask(input: &mut aws_smithy_runtime_api::client::interceptors::context::Input) -> Option<&'static str> {
    ask_for_capacity!(input, PutItemInput, UpdateItemInput, DeleteItemInput, GetItemInput, BatchGetItemInput, QueryInput)
}

impl Intercept for Meter {
    fn name(&self) -> &'static str {
        "Meter"
    }

    fn modify_before_serialization(
        &self,
        ctx: &mut BeforeSerializationInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let op = ask(ctx.input_mut()).unwrap_or("other");
        *self.0.lock().unwrap().calls.entry(op).or_default() += 1;
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        ctx: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let mut tally = self.0.lock().unwrap();
        let output = match ctx.output_or_error() {
            Ok(output) => output,
            Err(e) => {
                // Only conditions are refused as a matter of course; any other
                // error would fail the run where it happened.
                if format!("{e:?}").contains("ConditionalCheckFailed") {
                    tally.refused_writes += 1;
                }
                return Ok(());
            }
        };
        let written = |c: &Option<ConsumedCapacity>| c.clone().map(|c| (c, true));
        let read = |c: &Option<ConsumedCapacity>| c.clone().map(|c| (c, false));
        let answers: Vec<(ConsumedCapacity, bool)> = if let Some(o) = output.downcast_ref::<PutItemOutput>() {
            written(&o.consumed_capacity).into_iter().collect()
        } else if let Some(o) = output.downcast_ref::<UpdateItemOutput>() {
            written(&o.consumed_capacity).into_iter().collect()
        } else if let Some(o) = output.downcast_ref::<DeleteItemOutput>() {
            written(&o.consumed_capacity).into_iter().collect()
        } else if let Some(o) = output.downcast_ref::<GetItemOutput>() {
            read(&o.consumed_capacity).into_iter().collect()
        } else if let Some(o) = output.downcast_ref::<QueryOutput>() {
            read(&o.consumed_capacity).into_iter().collect()
        } else if let Some(o) = output.downcast_ref::<BatchGetItemOutput>() {
            o.consumed_capacity.iter().flatten().map(|c| (c.clone(), false)).collect()
        } else {
            Vec::new()
        };
        for (c, write) in &answers {
            tally.add(c, *write);
        }
        Ok(())
    }
}

/// One run's bill, by phase, and how many verifications it completed.
#[derive(Debug)]
pub struct Bill {
    pub verifications: usize,
    pub start: Tally,
    pub check: Tally,
    pub stream: Tally,
    /// Stream records handled, and in how many batches.
    pub records: usize,
    pub batches: usize,
}

impl Bill {
    pub fn total_write_units(&self) -> f64 {
        self.start.write_units() + self.check.write_units() + self.stream.write_units()
    }

    pub fn json(&self) -> serde_json::Value {
        let n = self.verifications;
        let total = (self.total_write_units() / n as f64 * 1000.0).round() / 1000.0;
        let reads = ((self.start.reads + self.check.reads + self.stream.reads) / n as f64 * 1000.0).round() / 1000.0;
        serde_json::json!({
            "verifications": n,
            "stream_records": self.records,
            "stream_batches": self.batches,
            "write_units_per_verification": total,
            "read_units_per_verification": reads,
            "start": self.start.per(n),
            "check": self.check.per(n),
            "stream": self.stream.per(n),
        })
    }
}

/// `n` completed SMS verifications (start, then the right code) on a fresh
/// table, the fraud guard at `guard` ("standard", "off", …); the stream is
/// handed to webhook-report `batch` records at a time: after every request
/// with `batch` 1 (a trickle: each record alone), after all of them
/// otherwise (volume: full batches). With `returning: Some(gap)`, each
/// number was verified once before (not billed), `gap` seconds earlier, and
/// its item is still in the table, as it is until TTL deletes it (days
/// later): a returning user's verification.
pub async fn measure(n: usize, batch: usize, guard: &str, returning: Option<Seconds>) -> Bill {
    let db = dynoxide::Database::memory().expect("embedded dynoxide");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("loopback");
    let endpoint = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(dynoxide::server::serve_on(listener, db.clone()));
    verify_aws::store::ensure_table(&verify_aws::clients::dynamodb_at(&endpoint), TABLE).await.expect("table");

    let meter = Meter::default();
    let plain = verify_aws::clients::dynamodb_at(&endpoint);
    let client = aws_sdk_dynamodb::Client::from_conf(plain.config().to_builder().interceptor(meter.clone()).build());
    let services = format!(r#"{{"services":[{{"sid":"{SERVICE_SID}","friendly_name":"Bench","fraud_guard":"{guard}"}}]}}"#);
    let vars = [("VERIFY_SERVICES", services.as_str()), ("VERIFY_NUMBER_KEY", "bench-number-key-0123456789abcdef0123456789")];
    let outbox = Outbox::new();
    let clock = Arc::new(ManualClock::at(SystemClock.now()));
    let settings = settings_with(TABLE, &vars);
    let store = verify_aws::store::DynamoStore::new(client.clone(), TABLE).sealing_like(&settings.keys);
    let api = verify_core::api::Api::new(settings, store, verify_core::sender::Senders::sms(outbox.clone())).on_clock(clock.clone());
    let report_vars = [("VERIFY_TABLE", TABLE)].iter().chain(&vars).map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let report = verify_aws::webhook_report::build(
        verify_aws::webhook_report::ReportSettings::from_vars(&report_vars).expect("report settings"),
        client,
        Arc::new(SystemClock),
    );
    let events = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    let read =
        |f: &str| -> serde_json::Value { serde_json::from_slice(&std::fs::read(events.join(f)).expect("event file")).expect("json") };
    let mut pipeline = Pipeline {
        api,
        clock: clock.clone(),
        outbox,
        dispatcher: report.dispatcher,
        meter,
        start: read("start-verify-json.json"),
        check: read("check-verify-by-sid.json"),
        stream: Stream { db, filter: stream_filter(), after: None },
    };
    let numbers = crate::Numbers::starting_at(0);
    let tos: Vec<String> = (0..n).map(|_| numbers.next()).collect();
    if let Some(gap) = returning {
        pipeline.verify(&tos, FULL_BATCH).await;
        clock.advance(gap);
    }
    pipeline.verify(&tos, batch).await
}

/// The API and webhook-report on one metered client.
struct Pipeline {
    api: verify_core::api::Api<verify_aws::store::DynamoStore, Arc<ManualClock>>,
    clock: Arc<ManualClock>,
    outbox: Outbox,
    dispatcher: Arc<verify_aws::webhooks::Dispatcher>,
    meter: Meter,
    start: serde_json::Value,
    check: serde_json::Value,
    stream: Stream,
}

impl Pipeline {
    /// Starts a verification for each of `tos`, checks each right code, and
    /// hands the stream over (see [`measure`]); what it cost.
    async fn verify(&mut self, tos: &[String], batch: usize) -> Bill {
        let n = tos.len();
        let mut bill =
            Bill { verifications: n, start: Tally::default(), check: Tally::default(), stream: Tally::default(), records: 0, batches: 0 };
        self.meter.take();
        // Read as each start is made: the outbox keeps only the latest texts.
        let mut codes = Vec::with_capacity(n);
        for to in tos {
            // Time moves as requests come, a millisecond each, as on a real
            // clock; only `measure` lets minutes pass.
            self.clock.advance_ms(1);
            let ev = event(&self.start, serde_json::json!({"To": to, "Channel": "sms"}));
            let api = &self.api;
            let (status, _) = through_lambda_http(&ev, |r| async move { api.handle(Function::StartVerify, &r).await }).await;
            assert_eq!(status, 201, "start {to}");
            codes.push(self.outbox.messages(Some(to)).last().and_then(|m| crate::code_in(&m.body)).expect("code texted"));
            merge(&mut bill.start, self.meter.take());
            if batch == 1 {
                self.stream.drain(&self.dispatcher, 1, &self.meter, &mut bill).await;
            }
        }
        for (to, code) in tos.iter().zip(&codes) {
            self.clock.advance_ms(1);
            let ev = event(&self.check, serde_json::json!({"To": to, "Code": code}));
            let api = &self.api;
            let (status, _) = through_lambda_http(&ev, |r| async move { api.handle(Function::CheckVerify, &r).await }).await;
            assert_eq!(status, 200, "check {to}");
            merge(&mut bill.check, self.meter.take());
            if batch == 1 {
                self.stream.drain(&self.dispatcher, 1, &self.meter, &mut bill).await;
            }
        }
        self.stream.drain(&self.dispatcher, batch, &self.meter, &mut bill).await;
        bill
    }
}

fn merge(into: &mut Tally, t: Tally) {
    for (k, v) in t.writes {
        *into.writes.entry(k).or_default() += v;
    }
    for (k, v) in t.calls {
        *into.calls.entry(k).or_default() += v;
    }
    into.reads += t.reads;
    into.refused_writes += t.refused_writes;
}

/// The key prefixes of the records Lambda hands webhook-report: the
/// `FilterCriteria` of template.yaml's stream mapping, read from it (the
/// event source mapping drops the others before batching, so they neither
/// invoke the function nor take room in a batch).
pub fn stream_filter() -> Vec<String> {
    let template = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
    let text = std::fs::read_to_string(&template).unwrap_or_else(|e| panic!("{}: {e}", template.display()));
    let marker = r#"Pattern: '{"dynamodb":{"Keys":{"pk":{"S":[{"prefix":""#;
    text.lines().filter_map(|l| l.split_once(marker)).filter_map(|(_, rest)| rest.split_once('"')).map(|(p, _)| p.to_owned()).collect()
}

/// The table's stream, read straight from the engine (as verify-local's
/// poller does), filtered as Lambda filters it, and handed to
/// webhook-report's dispatcher.
struct Stream {
    db: dynoxide::Database,
    filter: Vec<String>,
    after: Option<String>,
}

impl Stream {
    /// Hands every record not yet handled to the dispatcher, `batch` at a
    /// time, billing what it spends to `bill`.
    async fn drain(&mut self, dispatcher: &Arc<verify_aws::webhooks::Dispatcher>, batch: usize, meter: &Meter, bill: &mut Bill) {
        loop {
            let records = self.next_batch(batch);
            if records.is_empty() {
                return;
            }
            let outcome = dispatcher.handle_records(&records).await;
            assert!(outcome.failed.is_empty(), "webhook-report failed records: {:?}", outcome.failed);
            merge(&mut bill.stream, meter.take());
            bill.records += records.len();
            bill.batches += 1;
        }
    }

    /// Up to `limit` records that pass the filter, from where the last
    /// batch ended.
    fn next_batch(&mut self, limit: usize) -> Vec<serde_json::Value> {
        let mut batch = Vec::new();
        loop {
            let read = self.read(1000);
            if read.is_empty() {
                return batch;
            }
            for r in read {
                self.after = verify_aws::events::embedded::sequence_number(&r).map(str::to_owned);
                let pk = r["dynamodb"]["Keys"]["pk"]["S"].as_str().unwrap_or("");
                if self.filter.iter().any(|p| pk.starts_with(p.as_str())) {
                    batch.push(r);
                    if batch.len() == limit {
                        return batch;
                    }
                }
            }
        }
    }

    fn read(&self, limit: usize) -> Vec<serde_json::Value> {
        verify_aws::events::embedded::records_after(&self.db, TABLE, self.after.as_deref(), Some(limit)).expect("the stream")
    }
}
