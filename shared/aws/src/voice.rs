//! The `call` channel: a voice call reading the code, through AWS End User
//! Messaging SMS and Voice v2 `SendVoiceMessage` with an SSML body.

use aws_sdk_pinpointsmsvoicev2::types::{VoiceId, VoiceMessageBodyTextType};
use verify_core::config::VoiceSettings;
use verify_core::message::Content;
use verify_core::sender::{Message, SendError, SendFuture, Sender};

#[derive(Clone, Debug)]
pub struct VoiceSender {
    client: aws_sdk_pinpointsmsvoicev2::Client,
    origination_identity: String,
    settings: VoiceSettings,
}

impl VoiceSender {
    /// `None` when no origination identity is configured: then the
    /// deployment has no call sender and a call start is refused (60223).
    pub fn new(client: aws_sdk_pinpointsmsvoicev2::Client, settings: VoiceSettings) -> Option<Self> {
        let origination_identity = settings.origination_identity.clone()?;
        Some(VoiceSender { client, origination_identity, settings })
    }

    /// Opens the connection with `DescribeSpendLimits`: it reads only the
    /// account's spend limits (no person's data) and sends nothing. The
    /// policy grants it for this; any answer leaves the connection open.
    pub async fn warm_up(&self) -> Result<(), SendError> {
        describe_spend_limits(&self.client).await
    }

    async fn call(&self, to: &str, language: &str, ssml: &str) -> Result<(), SendError> {
        let mut call = self
            .client
            .send_voice_message()
            .destination_phone_number(to)
            .origination_identity(&self.origination_identity)
            .message_body(ssml)
            .message_body_text_type(VoiceMessageBodyTextType::Ssml)
            .voice_id(voice_for(language))
            // A code is valid for minutes: a call placed later is no use.
            .time_to_live(CALL_TIME_TO_LIVE_SECS);
        if let Some(set) = &self.settings.configuration_set {
            call = call.configuration_set_name(set);
        }
        if let Some(price) = &self.settings.max_price_per_minute {
            call = call.max_price_per_minute(price);
        }
        call.send().await.map(|_| ()).map_err(|e| {
            // The SDK error names the operation and cause, never the body.
            SendError(format!("SendVoiceMessage failed: {}", aws_sdk_pinpointsmsvoicev2::error::DisplayErrorContext(&e)))
        })
    }
}

/// The warm-up call of End User Messaging's senders: one cheap read.
pub(crate) async fn describe_spend_limits(client: &aws_sdk_pinpointsmsvoicev2::Client) -> Result<(), SendError> {
    client
        .describe_spend_limits()
        .max_results(1)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| SendError(format!("DescribeSpendLimits failed: {}", aws_sdk_pinpointsmsvoicev2::error::DisplayErrorContext(&e))))
}

/// How long End User Messaging may keep trying to place the call (the API's
/// least is 5 s); past this the code is near its expiry anyway.
const CALL_TIME_TO_LIVE_SECS: i32 = 120;

/// The Amazon Polly voice of a locale (the table in `verify_core::locale`
/// names one per locale the voice API can read; the call template has
/// already fallen back to such a locale). English is the last resort.
pub fn voice_for(language: &str) -> VoiceId {
    let locale = verify_core::locale::for_call(verify_core::locale::get(language));
    locale.voice.as_ref().map_or(VoiceId::Joanna, |v| VoiceId::from(v.id))
}

/// Call: the SSML read to a phone number.
impl Sender for VoiceSender {
    fn send<'a>(&'a self, message: &'a Message) -> SendFuture<'a> {
        Box::pin(async move {
            match &message.content {
                Content::Ssml { language, ssml } => self.call(&message.to, language, ssml).await,
                // The registry gives the call channel its SSML template;
                // anything else here is a wiring mistake, not a message.
                _ => Err(SendError("a voice call carries SSML only".into())),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_voice_in_the_locale_table_is_one_the_voice_api_knows() {
        for locale in verify_core::locale::LOCALES {
            if let Some(v) = &locale.voice {
                assert!(VoiceId::values().contains(&v.id), "{}: {}", locale.tag, v.id);
                let voice = VoiceId::from(v.id);
                assert_eq!(voice_for(locale.tag), voice);
            }
        }
        assert_eq!(voice_for("es"), VoiceId::Lucia);
        assert_eq!(voice_for("pt-BR"), VoiceId::Camila);
        assert_eq!(voice_for("pt"), VoiceId::Ines);
        assert_eq!(voice_for("en-GB"), VoiceId::Amy);
        assert_eq!(voice_for("zh-HK"), VoiceId::Zhiyu, "no Cantonese voice: Mandarin");
        assert_eq!(voice_for("hi"), VoiceId::Joanna, "no Hindi voice: English");
        assert_eq!(voice_for("xx"), VoiceId::Joanna);
    }

    #[test]
    fn no_identity_no_sender() {
        let client = crate::clients::LambdaEnv::from_lookup(|n| {
            [("AWS_REGION", "us-east-1"), ("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b")]
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.to_string())
        })
        .unwrap()
        .voice();
        assert!(VoiceSender::new(client.clone(), VoiceSettings::default()).is_none());
        let set = VoiceSettings { origination_identity: Some("+12065550100".into()), ..VoiceSettings::default() };
        assert!(VoiceSender::new(client, set).is_some());
    }
}
