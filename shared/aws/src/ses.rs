//! E-mail through Amazon SES v2 `SendEmail`, with `Simple` content: the
//! subject and both bodies of [`verify_core::message::email`], from the
//! configured identity (or the one a start chose and its service allows).

use aws_sdk_sesv2::types::{Body, Content as SesContent, Destination, EmailContent, Message as SesMessage};
use base64::Engine;
use verify_core::config::EmailSettings;
use verify_core::message::{Content, Email};
use verify_core::sender::{Message, SendError, SendFuture, Sender};

#[derive(Clone, Debug)]
pub struct SesSender {
    client: aws_sdk_sesv2::Client,
    /// The default sender (`from` is set: no sender is built without one).
    settings: EmailSettings,
}

impl SesSender {
    /// `None` when no sender address is configured: then no e-mail channel.
    pub fn new(client: aws_sdk_sesv2::Client, settings: EmailSettings) -> Option<Self> {
        settings.from.is_some().then_some(SesSender { client, settings })
    }

    /// The `From` header value: the address, with its display name when
    /// there is one (the start's, else the configured one).
    fn sender_field(&self, email: &Email) -> String {
        let address = email.from.address.as_deref().or(self.settings.from.as_deref()).unwrap_or_default();
        match email.from.name.as_deref().or(self.settings.from_name.as_deref()) {
            Some(name) => format!("{} <{address}>", display_name(name)),
            None => address.to_owned(),
        }
    }

    async fn send_email(&self, to: &str, email: &Email) -> Result<(), SendError> {
        let text = |data: &str| SesContent::builder().data(data).charset("UTF-8").build().expect("data is set");
        let message = SesMessage::builder()
            .subject(text(&email.subject))
            .body(Body::builder().text(text(&email.text)).html(text(&email.html)).build())
            .build();
        self.client
            .send_email()
            .from_email_address(self.sender_field(email))
            .destination(Destination::builder().to_addresses(to).build())
            .content(EmailContent::builder().simple(message).build())
            .set_configuration_set_name(self.settings.configuration_set.clone())
            .send()
            .await
            .map(|_| ())
            // The SDK error names the operation and cause, never the content.
            .map_err(|e| SendError(format!("SES SendEmail failed: {}", aws_sdk_sesv2::error::DisplayErrorContext(&e))))
    }
}

/// A display name as a header allows it: quoted (names may hold commas),
/// or as an RFC 2047 encoded word when it is not ASCII, which SES asks for.
fn display_name(name: &str) -> String {
    if name.is_ascii() {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        format!("=?UTF-8?B?{}?=", base64::engine::general_purpose::STANDARD.encode(name))
    }
}

/// E-mail: the e-mail content to an address.
impl Sender for SesSender {
    fn send<'a>(&'a self, message: &'a Message) -> SendFuture<'a> {
        Box::pin(async move {
            match &message.content {
                Content::Email(email) => self.send_email(&message.to, email).await,
                // The registry gives SES only e-mail; anything else is a wiring mistake.
                other => Err(SendError(format!("SES sends e-mail only, not {other:?}"))),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_quoted_or_encoded() {
        assert_eq!(display_name("Acme, Inc"), "\"Acme, Inc\"");
        assert_eq!(display_name("A \"B\""), "\"A \\\"B\\\"\"");
        assert_eq!(display_name("Café"), "=?UTF-8?B?Q2Fmw6k=?=");
    }
}
