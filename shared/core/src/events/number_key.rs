//! The stand-in for a phone number in stored events: a keyed hash, so the
//! `ChannelData.To` report filter can find a number's events without the
//! table holding the number.
//!
//! A plain hash would not do: a number's masked form (`+1415555****`) leaves
//! 10⁴ candidates, and hashing each is instant. Keyed with a secret that is
//! kept out of the table (`VERIFY_NUMBER_KEY`), the stored hash says nothing
//! to whoever reads the table alone. It is rotated like the code key: the
//! previous key still matches events hashed under it.

use crate::otp::MIN_KEY_BYTES;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

/// The variables that hold the number key, and the one before a rotation.
pub const VAR: &str = "VERIFY_NUMBER_KEY";
pub const VAR_PREVIOUS: &str = "VERIFY_NUMBER_KEY_PREVIOUS";

/// One secret that hashes numbers.
#[derive(Clone)]
pub struct NumberKey(Vec<u8>);

impl NumberKey {
    pub fn new(secret: &[u8]) -> Result<NumberKey, String> {
        if secret.len() < MIN_KEY_BYTES {
            return Err(format!("a number key must be at least {MIN_KEY_BYTES} bytes, got {}", secret.len()));
        }
        Ok(NumberKey(secret.to_vec()))
    }

    /// The secret, for what derives a key of its own from it
    /// ([`crate::sid_seal`]).
    pub(crate) fn secret(&self) -> &[u8] {
        &self.0
    }

    /// HMAC-SHA256 of the service and the number's subscriber key (so every
    /// spelling of one subscriber finds its events), 128 bits in hex.
    fn hash(&self, service_sid: &str, e164: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(b"verify-number:");
        mac.update(service_sid.as_bytes());
        mac.update(b"|");
        mac.update(crate::recipient::key_of_address(e164).as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }
}

impl fmt::Debug for NumberKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NumberKey(<redacted>)")
    }
}

/// The current key, which hashes new events, and optionally the previous
/// one, whose hashes lookups still match after a rotation.
#[derive(Clone, Debug)]
pub struct NumberKeys {
    current: NumberKey,
    previous: Option<NumberKey>,
}

impl NumberKeys {
    pub fn new(current: NumberKey, previous: Option<NumberKey>) -> NumberKeys {
        NumberKeys { current, previous }
    }

    /// The keys configured in `vars` (`VERIFY_NUMBER_KEY`, and
    /// `VERIFY_NUMBER_KEY_PREVIOUS` after a rotation); `None` without the
    /// first.
    pub fn from_vars(vars: &std::collections::HashMap<String, String>) -> Result<Option<NumberKeys>, String> {
        let key = |name: &str| -> Result<Option<NumberKey>, String> {
            crate::config::var(vars, name).map(|v| NumberKey::new(v.as_bytes()).map_err(|e| format!("{name}: {e}"))).transpose()
        };
        let Some(current) = key(VAR)? else { return Ok(None) };
        Ok(Some(NumberKeys::new(current, key(VAR_PREVIOUS)?)))
    }

    /// Sids sealed under the current key, opened under either.
    pub fn sid_seal(&self) -> crate::sid_seal::SidSeal {
        crate::sid_seal::SidSeal::new(&self.current, self.previous.as_ref())
    }

    /// What an event of `service_sid` stores for the number.
    pub fn hash(&self, service_sid: &str, e164: &str) -> String {
        self.current.hash(service_sid, e164)
    }

    /// Every hash the number may be stored under in `service_sid`'s events:
    /// one per configured key.
    pub fn lookups(&self, service_sid: &str, e164: &str) -> Vec<String> {
        std::iter::once(&self.current).chain(&self.previous).map(|k| k.hash(service_sid, e164)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: u8) -> NumberKey {
        NumberKey::new(&[c; 32]).unwrap()
    }

    #[test]
    fn the_hash_depends_on_the_key_service_and_number() {
        let keys = NumberKeys::new(key(1), None);
        let h = keys.hash("VA1", "+14155550123");
        assert_eq!(h.len(), 32);
        assert_eq!(h, keys.hash("VA1", "+14155550123"));
        assert_ne!(h, keys.hash("VA2", "+14155550123"));
        assert_ne!(h, keys.hash("VA1", "+14155550124"));
        assert_ne!(h, NumberKeys::new(key(2), None).hash("VA1", "+14155550123"), "another key, another hash");
        assert!(NumberKey::new(b"short").is_err());
        assert_eq!(format!("{:?}", key(1)), "NumberKey(<redacted>)");
    }

    #[test]
    fn every_spelling_of_one_subscriber_has_one_hash() {
        let keys = NumberKeys::new(key(1), None);
        assert_eq!(keys.hash("VA1", "+5491123456789"), keys.hash("VA1", "+541123456789"));
        assert!(keys.lookups("VA1", "+541123456789").contains(&keys.hash("VA1", "+5491123456789")));
    }

    #[test]
    fn after_a_rotation_lookups_match_hashes_under_either_key() {
        let old = NumberKeys::new(key(1), None);
        let rotated = NumberKeys::new(key(2), Some(key(1)));
        let before = old.hash("VA1", "+14155550123");
        let after = rotated.hash("VA1", "+14155550123");
        let lookups = rotated.lookups("VA1", "+14155550123");
        assert!(lookups.contains(&before) && lookups.contains(&after), "{lookups:?}");
        assert_eq!(old.lookups("VA1", "+14155550123"), vec![before]);
    }
}
