//! One-time codes: uniform generation from the OS CSPRNG, and keyed hashing.
//!
//! A code is never stored. What is stored is HMAC-SHA256(server key,
//! verification sid || code): the sid binds a code to its own verification,
//! and the key (kept outside DynamoDB) makes a dump of the table useless for
//! brute-forcing the small code space offline.

use hmac::{Hmac, Mac};
use rand::TryRngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use std::fmt;

pub const MIN_CODE_LENGTH: usize = 4;
pub const MAX_CODE_LENGTH: usize = 10;
pub const MIN_KEY_BYTES: usize = 32;

/// A plaintext code. It exists only between generation and the SMS, or
/// between parsing a request and hashing it; its Debug output is redacted so
/// it cannot reach a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Code(String);

impl Code {
    /// Accepts exactly `len` ASCII digits. `char::is_numeric` would also let
    /// through full-width or Arabic-Indic digits, which must never match.
    pub fn parse(input: &str, len: usize) -> Option<Code> {
        (input.len() == len && input.bytes().all(|b| b.is_ascii_digit())).then(|| Code(input.to_owned()))
    }

    /// Only the SMS text may see the digits.
    pub fn reveal(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Code(<redacted>)")
    }
}

/// A fresh code of `len` digits, uniform over all 10^len values.
pub fn generate(len: usize) -> Code {
    let mut os = OsRng;
    code_from_words(len, || os.try_next_u64().expect("the operating system's random source failed"))
}

/// Turns random 64-bit words into a uniform `len`-digit code by rejection
/// sampling: words at or above the largest multiple of 10^len that fits in a
/// u64 are drawn again, so no code is more likely than another (a plain
/// `% 10^len` would favour the low codes). Split out so the boundary can be
/// tested with chosen words.
pub fn code_from_words(len: usize, mut next_word: impl FnMut() -> u64) -> Code {
    assert!((MIN_CODE_LENGTH..=MAX_CODE_LENGTH).contains(&len), "code length {len} out of range");
    let space = 10u64.pow(len as u32);
    // 2^64 mod space; words from 2^64 - that remainder up are the biased tail.
    let tail = (u64::MAX % space + 1) % space;
    let accept_below = 0u64.wrapping_sub(tail);
    loop {
        let word = next_word();
        if tail == 0 || word < accept_below {
            return Code(format!("{:0len$}", word % space));
        }
    }
}

/// One HMAC key with a short public id, so a stored hash says which key made it.
#[derive(Clone)]
pub struct CodeKey {
    id: String,
    secret: Vec<u8>,
}

impl CodeKey {
    pub fn new(secret: &[u8]) -> Result<CodeKey, String> {
        if secret.len() < MIN_KEY_BYTES {
            return Err(format!("a code key must be at least {MIN_KEY_BYTES} bytes, got {}", secret.len()));
        }
        // The id is a hash of the key, not part of it: it reveals nothing useful.
        let digest = Sha256::new_with_prefix(b"verify-code-key-id:").chain_update(secret).finalize();
        Ok(CodeKey { id: hex::encode(&digest[..4]), secret: secret.to_vec() })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    fn mac(&self, sid: &str, code: &Code) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes keys of any length");
        mac.update(sid.as_bytes());
        mac.update(code.0.as_bytes());
        mac
    }
}

impl fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CodeKey({})", self.id)
    }
}

/// The current key, which hashes new codes, and optionally the previous one,
/// still accepted for codes issued before a rotation.
#[derive(Clone, Debug)]
pub struct CodeKeys {
    current: CodeKey,
    previous: Option<CodeKey>,
    /// Makes verification sids that name their record, and reads them
    /// ([`crate::sid_seal`]); without it sids are random and found through
    /// the store's index.
    sids: Option<crate::sid_seal::SidSeal>,
}

/// A stored code hash and the id of the key that made it.
#[derive(Clone, PartialEq, Eq)]
pub struct CodeHash {
    pub key_id: String,
    pub digest: Vec<u8>,
}

impl fmt::Debug for CodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CodeHash(key {})", self.key_id)
    }
}

impl CodeKeys {
    pub fn new(current: CodeKey, previous: Option<CodeKey>) -> CodeKeys {
        CodeKeys { current, previous, sids: None }
    }

    /// These keys, sealing verification sids with `seal`.
    pub fn with_sid_seal(self, seal: crate::sid_seal::SidSeal) -> CodeKeys {
        CodeKeys { sids: Some(seal), ..self }
    }

    /// A new verification sid for the record of `recipient_key`: sealed
    /// when a seal is configured and the key is a number's, random otherwise.
    pub fn new_verification_sid(&self, recipient_key: &str) -> String {
        let sealed = self.sids.as_ref().and_then(|s| s.seal(crate::sid::VERIFICATION, recipient_key));
        sealed.unwrap_or_else(|| crate::sid::new_sid(crate::sid::VERIFICATION))
    }

    /// The seal, for a store that keeps sealed sids out of its index.
    pub fn sid_seal(&self) -> Option<&crate::sid_seal::SidSeal> {
        self.sids.as_ref()
    }

