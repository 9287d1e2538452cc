//! Request parameters from a form-encoded or JSON body, looked up by any of
//! the names clients use (`To`, `to`; `Code`, `code`, `verification_code`).

use super::ApiError;
pub use crate::access::body::{BodyKind, UnsupportedType};

/// Largest body accepted. A verification request is a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 8 * 1024;

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Text(String),
    /// A JSON number, boolean, array, object or null: never a valid value
    /// for a text parameter (a numeric code would lose its leading zeros);
    /// an object is one for [`Params::object`].
    NotText(serde_json::Value),
}

#[derive(Debug, Default)]
pub struct Params(Vec<(String, Value)>);

/// 415 for a body that is neither form nor JSON.
pub fn unsupported(t: UnsupportedType) -> ApiError {
    ApiError::new(
        415,
        super::error::code::INVALID_PARAMETER,
        format!("Unsupported Content-Type {:?}: send application/x-www-form-urlencoded or application/json", t.0),
    )
}

impl Params {
    /// Parses a body by its Content-Type: form-encoded or JSON; any other
    /// type (`text/plain`, `multipart/form-data`, …) is refused with 415
    /// rather than guessed at. Without a Content-Type, a body that starts
    /// with `{` is JSON and anything else is a form: a browser always names
    /// the type of a body it sends, and cross-site browser requests are
    /// refused by their `Origin` before this is reached, so sniffing only
    /// serves command-line and server-side callers.
    pub fn from_body(content_type: Option<&str>, body: &[u8]) -> Result<Params, ApiError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(ApiError::new(413, super::error::code::INVALID_PARAMETER, "Request body too large"));
        }
        match BodyKind::of(content_type, body).map_err(unsupported)? {
            BodyKind::Json => Params::from_json(body),
            BodyKind::Form => Ok(Params::from_form(body)),
        }
    }

    pub fn from_form(body: &[u8]) -> Params {
        Params(form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), Value::Text(v.into_owned()))).collect())
    }

    /// Every member of the object in order, repeated names included, so a
    /// name given twice is refused by [`Params::text`] as it is for forms
    /// (a map would silently keep the last one).
    fn from_json(body: &[u8]) -> Result<Params, ApiError> {
        let Members(members) = serde_json::from_slice(body).map_err(|_| ApiError::invalid("Request body is not a JSON object"))?;
        Ok(Params(
            members
                .into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        serde_json::Value::String(s) => Value::Text(s),
                        other => Value::NotText(other),
                    };
                    (k, v)
                })
                .collect(),
        ))
    }

    /// The value given under any of `names` (the first is the Twilio name,
    /// used in errors). Empty counts as absent; a value given twice, or not
    /// as text, is an error rather than a guess.
    pub fn text(&self, names: &[&str]) -> Result<Option<&str>, ApiError> {
        match self.given(names)? {
            None => Ok(None),
            Some(Value::Text(s)) => Ok(Some(s.as_str())),
            Some(Value::NotText(_)) => Err(ApiError::invalid(format!("Invalid parameter: {} (must be a string)", names[0]))),
        }
    }

    /// A JSON object parameter (`RateLimits`): given as JSON text (a form
    /// field, as Twilio's clients send it) or, in a JSON body, as an object.
    pub fn object(&self, names: &[&str]) -> Result<Option<serde_json::Map<String, serde_json::Value>>, ApiError> {
        let bad = || ApiError::invalid(format!("Invalid parameter: {} (must be a JSON object)", names[0]));
        match self.given(names)? {
            None => Ok(None),
            Some(Value::Text(s)) => serde_json::from_str(s).map(Some).map_err(|_| bad()),
            Some(Value::NotText(serde_json::Value::Object(m))) => Ok(Some(m.clone())),
            Some(Value::NotText(_)) => Err(bad()),
        }
    }

    /// The one value given under any of `names`, blank text counting as
    /// absent; given twice is an error.
    fn given(&self, names: &[&str]) -> Result<Option<&Value>, ApiError> {
        let mut found = self.0.iter().filter(|(k, _)| names.contains(&k.as_str()));
        let first = found.next();
        if found.next().is_some() {
            return Err(ApiError::invalid(format!("Invalid parameter: {} (given more than once)", names[0])));
        }
        Ok(first.map(|(_, v)| v).filter(|v| !matches!(v, Value::Text(s) if s.trim().is_empty())))
    }

    /// Every value of a list parameter: the name repeated (Twilio's clients
    /// send `EventTypes=a&EventTypes=b`) or, in a JSON body, an array of
    /// strings. Blank values count as absent.
    pub fn list(&self, names: &[&str]) -> Result<Vec<&str>, ApiError> {
        let bad = || ApiError::invalid(format!("Invalid parameter: {} (must be strings)", names[0]));
        let mut out = Vec::new();
        for (_, v) in self.0.iter().filter(|(k, _)| names.contains(&k.as_str())) {
            match v {
                Value::Text(s) => out.push(s.as_str()),
                Value::NotText(serde_json::Value::Array(items)) => {
                    for item in items {
                        out.push(item.as_str().ok_or_else(bad)?);
                    }
                }
                Value::NotText(_) => return Err(bad()),
            }
        }
        out.retain(|s| !s.trim().is_empty());
        Ok(out)
    }

    /// The names given, in order: for refusing a name a resource does not take.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// A boolean: `true` or `false` as text (as Twilio's clients send it,
    /// any case) or a JSON boolean.
    pub fn flag(&self, names: &[&str]) -> Result<Option<bool>, ApiError> {
        let bad = || ApiError::invalid(format!("Invalid parameter: {} (must be true or false)", names[0]));
        match self.given(names)? {
            None => Ok(None),
            Some(Value::Text(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "true" => Ok(Some(true)),
                "false" => Ok(Some(false)),
                _ => Err(bad()),
            },
            Some(Value::NotText(serde_json::Value::Bool(b))) => Ok(Some(*b)),
            Some(Value::NotText(_)) => Err(bad()),
        }
    }

    pub fn required(&self, names: &[&str]) -> Result<&str, ApiError> {
        self.text(names)?.ok_or_else(|| ApiError::invalid(format!("Missing required parameter {}", names[0])))
    }
}

