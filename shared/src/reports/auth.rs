//! HTTP Basic authentication of the reporting routes, as Twilio's clients
//! send it (`Client(username, password)`): `VERIFY_API_KEYS` is a JSON list
//! of `{"key_id": "...", "secret_sha256": "<hex SHA-256 of the secret>"}`,
//! so the environment never holds a usable secret. Small and self-contained
//! on purpose: it is to be replaced by the shared API authentication.

use crate::api::ApiError;
use crate::api::error::code;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use sha2::{Digest, Sha256};

pub const ENV: &str = "VERIFY_API_KEYS";

#[derive(Clone, Debug)]
pub struct ApiKeys(Vec<(String, [u8; 32])>);

#[derive(Deserialize)]
struct RawKey {
    key_id: String,
    secret_sha256: String,
}

impl ApiKeys {
    pub fn parse(json: &str) -> Result<ApiKeys, String> {
        let raw: Vec<RawKey> = serde_json::from_str(json).map_err(|e| format!("{ENV}: {e}"))?;
        let keys = raw
            .into_iter()
            .map(|k| {
                let digest: [u8; 32] = hex::decode(k.secret_sha256.trim())
                    .ok()
                    .and_then(|d| d.try_into().ok())
                    .ok_or_else(|| format!("{ENV}: {}: secret_sha256 must be 64 hex digits", k.key_id))?;
                Ok((k.key_id, digest))
            })
            .collect::<Result<Vec<_>, String>>()?;
        if keys.is_empty() {
            return Err(format!("{ENV}: at least one key is required"));
        }
        Ok(ApiKeys(keys))
    }

    /// One key from a plain secret (verify-local, tests).
    pub fn single(key_id: &str, secret: &str) -> ApiKeys {
        ApiKeys(vec![(key_id.to_owned(), Sha256::digest(secret.as_bytes()).into())])
    }

    /// Accepts a request carrying `Authorization: Basic` with a known key.
    pub fn check(&self, headers: &http::HeaderMap) -> Result<(), ApiError> {
        let denied = || ApiError::new(401, code::AUTHENTICATE, "Authentication Error - invalid username");
        let value = headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or_else(denied)?;
        let (scheme, b64) = value.trim().split_once(' ').ok_or_else(denied)?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(denied());
        }
        let decoded = STANDARD.decode(b64.trim()).map_err(|_| denied())?;
        let decoded = String::from_utf8(decoded).map_err(|_| denied())?;
        let (user, password) = decoded.split_once(':').ok_or_else(denied)?;
        let presented: [u8; 32] = Sha256::digest(password.as_bytes()).into();
        // Every key is compared, and every byte of each digest, whatever matches.
        let mut ok = 0u8;
        for (id, digest) in &self.0 {
            let same_id = u8::from(id.as_bytes() == user.as_bytes());
            let diff = digest.iter().zip(presented.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b));
            ok |= same_id & u8::from(diff == 0);
        }
        if ok == 1 { Ok(()) } else { Err(denied()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user: &str, pw: &str) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        h.insert(http::header::AUTHORIZATION, format!("Basic {}", STANDARD.encode(format!("{user}:{pw}"))).parse().unwrap());
        h
    }

    #[test]
    fn only_a_known_key_with_its_secret_passes() {
        let digest = hex::encode(Sha256::digest(b"s3cret"));
        let keys = ApiKeys::parse(&format!(r#"[{{"key_id":"SK1","secret_sha256":"{digest}"}}]"#)).unwrap();
        assert!(keys.check(&basic("SK1", "s3cret")).is_ok());
        assert_eq!(keys.check(&basic("SK1", "wrong")).unwrap_err().status, 401);
        assert!(keys.check(&basic("SK2", "s3cret")).is_err());
        assert!(keys.check(&http::HeaderMap::new()).is_err());
        assert!(ApiKeys::parse("[]").is_err());
        assert!(ApiKeys::parse(r#"[{"key_id":"a","secret_sha256":"zz"}]"#).is_err());
    }
}
