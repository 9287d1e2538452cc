//! The WhatsApp sender: the real SDK client of End User Messaging Social
//! (`SendWhatsAppMessage`, restJson1) against the suite's stand-in
//! (`tests/python/aws_standin.py`: moto has no such service), which checks
//! the protocol, the SigV4 signature and every body against botocore's model
//! of the API, and the message object it passes to Meta.

use crate::support::*;
use crate::voice_sender::StandIn;
use std::sync::Arc;
use verify_aws::whatsapp::WhatsappSender;
use verify_core::channel::Channel;
use verify_core::config::{Limits, SenderSettings, Service, Services, Settings};
use verify_core::message::{self, Content};
use verify_core::otp::Code;
use verify_core::phone::PhoneNumber;
use verify_core::record::StoredStatus;
use verify_core::sender::outbox::Outbox;
use verify_core::sender::{Message, Sender, Senders};
use verify_core::service::{CheckTarget, StartRequest, Verifier, VerifyError};
use verify_core::store::{RecordKey, Store};
use verify_core::whatsapp::WhatsappSettings;

const PHONE_NUMBER_ID: &str = "phone-number-id-0123456789abcdef0123456789abcdef";

fn settings() -> WhatsappSettings {
    WhatsappSettings {
        phone_number_id: Some(PHONE_NUMBER_ID.into()),
        template_name: Some("acme_code".into()),
        meta_api_version: "v21.0".into(),
    }
}

fn sender(standin: &StandIn) -> WhatsappSender {
    WhatsappSender::new(verify_aws::clients::whatsapp_at(&standin.url), &settings()).expect("an id and a template are set")
}

fn whatsapp(to: &str, language: &str, code: &Code) -> Message {
    let content = message::whatsapp(&message::Params { language, name: "Acme", code });
    Message { channel: Channel::Whatsapp, to: to.into(), content, sms_profile: None }
}

#[tokio::test]
async fn a_code_goes_as_an_authentication_template_in_the_locales_language() {
    let standin = StandIn::start().await;
    let code = Code::parse("904217", 6).unwrap();
    let to = "+5511987654321";
    sender(&standin).send(&whatsapp(to, "pt-BR", &code)).await.expect("the stand-in accepts it");
    sender(&standin).send(&whatsapp(to, "fr-CA", &code)).await.expect("the stand-in accepts it");
    let seen = standin.requests().await;
    assert_eq!(seen["rejected"], serde_json::json!([]), "the SDK's request broke the API's rules");
    let accepted = seen["accepted"].as_array().unwrap();
    assert_eq!(accepted.len(), 2, "{accepted:?}");
    assert_eq!(accepted[0]["operation"], "SendWhatsAppMessage");
    assert_eq!(accepted[0]["body"]["originationPhoneNumberId"], PHONE_NUMBER_ID);
    assert_eq!(accepted[0]["body"]["metaApiVersion"], "v21.0");
    let code_param = serde_json::json!([{"type": "text", "text": "904217"}]);
    assert_eq!(
        accepted[0]["message"],
        serde_json::json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "template",
            "template": {
                "name": "acme_code",
                "language": {"policy": "deterministic", "code": "pt_BR"},
                "components": [
                    {"type": "body", "parameters": code_param},
                    {"type": "button", "sub_type": "url", "index": "0", "parameters": code_param},
                ],
            },
        })
    );
    // A region Meta has no template language for: the language alone.
    assert_eq!(accepted[1]["message"]["template"]["language"]["code"], "fr");
}

#[tokio::test]
async fn a_refused_message_is_a_send_error_without_the_code() {
    let standin = StandIn::start().await;
    // Not retried by the SDK: a permission is not a passing fault.
    standin.fail_next("AccessDeniedException", 1).await;
    let code = Code::parse("123456", 6).unwrap();
    let err = sender(&standin).send(&whatsapp("+447400123456", "en", &code)).await.unwrap_err();
    assert!(err.0.contains("SendWhatsAppMessage failed") && err.0.contains("AccessDeniedException"), "{err:?}");
    assert!(!err.0.contains("123456"), "the error must not carry the message");
    // Anything but WhatsApp content is refused before any request.
    let sms = Message { channel: Channel::Whatsapp, to: "+447400123456".into(), content: Content::Text("hi".into()), sms_profile: None };
    assert!(sender(&standin).send(&sms).await.is_err());
    assert_eq!(standin.requests().await["accepted"], serde_json::json!([]));
}

fn verifier(standin: &StandIn, engine: &Backend, sms: &Outbox) -> TestVerifier {
    Verifier {
        store: engine.store.clone(),
        senders: Senders::sms(sms.clone()).with(Channel::Whatsapp, Arc::new(sender(standin))),
        clock: Arc::new(verify_core::clock::ManualClock::at(T0)),
        services: Services::single(Service::new(SERVICE_SID.into(), "Acme".into(), Limits::default())).into(),
        keys: keys(),
    }
}

