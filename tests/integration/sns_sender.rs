//! The SNS sender against moto's SNS: what was published is read back from
//! moto's own record of sent SMS.

use crate::support::moto_endpoint;
use verify_aws::sns::SnsSender;
use verify_core::channel::Channel;
use verify_core::config::SmsSettings;
use verify_core::message::Content;
use verify_core::sender::{Message, Sender};

fn sms(to: &str, body: &str) -> Message {
    Message { channel: Channel::Sms, to: to.to_owned(), content: Content::Text(body.to_owned()), sms_profile: None }
}

async fn moto_sms() -> Vec<serde_json::Value> {
    let data: serde_json::Value = reqwest::get(format!("{}/moto-api/data.json", moto_endpoint())).await.unwrap().json().await.unwrap();
    data["sns"]["SMS"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn publishes_the_text_to_the_number() {
    let client = verify_aws::clients::sns_at(&moto_endpoint());
    let settings = SmsSettings { sender_id: Some("ACME".into()), origination_number: None };
    let sender = SnsSender::new(client, settings);
    let to = format!("+1415555{:04}", 9000 + std::process::id() % 999);
    let body = format!("Your Acme verification code is: 4{:05}", std::process::id() % 100_000);
    sender.send(&sms(&to, &body)).await.expect("moto accepts the publish");
    let sent = moto_sms().await;
    assert!(
        sent.iter().any(|m| m["phone_number"] == to.as_str() && m["message"] == body.as_str()),
        "not found in moto's SMS log: {sent:?}"
    );
}

#[tokio::test]
async fn an_unreachable_provider_is_a_send_error() {
    // Nothing listens on port 9 of loopback: the SDK cannot connect.
    let sender = SnsSender::new(verify_aws::clients::sns_at("http://127.0.0.1:9"), SmsSettings::default());
    let err = sender.send(&sms("+14155550100", "Your code is: 123456")).await.unwrap_err();
    assert!(err.0.contains("SNS Publish failed"), "{err:?}");
    assert!(!err.0.contains("123456"), "the error must not carry the message text");
}
