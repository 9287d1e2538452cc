//! The End User Messaging senders (call, and SMS by SendTextMessage): the
//! real SDK client of End User Messaging SMS and Voice
//! v2 against the suite's stand-in (`tests/python/aws_standin.py`: moto has
//! no such service), which checks the protocol, the SigV4 signature and
//! every body against botocore's model of the API, and refuses what the
//! real service would refuse.

use crate::support::*;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, BufReader};
use verify_aws::voice::VoiceSender;
use verify_core::channel::Channel;
use verify_core::config::{Limits, Service, Services, VoiceSettings};
use verify_core::message::{self, Content};
use verify_core::otp::Code;
use verify_core::phone::PhoneNumber;
use verify_core::record::StoredStatus;
use verify_core::sender::{Message, Sender, Senders};
use verify_core::service::{StartRequest, Verifier, VerifyError};
use verify_core::store::{RecordKey, Store};

/// The stand-in, running until dropped (also serves End User Messaging
/// Social: see whatsapp_sender.rs).
pub(crate) struct StandIn {
    pub(crate) url: String,
    _child: tokio::process::Child,
}

impl StandIn {
    pub(crate) async fn start() -> StandIn {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let python = root.join(".venv/bin/python");
        assert!(python.exists(), "{} is missing: run tests/setup.sh", python.display());
        let mut child = tokio::process::Command::new(python)
            .arg(root.join("python/aws_standin.py"))
            .arg("0")
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the stand-in starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
            .await
            .expect("the stand-in is ready within 30 s")
            .unwrap()
            .expect("the stand-in prints its address");
        let url = line.strip_prefix("aws-standin listening on ").expect("its ready line").to_owned();
        StandIn { url, _child: child }
    }

    pub(crate) async fn requests(&self) -> serde_json::Value {
        reqwest::get(format!("{}/_standin/requests", self.url)).await.unwrap().json().await.unwrap()
    }

    /// The next `count` valid requests fail with the service error `kind`.
    pub(crate) async fn fail_next(&self, kind: &str, count: u32) {
        let order = serde_json::json!({"type": kind, "count": count});
        reqwest::Client::new().post(format!("{}/_standin/fail", self.url)).json(&order).send().await.unwrap();
    }
}

fn settings() -> VoiceSettings {
    VoiceSettings {
        origination_identity: Some("+12065550100".into()),
        configuration_set: Some("verify-calls".into()),
        max_price_per_minute: Some("0.10".into()),
    }
}

fn sender(standin: &StandIn) -> VoiceSender {
    VoiceSender::new(verify_aws::clients::voice_at(&standin.url), settings()).expect("an identity is set")
}

#[tokio::test]
async fn a_call_reads_the_ssml_in_the_languages_voice() {
    let standin = StandIn::start().await;
    let code = Code::parse("904217", 6).unwrap();
    let content = message::call(&message::Params { language: "fr", name: "Acme & Co", code: &code });
    let Content::Ssml { ssml, .. } = &content else { panic!("a call is SSML") };
    let to = "+442079460000";
    sender(&standin)
        .send(&Message { channel: Channel::Call, to: to.into(), content: content.clone(), sms_profile: None })
        .await
        .expect("the stand-in accepts it");
    let seen = standin.requests().await;
    assert_eq!(seen["rejected"], serde_json::json!([]), "the SDK's request broke the API's rules");
    let accepted = seen["accepted"].as_array().unwrap();
    assert_eq!(accepted.len(), 1, "{accepted:?}");
    assert_eq!(accepted[0]["operation"], "SendVoiceMessage");
    assert_eq!(
        accepted[0]["body"],
        serde_json::json!({
            "DestinationPhoneNumber": to,
            "OriginationIdentity": "+12065550100",
            "MessageBody": ssml,
            "MessageBodyTextType": "SSML",
            "VoiceId": "LEA",
            "ConfigurationSetName": "verify-calls",
            "MaxPricePerMinute": "0.10",
            "TimeToLive": 120,
        })
    );
}

/// Every locale's call, as the voice API's model sees it: the table's voice
/// ids are values of its `VoiceId` enum and every SSML body is within its
/// limits (the stand-in refuses what the real service would).
#[tokio::test]
async fn every_locales_call_is_a_request_the_api_accepts() {
    let standin = StandIn::start().await;
    let code = Code::parse("1234567890", 10).unwrap();
    let name = "W".repeat(verify_core::friendly_name::MAX_FRIENDLY_NAME_CHARS);
    let calls = sender(&standin);
    for locale in verify_core::locale::LOCALES {
        let content = message::call(&message::Params { language: locale.tag, name: &name, code: &code });
        calls.send(&Message { channel: Channel::Call, to: "+442079460000".into(), content, sms_profile: None }).await.expect(locale.tag);
    }
    let seen = standin.requests().await;
    assert_eq!(seen["rejected"], serde_json::json!([]), "the API's model refused a locale's call");
    let voices: std::collections::BTreeSet<&str> =
        seen["accepted"].as_array().unwrap().iter().map(|r| r["body"]["VoiceId"].as_str().unwrap()).collect();
    let expected: std::collections::BTreeSet<&str> =
        verify_core::locale::LOCALES.iter().filter_map(|l| l.voice.as_ref().map(|v| v.id)).collect();
    assert_eq!(voices, expected, "each voice of the table was used, and only those");
}

