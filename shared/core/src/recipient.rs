//! Who a code goes to: a phone number or an e-mail address. Every limit is
//! keyed on the recipient's [`Recipient::key`], one canonical form per
//! subscriber or mailbox, whatever the spelling a request used.

use crate::email::{EmailAddress, EmailError, mask_email};
use crate::phone::{PhoneError, PhoneNumber, mask_e164};

/// What kind of recipient a channel delivers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecipientKind {
    Phone,
    Email,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recipient {
    Phone(PhoneNumber),
    Email(EmailAddress),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecipientError {
    Phone(PhoneError),
    Email(EmailError),
}

impl From<PhoneNumber> for Recipient {
    fn from(p: PhoneNumber) -> Recipient {
        Recipient::Phone(p)
    }
}

impl Recipient {
    /// Reads `raw` as the kind of recipient a channel takes.
    pub fn parse(kind: RecipientKind, raw: &str) -> Result<Recipient, RecipientError> {
        match kind {
            RecipientKind::Phone => PhoneNumber::parse(raw).map(Recipient::Phone).map_err(RecipientError::Phone),
            RecipientKind::Email => EmailAddress::parse(raw).map(Recipient::Email).map_err(RecipientError::Email),
        }
    }

    /// Reads `raw` as whichever kind it is (a path `{Sid}` naming a
    /// verification by its recipient): an `@` makes it an address.
    pub fn parse_any(raw: &str) -> Result<Recipient, RecipientError> {
        let kind = if raw.contains('@') { RecipientKind::Email } else { RecipientKind::Phone };
        Recipient::parse(kind, raw)
    }

    pub fn kind(&self) -> RecipientKind {
        match self {
            Recipient::Phone(_) => RecipientKind::Phone,
            Recipient::Email(_) => RecipientKind::Email,
        }
    }

    /// Where codes are delivered: the E.164 number or the address.
    pub fn address(&self) -> &str {
        match self {
            Recipient::Phone(p) => p.e164(),
            Recipient::Email(e) => e.address(),
        }
    }

    /// What records and limits are keyed on.
    pub fn key(&self) -> String {
        match self {
            Recipient::Phone(p) => p.key(),
            Recipient::Email(e) => e.key(),
        }
    }

    /// A number its numbering plan calls a fixed line (see
    /// [`PhoneNumber::is_fixed_line`]); never an address.
    pub fn is_fixed_line(&self) -> bool {
        matches!(self, Recipient::Phone(p) if p.is_fixed_line())
    }

    /// The destination country, for geo permissions and reports (numbers only).
    pub fn country(&self) -> Option<&str> {
        match self {
            Recipient::Phone(p) => p.country(),
            Recipient::Email(_) => None,
        }
    }

    pub fn masked(&self) -> String {
        mask_address(self.address())
    }
}

/// A stored address (a record's `to`), masked for logs and events: a number
/// keeps its first digits, an address the first character and the domain.
pub fn mask_address(address: &str) -> String {
    if address.contains('@') { mask_email(address) } else { mask_e164(address) }
}

/// The key of a stored address, as [`Recipient::key`] made it.
pub fn key_of_address(address: &str) -> String {
    if address.contains('@') { address.to_lowercase() } else { crate::phone::subscriber_key(address).into_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_and_addresses_are_told_apart_and_keyed() {
        let p = Recipient::parse_any("+54 9 11 2345 6789").unwrap();
        assert_eq!(
            (p.kind(), p.address(), p.key().as_str(), p.country()),
            (RecipientKind::Phone, "+5491123456789", "+541123456789", Some("AR"))
        );
        let e = Recipient::parse_any("Bob@Example.com").unwrap();
        assert_eq!(
            (e.kind(), e.address(), e.key().as_str(), e.country()),
            (RecipientKind::Email, "Bob@example.com", "bob@example.com", None)
        );
        assert_eq!(key_of_address(p.address()), p.key());
        assert_eq!(key_of_address(e.address()), e.key());
        assert_eq!((p.masked().as_str(), e.masked().as_str()), ("+549112345****", "B***@example.com"));
    }

    #[test]
    fn a_channel_takes_only_its_kind() {
        assert!(matches!(Recipient::parse(RecipientKind::Phone, "bob@example.com"), Err(RecipientError::Phone(_))));
        assert!(matches!(Recipient::parse(RecipientKind::Email, "+14155550123"), Err(RecipientError::Email(_))));
    }
}
