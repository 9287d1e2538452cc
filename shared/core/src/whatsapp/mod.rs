//! The `whatsapp` channel: a Meta authentication template with a
//! copy-code button, sent through AWS End User Messaging Social
//! `SendWhatsAppMessage`, which passes a WhatsApp Cloud API message object
//! through to Meta. The template is the deployment's own (Meta approves it
//! per business and language): its body is Meta's preset "<code> is your
//! verification code." and its one button copies the code. Here: the
//! message object ([`message_json`], one implementation for the sender and
//! for verify-local's outbox), the language ([`locale`]) and the settings.

pub mod locale;

use crate::config::env;

/// What a WhatsApp code message carries: the template language and the
/// code (the template's name is the sender's configuration). Never logged:
/// [`crate::message::Content`]'s Debug hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct Whatsapp {
    /// Meta's language code (`en`, `pt_BR`), from [`locale::whatsapp_language`].
    pub language: &'static str,
    pub code: String,
}

/// The Cloud API message object for an authentication template: the code
/// as the body's one parameter and as the copy-code button's (a copy-code
/// button is created as type `otp` and sent as a `url` button at index 0;
/// Meta, "Copy code authentication templates"). The `deterministic`
/// language policy is the only one Meta accepts: the template is sent in
/// exactly this language or not at all.
pub fn message_json(to: &str, template_name: &str, message: &Whatsapp) -> String {
    let code = serde_json::json!([{"type": "text", "text": message.code}]);
    serde_json::json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "template",
        "template": {
            "name": template_name,
            "language": {"policy": "deterministic", "code": message.language},
            "components": [
                {"type": "body", "parameters": code},
                {"type": "button", "sub_type": "url", "index": "0", "parameters": code},
            ],
        },
    })
    .to_string()
}

/// The template name verify-local shows when none is configured (nothing
/// is sent there, so no template needs to exist).
pub const LOCAL_TEMPLATE_NAME: &str = "verification_code";

/// The Graph API version End User Messaging Social is asked to call Meta
/// with when none is configured: the one AWS's own example uses.
pub const DEFAULT_META_API_VERSION: &str = "v20.0";

/// The WhatsApp sender's settings. Without a phone number id there is no
/// WhatsApp sender, and `Channel=whatsapp` answers 60223.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WhatsappSettings {
    /// The End User Messaging Social phone number id (or its ARN) messages
    /// come from (`originationPhoneNumberId`).
    pub phone_number_id: Option<String>,
    /// The approved authentication template (required with the id).
    pub template_name: Option<String>,
    /// `metaApiVersion`, `v{N}` or `v{N}.{M}`.
    pub meta_api_version: String,
}

impl Default for WhatsappSettings {
    fn default() -> Self {
        WhatsappSettings { phone_number_id: None, template_name: None, meta_api_version: DEFAULT_META_API_VERSION.into() }
    }
}

impl WhatsappSettings {
    /// Checked at start-up against the API's rules (the id's pattern and
    /// length in the service model, Meta's template-name form), so a typo
    /// stops the function instead of failing every WhatsApp start.
    pub fn read<'a>(get: &impl Fn(&str) -> Option<&'a str>) -> Result<WhatsappSettings, String> {
        let phone_number_id = get(env::WHATSAPP_PHONE_NUMBER_ID).map(str::to_owned);
        if let Some(id) = &phone_number_id
            && !is_phone_number_id(id)
        {
            return Err(format!(
                "{}: {id:?} is not an End User Messaging Social phone number id (phone-number-id-…) or its ARN",
                env::WHATSAPP_PHONE_NUMBER_ID
            ));
        }
        let template_name = get(env::WHATSAPP_TEMPLATE_NAME).map(str::to_owned);
        if let Some(name) = &template_name
            && !is_template_name(name)
        {
            return Err(format!(
                "{}: {name:?} is not a WhatsApp template name (lower-case letters, digits and _, at most 512)",
                env::WHATSAPP_TEMPLATE_NAME
            ));
        }
        match (&phone_number_id, &template_name) {
            (Some(_), None) => {
                return Err(format!(
                    "{} needs {} (the approved authentication template)",
                    env::WHATSAPP_PHONE_NUMBER_ID,
                    env::WHATSAPP_TEMPLATE_NAME
                ));
            }
            (None, Some(_)) => {
                return Err(format!(
                    "{} needs {} (the number it is sent from)",
                    env::WHATSAPP_TEMPLATE_NAME,
                    env::WHATSAPP_PHONE_NUMBER_ID
                ));
            }
            _ => {}
        }
        let meta_api_version = get(env::WHATSAPP_META_API_VERSION).unwrap_or(DEFAULT_META_API_VERSION).to_owned();
        if !is_api_version(&meta_api_version) {
            return Err(format!("{}: {meta_api_version:?} is not a Graph API version like v20.0", env::WHATSAPP_META_API_VERSION));
        }
        Ok(WhatsappSettings { phone_number_id, template_name, meta_api_version })
    }
}

