//! Services managed over the API on every store (memory, dynoxide, moto):
//! the stored document's optimistic versioning, and the routes through
//! `Api::handle` as the functions serve them: a service created on
//! start-verify is used for a start there at once and for a check on
//! check-verify once that instance's snapshot is older than the cache
//! period (here: an instance with no period, and one with a long period
//! that still serves its snapshot); bad parameters write nothing; a seeded
//! service is updated but not deleted; a deleted service answers 404.

use crate::support::*;
use bytes::Bytes;
use http::{Method, Request};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use verify_core::api::Api;
use verify_core::api::cors::Cors;
use verify_core::api::routes::Function;
use verify_core::clock::ManualClock;
use verify_core::config::{Limits, Service, Services};
use verify_core::service::Verifier;
use verify_core::service_catalog::{Catalog, StoredService, StoredServices};
use verify_core::store::StoreError;
use verify_core::store::services::ServiceStore;
use verify_core::webhooks::config::ApiWebhooks;
use verify_core::webhooks::signing::Secret;
use verify_core::webhooks::ssrf::Allow;

async fn the_document_is_versioned(engine: Engine) {
    let store = backend(engine).await.store;
    assert_eq!(store.stored_services().await.unwrap(), StoredServices::default(), "none stored: empty, version 0");
    let stored = |name: &str| StoredService {
        sid: verify_core::sid::new_sid("VA"),
        friendly_name: name.into(),
        code_length: 6,
        skip_sms_to_landlines: false,
        created_at: T0,
        updated_at: T0,
    };
    let v1 = StoredServices { version: 1, services: vec![stored("One")], ..Default::default() };
    store.save_stored_services(&v1).await.unwrap();
    assert!(matches!(store.save_stored_services(&v1).await, Err(StoreError::Conflict(None))), "version 1 exists");
    assert_eq!(store.stored_services().await.unwrap(), v1);
    let v2 = StoredServices { version: 2, services: vec![stored("One"), stored("Two")], ..Default::default() };
    store.save_stored_services(&v2).await.unwrap();
    let stale = StoredServices { version: 2, services: vec![], ..Default::default() };
    assert!(matches!(store.save_stored_services(&stale).await, Err(StoreError::Conflict(None))), "a stale write loses");
    assert_eq!(store.stored_services().await.unwrap(), v2);
    assert!(matches!(store.broken().stored_services().await, Err(StoreError::Unavailable(_))));
}

pub(crate) type TestApi = Api<TestStore, Arc<ManualClock>>;

/// One function instance over `store`, open (every permission), its
/// snapshot kept for `period`.
pub(crate) fn instance(store: &TestStore, outbox: &verify_core::sender::outbox::Outbox, period: Duration) -> TestApi {
    let seed = Services::single(Service::new(SERVICE_SID.into(), "Acme".into(), Limits::default()));
    Api {
        verifier: Verifier {
            store: store.clone(),
            senders: verify_core::sender::Senders::sms(outbox.clone()),
            clock: Arc::new(ManualClock::at(T0)),
            services: Catalog::with_period(seed, period),
            keys: keys(),
        },
        account_sid: format!("AC{}", "0".repeat(32)),
        public_base_url: None,
        credentials: Default::default(),
        cors: Cors::default(),
        metrics: Arc::new(verify_core::metrics::NoMetrics),
        api_webhooks: ApiWebhooks { secrets: vec![Secret::generate()], allow: Allow::NONE },
    }
}

pub(crate) async fn call(api: &TestApi, f: Function, method: Method, path: &str, body: &str) -> (u16, Value) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "verify.example.com")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Bytes::from(body.to_owned()))
        .unwrap();
    let resp = api.handle(f, &req).await;
    (resp.status().as_u16(), serde_json::from_str(resp.body()).unwrap_or(Value::Null))
}

