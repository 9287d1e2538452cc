//! E-mail addresses as recipients: validated conservatively (what a mail
//! provider will accept and a person can type), normalised so one mailbox
//! has one key for every limit.
//!
//! Accepted: `local@domain` with a dot-atom local part (RFC 5322 `atext`
//! and dots, no leading, trailing or doubled dot, at most 64 characters)
//! and a domain of at least two labels of letters, digits and hyphens (any
//! script, for internationalised domains), at most 254 characters in all.
//! Quoted local parts, comments, IP-literal domains and display names are
//! refused: no delivery service needs them and each hides tricks.

use std::fmt;

const MAX_ADDRESS_CHARS: usize = 254;
const MAX_LOCAL_CHARS: usize = 64;
const MAX_LABEL_CHARS: usize = 63;

/// A valid address, with its domain lower-cased.
#[derive(Clone, PartialEq, Eq)]
pub struct EmailAddress {
    address: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EmailError {
    /// Not `local@domain` at all.
    NotAnAddress,
    /// The part before `@` is not one we accept.
    BadLocalPart,
    /// The part after `@` is not a domain name.
    BadDomain,
}

impl EmailAddress {
    pub fn parse(input: &str) -> Result<EmailAddress, EmailError> {
        let input = input.trim();
        if input.is_empty() || input.chars().count() > MAX_ADDRESS_CHARS || input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EmailError::NotAnAddress);
        }
        let (local, domain) = input.rsplit_once('@').ok_or(EmailError::NotAnAddress)?;
        check_local(local)?;
        let domain = domain.to_lowercase();
        check_domain(&domain)?;
        Ok(EmailAddress { address: format!("{local}@{domain}") })
    }

    /// The address codes are sent to (local part as given).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// What limits are keyed on: the whole address lower-cased. Providers
    /// treat local parts case-insensitively in practice, so `Alice@` and
    /// `alice@` must not get two sets of limits.
    pub fn key(&self) -> String {
        self.address.to_lowercase()
    }

    /// For logs and events: the first character of the local part and the domain.
    pub fn masked(&self) -> String {
        mask_email(&self.address)
    }
}

/// An address with its local part hidden but for its first character.
pub fn mask_email(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({})", self.masked())
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.address)
    }
}

fn check_local(local: &str) -> Result<(), EmailError> {
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || (!c.is_ascii() && c.is_alphanumeric());
    let ok = !local.is_empty()
        && local.chars().count() <= MAX_LOCAL_CHARS
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| c == '.' || atext(c));
    ok.then_some(()).ok_or(EmailError::BadLocalPart)
}

fn check_domain(domain: &str) -> Result<(), EmailError> {
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.chars().count() <= MAX_LABEL_CHARS
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c == '-' || c.is_alphanumeric())
    };
    let tld_ok = labels
        .last()
        .is_some_and(|t| t.chars().count() >= 2 && t.chars().all(char::is_alphanumeric) && !t.chars().all(|c| c.is_ascii_digit()));
    (labels.len() >= 2 && labels.iter().all(label_ok) && tld_ok).then_some(()).ok_or(EmailError::BadDomain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_validated_and_their_domain_lower_cased() {
        let a = EmailAddress::parse(" Alice.Smith+verify@Example.COM ").unwrap();
        assert_eq!(a.address(), "Alice.Smith+verify@example.com");
        assert_eq!(a.key(), "alice.smith+verify@example.com");
        assert_eq!(a.masked(), "A***@example.com");
        assert!(EmailAddress::parse("josé@correo.españa.es").is_ok());
        assert!(!format!("{a:?}").contains("Smith"));
    }

    #[test]
    fn one_mailbox_one_key() {
        let keys: Vec<String> =
            ["bob@example.com", "BOB@EXAMPLE.COM", "Bob@Example.com"].iter().map(|s| EmailAddress::parse(s).unwrap().key()).collect();
        assert!(keys.iter().all(|k| k == "bob@example.com"), "{keys:?}");
    }

    #[test]
    fn what_is_not_an_address_is_refused() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@localhost",
            "a b@example.com",
            "\"a\"@example.com",
            "a@[127.0.0.1]",
            "a@1.2.3.4",
            ".a@example.com",
            "a.@example.com",
            "a..b@example.com",
            "a@-x.com",
            "a@x-.com",
            "a@x..com",
            "Alice <a@example.com>",
            "a@exa\nmple.com",
            "a@exam_ple.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert_eq!(EmailAddress::parse(&long_local), Err(EmailError::BadLocalPart));
        let long = format!("a@{}.com", "b".repeat(250));
        assert!(EmailAddress::parse(&long).is_err());
    }
}
