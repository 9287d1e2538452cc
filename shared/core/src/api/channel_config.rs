//! Twilio's `ChannelConfiguration` start parameter (a JSON object), read
//! for e-mail. Twilio hands it to a SendGrid template; this service sends
//! its own localised e-mail through Amazon SES, so only what still means
//! something here is honoured:
//!
//! - `from`, `from_name`: the sender, when the service allows it (`from`
//!   listed in its `email_from_allowed`; `from_name` when it allows
//!   `CustomFriendlyName`, checked by the same rule);
//! - `template_id`, `substitutions`: refused with what to do instead, since
//!   ignoring them would send another e-mail than the one asked for.

use super::ApiError;
use super::error::code;
use crate::channel::Channel;
use crate::config::{Service, check_friendly_name};
use crate::email::EmailAddress;
use crate::message::EmailFrom;
use serde_json::Value;

/// The sender a start asks for, if the service allows it.
pub fn email_from(raw: Option<&str>, channel: Channel, service: &Service) -> Result<EmailFrom, ApiError> {
    let Some(raw) = raw else { return Ok(EmailFrom::default()) };
    let Ok(Value::Object(config)) = serde_json::from_str::<Value>(raw) else {
        return Err(ApiError::invalid("Invalid parameter: ChannelConfiguration (must be a JSON object)"));
    };
    if config.is_empty() {
        return Ok(EmailFrom::default());
    }
    if channel != Channel::Email {
        return Err(ApiError::invalid(format!(
            "Invalid parameter: ChannelConfiguration applies to Channel=email only, not {}",
            channel.as_str()
        )));
    }
    let mut from = EmailFrom::default();
    for (key, value) in &config {
        match key.as_str() {
            "template_id" => {
                return Err(ApiError::invalid(
                    "Invalid parameter: ChannelConfiguration.template_id names a SendGrid template, and this service sends its own \
                 localised e-mail through Amazon SES: leave template_id out (the e-mail names your service by its friendly_name, \
                 or by CustomFriendlyName)",
                ));
            }
            "substitutions" => {
                return Err(ApiError::invalid(
                    "Invalid parameter: ChannelConfiguration.substitutions fill a SendGrid template, which this service does not use: \
                 leave them out (use CustomFriendlyName to change the name in the e-mail)",
                ));
            }
            "from" => from.address = Some(sender(value, service)?),
            "from_name" => from.name = Some(sender_name(value, service)?),
            other => {
                return Err(ApiError::invalid(format!("Invalid parameter: ChannelConfiguration.{other} (known: from, from_name)")));
            }
        }
    }
    Ok(from)
}

fn sender(value: &Value, service: &Service) -> Result<String, ApiError> {
    let address = value
        .as_str()
        .and_then(|a| EmailAddress::parse(a).ok())
        .ok_or_else(|| ApiError::invalid("Invalid parameter: ChannelConfiguration.from (must be a valid e-mail address)"))?;
    if !service.allows_email_from(&address) {
        return Err(ApiError::new(
            403,
            code::FEATURE_NOT_SUPPORTED,
            "Service does not support this feature: ChannelConfiguration.from with this address \
             (list it, or its @domain, in the service's email_from_allowed)",
        ));
    }
    Ok(address.address().to_owned())
}

fn sender_name(value: &Value, service: &Service) -> Result<String, ApiError> {
    let name = value.as_str().ok_or_else(|| ApiError::invalid("Invalid parameter: ChannelConfiguration.from_name (must be a string)"))?;
    if !service.custom_friendly_name {
        return Err(ApiError::new(
            403,
            code::FEATURE_NOT_SUPPORTED,
            "Service does not support this feature: ChannelConfiguration.from_name (the service does not allow custom names)",
        ));
    }
    check_friendly_name(name).map_err(|e| ApiError::invalid(format!("Invalid parameter: ChannelConfiguration.from_name ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Limits, Service};

    fn service() -> Service {
        let mut s = Service::new("VA1".into(), "Acme".into(), Limits::default());
        s.email_from_allowed = vec!["team@acme.example".into()];
        s
    }

    #[test]
    fn the_sender_is_honoured_when_allowed() {
        let from = email_from(Some(r#"{"from":"Team@acme.example","from_name":"Acme Team"}"#), Channel::Email, &service()).unwrap();
        assert_eq!((from.address.as_deref(), from.name.as_deref()), (Some("Team@acme.example"), Some("Acme Team")));
        assert_eq!(email_from(None, Channel::Email, &service()).unwrap(), EmailFrom::default());
        assert_eq!(email_from(Some("{}"), Channel::Sms, &service()).unwrap(), EmailFrom::default());
    }

    #[test]
    fn what_has_no_meaning_here_is_refused_saying_what_to_do() {
        let s = service();
        let err = |raw: &str, channel| email_from(Some(raw), channel, &s).unwrap_err();
        let e = err(r#"{"template_id":"d-123","substitutions":{"email":"a@b.example"}}"#, Channel::Email);
        assert_eq!((e.status, e.code), (400, 60200));
        assert!(e.message.contains("template_id") || e.message.contains("substitutions"), "{}", e.message);
        let e = err(r#"{"template_id":"d-123"}"#, Channel::Email);
        assert!(e.message.contains("leave template_id out"), "{}", e.message);
        assert!(err(r#"{"substitutions":{}}"#, Channel::Email).message.contains("CustomFriendlyName"));
        let e = err(r#"{"from":"other@acme.example"}"#, Channel::Email);
        assert_eq!((e.status, e.code), (403, 60204));
        assert!(e.message.contains("email_from_allowed"));
        assert_eq!(err(r#"{"from":"not an address"}"#, Channel::Email).status, 400);
        assert!(err(r#"{"from_name":"visit evil.com"}"#, Channel::Email).message.contains("from_name"));
        assert!(err(r#"{"from":"team@acme.example"}"#, Channel::Sms).message.contains("Channel=email"));
        assert!(err("[1]", Channel::Email).message.contains("JSON object"));
        assert!(err(r#"{"reply_to":"x"}"#, Channel::Email).message.contains("reply_to"));
        let mut closed = service();
        closed.custom_friendly_name = false;
        assert_eq!(email_from(Some(r#"{"from_name":"Acme"}"#), Channel::Email, &closed).unwrap_err().status, 403);
    }
}
