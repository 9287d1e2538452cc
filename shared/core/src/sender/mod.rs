//! Delivery of codes, one sender per channel. The service asks
//! [`Senders`] for the channel's sender; Lambda registers SNS for SMS,
//! `verify-local` an [`outbox::Outbox`] (or SNS with `--aws`). A function
//! registers only the senders it uses, so a binary that never sends (like
//! check-verify) links no sender's SDK.

pub mod outbox;

use crate::channel::Channel;
use crate::message::Content;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// One message to one recipient.
#[derive(Clone, Debug)]
pub struct Message {
    pub channel: Channel,
    /// The recipient's address: an E.164 number or an e-mail address.
    pub to: String,
    pub content: Content,
    /// SMS: the sender profile the service's messaging configuration picks
    /// for the recipient's country ([`crate::messaging`]); `None`: the
    /// sender's own settings. Senders without profiles (SNS) never get one.
    pub sms_profile: Option<std::sync::Arc<crate::messaging::SmsProfile>>,
}

/// The message was not accepted for delivery. Safe to report: no code inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError(pub String);

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SendError>> + Send + 'a>>;

/// Delivers messages of the channels it is registered for.
pub trait Sender: Send + Sync {
    fn send<'a>(&'a self, message: &'a Message) -> SendFuture<'a>;
}

/// The senders of a deployment, by channel.
#[derive(Clone, Default)]
pub struct Senders {
    by_channel: Vec<(Channel, Arc<dyn Sender>)>,
}

impl Senders {
    /// None at all: a function that never sends.
    pub fn none() -> Senders {
        Senders::default()
    }

    /// Registers `sender` for `channel` (replacing any other).
    pub fn with(mut self, channel: Channel, sender: Arc<dyn Sender>) -> Senders {
        self.by_channel.retain(|(c, _)| *c != channel);
        self.by_channel.push((channel, sender));
        self
    }

    /// Only SMS, through `sender`.
    pub fn sms(sender: impl Sender + 'static) -> Senders {
        Senders::none().with(Channel::Sms, Arc::new(sender))
    }

    pub fn get(&self, channel: Channel) -> Option<&dyn Sender> {
        self.by_channel.iter().find(|(c, _)| *c == channel).map(|(_, s)| s.as_ref())
    }
}

impl std::fmt::Debug for Senders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.by_channel.iter().map(|(c, _)| c)).finish()
    }
}
