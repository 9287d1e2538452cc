//! SMS through Amazon SNS `Publish` to a phone number.

use aws_sdk_sns::types::MessageAttributeValue;
use verify_core::config::SmsSettings;
use verify_core::message::Content;
use verify_core::sender::{Message, SendError, SendFuture, Sender};

#[derive(Clone, Debug)]
pub struct SnsSender {
    client: aws_sdk_sns::Client,
    settings: SmsSettings,
}

impl SnsSender {
    pub fn new(client: aws_sdk_sns::Client, settings: SmsSettings) -> Self {
        SnsSender { client, settings }
    }

    /// Opens the connection (DNS, TCP, TLS) with `GetSMSAttributes` for one
    /// attribute, so the first code sent does not pay the handshake. Chosen
    /// over `CheckIfPhoneNumberIsOptedOut` because it reads no data about any
    /// person: only the account's default SMS type. The deployed policy grants
    /// `sns:GetSMSAttributes` for exactly this; any answer, even a refusal,
    /// leaves the connection open.
    pub async fn warm_up(&self) -> Result<(), SendError> {
        self.client
            .get_sms_attributes()
            .attributes("DefaultSMSType")
            .send()
            .await
            .map(|_| ())
            .map_err(|e| SendError(format!("SNS GetSMSAttributes failed: {}", aws_sdk_sns::error::DisplayErrorContext(&e))))
    }
}

fn string_attribute(value: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder().data_type("String").string_value(value).build().expect("data type is set")
}

impl SnsSender {
    async fn publish(&self, to: &str, text: &str) -> Result<(), SendError> {
        // Transactional: SNS routes one-time codes on its reliable path.
        let mut publish = self
            .client
            .publish()
            .phone_number(to)
            .message(text)
            .message_attributes("AWS.SNS.SMS.SMSType", string_attribute("Transactional"));
        if let Some(id) = &self.settings.sender_id {
            publish = publish.message_attributes("AWS.SNS.SMS.SenderID", string_attribute(id));
        }
        if let Some(number) = &self.settings.origination_number {
            publish = publish.message_attributes("AWS.MM.SMS.OriginationNumber", string_attribute(number));
        }
        publish.send().await.map(|_| ()).map_err(|e| {
            // The SDK error names the operation and cause, never the message body.
            SendError(format!("SNS Publish failed: {}", aws_sdk_sns::error::DisplayErrorContext(&e)))
        })
    }
}

/// SMS: a text to a phone number.
impl Sender for SnsSender {
    fn send<'a>(&'a self, message: &'a Message) -> SendFuture<'a> {
        Box::pin(async move {
            match &message.content {
                Content::Text(text) => self.publish(&message.to, text).await,
                // The registry sends only SMS text here; anything else is a
                // wiring mistake, not a message.
                _ => Err(SendError("SNS carries SMS text only".into())),
            }
        })
    }
}
