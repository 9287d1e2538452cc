//! What a caller may do: four permissions, held by each API key as a set.
//!
//! Which operation needs which permission is one table,
//! [`crate::api::routes::Operation::permission`]; this module only names
//! the permissions, parses them from configuration and says who holds what
//! by default.

use std::fmt;

/// One permission an API key can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Start, check, fetch and cancel verifications.
    Verify,
    /// Approve a verification without its code (`Status=approved`).
    Approve,
    /// Read reports: attempts, their summary, events, the dashboard.
    Reports,
    /// Manage the deployment: services, the Safe List, rate limits, webhooks.
    Admin,
}

impl Permission {
    pub const ALL: [Permission; 4] = [Permission::Verify, Permission::Approve, Permission::Reports, Permission::Admin];

    /// The name used in `VERIFY_API_KEYS` and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Permission::Verify => "verify",
            Permission::Approve => "approve",
            Permission::Reports => "reports",
            Permission::Admin => "admin",
        }
    }

    pub fn parse(name: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.name() == name.trim())
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A set of permissions.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Permissions(u8);

impl Permissions {
    pub const NONE: Permissions = Permissions(0);
    /// `verify-local --api-key`: the developer's own key may do everything.
    pub const ALL: Permissions = Permissions(0b1111);
    /// A key configured without a `permissions` list: what every key could
    /// do before keys carried permissions, except the management API, which
    /// must be granted by name.
    pub const UNLISTED_KEY: Permissions = Permissions(0b0111);
    /// A request signed with an auth token (`X-Twilio-Signature`): Twilio's
    /// webhooks and Studio start, check and approve; such a request can be
    /// replayed (the scheme has no timestamp), so it never manages anything.
    pub const SIGNED: Permissions = Permissions(0b0111);
    /// An open verify-local (no credentials configured): everything. (The
    /// handler still refuses approval without a code to a caller that did
    /// not prove who it is.)
    pub const OPEN: Permissions = Permissions::ALL;

    pub fn of(list: &[Permission]) -> Permissions {
        Permissions(list.iter().fold(0, |bits, p| bits | p.bit()))
    }

    /// From the configured names; an unknown name is an error, so a typo
    /// cannot silently grant less (or, with a later name, more) than meant.
    pub fn parse(names: &[String]) -> Result<Permissions, String> {
        let mut list = Vec::with_capacity(names.len());
        for name in names {
            list.push(Permission::parse(name).ok_or_else(|| {
                let known: Vec<&str> = Permission::ALL.iter().map(|p| p.name()).collect();
                format!("unknown permission {name:?} (known: {})", known.join(", "))
            })?);
        }
        Ok(Permissions::of(&list))
    }

    pub fn allows(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }
}

impl fmt::Debug for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let held: Vec<&str> = Permission::ALL.iter().filter(|p| self.allows(**p)).map(|p| p.name()).collect();
        write!(f, "Permissions({})", held.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Permission::*;

    #[test]
    fn defaults_are_what_the_readme_says() {
        assert_eq!(Permissions::ALL, Permissions::of(&[Verify, Approve, Reports, Admin]));
        assert_eq!(Permissions::UNLISTED_KEY, Permissions::of(&[Verify, Approve, Reports]));
        assert_eq!(Permissions::SIGNED, Permissions::of(&[Verify, Approve, Reports]));
        assert_eq!(Permissions::OPEN, Permissions::ALL);
    }

    #[test]
    fn names_parse_and_unknown_ones_are_errors() {
        let p = Permissions::parse(&["verify".into(), " reports".into()]).unwrap();
        assert!(p.allows(Verify) && p.allows(Reports) && !p.allows(Approve) && !p.allows(Admin));
        assert_eq!(Permissions::parse(&[]).unwrap(), Permissions::NONE);
        assert!(Permissions::parse(&["Verify".into()]).is_err(), "names are lower case, as documented");
        assert!(Permissions::parse(&["everything".into()]).is_err());
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.name()), Some(p));
        }
        assert_eq!(format!("{:?}", Permissions::of(&[Verify, Admin])), "Permissions(verify,admin)");
    }
}
