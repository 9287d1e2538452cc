//! Verification sids that name their record, so that a check, fetch or
//! cancel by sid (and the expiry sweep) reads the record by its key instead
//! of through an index whose row every start would write.
//!
//! A record's key is its service and its recipient's key; the service comes
//! with every request by sid, so the sid need only carry the recipient. A
//! phone number's key (`+` and at most 15 digits) fits in one AES block
//! beside a tag and 40 random bits: the sid is that block encrypted under
//! AES-256 with a key derived from the number key (`VERIFY_NUMBER_KEY`, the
//! secret every function that looks sids up holds), so it says nothing
//! about the number to whoever does not hold the key, and is as
//! unguessable as a random sid (a forged one opens to nothing, or to a
//! record whose own sid is another: the lookup compares). An e-mail
//! address does not fit: its sids stay random and are found through the
//! `sid-index`, as are the sids made before this existed.

use aes::Aes256;
use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use hmac::{Hmac, Mac};
use rand::TryRngCore;
use rand::rngs::OsRng;
use sha2::Sha256;
use std::fmt;

use crate::events::number_key::NumberKey;

/// The first two bytes of every sealed block: a sid that opens to anything
/// else was not sealed under this key.
const TAG: [u8; 2] = [0x56, 0x45];
/// Digits a block holds (a phone number's key has at most 15).
const MAX_DIGITS: usize = 16;

/// Seals and opens sids under the current number key; opens those sealed
/// under the previous one too, after a rotation.
#[derive(Clone)]
pub struct SidSeal {
    current: Aes256,
    previous: Option<Aes256>,
}

impl fmt::Debug for SidSeal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SidSeal(<redacted>)")
    }
}

fn cipher(key: &NumberKey) -> Aes256 {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.secret()).expect("HMAC takes keys of any length");
    mac.update(b"verify-sid-seal");
    Aes256::new(&mac.finalize().into_bytes())
}

impl SidSeal {
    pub fn new(current: &NumberKey, previous: Option<&NumberKey>) -> SidSeal {
        SidSeal { current: cipher(current), previous: previous.map(cipher) }
    }

    /// A fresh sid with `prefix` naming `recipient_key`, or `None` when the
    /// key is not a phone number's (`+` and 1–15 digits).
    pub fn seal(&self, prefix: &str, recipient_key: &str) -> Option<String> {
        let digits =
            recipient_key.strip_prefix('+').filter(|d| (1..MAX_DIGITS).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))?;
        let mut block = [0u8; 16];
        block[..2].copy_from_slice(&TAG);
        block[2] = digits.len() as u8;
        for (i, d) in digits.bytes().enumerate() {
            block[3 + i / 2] |= (d - b'0') << if i % 2 == 0 { 4 } else { 0 };
        }
        OsRng.try_fill_bytes(&mut block[11..]).expect("the operating system's random source failed");
        let mut b = GenericArray::from(block);
        self.current.encrypt_block(&mut b);
        Some(format!("{prefix}{}", hex::encode(b)))
    }

    /// The recipient key a sealed sid names; `None` for any other sid.
    pub fn open(&self, sid: &str) -> Option<String> {
        let bytes: [u8; 16] = hex::decode(sid.get(2..)?).ok()?.try_into().ok()?;
        std::iter::once(&self.current).chain(&self.previous).find_map(|c| {
            let mut b = GenericArray::from(bytes);
            c.decrypt_block(&mut b);
            unpack(&b.into())
        })
    }
}

/// The recipient key in a decrypted block, if it is one this module made.
fn unpack(block: &[u8; 16]) -> Option<String> {
    let n = block[2] as usize;
    if block[..2] != TAG || !(1..MAX_DIGITS).contains(&n) {
        return None;
    }
    let mut key = String::with_capacity(n + 1);
    key.push('+');
    for i in 0..MAX_DIGITS {
        let d = (block[3 + i / 2] >> if i % 2 == 0 { 4 } else { 0 }) & 0x0f;
        match (i < n, d) {
            (true, 0..=9) => key.push((b'0' + d) as char),
            (false, 0) => {}
            // A digit out of range, or anything after the last one.
            _ => return None,
        }
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sid::{VERIFICATION, is_sid, new_sid};

    fn key(c: u8) -> NumberKey {
        NumberKey::new(&[c; 32]).unwrap()
    }

    #[test]
    fn a_sealed_sid_opens_to_its_number_and_looks_like_any_sid() {
        let seal = SidSeal::new(&key(1), None);
        for number in ["+14155550123", "+541123456789", "+1", "+999999999999999"] {
            let sid = seal.seal(VERIFICATION, number).unwrap();
            assert!(is_sid(VERIFICATION, &sid), "{sid}");
            assert_eq!(seal.open(&sid).as_deref(), Some(number));
            assert_ne!(sid, seal.seal(VERIFICATION, number).unwrap(), "fresh random bits each time");
            assert!(number.len() < 8 || !sid.contains(&number[1..]), "the number is not readable in the sid");
        }
    }

    #[test]
    fn only_numbers_are_sealed_and_only_sealed_sids_open() {
        let seal = SidSeal::new(&key(1), None);
        for not_a_number in ["bob@example.com", "+", "+1234567890123456", "+1415a", "14155550123"] {
            assert_eq!(seal.seal(VERIFICATION, not_a_number), None, "{not_a_number}");
        }
        // Random sids (e-mail's, and those made before sealing) open to nothing.
        let opened = (0..10_000).filter(|_| seal.open(&new_sid(VERIFICATION)).is_some()).count();
        assert_eq!(opened, 0);
        assert_eq!(seal.open("VE123"), None);
        assert_eq!(seal.open(&format!("VE{}", "g".repeat(32))), None);
    }

    #[test]
    fn another_key_opens_nothing_and_a_rotation_keeps_old_sids() {
        let (old, new) = (SidSeal::new(&key(1), None), SidSeal::new(&key(2), Some(&key(1))));
        let sid = old.seal(VERIFICATION, "+14155550123").unwrap();
        assert_eq!(SidSeal::new(&key(2), None).open(&sid), None);
        assert_eq!(new.open(&sid).as_deref(), Some("+14155550123"));
        assert_eq!(format!("{new:?}"), "SidSeal(<redacted>)");
    }
}
