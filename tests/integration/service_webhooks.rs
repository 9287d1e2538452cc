//! Webhooks created over the API (`/v2/Services/{VA}/Webhooks`) on every
//! store (memory, dynoxide, moto), through `Api::handle` as start-verify
//! serves them: stored in the services document, so every instance sees
//! them through its snapshot; bad input and a deployment without a signing
//! secret write nothing; deleting a service created over the API deletes
//! its webhooks and its rate-limit definitions.

use crate::services::{TestApi, call, instance};
use crate::support::*;
use http::Method;
use std::time::Duration;
use verify_core::api::routes::Function::StartVerify;
use verify_core::rate_limits::RateLimits;
use verify_core::store::rate_limits::RateLimitStore;
use verify_core::store::services::ServiceStore;

const URL: &str = "https%3A%2F%2Fhooks.example.com%2Fverify";

async fn create(api: &TestApi, service: &str, body: &str) -> (u16, serde_json::Value) {
    call(api, StartVerify, Method::POST, &format!("/v2/Services/{service}/Webhooks"), body).await
}

async fn webhooks_are_managed_through_the_api(engine: Engine) {
    let store = backend(engine).await.store;
    let outbox = verify_core::sender::outbox::Outbox::new();
    let api = instance(&store, &outbox, Duration::ZERO);
    let body = format!("FriendlyName=Orders&EventTypes=verification.approved&EventTypes=verification.canceled&WebhookUrl={URL}");
    let (status, hook) = create(&api, SERVICE_SID, &body).await;
    assert_eq!(status, 201, "{hook}");
    let sid = hook["sid"].as_str().unwrap().to_owned();
    assert!(verify_core::sid::is_sid("YW", &sid), "{hook}");
    assert_eq!(hook["service_sid"], SERVICE_SID);
    assert_eq!(hook["event_types"], serde_json::json!(["verification.approved", "verification.canceled"]));
    assert_eq!((hook["status"].as_str(), hook["version"].as_str()), (Some("enabled"), Some("v2")));
    assert_eq!((hook["webhook_url"].as_str(), hook["webhook_method"].as_str()), (Some("https://hooks.example.com/verify"), Some("POST")));
    let path = format!("/v2/Services/{SERVICE_SID}/Webhooks/{sid}");
    assert!(hook["url"].as_str().unwrap().ends_with(&path), "{hook}");
    let stored = store.stored_services().await.unwrap();
    assert_eq!(stored.webhooks.len(), 1, "stored with the services");

    // Seen by another instance (through its own read of the table).
    let other = instance(&store, &outbox, Duration::ZERO);
    let (status, fetched) = call(&other, StartVerify, Method::GET, &path, "").await;
    assert_eq!((status, &fetched), (200, &hook));
    let (_, list) = call(&other, StartVerify, Method::GET, &format!("/v2/Services/{SERVICE_SID}/Webhooks?PageSize=1"), "").await;
    assert_eq!(list["webhooks"][0]["sid"], sid.as_str(), "{list}");
    assert_eq!(list["meta"]["key"], "webhooks", "{list}");

    // Updated: what the update names, nothing else.
    let (status, updated) = call(&api, StartVerify, Method::POST, &path, "Status=disabled&EventTypes=*").await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!((updated["status"].as_str(), updated["event_types"].clone()), (Some("disabled"), serde_json::json!(["*"])));
    assert_eq!(updated["friendly_name"], "Orders");

    // Refused input writes nothing.
    let version = store.stored_services().await.unwrap().version;
    for bad in [
        format!("FriendlyName=A&EventTypes=factor.created&WebhookUrl={URL}"),
        "FriendlyName=A&EventTypes=*&WebhookUrl=http%3A%2F%2Fhooks.example.com%2F".to_owned(),
        "FriendlyName=A&EventTypes=*".to_owned(),
        format!("FriendlyName=A&EventTypes=*&WebhookUrl={URL}&Status=paused"),
    ] {
        let (status, refused) = create(&api, SERVICE_SID, &bad).await;
        assert_eq!((status, refused["code"].as_u64()), (400, Some(60200)), "{bad}: {refused}");
    }
    assert_eq!(call(&api, StartVerify, Method::POST, &path, "Version=v9").await.0, 400);
    let unknown = format!("VA{}", "f".repeat(32));
    assert_eq!(create(&api, &unknown, &body).await.0, 404, "no such service");
    // Without a deployment secret nothing could sign it: refused.
    let mut unsigned = instance(&store, &outbox, Duration::ZERO);
    unsigned.api_webhooks.secrets.clear();
    let (status, refused) = create(&unsigned, SERVICE_SID, &body).await;
    assert_eq!((status, refused["code"].as_u64()), (403, Some(60204)), "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("service webhook secret"), "{refused}");
    assert_eq!(store.stored_services().await.unwrap().version, version, "nothing written");

    // Deleted: 204, then 404.
    assert_eq!(call(&api, StartVerify, Method::DELETE, &path, "").await.0, 204);
    assert_eq!(call(&api, StartVerify, Method::GET, &path, "").await.0, 404);
    assert_eq!(call(&api, StartVerify, Method::DELETE, &path, "").await.0, 404);
    assert!(store.stored_services().await.unwrap().webhooks.is_empty());
}

async fn deleting_a_service_deletes_its_webhooks_and_rate_limits(engine: Engine) {
    let store = backend(engine).await.store;
    let outbox = verify_core::sender::outbox::Outbox::new();
    let api = instance(&store, &outbox, Duration::ZERO);
    let (_, service) = call(&api, StartVerify, Method::POST, "/v2/Services", "FriendlyName=Shop").await;
    let sid = service["sid"].as_str().unwrap().to_owned();
    let hook = format!("FriendlyName=Shop+hook&EventTypes=*&WebhookUrl={URL}");
    assert_eq!(create(&api, &sid, &hook).await.0, 201);
    assert_eq!(create(&api, SERVICE_SID, &hook).await.0, 201, "another service's");
    let (status, limit) = call(&api, StartVerify, Method::POST, &format!("/v2/Services/{sid}/RateLimits"), "UniqueName=end_user_ip").await;
    assert_eq!(status, 201, "{limit}");
    let buckets = format!("/v2/Services/{sid}/RateLimits/{}/Buckets", limit["sid"].as_str().unwrap());
    assert_eq!(call(&api, StartVerify, Method::POST, &buckets, "Max=3&Interval=60").await.0, 201);
    // A second service whose only limit was deleted: its document is empty, not absent.
    let (_, emptied) = call(&api, StartVerify, Method::POST, "/v2/Services", "FriendlyName=Emptied").await;
    let emptied = emptied["sid"].as_str().unwrap().to_owned();
    let (_, gone) = call(&api, StartVerify, Method::POST, &format!("/v2/Services/{emptied}/RateLimits"), "UniqueName=phone").await;
    let gone = format!("/v2/Services/{emptied}/RateLimits/{}", gone["sid"].as_str().unwrap());
    assert_eq!(call(&api, StartVerify, Method::DELETE, &gone, "").await.0, 204);
    assert_eq!(store.rate_limits(&emptied).await.unwrap().version, 2, "an empty document at version 2");
    assert_eq!(call(&api, StartVerify, Method::DELETE, &format!("/v2/Services/{emptied}"), "").await.0, 204);
    assert_eq!(store.rate_limits(&emptied).await.unwrap(), RateLimits::default(), "the emptied document is gone too");

    assert_eq!(call(&api, StartVerify, Method::DELETE, &format!("/v2/Services/{sid}"), "").await.0, 204);
    let stored = store.stored_services().await.unwrap();
    assert!(stored.get(&sid).is_none());
    let left: Vec<&str> = stored.webhooks.iter().map(|w| w.service_sid.as_str()).collect();
    assert_eq!(left, [SERVICE_SID], "only the other service's webhook is left");
    assert_eq!(store.rate_limits(&sid).await.unwrap(), RateLimits::default(), "its rate-limit document is gone, not left empty");
    assert_eq!(call(&api, StartVerify, Method::GET, &format!("/v2/Services/{sid}/Webhooks"), "").await.0, 404);
}

/// The document holds at most `MAX_WEBHOOKS` over all services: one more
/// is refused (400/60200) with nothing written.
async fn the_number_of_webhooks_is_capped(engine: Engine) {
    use verify_core::service_catalog::StoredServices;
    use verify_core::service_webhooks::{MAX_WEBHOOKS, StoredWebhook};
    let store = backend(engine).await.store;
    let hook = |i: usize| StoredWebhook {
        sid: format!("YW{i:032x}"),
        service_sid: SERVICE_SID.into(),
        friendly_name: "Hook".into(),
        event_types: vec!["*".into()],
        enabled: true,
        version: "v2".into(),
        url: "https://hooks.example.com/".into(),
        created_at: T0,
        updated_at: T0,
    };
    let full = StoredServices { version: 1, webhooks: (0..MAX_WEBHOOKS).map(hook).collect(), ..Default::default() };
    store.save_stored_services(&full).await.unwrap();
    let api = instance(&store, &verify_core::sender::outbox::Outbox::new(), Duration::ZERO);
    let (status, refused) = create(&api, SERVICE_SID, &format!("FriendlyName=One+more&EventTypes=*&WebhookUrl={URL}")).await;
    assert_eq!((status, refused["code"].as_u64()), (400, Some(60200)), "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("Max Webhooks"), "{refused}");
    assert_eq!(store.stored_services().await.unwrap(), full, "nothing written");
}

on_every_store!(
    webhooks_are_managed_through_the_api,
    deleting_a_service_deletes_its_webhooks_and_rate_limits,
    the_number_of_webhooks_is_capped
);
