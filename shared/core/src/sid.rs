//! Twilio-style resource identifiers: a two-letter prefix and 32 hex digits.

use rand::TryRngCore;
use rand::rngs::OsRng;

pub const VERIFICATION: &str = "VE";
pub const SERVICE: &str = "VA";
pub const ATTEMPT: &str = "VL";
pub const ACCOUNT: &str = "AC";
/// A Safe List entry.
pub const SAFE_LIST: &str = "GN";
/// A programmable rate limit, and one of its buckets.
pub const RATE_LIMIT: &str = "RK";
pub const BUCKET: &str = "BL";
/// A sender profile, named as Twilio names a Messaging Service ([`crate::messaging`]).
pub const MESSAGING_SERVICE: &str = "MG";
/// A webhook created over the API.
pub const WEBHOOK: &str = "YW";

/// A fresh random sid. 128 random bits, so sids cannot be guessed or enumerated.
pub fn new_sid(prefix: &str) -> String {
    let mut bytes = [0u8; 16];
    OsRng.try_fill_bytes(&mut bytes).expect("the operating system's random source failed");
    format!("{prefix}{}", hex::encode(bytes))
}

/// Whether `s` is a well-formed sid with this prefix.
pub fn is_sid(prefix: &str, s: &str) -> bool {
    s.len() == 34 && s.starts_with(prefix) && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sids_have_prefix_and_32_hex() {
        let sid = new_sid(VERIFICATION);
        assert!(is_sid(VERIFICATION, &sid), "{sid}");
        assert!(!is_sid(SERVICE, &sid));
        assert_ne!(sid, new_sid(VERIFICATION));
        assert!(!is_sid(VERIFICATION, "VE123"));
        assert!(!is_sid(VERIFICATION, &format!("VE{}", "g".repeat(32))));
    }
}
