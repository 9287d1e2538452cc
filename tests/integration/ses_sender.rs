//! The SES v2 sender with the real SDK client against moto's SES v2: the
//! sender identity is verified through moto first (as on AWS), and what was
//! sent is read back from moto's own record of sent e-mail. An unverified
//! sender is refused by moto as by SES (MessageRejected): a send error, and
//! through the service a retryable error with the code voided and the send
//! given back.

use crate::support::{SERVICE_SID, keys, moto_endpoint};
use std::sync::Arc;
use verify_aws::ses::SesSender;
use verify_core::channel::Channel;
use verify_core::clock::ManualClock;
use verify_core::config::{EmailSettings, Limits, Service, Services};
use verify_core::message::{Content, EmailFrom, email_parts};
use verify_core::otp::Code;
use verify_core::recipient::Recipient;
use verify_core::record::StoredStatus;
use verify_core::sender::{Message, Sender, Senders};
use verify_core::service::{StartRequest, Verifier, VerifyError};
use verify_core::store::memory::MemoryStore;
use verify_core::store::{RecordKey, Store};

fn unique(what: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!("{what}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

async fn verified_sender(address: &str) -> aws_sdk_sesv2::Client {
    let client = verify_aws::clients::ses_at(&moto_endpoint());
    client.create_email_identity().email_identity(address).send().await.expect("moto verifies the identity");
    client
}

async fn moto_emails() -> Vec<serde_json::Value> {
    let data: serde_json::Value = reqwest::get(format!("{}/moto-api/data.json", moto_endpoint())).await.unwrap().json().await.unwrap();
    data["ses"]["Message"].as_array().cloned().unwrap_or_default()
}

fn sent_to<'a>(all: &'a [serde_json::Value], to: &str) -> Vec<&'a serde_json::Value> {
    all.iter().filter(|m| m["destinations"]["ToAddresses"].as_array().is_some_and(|a| a.iter().any(|t| t == to))).collect()
}

#[tokio::test]
async fn sends_subject_and_html_from_the_verified_identity() {
    let from = format!("{}@codes.example", unique("verify"));
    let client = verified_sender(&from).await;
    let settings = EmailSettings { from: Some(from.clone()), from_name: Some("Acme".into()), configuration_set: None };
    let sender = SesSender::new(client, settings).expect("a sender address is configured");
    let to = format!("{}@example.com", unique("user"));
    let code = Code::parse("482913", 6).unwrap();
    let content = Content::Email(email_parts("en", "Tom & Jerry", &code));
    sender.send(&Message { channel: Channel::Email, to: to.clone(), content, sms_profile: None }).await.expect("moto accepts the e-mail");
    let all = moto_emails().await;
    let sent = sent_to(&all, &to);
    assert_eq!(sent.len(), 1, "{all:?}");
    let m = sent[0];
    assert_eq!(m["source"], format!("\"Acme\" <{from}>"));
    assert_eq!(m["subject"], "Your Tom & Jerry verification code");
    // moto keeps the HTML body when there is one.
    let body = m["body"].as_str().unwrap();
    assert!(body.contains("Tom &amp; Jerry") && body.contains(">482913<"), "{body}");
}

#[tokio::test]
async fn a_start_may_send_from_another_verified_address() {
    let default_from = format!("{}@codes.example", unique("verify"));
    let chosen = format!("{}@team.example", unique("team"));
    verified_sender(&default_from).await;
    let client = verified_sender(&chosen).await;
    let settings = EmailSettings { from: Some(default_from), from_name: None, configuration_set: None };
    let sender = SesSender::new(client, settings).unwrap();
    let to = format!("{}@example.com", unique("user"));
    let mut email = email_parts("fr", "Acme", &Code::parse("123456", 6).unwrap());
    email.from = EmailFrom { address: Some(chosen.clone()), name: Some("Équipe Acme".into()) };
    sender.send(&Message { channel: Channel::Email, to: to.clone(), content: Content::Email(email), sms_profile: None }).await.unwrap();
    let all = moto_emails().await;
    let sent = sent_to(&all, &to);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["source"], format!("=?UTF-8?B?w4lxdWlwZSBBY21l?= <{chosen}>"));
    assert_eq!(sent[0]["subject"], "Votre code de vérification Acme");
}

#[tokio::test]
async fn no_sender_address_no_sender() {
    assert!(SesSender::new(verify_aws::clients::ses_at(&moto_endpoint()), EmailSettings::default()).is_none());
}

/// An identity SES has not verified: the send fails; through the service,
/// the start is a retryable error, its code is void and its send given back.
#[tokio::test]
async fn an_unverified_sender_voids_the_code_and_gives_the_send_back() {
    let settings = EmailSettings { from: Some(format!("{}@unverified.example", unique("nobody"))), ..Default::default() };
    let sender = SesSender::new(verify_aws::clients::ses_at(&moto_endpoint()), settings).unwrap();
    let to = format!("{}@example.com", unique("user"));
    let direct = Message {
        channel: Channel::Email,
        to: to.clone(),
        content: Content::Email(email_parts("en", "Acme", &Code::parse("765432", 6).unwrap())),
        sms_profile: None,
    };
    let err = sender.send(&direct).await.unwrap_err();
    assert!(err.0.contains("SES SendEmail failed") && err.0.contains("not verified"), "{err:?}");
    assert!(!err.0.contains("765432"), "the error must not carry the code");

    let verifier = Verifier {
        store: MemoryStore::default(),
        senders: Senders::none().with(Channel::Email, Arc::new(sender)),
        clock: Arc::new(ManualClock::at(1_700_000_000)),
        services: Services::single(Service::new(SERVICE_SID.into(), "Acme".into(), Limits::default())).into(),
        keys: keys(),
    };
    let service = verifier.services.seeded().default_service().clone();
    let req = StartRequest {
        to: Recipient::parse_any(&to).unwrap(),
        channel: Channel::Email,
        language: None,
        friendly_name: None,
        email_from: EmailFrom::default(),
    };
    assert!(matches!(verifier.start(&service, &req).await, Err(VerifyError::SendFailed(_))));
    let key = RecordKey { service_sid: SERVICE_SID.into(), to: to.to_lowercase() };
    let stored = verifier.store.read(&key).await.unwrap().expect("the start was recorded");
    assert_eq!((stored.status, stored.sends), (StoredStatus::Failed, 0), "code voided, send given back");
    assert!(sent_to(&moto_emails().await, &to).is_empty());
}
