//! Messaging configurations (`/v2/Services/{VA}/MessagingConfigurations`)
//! through `Api::handle` as start-verify serves them, on every store
//! (memory, dynoxide, moto): create, list with paging, fetch, update and
//! delete; bad input is a 400 naming the parameter with nothing written;
//! an unknown service is 404; a start's text goes out with its country's
//! sender profile, then `all`'s, then the deployment's settings (seen on
//! the outbox, on an instance that reads the table for every request and
//! on the one that made the change); a deleted service takes its
//! configurations with it; a store fault writes nothing. Then the whole
//! path with End User Messaging's real SDK client against the suite's
//! stand-in: the profile's settings are what `SendTextMessage` carries.

use crate::services::{TestApi, call, instance};
use crate::support::*;
use crate::voice_sender::StandIn;
use http::Method;
use serde_json::{Value, json};
use std::time::Duration;
use verify_core::api::routes::Function::StartVerify;
use verify_core::messaging::SmsProfiles;
use verify_core::sender::outbox::Outbox;
use verify_core::store::services::ServiceStore;

const UK: &str = "MG0000000000000000000000000000000a";
const ANY: &str = "MG0000000000000000000000000000000b";
const UK_NUMBER: &str = "+447400123456";

fn profiles() -> SmsProfiles {
    SmsProfiles::parse(&format!(
        r#"{{"{UK}": {{"origination_identity": "+447700900123", "configuration_set": "verify-uk", "max_price": "0.04"}},
            "{ANY}": {{"origination_identity": "pool-0123456789abcdef"}}}}"#
    ))
    .unwrap()
}

/// start-verify over `store` with the deployment's profiles.
fn with_profiles(store: &TestStore, outbox: &Outbox, period: Duration) -> TestApi {
    let mut api = instance(store, outbox, period);
    api.verifier.services = api.verifier.services.clone().with_sms_profiles(profiles());
    api
}

fn configs() -> String {
    format!("/v2/Services/{SERVICE_SID}/MessagingConfigurations")
}

async fn start(api: &TestApi, to: &str) -> u16 {
    let body = format!("To={}&Channel=sms", to.replace('+', "%2B"));
    call(api, StartVerify, Method::POST, &format!("/v2/Services/{SERVICE_SID}/Verifications"), &body).await.0
}

/// The origination identity and profile of the newest text to `to`.
fn sent_with(outbox: &Outbox, to: &str) -> (Option<String>, Option<String>) {
    let m = outbox.messages(Some(to)).pop().expect("a text was sent");
    (m.from, m.messaging_service_sid)
}