/// `WhatsAppPhoneNumberId` of the service model: 1 to 115 characters,
/// `phone-number-id-…` or `arn:…:phone-number-id/[0-9a-zA-Z]+`.
fn is_phone_number_id(id: &str) -> bool {
    let arn = id.starts_with("arn:")
        && id.rsplit_once(":phone-number-id/").is_some_and(|(_, rest)| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric()));
    let plain = id.strip_prefix("phone-number-id-").is_some_and(|rest| rest.chars().all(|c| c.is_ascii_alphanumeric()));
    id.len() <= 115 && (arn || plain) && !id.chars().any(char::is_whitespace)
}

/// Meta's template names: lower-case letters, digits and underscores.
fn is_template_name(name: &str) -> bool {
    name.len() <= 512 && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn is_api_version(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else { return false };
    let (major, minor) = rest.split_once('.').unwrap_or((rest, "0"));
    let digits = |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
    digits(major) && digits(minor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_is_an_authentication_template_with_the_code_twice() {
        let m = Whatsapp { language: "pt_BR", code: "904217".into() };
        let json: serde_json::Value = serde_json::from_str(&message_json("+5511987654321", "verify_code", &m)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "messaging_product": "whatsapp", "recipient_type": "individual", "to": "+5511987654321", "type": "template",
                "template": {
                    "name": "verify_code",
                    "language": {"policy": "deterministic", "code": "pt_BR"},
                    "components": [
                        {"type": "body", "parameters": [{"type": "text", "text": "904217"}]},
                        {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "904217"}]},
                    ],
                },
            })
        );
    }

    fn read(pairs: &[(&str, &str)]) -> Result<WhatsappSettings, String> {
        let get = |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
        WhatsappSettings::read(&get)
    }

    #[test]
    fn settings_are_checked_and_come_together() {
        assert_eq!(read(&[]).unwrap(), WhatsappSettings::default());
        let id = "phone-number-id-0123456789abcdef0123456789abcdef";
        let s = read(&[
            (env::WHATSAPP_PHONE_NUMBER_ID, id),
            (env::WHATSAPP_TEMPLATE_NAME, "acme_code"),
            (env::WHATSAPP_META_API_VERSION, "v21.0"),
        ])
        .unwrap();
        assert_eq!(
            (s.phone_number_id.as_deref(), s.template_name.as_deref(), s.meta_api_version.as_str()),
            (Some(id), Some("acme_code"), "v21.0")
        );
        let arn = "arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/0123456789abcdef";
        assert!(read(&[(env::WHATSAPP_PHONE_NUMBER_ID, arn), (env::WHATSAPP_TEMPLATE_NAME, "a")]).is_ok());
        for (pairs, names) in [
            (vec![(env::WHATSAPP_PHONE_NUMBER_ID, id)], env::WHATSAPP_TEMPLATE_NAME),
            (vec![(env::WHATSAPP_TEMPLATE_NAME, "acme")], env::WHATSAPP_PHONE_NUMBER_ID),
            (vec![(env::WHATSAPP_PHONE_NUMBER_ID, "+14155550100"), (env::WHATSAPP_TEMPLATE_NAME, "a")], env::WHATSAPP_PHONE_NUMBER_ID),
            (vec![(env::WHATSAPP_PHONE_NUMBER_ID, id), (env::WHATSAPP_TEMPLATE_NAME, "Acme Code")], env::WHATSAPP_TEMPLATE_NAME),
            (vec![(env::WHATSAPP_META_API_VERSION, "20")], env::WHATSAPP_META_API_VERSION),
            (vec![(env::WHATSAPP_META_API_VERSION, "v20.")], env::WHATSAPP_META_API_VERSION),
        ] {
            let err = read(&pairs).unwrap_err();
            assert!(err.contains(names), "{pairs:?}: {err}");
        }
    }
}