async fn services_are_managed_through_the_api(engine: Engine) {
    let store = backend(engine).await.store;
    let outbox = verify_core::sender::outbox::Outbox::new();
    let start_fn = instance(&store, &outbox, Duration::from_secs(3600));
    let stale_check_fn = instance(&store, &outbox, Duration::from_secs(3600));
    let fresh_check_fn = instance(&store, &outbox, Duration::ZERO);
    use Function::{CheckVerify, StartVerify};
    // The long-period check instance reads its snapshot before the create.
    assert_eq!(
        call(
            &stale_check_fn,
            CheckVerify,
            Method::POST,
            &format!("/v2/Services/{SERVICE_SID}/VerificationCheck"),
            "To=%2B14155550100&Code=123456"
        )
        .await
        .0,
        404
    );

    let (status, created) = call(&start_fn, StartVerify, Method::POST, "/v2/Services", "FriendlyName=Pay&CodeLength=4").await;
    assert_eq!(status, 201, "{created}");
    let sid = created["sid"].as_str().unwrap().to_owned();
    assert!(verify_core::sid::is_sid("VA", &sid), "{created}");
    assert_eq!((created["friendly_name"].as_str(), created["code_length"].as_u64()), (Some("Pay"), Some(4)));
    assert!(created["date_created"].is_string(), "{created}");

    // Usable at once where it was made, and from the table elsewhere.
    let to = fresh_number();
    let body = format!("To={}&Channel=sms", to.replace('+', "%2B"));
    let (status, started) = call(&start_fn, StartVerify, Method::POST, &format!("/v2/Services/{sid}/Verifications"), &body).await;
    assert_eq!(status, 201, "{started}");
    let code = last_code(&outbox, &to);
    assert_eq!(code.len(), 4, "the service's code length");
    let check = format!("To={}&Code={code}", to.replace('+', "%2B"));
    let check_path = format!("/v2/Services/{sid}/VerificationCheck");
    assert_eq!(call(&stale_check_fn, CheckVerify, Method::POST, &check_path, &check).await.0, 404, "its snapshot is still fresh");
    let (status, checked) = call(&fresh_check_fn, CheckVerify, Method::POST, &check_path, &check).await;
    assert_eq!((status, checked["status"].as_str()), (200, Some("approved")), "{checked}");

    // Refused parameters write nothing.
    let version = store.stored_services().await.unwrap().version;
    let (status, refused) =
        call(&start_fn, StartVerify, Method::POST, &format!("/v2/Services/{sid}"), "FriendlyName=New&Totp.Issuer=x").await;
    assert_eq!((status, refused["code"].as_u64()), (400, Some(60200)), "{refused}");
    let (status, _) = call(&start_fn, StartVerify, Method::POST, "/v2/Services", "FriendlyName=Other&LookupEnabled=true").await;
    assert_eq!(status, 400);
    assert_eq!(store.stored_services().await.unwrap().version, version, "nothing written");

    // Update, list, and the seeded service: updated, never deleted.
    let (status, updated) =
        call(&start_fn, StartVerify, Method::POST, &format!("/v2/Services/{sid}"), "FriendlyName=Pay+Two&SkipSmsToLandlines=true").await;
    assert_eq!((status, updated["friendly_name"].as_str(), updated["skip_sms_to_landlines"].as_bool()), (200, Some("Pay Two"), Some(true)));
    assert_eq!(updated["code_length"], 4, "what the update does not name stays");
    let (_, renamed) =
        call(&start_fn, StartVerify, Method::POST, &format!("/v2/Services/{SERVICE_SID}"), "FriendlyName=Acme+Renamed").await;
    assert_eq!(renamed["friendly_name"], "Acme Renamed");
    let (_, list) = call(&fresh_check_fn, StartVerify, Method::GET, "/v2/Services?PageSize=1", "").await;
    assert_eq!(list["services"].as_array().unwrap().len(), 1, "{list}");
    assert!(list["meta"]["next_page_url"].is_string(), "{list}");
    let (_, second) = call(&fresh_check_fn, StartVerify, Method::GET, "/v2/Services?PageSize=1&Page=1", "").await;
    assert_eq!(second["services"][0]["sid"], sid.as_str(), "{second}");
    let (status, seeded) = call(&start_fn, StartVerify, Method::DELETE, &format!("/v2/Services/{SERVICE_SID}"), "").await;
    assert_eq!((status, seeded["code"].as_u64()), (403, Some(60204)), "{seeded}");

    // Deleted: 404 everywhere, starts included.
    assert_eq!(call(&start_fn, StartVerify, Method::DELETE, &format!("/v2/Services/{sid}"), "").await.0, 204);
    assert_eq!(call(&start_fn, StartVerify, Method::GET, &format!("/v2/Services/{sid}"), "").await.0, 404);
    assert_eq!(call(&start_fn, StartVerify, Method::DELETE, &format!("/v2/Services/{sid}"), "").await.0, 404);
    let sent = outbox.messages(None).len();
    assert_eq!(call(&fresh_check_fn, StartVerify, Method::POST, &format!("/v2/Services/{sid}/Verifications"), &body).await.0, 404);
    assert_eq!(outbox.messages(None).len(), sent, "nothing sent");
}