async fn configurations_are_managed_and_pick_the_sender(engine: Engine) {
    let store = backend(engine).await.store;
    let outbox = Outbox::new();
    let api = with_profiles(&store, &outbox, Duration::from_secs(3600));
    let reader = with_profiles(&store, &outbox, Duration::ZERO);

    let (status, gb) = call(&api, StartVerify, Method::POST, &configs(), &format!("Country=gb&MessagingServiceSid={UK}")).await;
    assert_eq!(status, 201, "{gb}");
    assert_eq!(
        (gb["service_sid"].as_str(), gb["country"].as_str(), gb["messaging_service_sid"].as_str()),
        (Some(SERVICE_SID), Some("GB"), Some(UK))
    );
    assert_eq!(gb["account_sid"], format!("AC{}", "0".repeat(32)));
    assert_eq!(gb["url"], format!("http://verify.example.com{}/GB", configs()));
    assert!(gb["date_created"].is_string() && gb["date_updated"].is_string(), "{gb}");

    // Refused: 400 naming the parameter, nothing written.
    let version = store.stored_services().await.unwrap().version;
    for (body, named) in [
        (format!("Country=GB&MessagingServiceSid={ANY}"), "Country (GB already"),
        (format!("Country=GBR&MessagingServiceSid={UK}"), "Country"),
        (format!("Country=ZZ&MessagingServiceSid={UK}"), "Country"),
        ("Country=FR&MessagingServiceSid=MGfedcba9876543210fedcba9876543210".into(), "MessagingServiceSid"),
        ("Country=FR&MessagingServiceSid=PN1".into(), "MessagingServiceSid"),
        ("Country=FR".into(), "MessagingServiceSid"),
        (format!("MessagingServiceSid={UK}"), "Country"),
        (format!("Country=FR&MessagingServiceSid={UK}&Priority=1"), "Priority"),
    ] {
        let (status, e) = call(&api, StartVerify, Method::POST, &configs(), &body).await;
        assert_eq!((status, e["code"].as_u64()), (400, Some(60200)), "{body}: {e}");
        assert!(e["message"].as_str().unwrap().contains(named), "{body}: {e}");
    }
    let (status, e) = call(&api, StartVerify, Method::POST, &format!("{}/GB", configs()), "MessagingServiceSid=MG1").await;
    assert_eq!((status, e["code"].as_u64()), (400, Some(60200)), "{e}");
    assert_eq!(store.stored_services().await.unwrap().version, version, "nothing written");
    let unknown = "/v2/Services/VAfedcba9876543210fedcba9876543210/MessagingConfigurations";
    let refused = [
        (Method::POST, unknown.to_owned(), format!("Country=GB&MessagingServiceSid={UK}")),
        (Method::GET, unknown.to_owned(), String::new()),
        (Method::GET, format!("{unknown}/GB"), String::new()),
    ];
    for (method, path, body) in refused {
        let (status, e) = call(&api, StartVerify, method, &path, &body).await;
        assert_eq!((status, e["code"].as_u64()), (404, Some(20404)), "{path}: {e}");
    }
    assert_eq!(store.stored_services().await.unwrap().version, version, "nothing written");

    // A text to GB takes GB's profile; elsewhere the deployment's settings, until `all`.
    let us = fresh_number();
    assert_eq!(start(&reader, UK_NUMBER).await, 201);
    assert_eq!(sent_with(&outbox, UK_NUMBER), (Some("+447700900123".into()), Some(UK.into())));
    assert_eq!(start(&reader, &us).await, 201);
    assert_eq!(sent_with(&outbox, &us), (None, None));
    assert_eq!(call(&api, StartVerify, Method::POST, &configs(), &format!("Country=all&MessagingServiceSid={ANY}")).await.0, 201);
    assert_eq!(start(&api, &us).await, 201, "where it was made: at once");
    assert_eq!(sent_with(&outbox, &us), (Some("pool-0123456789abcdef".into()), Some(ANY.into())));

    // Listed in creation order, paged.
    let (status, list) = call(&reader, StartVerify, Method::GET, &configs(), "").await;
    assert_eq!(status, 200, "{list}");
    let countries: Vec<&str> =
        list["messaging_configurations"].as_array().unwrap().iter().map(|c| c["country"].as_str().unwrap()).collect();
    assert_eq!(countries, ["GB", "all"]);
    assert_eq!(list["meta"]["key"], "messaging_configurations");
    let (_, first) = call(&reader, StartVerify, Method::GET, &format!("{}?PageSize=1", configs()), "").await;
    assert_eq!(first["messaging_configurations"].as_array().unwrap().len(), 1);
    assert_eq!(first["meta"]["next_page_url"], format!("http://verify.example.com{}?PageSize=1&Page=1", configs()));

    // Fetch (any case), update, delete.
    let (status, fetched) = call(&reader, StartVerify, Method::GET, &format!("{}/gb", configs()), "").await;
    assert_eq!((status, fetched["messaging_service_sid"].as_str()), (200, Some(UK)), "{fetched}");
    let (status, updated) =
        call(&api, StartVerify, Method::POST, &format!("{}/GB", configs()), &format!("MessagingServiceSid={ANY}")).await;
    assert_eq!((status, updated["messaging_service_sid"].as_str(), updated["country"].as_str()), (200, Some(ANY), Some("GB")), "{updated}");
    assert_eq!(call(&api, StartVerify, Method::DELETE, &format!("{}/GB", configs()), "").await.0, 204);
    assert_eq!(call(&api, StartVerify, Method::GET, &format!("{}/GB", configs()), "").await.0, 404);
    assert_eq!(call(&api, StartVerify, Method::DELETE, &format!("{}/GB", configs()), "").await.0, 404);
    assert_eq!(call(&api, StartVerify, Method::POST, &format!("{}/FR", configs()), &format!("MessagingServiceSid={ANY}")).await.0, 404);
    let other_uk = "+447400123457";
    assert_eq!(start(&reader, other_uk).await, 201);
    assert_eq!(sent_with(&outbox, other_uk).1.as_deref(), Some(ANY), "GB gone: all's profile");

    // A service deleted over the API takes its configurations with it.
    let (_, created) = call(&api, StartVerify, Method::POST, "/v2/Services", "FriendlyName=Pay").await;
    let sid = created["sid"].as_str().unwrap();
    let path = format!("/v2/Services/{sid}/MessagingConfigurations");
    assert_eq!(call(&api, StartVerify, Method::POST, &path, &format!("Country=US&MessagingServiceSid={UK}")).await.0, 201);
    assert_eq!(call(&api, StartVerify, Method::DELETE, &format!("/v2/Services/{sid}"), "").await.0, 204);
    let left: Vec<String> = store.stored_services().await.unwrap().messaging_configurations.into_iter().map(|c| c.service_sid).collect();
    assert_eq!(left, [SERVICE_SID], "only the seeded service's all");
}

