//! The delivery channels: one registry of what each channel accepts, what
//! it delivers (its message template) and which sender carries it. Adding a
//! channel is one entry here, its template in [`crate::message`], a sender
//! adapter registered for it (see [`crate::sender::Senders`]), its
//! configuration, and its IAM action in `template.yaml`.

use crate::message::{self, Content, Template};
use crate::recipient::RecipientKind;

/// A channel Twilio Verify names for codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    Sms,
    Call,
    Email,
    Whatsapp,
}

/// What a channel takes and delivers.
#[derive(Debug)]
pub struct ChannelSpec {
    pub channel: Channel,
    /// The name on the wire (`Channel=sms`) and in configuration.
    pub name: &'static str,
    pub accepts: RecipientKind,
    pub template: Template,
}

/// The channels this service delivers on. A Twilio channel missing from
/// here answers 60223 ("delivery channel disabled"), never a 500.
pub const REGISTRY: &[ChannelSpec] = &[
    ChannelSpec { channel: Channel::Sms, name: "sms", accepts: RecipientKind::Phone, template: message::sms },
    ChannelSpec { channel: Channel::Call, name: "call", accepts: RecipientKind::Phone, template: message::call },
    ChannelSpec { channel: Channel::Email, name: "email", accepts: RecipientKind::Email, template: message::email },
    ChannelSpec { channel: Channel::Whatsapp, name: "whatsapp", accepts: RecipientKind::Phone, template: message::whatsapp },
];

/// Twilio's names for channels (and channel modes) it has and this service
/// does not deliver on: asked for, they are disabled, not unknown.
const NOT_DELIVERED: &[&str] = &["sna", "rcs"];

/// `Channel=auto`: not a channel but a choice between SMS and call, made per
/// number by [`crate::service::Verifier::auto_channel`].
pub fn is_auto(raw: &str) -> bool {
    raw.trim().eq_ignore_ascii_case("auto")
}

/// Why a `Channel` value cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChannelError {
    /// A Twilio channel this service does not deliver on (Twilio 60223).
    NotDelivered(String),
    /// Not a channel at all (Twilio 60200).
    Unknown,
}

impl Channel {
    pub fn spec(self) -> &'static ChannelSpec {
        REGISTRY.iter().find(|s| s.channel == self).expect("every channel in use is registered")
    }

    pub fn as_str(self) -> &'static str {
        self.spec().name
    }

    /// A channel by its wire name, any case.
    pub fn parse(raw: &str) -> Result<Channel, ChannelError> {
        let name = raw.trim().to_ascii_lowercase();
        if let Some(spec) = REGISTRY.iter().find(|s| s.name == name) {
            return Ok(spec.channel);
        }
        if NOT_DELIVERED.contains(&name.as_str()) {
            return Err(ChannelError::NotDelivered(name));
        }
        Err(ChannelError::Unknown)
    }

    /// The message this channel carries for a code.
    pub fn content(self, params: &message::Params<'_>) -> Content {
        (self.spec().template)(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_to_registered_channels_or_say_why_not() {
        assert_eq!(Channel::parse(" SMS "), Ok(Channel::Sms));
        assert_eq!(Channel::Sms.as_str(), "sms");
        assert_eq!(Channel::Sms.spec().accepts, RecipientKind::Phone);
        assert_eq!(Channel::parse("Call"), Ok(Channel::Call));
        assert_eq!(Channel::Call.spec().accepts, RecipientKind::Phone);
        assert_eq!(Channel::parse("Email"), Ok(Channel::Email));
        assert_eq!(Channel::Email.spec().accepts, RecipientKind::Email);
        assert_eq!(Channel::parse("WhatsApp"), Ok(Channel::Whatsapp));
        assert_eq!(Channel::Whatsapp.spec().accepts, RecipientKind::Phone);
        assert_eq!(Channel::parse("sna"), Err(ChannelError::NotDelivered("sna".into())));
        assert_eq!(Channel::parse("pigeon"), Err(ChannelError::Unknown));
    }

    #[test]
    fn every_registered_channel_is_named_once() {
        for (i, a) in REGISTRY.iter().enumerate() {
            assert!(REGISTRY[i + 1..].iter().all(|b| b.name != a.name && b.channel != a.channel), "{a:?}");
            assert!(!NOT_DELIVERED.contains(&a.name), "{} is registered and listed as not delivered", a.name);
        }
    }
}
