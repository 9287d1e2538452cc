//! The DynamoDB budget per completed verification, counted at the SDK: start
//! ≤ 2 writes and no read (1 on a new number, or on a known one whose item
//! no longer counts); a check, right or wrong, one read and one write
//! (the attempt counted with its outcome, on the version read); with the
//! fraud guard on (an SMS), a start adds one BatchGetItem and two counter
//! UpdateItems, an approval two counter UpdateItems. See the README.

use crate::support::*;
use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{BehaviorVersion, ConfigBag, Credentials, Intercept, Region};
use aws_sdk_dynamodb::operation::{
    batch_get_item::BatchGetItemInput, get_item::GetItemInput, put_item::PutItemInput, query::QueryInput, update_item::UpdateItemInput,
};
use std::sync::{Arc, Mutex};
use verify_aws::store::{DynamoStore, ensure_table};
use verify_core::clock::ManualClock;
use verify_core::config::{Limits, Service, Services};
use verify_core::otp::Code;
use verify_core::phone::PhoneNumber;
use verify_core::sender::outbox::Outbox;
use verify_core::service::{CheckTarget, Verifier};

/// Records the name of every DynamoDB operation the client starts.
#[derive(Debug, Clone, Default)]
struct OperationLog(Arc<Mutex<Vec<&'static str>>>);

impl OperationLog {
    fn take(&self) -> Vec<&'static str> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

impl Intercept for OperationLog {
    fn name(&self) -> &'static str {
        "OperationLog"
    }

    fn read_before_execution(
        &self,
        ctx: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let input = ctx.input();
        let op = if input.downcast_ref::<PutItemInput>().is_some() {
            "PutItem"
        } else if input.downcast_ref::<UpdateItemInput>().is_some() {
            "UpdateItem"
        } else if input.downcast_ref::<GetItemInput>().is_some() {
            "GetItem"
        } else if input.downcast_ref::<BatchGetItemInput>().is_some() {
            "BatchGetItem"
        } else if input.downcast_ref::<QueryInput>().is_some() {
            "Query"
        } else {
            "other"
        };
        self.0.lock().unwrap().push(op);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_completed_verification_stays_within_the_write_budget() {
    budget(verify_core::fraud_guard::Level::Off).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fraud_guard_adds_one_bounded_read_per_start_and_two_counter_writes_per_send_and_approval() {
    budget(verify_core::fraud_guard::Level::Standard).await;
}

async fn budget(level: verify_core::fraud_guard::Level) {
    let guarded = level != verify_core::fraud_guard::Level::Off;
    let with_guard = |read: &[&'static str], plain: &[&'static str], counters: &[&'static str]| -> Vec<&'static str> {
        if guarded { [read, plain, counters].concat() } else { plain.to_vec() }
    };
    let db = dynoxide::Database::memory().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(dynoxide::server::serve_on(listener, db));
    let log = OperationLog::default();
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("t", "t", None, None, "test"))
        .endpoint_url(&endpoint)
        .http_client(verify_aws::clients::https_client(verify_aws::clients::AwsRoots::AmazonTrustServices))
        .interceptor(log.clone())
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    ensure_table(&client, "verify").await.unwrap();
    log.take();

    let outbox = Outbox::new();
    let clock = Arc::new(ManualClock::at(T0));
    let verifier = Verifier {
        store: DynamoStore::new(client, "verify"),
        senders: verify_core::sender::Senders::sms(outbox.clone()),
        clock: clock.clone(),
        services: Services::single({
            let mut s = Service::new(SERVICE_SID.into(), "Acme".into(), Limits::default());
            s.fraud_guard.level = level;
            s
        })
        .into(),
        keys: keys(),
    };
    let to = fresh_number();
    let start = start_request(&to);
    let service = verifier.services.seeded().default_service().clone();
    let target = CheckTarget::To(PhoneNumber::parse(&to).unwrap().into());

    verifier.start(&service, &start).await.unwrap();
    const COUNTERS: &[&str] = &["UpdateItem", "UpdateItem"];
    assert_eq!(log.take(), with_guard(&["BatchGetItem"], &["PutItem"], COUNTERS), "first start: one conditional put");
    let right = last_code(&outbox, &to);
    let wrong = wrong_code_for(&right);
    verifier.check(&service, &target, &Code::parse(wrong, 6).unwrap()).await.unwrap();
    assert_eq!(log.take(), ["GetItem", "UpdateItem"], "wrong code: the read, then the attempt counted with its failure");
    verifier.check(&service, &target, &Code::parse(&right, 6).unwrap()).await.unwrap();
    assert_eq!(log.take(), with_guard(&[], &["GetItem", "UpdateItem"], COUNTERS), "right code: the read, then the approving count");

    // The number now has an item: the first put is refused and returns it,
    // the second is conditioned on its version. Still no read.
    verifier.start(&service, &start).await.unwrap();
    assert_eq!(log.take(), with_guard(&["BatchGetItem"], &["PutItem", "PutItem"], COUNTERS), "start on a known number");

    // Once nothing in the item counts any more (expired, send window over,
    // no failures), the first put writes over it: one write again.
    clock.advance(600);
    verifier.start(&service, &start).await.unwrap();
    assert_eq!(log.take(), with_guard(&["BatchGetItem"], &["PutItem"], COUNTERS), "start on an idle known number");
}

/// The same budget as a contract of every store, counted at the `Store`
/// trait: a start is one `apply` (two when it first re-plans) and no read, a
/// check one read and one `apply`, right or wrong. A backend that needed
/// more to enforce a rule would fail here.
async fn every_store_keeps_the_budget(engine: Engine) {
    let h = harness(engine, Limits::default()).await;
    let to = fresh_number();
    h.verifier.store.take_calls();
    h.start(&start_request(&to)).await.unwrap();
    // The fraud guard (on by default, standard): one bounded read before,
    // one counter addition after the send, one more per approval.
    assert_eq!(h.verifier.store.take_calls(), ["fraud_window", "apply", "fraud_tally"], "{engine:?}: start");
    let right = last_code(&h.outbox, &to);
    let wrong = wrong_code_for(&right);
    let target = CheckTarget::To(PhoneNumber::parse(&to).unwrap().into());
    assert!(!h.check(&target, &Code::parse(wrong, 6).unwrap()).await.unwrap().approved);
    assert_eq!(h.verifier.store.take_calls(), ["read", "apply"], "{engine:?}: a wrong code (read, then counted with its failure)");
    assert!(h.check(&target, &Code::parse(&right, 6).unwrap()).await.unwrap().approved);
    assert_eq!(
        h.verifier.store.take_calls(),
        ["read", "apply", "fraud_tally"],
        "{engine:?}: the right code (read, then counted approving)"
    );
    // Within the send window the number's record still counts: the first
    // put is refused and the start re-plans on it (the send counted).
    let again = h.start(&start_request(&to)).await.unwrap();
    assert_eq!(h.verifier.store.take_calls(), ["fraud_window", "apply", "apply", "fraud_tally"], "{engine:?}: a known number");
    assert_eq!(again.sends, 2, "{engine:?}");
    // After it (and the code's expiry), nothing counts: one write over it.
    h.clock.advance(600);
    let idle = h.start(&start_request(&to)).await.unwrap();
    assert_eq!(h.verifier.store.take_calls(), ["fraud_window", "apply", "fraud_tally"], "{engine:?}: an idle known number");
    assert_eq!((idle.sends, idle.failures, idle.version), (1, 0, 1), "{engine:?}: as a first start");
    assert_ne!(idle.sid, again.sid);

    // A wrong code counts for the failure window (24 h) whatever else is
    // over: that record is never written over blind, its failure carries.
    let other = fresh_number();
    h.start(&start_request(&other)).await.unwrap();
    let code = last_code(&h.outbox, &other);
    let wrong = wrong_code_for(&code);
    let target = CheckTarget::To(PhoneNumber::parse(&other).unwrap().into());
    assert!(!h.check(&target, &Code::parse(wrong, 6).unwrap()).await.unwrap().approved);
    h.clock.advance(3600);
    h.verifier.store.take_calls();
    let next = h.start(&start_request(&other)).await.unwrap();
    assert_eq!(h.verifier.store.take_calls(), ["fraud_window", "apply", "apply", "fraud_tally"], "{engine:?}: failures count");
    assert_eq!((next.failures, next.sends), (1, 1), "{engine:?}: the failure carried, the send window new");
}

#[tokio::test]
async fn every_store_keeps_the_budget_on_each_engine() {
    for engine in [Engine::Memory, Engine::Dynoxide, Engine::Moto] {
        every_store_keeps_the_budget(engine).await;
    }
}