/// A store fault: a change is a retryable 503 with nothing written; an
/// instance with a snapshot keeps serving it.
async fn a_store_fault_is_retryable_and_a_snapshot_outlives_it(engine: Engine) {
    let store = backend(engine).await.store;
    let outbox = verify_core::sender::outbox::Outbox::new();
    let broken = instance(&store.broken(), &outbox, Duration::ZERO);
    let (status, body) = call(&broken, Function::StartVerify, Method::POST, "/v2/Services", "FriendlyName=Pay").await;
    assert_eq!((status, body["code"].as_u64()), (503, Some(20503)), "{body}");
    assert_eq!(store.stored_services().await.unwrap(), StoredServices::default());
    // Read once while the store is up, then served while it is down.
    let up = instance(&store, &outbox, Duration::ZERO);
    let snapshot = up.verifier.services.current(&store).await.unwrap();
    let again = up.verifier.services.current(&store.broken()).await.unwrap();
    assert_eq!(snapshot.all(), again.all());
}

/// Concurrent creates on separate instances lose nothing: each is stored
/// (201) or answered 429 with nothing stored, and every stored one is
/// listed. On memory and dynoxide (moto's conditional writes are not atomic
/// under concurrency, see concurrency.rs).
async fn concurrent_creates_lose_no_update(engine: Engine) {
    let store = backend(engine).await.store;
    let outbox = verify_core::sender::outbox::Outbox::new();
    let n = 8;
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (api, barrier) = (instance(&store, &outbox, Duration::ZERO), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let (status, body) =
                    call(&api, Function::StartVerify, Method::POST, "/v2/Services", &format!("FriendlyName=Shop+{i}")).await;
                (status, body["sid"].as_str().map(str::to_owned))
            })
        })
        .collect();
    let mut created = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            (201, Some(sid)) => created.push(sid),
            (429, None) => {}
            other => panic!("{other:?}"),
        }
    }
    assert!(!created.is_empty());
    let stored: Vec<String> = store.stored_services().await.unwrap().services.into_iter().map(|s| s.sid).collect();
    created.sort();
    let mut stored_sorted = stored.clone();
    stored_sorted.sort();
    assert_eq!(stored_sorted, created, "exactly the answered creates are stored");
    let (_, list) = call(&instance(&store, &outbox, Duration::ZERO), Function::StartVerify, Method::GET, "/v2/Services", "").await;
    assert_eq!(list["services"].as_array().unwrap().len(), 1 + created.len(), "{list}");
}

mod concurrent_creates {
    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn on_memory() {
        concurrent_creates_lose_no_update(Engine::Memory).await
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn on_dynoxide() {
        concurrent_creates_lose_no_update(Engine::Dynoxide).await
    }
}

on_every_store!(the_document_is_versioned, services_are_managed_through_the_api, a_store_fault_is_retryable_and_a_snapshot_outlives_it);