    /// The recipient key a sealed verification sid names (`None` for a
    /// random one, or without a seal).
    pub fn open_sid(&self, sid: &str) -> Option<String> {
        self.sids.as_ref()?.open(sid)
    }

    pub fn hash(&self, sid: &str, code: &Code) -> CodeHash {
        CodeHash { key_id: self.current.id.clone(), digest: self.current.mac(sid, code).finalize().into_bytes().to_vec() }
    }

    /// A keyed tag of `value` in `context` (hex, 128 bits) under the current
    /// key: how a value that must not be stored (an IP address, an account
    /// id a rate limit is keyed on) names a counter. Rotating the key starts
    /// new counters.
    pub fn tag(&self, context: &str, value: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.current.secret).expect("HMAC takes keys of any length");
        for part in ["verify-tag", context, value] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// Constant-time comparison (`verify_slice`) under the key the hash names.
    /// A hash made by a key no longer configured matches nothing.
    pub fn matches(&self, stored: &CodeHash, sid: &str, code: &Code) -> bool {
        let key = std::iter::once(&self.current).chain(self.previous.as_ref()).find(|k| k.id == stored.key_id);
        key.is_some_and(|k| k.mac(sid, code).verify_slice(&stored.digest).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> CodeKeys {
        CodeKeys::new(CodeKey::new(&[7u8; 32]).unwrap(), None)
    }

    #[test]
    fn codes_are_ascii_digits_of_the_asked_length() {
        for len in MIN_CODE_LENGTH..=MAX_CODE_LENGTH {
            let code = generate(len);
            assert_eq!(code.reveal().len(), len);
            assert!(code.reveal().bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn words_in_the_biased_tail_are_drawn_again() {
        // 2^64 = 18446744073709551616; the largest multiple of 10^6 is
        // 18446744073709000000, so words from there up must be rejected.
        let mut words = vec![u64::MAX, 18_446_744_073_709_000_000, 18_446_744_073_708_999_999].into_iter();
        let code = code_from_words(6, || words.next().unwrap());
        assert_eq!(code.reveal(), "999999");
        let mut words = vec![42u64].into_iter();
        assert_eq!(code_from_words(6, || words.next().unwrap()).reveal(), "000042");
    }

    #[test]
    fn draws_are_uniform_over_digits_and_positions() {
        // Chi-square over 10 digit values at each of 6 positions, 60 000
        // codes drawn from the real source. 9 degrees of freedom: 55.0 is
        // the p = 1.2e-8 critical value, so a fair source fails this about
        // once in ten million runs (at p = 0.001 it failed a CI run), while
        // a real defect (a digit never or twice as often drawn, a fixed
        // position) gives a chi2 in the thousands.
        let n = 60_000;
        let mut counts = [[0u32; 10]; 6];
        for _ in 0..n {
            for (pos, b) in generate(6).reveal().bytes().enumerate() {
                counts[pos][(b - b'0') as usize] += 1;
            }
        }
        let expected = n as f64 / 10.0;
        for (pos, row) in counts.iter().enumerate() {
            let chi2: f64 = row.iter().map(|&c| (c as f64 - expected).powi(2) / expected).sum();
            assert!(chi2 < 55.0, "position {pos}: chi2 {chi2:.2}, counts {row:?}");
        }
    }

    #[test]
    fn only_exact_ascii_digits_parse() {
        for bad in [" 123456", "123456 ", "１２３４５６", "١٢٣٤٥٦", "12345", "1234567", "12a456", ""] {
            assert!(Code::parse(bad, 6).is_none(), "{bad:?}");
        }
        assert!(Code::parse("012345", 6).is_some());
    }

    #[test]
    fn hash_binds_code_to_its_verification_and_key() {
        let keys = keys();
        let code = Code::parse("123456", 6).unwrap();
        let h = keys.hash("VEa", &code);
        assert!(keys.matches(&h, "VEa", &code));
        assert!(!keys.matches(&h, "VEb", &code), "a code is only valid for its own verification");
        assert!(!keys.matches(&h, "VEa", &Code::parse("123457", 6).unwrap()));
        let other = CodeKeys::new(CodeKey::new(&[8u8; 32]).unwrap(), None);
        assert!(!other.matches(&h, "VEa", &code));
    }

    #[test]
    fn previous_key_still_verifies_after_rotation() {
        let old = CodeKey::new(&[1u8; 40]).unwrap();
        let new = CodeKey::new(&[2u8; 40]).unwrap();
        let code = Code::parse("555000", 6).unwrap();
        let h = CodeKeys::new(old.clone(), None).hash("VEx", &code);
        assert!(CodeKeys::new(new.clone(), Some(old)).matches(&h, "VEx", &code));
        assert!(!CodeKeys::new(new, None).matches(&h, "VEx", &code));
    }

    #[test]
    fn short_keys_are_refused_and_debug_hides_secrets() {
        assert!(CodeKey::new(&[0u8; 31]).is_err());
        let code = Code::parse("987654", 6).unwrap();
        assert!(!format!("{code:?}").contains("987654"));
        let h = keys().hash("VEa", &code);
        assert!(!format!("{h:?}").contains(&hex::encode(&h.digest)));
    }
}
