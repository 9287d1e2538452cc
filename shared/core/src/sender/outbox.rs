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
        let kept = OutboxMessage {
            to: message.to.clone(),
            channel: message.channel.as_str().to_owned(),
            body: message.content.text().to_owned(),
            date_created: crate::time_fmt::iso8601(SystemClock.now()),
            subject: email.map(|e| e.subject.clone()),
            html: email.map(|e| e.html.clone()),
            from: email.and_then(|e| match (&e.from.name, &e.from.address) {
                (Some(name), Some(address)) => Some(format!("{name} <{address}>")),
                (None, Some(address)) => Some(address.clone()),
                (Some(name), None) => Some(name.clone()),
                (None, None) => None,
            }),
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
