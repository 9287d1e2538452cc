//! Local delivery: messages are kept in memory (and shown by verify-local)
//! instead of being sent, so a developer or a test can read the code.

use super::{Message, SendError, SendFuture, Sender};
use crate::clock::{Clock, SystemClock};
use crate::message::Content;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct OutboxMessage {
    pub to: String,
    pub channel: String,
    /// What a person reads: the SMS, or the e-mail's plain-text body.
    pub body: String,
    pub date_created: String,
    /// E-mail only: the subject, the HTML body, and a sender the start chose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// SMS only: the sender profile a messaging configuration picked (its
    /// origination identity, if it names one, is `from`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_service_sid: Option<String>,
    /// WhatsApp only: the template's name and Meta language code, and the
    /// Cloud API message object End User Messaging Social would be given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<serde_json::Value>,
}

/// Called with each message as it is sent (verify-local prints it).
type SendHook = Arc<dyn Fn(&OutboxMessage) + Send + Sync>;

/// Keeps the newest messages, up to a bound so a long-running local server
/// does not grow without end.
#[derive(Clone, Default)]
pub struct Outbox {
    messages: Arc<Mutex<Vec<OutboxMessage>>>,
    on_send: Option<SendHook>,
    failing: Arc<Mutex<Option<String>>>,
    /// The WhatsApp template name shown (the configured one, else
    /// [`crate::whatsapp::LOCAL_TEMPLATE_NAME`]).
    whatsapp_template: Option<String>,
}

const KEPT: usize = 1000;

impl Outbox {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `f` on every message as it is "sent" (verify-local prints it).
    pub fn on_send(mut self, f: impl Fn(&OutboxMessage) + Send + Sync + 'static) -> Self {
        self.on_send = Some(Arc::new(f));
        self
    }

    /// Shows WhatsApp messages with this template name.
    pub fn whatsapp_template(mut self, name: Option<String>) -> Self {
        self.whatsapp_template = name;
        self
    }

    /// Makes every send fail with `reason` until cleared: lets a test see
    /// what the service does when the SMS provider is down.
    pub fn fail_with(&self, reason: Option<&str>) {
        *self.failing.lock().unwrap() = reason.map(str::to_owned);
    }

    /// Messages to `to` (all when `None`), oldest first.
    pub fn messages(&self, to: Option<&str>) -> Vec<OutboxMessage> {
        let all = self.messages.lock().unwrap();
        all.iter().filter(|m| to.is_none_or(|t| m.to == t)).cloned().collect()
    }
}

impl Outbox {
    fn keep(&self, message: &Message) -> Result<(), SendError> {
        if let Some(reason) = self.failing.lock().unwrap().clone() {
            return Err(SendError(reason));
        }
        let email = match &message.content {
            Content::Email(e) => Some(e),
            _ => None,
        };
        let whatsapp = match &message.content {
            Content::Whatsapp(w) => {
                let template = self.whatsapp_template.as_deref().unwrap_or(crate::whatsapp::LOCAL_TEMPLATE_NAME);
                let object = crate::whatsapp::message_json(&message.to, template, w);
                Some((template.to_owned(), w, serde_json::from_str(&object).ok()))
            }
            _ => None,
        };
        let body = match &whatsapp {
            // The words are Meta's; what the template is given, ending with the code.
            Some((template, w, _)) => {
                format!("template {template} ({}): body parameter {}, copy-code button parameter {}", w.language, w.code, w.code)
            }
            None => message.content.text().to_owned(),
        };
        let kept = OutboxMessage {
            to: message.to.clone(),
            channel: message.channel.as_str().to_owned(),
            body,
            date_created: crate::time_fmt::iso8601(SystemClock.now()),
            subject: email.map(|e| e.subject.clone()),
            html: email.map(|e| e.html.clone()),
            from: email
                .and_then(|e| match (&e.from.name, &e.from.address) {
                    (Some(name), Some(address)) => Some(format!("{name} <{address}>")),
                    (None, Some(address)) => Some(address.clone()),
                    (Some(name), None) => Some(name.clone()),
                    (None, None) => None,
                })
                .or_else(|| message.sms_profile.as_ref().and_then(|p| p.settings.origination_identity.clone())),
            messaging_service_sid: message.sms_profile.as_ref().map(|p| p.sid.clone()),
            template: whatsapp.as_ref().map(|(t, _, _)| t.clone()),
            language: whatsapp.as_ref().map(|(_, w, _)| w.language.to_owned()),
            message: whatsapp.and_then(|(_, _, m)| m),
        };
        if let Some(f) = &self.on_send {
            f(&kept);
        }
        let mut all = self.messages.lock().unwrap();
        if all.len() >= KEPT {
            all.remove(0);
        }
        all.push(kept);
        Ok(())
    }
}

/// Every channel's messages are kept alike, with their channel.
impl Sender for Outbox {
    fn send<'a>(&'a self, message: &'a Message) -> SendFuture<'a> {
        Box::pin(async move { self.keep(message) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::Channel;
    use crate::whatsapp::Whatsapp;

    #[tokio::test]
    async fn a_whatsapp_message_is_listed_with_its_template_language_and_message_object() {
        let whatsapp = |code: &str| Message {
            channel: Channel::Whatsapp,
            to: "+14155550100".into(),
            content: Content::Whatsapp(Whatsapp { language: "en", code: code.into() }),
            sms_profile: None,
        };
        let outbox = Outbox::new();
        outbox.send(&whatsapp("123456")).await.unwrap();
        let configured = Outbox::new().whatsapp_template(Some("acme_code".into()));
        configured.send(&whatsapp("654321")).await.unwrap();
        let [local] = &outbox.messages(None)[..] else { panic!() };
        assert_eq!(
            (local.channel.as_str(), local.template.as_deref(), local.language.as_deref()),
            ("whatsapp", Some("verification_code"), Some("en"))
        );
        assert!(local.body.ends_with("123456"), "{}", local.body);
        let [sent] = &configured.messages(None)[..] else { panic!() };
        let object = sent.message.as_ref().unwrap();
        assert_eq!(object["template"]["name"], "acme_code");
        assert_eq!(object["template"]["components"][1]["parameters"][0]["text"], "654321");
        assert_eq!(
            object.to_string(),
            crate::whatsapp::message_json("+14155550100", "acme_code", &Whatsapp { language: "en", code: "654321".into() })
        );
    }
}