fn start(to: &str, channel: Channel) -> StartRequest {
    StartRequest {
        to: PhoneNumber::parse(to).unwrap().into(),
        channel,
        language: None,
        friendly_name: None,
        email_from: Default::default(),
    }
}

#[tokio::test]
async fn a_failed_whatsapp_send_voids_the_code_and_gives_the_send_back() {
    let standin = StandIn::start().await;
    let engine = backend(Engine::Dynoxide).await;
    let verifier = verifier(&standin, &engine, &Outbox::new());
    let service = verifier.services.seeded().default_service().clone();
    let to = "+447400123457";
    // Failing on every try the SDK makes (it retries a 500).
    standin.fail_next("InternalServiceException", 10).await;
    let err = verifier.start(&service, &start(to, Channel::Whatsapp)).await.unwrap_err();
    assert!(matches!(&err, VerifyError::SendFailed(m) if m.contains("InternalServiceException")), "{err:?}");
    let key = RecordKey { service_sid: SERVICE_SID.into(), to: to.into() };
    let stored = verifier.store.read(&key).await.unwrap().unwrap();
    assert_eq!((stored.status, stored.sends), (StoredStatus::Failed, 0), "voided, the send given back");
    standin.fail_next("InternalServiceException", 0).await;
    let retried = verifier.start(&service, &start(to, Channel::Whatsapp)).await.expect("the retry is sent");
    assert_eq!((retried.sends, retried.channel.as_str()), (1, "whatsapp"));
    let seen = standin.requests().await;
    assert_eq!(seen["rejected"], serde_json::json!([]));
    assert_eq!(seen["accepted"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_resend_may_switch_from_sms_to_whatsapp_and_the_whatsapp_code_approves() {
    let standin = StandIn::start().await;
    let engine = backend(Engine::Dynoxide).await;
    let sms = Outbox::new();
    let verifier = verifier(&standin, &engine, &sms);
    let service = verifier.services.seeded().default_service().clone();
    let to = "+447400123458";
    let first = verifier.start(&service, &start(to, Channel::Sms)).await.unwrap();
    let second = verifier.start(&service, &start(to, Channel::Whatsapp)).await.unwrap();
    assert_eq!(second.sid, first.sid, "a resend, not a new verification");
    assert_eq!(second.channel, "whatsapp");
    let channels: Vec<&str> = second.send_attempts.iter().map(|a| a.channel.as_str()).collect();
    assert_eq!(channels, ["sms", "whatsapp"]);
    assert_eq!(second.sends, 2, "sends count across channels");
    let seen = standin.requests().await;
    let sent = &seen["accepted"][0]["message"]["template"]["components"][0]["parameters"][0]["text"];
    let code = Code::parse(sent.as_str().expect("the code is the body parameter"), 6).unwrap();
    // The SMS's code was replaced by the resend.
    let old = Code::parse(&last_code(&sms, to), 6).unwrap();
    if old.reveal() != code.reveal() {
        let target = CheckTarget::To(PhoneNumber::parse(to).unwrap().into());
        assert!(!verifier.check(&service, &target, &old).await.unwrap().approved);
    }
    let target = CheckTarget::To(PhoneNumber::parse(to).unwrap().into());
    assert!(verifier.check(&service, &target, &code).await.unwrap().approved);
}

#[test]
fn start_verify_registers_whatsapp_only_when_configured() {
    let aws = verify_aws::clients::LambdaEnv::from_lookup(|n| {
        [("AWS_REGION", "us-east-1"), ("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b")]
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.to_string())
    })
    .unwrap();
    let key = "k".repeat(32);
    // As start-verify's init builds them: the phone senders, then the rest.
    let every_channel = |extra: &[(&str, &str)]| {
        let mut vars: std::collections::HashMap<String, String> =
            [("VERIFY_CODE_KEY", key.as_str())].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let phone = verify_lambda::app::sms_and_call(&aws, &SenderSettings::from_vars(&vars).unwrap());
        verify_lambda::app::every_channel(&aws, &Settings::from_vars(&vars).unwrap(), &Default::default(), phone).unwrap()
    };
    let bare = every_channel(&[]);
    assert!(bare.senders.get(Channel::Whatsapp).is_none(), "no phone number id, no WhatsApp sender (60223)");
    let full = every_channel(&[("VERIFY_WHATSAPP_PHONE_NUMBER_ID", PHONE_NUMBER_ID), ("VERIFY_WHATSAPP_TEMPLATE_NAME", "acme_code")]);
    assert!(full.senders.get(Channel::Whatsapp).is_some());
    assert!(full.senders.get(Channel::Sms).is_some());
}