#[tokio::test]
async fn a_refused_call_is_a_send_error_without_the_code() {
    let standin = StandIn::start().await;
    // Not retried by the SDK: a quota is not a passing fault.
    standin.fail_next("ServiceQuotaExceededException", 1).await;
    let code = Code::parse("123456", 6).unwrap();
    let content = message::call(&message::Params { language: "en", name: "Acme", code: &code });
    let err = sender(&standin)
        .send(&Message { channel: Channel::Call, to: "+442079460000".into(), content, sms_profile: None })
        .await
        .unwrap_err();
    assert!(err.0.contains("SendVoiceMessage failed") && err.0.contains("ServiceQuotaExceededException"), "{err:?}");
    assert!(!err.0.contains("123456"), "the error must not carry the message");
}

#[tokio::test]
async fn a_failed_call_voids_the_code_and_gives_the_send_back() {
    let standin = StandIn::start().await;
    let engine = backend(Engine::Dynoxide).await;
    let verifier = Verifier {
        store: engine.store.clone(),
        senders: Senders::none().with(Channel::Call, Arc::new(sender(&standin))),
        clock: Arc::new(verify_core::clock::ManualClock::at(T0)),
        services: Services::single(Service::new(SERVICE_SID.into(), "Acme".into(), Limits::default())).into(),
        keys: keys(),
    };
    let service = verifier.services.seeded().default_service().clone();
    let to = "+442079460123";
    let req = StartRequest {
        to: PhoneNumber::parse(to).unwrap().into(),
        channel: Channel::Call,
        language: None,
        friendly_name: None,
        email_from: Default::default(),
    };
    // Throttled on every try the SDK makes (it retries throttling).
    standin.fail_next("ThrottlingException", 10).await;
    let err = verifier.start(&service, &req).await.unwrap_err();
    assert!(matches!(&err, VerifyError::SendFailed(m) if m.contains("ThrottlingException")), "{err:?}");
    let key = RecordKey { service_sid: SERVICE_SID.into(), to: to.into() };
    let stored = verifier.store.read(&key).await.unwrap().unwrap();
    assert_eq!((stored.status, stored.sends), (StoredStatus::Failed, 0), "voided, the send given back");
    // The provider back: the retry is the window's first send, and calls.
    standin.fail_next("ThrottlingException", 0).await;
    let retried = verifier.start(&service, &req).await.expect("the retry is sent");
    assert_eq!(retried.sends, 1, "the failed call did not use up the window");
    assert_eq!(retried.channel, "call");
    let seen = standin.requests().await;
    assert_eq!(seen["rejected"], serde_json::json!([]));
    assert_eq!(seen["accepted"].as_array().unwrap().len(), 1);
    assert_eq!(seen["accepted"][0]["body"]["DestinationPhoneNumber"], to);
}

/// The second SMS sender, End User Messaging's `SendTextMessage`, against
/// the same stand-in.
#[tokio::test]
async fn an_sms_by_end_user_messaging_carries_its_settings() {
    use verify_aws::sms_v2::SmsV2Sender;
    use verify_core::config::SmsV2Settings;
    let standin = StandIn::start().await;
    let settings = SmsV2Settings {
        origination_identity: Some("pool-0123456789abcdef0123456789abcdef".into()),
        configuration_set: Some("verify-texts".into()),
        protect_configuration_id: Some("protect-0123456789abcdef0123456789abcdef".into()),
        max_price: Some("0.05".into()),
    };
    let sender = SmsV2Sender::new(verify_aws::clients::voice_at(&standin.url), settings);
    let body = "Your Acme verification code is: 904217";
    let sms = Message { channel: Channel::Sms, to: "+447400123456".into(), content: Content::Text(body.into()), sms_profile: None };
    sender.send(&sms).await.expect("the stand-in accepts it");
    let seen = standin.requests().await;
    assert_eq!(seen["rejected"], serde_json::json!([]), "the SDK's request broke the API's rules");
    assert_eq!(seen["accepted"][0]["operation"], "SendTextMessage");
    assert_eq!(
        seen["accepted"][0]["body"],
        serde_json::json!({
            "DestinationPhoneNumber": "+447400123456",
            "OriginationIdentity": "pool-0123456789abcdef0123456789abcdef",
            "MessageBody": body,
            "MessageType": "TRANSACTIONAL",
            "ConfigurationSetName": "verify-texts",
            "ProtectConfigurationId": "protect-0123456789abcdef0123456789abcdef",
            "MaxPrice": "0.05",
            "TimeToLive": 300,
        })
    );
    // A refusal (a spend limit reached) is a send error without the text.
    standin.fail_next("ServiceQuotaExceededException", 1).await;
    let err = sender.send(&sms).await.unwrap_err();
    assert!(err.0.contains("SendTextMessage failed") && !err.0.contains("904217"), "{err:?}");
    // With no settings at all, only what the API requires is sent.
    let bare = SmsV2Sender::new(verify_aws::clients::voice_at(&standin.url), SmsV2Settings::default());
    bare.send(&sms).await.expect("accepted");
    let seen = standin.requests().await;
    assert_eq!(seen["rejected"], serde_json::json!([]));
    let last = seen["accepted"].as_array().unwrap().last().unwrap()["body"].clone();
    assert_eq!(
        last,
        serde_json::json!({"DestinationPhoneNumber": "+447400123456", "MessageBody": body, "MessageType": "TRANSACTIONAL", "TimeToLive": 300})
    );
}
