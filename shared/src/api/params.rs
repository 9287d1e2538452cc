//! Request parameters from a form-encoded or JSON body, looked up by any of
//! the names clients use (`To`, `to`; `Code`, `code`, `verification_code`).

use super::ApiError;

/// Largest body accepted. A verification request is a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 8 * 1024;

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Text(String),
    /// A JSON number, boolean, array, object or null: never a valid value
    /// for our parameters (a numeric code would lose its leading zeros).
    NotText,
}

#[derive(Debug, Default)]
pub struct Params(Vec<(String, Value)>);

impl Params {
    /// Parses a body by its Content-Type; without one, a body that starts
    /// with `{` is JSON and anything else is a form.
    pub fn from_body(content_type: Option<&str>, body: &[u8]) -> Result<Params, ApiError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(ApiError::new(413, super::error::code::INVALID_PARAMETER, "Request body too large"));
        }
        let ct = content_type.unwrap_or("").to_ascii_lowercase();
        let looks_json = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        if ct.starts_with("application/json") || ct.ends_with("+json") || (!ct.contains("form") && looks_json) {
            Params::from_json(body)
        } else {
            Ok(Params::from_form(body))
        }
    }

    pub fn from_form(body: &[u8]) -> Params {
        Params(form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), Value::Text(v.into_owned()))).collect())
    }

    fn from_json(body: &[u8]) -> Result<Params, ApiError> {
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(body).map_err(|_| ApiError::invalid("Request body is not a JSON object"))?;
        Ok(Params(
            map.into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        serde_json::Value::String(s) => Value::Text(s),
                        _ => Value::NotText,
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
        let mut found = self.0.iter().filter(|(k, _)| names.contains(&k.as_str()));
        let first = found.next();
        if found.next().is_some() {
            return Err(ApiError::invalid(format!("Invalid parameter: {} (given more than once)", names[0])));
        }
        match first {
            None => Ok(None),
            Some((_, Value::Text(s))) if s.trim().is_empty() => Ok(None),
            Some((_, Value::Text(s))) => Ok(Some(s.as_str())),
            Some((_, Value::NotText)) => Err(ApiError::invalid(format!("Invalid parameter: {} (must be a string)", names[0]))),
        }
    }

    pub fn required(&self, names: &[&str]) -> Result<&str, ApiError> {
        self.text(names)?.ok_or_else(|| ApiError::invalid(format!("Missing required parameter {}", names[0])))
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
        assert!(Params::from_form(b"to=").required(names::TO).unwrap_err().message.contains("To"));
    }
}