/// A JSON object's members as written, duplicates kept.
struct Members(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, serde_json::Value>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// The names each parameter is accepted under.
pub mod names {
    pub const TO: &[&str] = &["To", "to"];
    pub const CHANNEL: &[&str] = &["Channel", "channel"];
    pub const LOCALE: &[&str] = &["Locale", "locale"];
    pub const CODE: &[&str] = &["Code", "code", "verification_code", "VerificationCode"];
    pub const VERIFICATION_SID: &[&str] = &["VerificationSid", "verification_sid"];
    pub const CUSTOM_FRIENDLY_NAME: &[&str] = &["CustomFriendlyName", "custom_friendly_name"];
    pub const STATUS: &[&str] = &["Status", "status"];
    pub const CHANNEL_CONFIGURATION: &[&str] = &["ChannelConfiguration", "channel_configuration"];
    pub const RISK_CHECK: &[&str] = &["RiskCheck", "risk_check"];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_and_json_give_the_same_params() {
        let form = Params::from_body(Some("application/x-www-form-urlencoded"), b"To=%2B14155550123&code=123456").unwrap();
        let json = Params::from_body(Some("application/json"), br#"{"to":"+14155550123","Code":"123456"}"#).unwrap();
        for p in [form, json] {
            assert_eq!(p.text(names::TO).unwrap(), Some("+14155550123"));
            assert_eq!(p.text(names::CODE).unwrap(), Some("123456"));
        }
        let sniffed = Params::from_body(None, br#" {"to":"x"}"#).unwrap();
        assert_eq!(sniffed.text(names::TO).unwrap(), Some("x"));
    }

    #[test]
    fn bad_bodies_are_clear_errors() {
        assert_eq!(Params::from_body(Some("application/json"), b"[1]").unwrap_err().status, 400);
        assert_eq!(Params::from_body(Some("application/json"), b"{").unwrap_err().status, 400);
        assert_eq!(Params::from_body(None, &vec![b'a'; MAX_BODY_BYTES + 1]).unwrap_err().status, 413);
        let p = Params::from_body(Some("application/json"), br#"{"code":123456,"to":null}"#).unwrap();
        assert_eq!(p.text(names::CODE).unwrap_err().code, 60200);
        assert!(p.text(names::TO).is_err());
        let twice = Params::from_form(b"to=1&To=2");
        assert!(twice.text(names::TO).unwrap_err().message.contains("more than once"));
        assert!(Params::from_body(Some("application/json"), b"[1]").unwrap_err().message.contains("JSON object"));
        assert!(Params::from_form(b"to=").required(names::TO).unwrap_err().message.contains("To"));
    }

    #[test]
    fn a_json_name_given_twice_is_refused_like_a_form_one() {
        for body in [
            r#"{"To":"+14155550123","To":"+14155550124"}"#,
            r#"{"To":"+14155550123","to":"+14155550124"}"#,
            r#"{"code":"123456","Code":"123456"}"#,
        ] {
            let p = Params::from_body(Some("application/json"), body.as_bytes()).unwrap();
            let e = p.text(names::TO).and_then(|_| p.text(names::CODE)).unwrap_err();
            assert_eq!((e.status, e.code), (400, 60200), "{body}");
            assert!(e.message.contains("more than once"), "{body}: {}", e.message);
        }
        // Other members, nested objects included, are kept and do not clash.
        let p = Params::from_body(None, br#"{"To":"+1","x":{"To":1,"To":2},"Channel":"sms"}"#).unwrap();
        assert_eq!(p.text(names::TO).unwrap(), Some("+1"));
        assert_eq!(p.text(names::CHANNEL).unwrap(), Some("sms"));
    }

    #[test]
    fn only_form_and_json_bodies_are_read() {
        let form = b"To=%2B14155550123";
        for ct in
            ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded;charset=UTF-8", " Application/X-WWW-Form-Urlencoded "]
        {
            assert_eq!(BodyKind::of(Some(ct), form).unwrap(), BodyKind::Form, "{ct}");
        }
        for ct in ["application/json", "application/json; charset=utf-8", "application/vnd.api+json"] {
            assert_eq!(BodyKind::of(Some(ct), b"{}").unwrap(), BodyKind::Json, "{ct}");
        }
        for ct in ["text/plain", "text/plain;charset=UTF-8", "multipart/form-data; boundary=x", "application/xml", "text/json", "form"] {
            let e = Params::from_body(Some(ct), br#"{"To":"+14155550123"}"#).unwrap_err();
            assert_eq!((e.status, e.code), (415, 60200), "{ct}");
            assert!(e.message.contains("application/json"), "{}", e.message);
        }
        // No Content-Type at all: sniffed, as curl -d and scripts send.
        assert_eq!(BodyKind::of(None, b" {\"to\":1}").unwrap(), BodyKind::Json);
        assert_eq!(BodyKind::of(Some(""), form).unwrap(), BodyKind::Form);
        assert_eq!(BodyKind::of(None, form).unwrap(), BodyKind::Form);
    }
}
