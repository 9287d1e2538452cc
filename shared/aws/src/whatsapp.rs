//! The `whatsapp` channel: an authentication template with a copy-code
//! button, through AWS End User Messaging Social `SendWhatsAppMessage`
//! (restJson1, `POST /v1/whatsapp/send`). Its `message` is the WhatsApp
//! Cloud API message object, passed through to Meta as bytes; it is built by
//! [`verify_core::whatsapp::message_json`], the same object verify-local
//! lists.

use aws_sdk_socialmessaging::primitives::Blob;
use verify_core::message::Content;
use verify_core::sender::{Message, SendError, SendFuture, Sender};
use verify_core::whatsapp::{Whatsapp, WhatsappSettings, message_json};

#[derive(Clone, Debug)]
pub struct WhatsappSender {
    client: aws_sdk_socialmessaging::Client,
    phone_number_id: String,
    template_name: String,
    meta_api_version: String,
}

impl WhatsappSender {
    /// `None` when no phone number id is configured: then the deployment
    /// has no WhatsApp sender and a WhatsApp start is refused (60223).
    /// (Settings never hold an id without a template name.)
    pub fn new(client: aws_sdk_socialmessaging::Client, settings: &WhatsappSettings) -> Option<Self> {
        Some(WhatsappSender {
            client,
            phone_number_id: settings.phone_number_id.clone()?,
            template_name: settings.template_name.clone()?,
            meta_api_version: settings.meta_api_version.clone(),
        })
    }

    async fn send_template(&self, to: &str, whatsapp: &Whatsapp) -> Result<(), SendError> {
        self.client
            .send_whats_app_message()
            .origination_phone_number_id(&self.phone_number_id)
            .message(Blob::new(message_json(to, &self.template_name, whatsapp)))
            .meta_api_version(&self.meta_api_version)
            .send()
            .await
            .map(|_| ())
            // The SDK error names the operation and cause; the message is
            // a sensitive blob the SDK never prints.
            .map_err(|e| SendError(format!("SendWhatsAppMessage failed: {}", aws_sdk_socialmessaging::error::DisplayErrorContext(&e))))
    }
}

/// WhatsApp: the template to a phone number.
impl Sender for WhatsappSender {
    fn send<'a>(&'a self, message: &'a Message) -> SendFuture<'a> {
        Box::pin(async move {
            match &message.content {
                Content::Whatsapp(whatsapp) => self.send_template(&message.to, whatsapp).await,
                // The registry gives this sender WhatsApp content only;
                // anything else is a wiring mistake, not a message.
                _ => Err(SendError("End User Messaging Social carries WhatsApp templates only".into())),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_phone_number_id_no_sender() {
        let client = crate::clients::whatsapp_at("http://127.0.0.1:1");
        assert!(WhatsappSender::new(client.clone(), &WhatsappSettings::default()).is_none());
        let set = WhatsappSettings {
            phone_number_id: Some("phone-number-id-0123456789abcdef0123456789abcdef".into()),
            template_name: Some("acme_code".into()),
            ..WhatsappSettings::default()
        };
        assert!(WhatsappSender::new(client, &set).is_some());
    }
}
