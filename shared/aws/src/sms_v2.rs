//! SMS through AWS End User Messaging SMS and Voice v2 `SendTextMessage`:
//! the second SMS sender (`VERIFY_SMS_SENDER=eum`), with an origination
//! identity, a configuration set, a protect configuration and a price cap
//! per message, none of which SNS `Publish` takes. A message may carry a
//! sender profile ([`verify_core::messaging`]): its settings then replace
//! the deployment's, whole.

use aws_sdk_pinpointsmsvoicev2::types::MessageType;
use verify_core::config::SmsV2Settings;
use verify_core::message::Content;
use verify_core::messaging::SmsProfile;
use verify_core::sender::{Message, SendError, SendFuture, Sender};

#[derive(Clone, Debug)]
pub struct SmsV2Sender {
    client: aws_sdk_pinpointsmsvoicev2::Client,
    settings: SmsV2Settings,
}

/// How long End User Messaging may keep trying to deliver a text: a code
/// arriving later than this is near its expiry anyway.
const TEXT_TIME_TO_LIVE_SECS: i32 = 300;

impl SmsV2Sender {
    pub fn new(client: aws_sdk_pinpointsmsvoicev2::Client, settings: SmsV2Settings) -> Self {
        SmsV2Sender { client, settings }
    }

    /// Opens the connection as the call sender does (`DescribeSpendLimits`).
    pub async fn warm_up(&self) -> Result<(), SendError> {
        crate::voice::describe_spend_limits(&self.client).await
    }

    async fn text(&self, to: &str, body: &str, profile: Option<&SmsProfile>) -> Result<(), SendError> {
        let s = profile.map_or(&self.settings, |p| &p.settings);
        self.client
            .send_text_message()
            .destination_phone_number(to)
            .message_body(body)
            // Codes go on the transactional route, as with SNS.
            .message_type(MessageType::Transactional)
            .time_to_live(TEXT_TIME_TO_LIVE_SECS)
            .set_origination_identity(s.origination_identity.clone())
            .set_configuration_set_name(s.configuration_set.clone())
            .set_protect_configuration_id(s.protect_configuration_id.clone())
            .set_max_price(s.max_price.clone())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                // The SDK error names the operation and cause, never the body.
                SendError(format!("SendTextMessage failed: {}", aws_sdk_pinpointsmsvoicev2::error::DisplayErrorContext(&e)))
            })
    }
}

/// SMS: a text to a phone number.
impl Sender for SmsV2Sender {
    fn send<'a>(&'a self, message: &'a Message) -> SendFuture<'a> {
        Box::pin(async move {
            match &message.content {
                Content::Text(text) => self.text(&message.to, text, message.sms_profile.as_deref()).await,
                // The registry sends only SMS text here; anything else is a
                // wiring mistake, not a message.
                _ => Err(SendError("End User Messaging SMS carries text only".into())),
            }
        })
    }
}