/// A store fault: 503 (retryable), nothing written.
async fn a_store_fault_writes_nothing(engine: Engine) {
    let store = backend(engine).await.store;
    let api = with_profiles(&store.broken(), &Outbox::new(), Duration::ZERO);
    let (status, e) = call(&api, StartVerify, Method::POST, &configs(), &format!("Country=GB&MessagingServiceSid={UK}")).await;
    assert_eq!((status, e["code"].as_u64()), (503, Some(20503)), "{e}");
    assert_eq!(store.stored_services().await.unwrap(), Default::default());
}

on_every_store!(configurations_are_managed_and_pick_the_sender, a_store_fault_writes_nothing);

/// End User Messaging's `SendTextMessage` through the real SDK client (the
/// stand-in checks each body against botocore's model): GB's profile
/// replaces the deployment's settings whole; another country keeps them.
#[tokio::test]
async fn the_end_user_messaging_sender_sends_with_the_countrys_profile() {
    use verify_aws::sms_v2::SmsV2Sender;
    use verify_core::config::SmsV2Settings;
    let standin = StandIn::start().await;
    let deployment = SmsV2Settings { origination_identity: Some("+12065550100".into()), ..Default::default() };
    let store = backend(Engine::Memory).await.store;
    let mut api = with_profiles(&store, &Outbox::new(), Duration::ZERO);
    api.verifier.senders = verify_core::sender::Senders::sms(SmsV2Sender::new(verify_aws::clients::voice_at(&standin.url), deployment));
    assert_eq!(call(&api, StartVerify, Method::POST, &configs(), &format!("Country=GB&MessagingServiceSid={UK}")).await.0, 201);
    let us = fresh_number();
    assert_eq!(start(&api, UK_NUMBER).await, 201);
    assert_eq!(start(&api, &us).await, 201);
    let seen = standin.requests().await;
    assert_eq!(seen["rejected"], json!([]), "the SDK's request broke the API's rules");
    let sent: Vec<&Value> = seen["accepted"].as_array().unwrap().iter().map(|r| &r["body"]).collect();
    assert_eq!(sent.len(), 2);
    let settings = |b: &Value| {
        (b["DestinationPhoneNumber"].clone(), b["OriginationIdentity"].clone(), b["ConfigurationSetName"].clone(), b["MaxPrice"].clone())
    };
    assert_eq!(settings(sent[0]), (json!(UK_NUMBER), json!("+447700900123"), json!("verify-uk"), json!("0.04")));
    assert_eq!(settings(sent[1]), (json!(us), json!("+12065550100"), Value::Null, Value::Null));
}
