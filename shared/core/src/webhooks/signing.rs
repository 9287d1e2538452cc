//! Standard Webhooks signatures (<https://www.standardwebhooks.com>):
//! `webhook-signature: v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>`,
//! one signature per secret, space-separated, so a receiver keeps verifying
//! while a secret is being rotated. Secrets are `whsec_<base64>`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::TryRngCore;
use sha2::Sha256;
use std::fmt;

pub const SECRET_PREFIX: &str = "whsec_";
pub const HEADER_ID: &str = "webhook-id";
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// A signing secret. Its Debug output is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Parses `whsec_<base64>` (the prefix is optional); the key must be
    /// 24 to 64 bytes, as the specification asks.
    pub fn parse(s: &str) -> Result<Secret, String> {
        let s = s.trim();
        let b64 = s.strip_prefix(SECRET_PREFIX).unwrap_or(s);
        let key = STANDARD.decode(b64).map_err(|_| "a webhook secret must be whsec_ followed by base64".to_owned())?;
        if !(24..=64).contains(&key.len()) {
            return Err(format!("a webhook secret must be 24 to 64 bytes, got {}", key.len()));
        }
        Ok(Secret(key))
    }

    /// A fresh random 32-byte secret.
    pub fn generate() -> Secret {
        let mut key = vec![0u8; 32];
        rand::rngs::OsRng.try_fill_bytes(&mut key).expect("the operating system's random source failed");
        Secret(key)
    }

    /// The `whsec_…` form, to hand to the receiver.
    pub fn expose(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.0))
    }

    /// `v1,<base64>` over `{id}.{timestamp}.{body}`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The three headers of one delivery attempt: every secret signs.
pub fn headers(secrets: &[Secret], id: &str, timestamp: i64, body: &[u8]) -> [(&'static str, String); 3] {
    let signatures: Vec<String> = secrets.iter().map(|s| s.sign(id, timestamp, body)).collect();
    [(HEADER_ID, id.to_owned()), (HEADER_TIMESTAMP, timestamp.to_string()), (HEADER_SIGNATURE, signatures.join(" "))]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The specification's known-answer vector (from its reference libraries).
    #[test]
    fn known_answer_vector() {
        let secret = Secret::parse("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        let sig = secret.sign("msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553, br#"{"email":"test@example.com","username":"test_user"}"#);
        assert_eq!(sig, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
    }

    #[test]
    fn every_secret_signs_during_rotation() {
        let a = Secret::parse("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        let b = Secret::generate();
        let [id, ts, sig] = headers(&[a.clone(), b.clone()], "evt_1", 10, b"{}");
        assert_eq!((id.1.as_str(), ts.1.as_str()), ("evt_1", "10"));
        assert_eq!(sig.1, format!("{} {}", a.sign("evt_1", 10, b"{}"), b.sign("evt_1", 10, b"{}")));
        assert_eq!(Secret::parse(&b.expose()).unwrap(), b);
    }

    #[test]
    fn bad_secrets_are_refused() {
        assert!(Secret::parse("whsec_short").is_err());
        assert!(Secret::parse("whsec_!!!").is_err());
        assert!(format!("{:?}", Secret::generate()).contains("redacted"));
    }
}
