//! Webhooks created over the API (`/v2/Services/{VA}/Webhooks`, sid `YW`):
//! what is stored (in the services document, [`crate::service_catalog`],
//! so one cached read gives every function both), the rules a create or
//! update is checked by, and the delivery endpoint each enabled one becomes.
//!
//! They are signed like the configured endpoints (`VERIFY_WEBHOOKS`), with
//! the deployment's secrets for webhooks created over the API
//! ([`crate::webhooks::config::ApiWebhooks`]): a caller of the API never
//! sees or sets a secret, so an `admin` key cannot learn one.

use crate::clock::Seconds;
use crate::events::EventType;
use crate::webhooks::config::Endpoint;
use crate::webhooks::signing::Secret;
use serde::{Deserialize, Serialize};

/// Every event type, as Twilio spells it.
pub const ALL_EVENTS: &str = "*";

/// How many webhooks the document may hold, over all services: with the
/// services it stays one item well under DynamoDB's 400 KB.
pub const MAX_WEBHOOKS: usize = 100;

/// Longest URL taken (keeps the document bounded).
pub const MAX_URL_LENGTH: usize = 1024;

/// Twilio's payload versions; the payload here is this project's event
/// either way, the value is kept and shown.
pub const VERSIONS: [&str; 2] = ["v1", "v2"];
pub const DEFAULT_VERSION: &str = "v2";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredWebhook {
    pub sid: String,
    pub service_sid: String,
    pub friendly_name: String,
    /// `*` or event type names (`verification.approved`), as given.
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub version: String,
    pub url: String,
    pub created_at: Seconds,
    pub updated_at: Seconds,
}

impl StoredWebhook {
    /// The endpoint deliveries go to, signed with `secrets`; `None` while
    /// disabled (a disabled webhook gets nothing) or with no secret to sign.
    pub fn endpoint(&self, secrets: &[Secret]) -> Option<Endpoint> {
        if !self.enabled || secrets.is_empty() {
            return None;
        }
        let event_types = if self.event_types.iter().any(|t| t == ALL_EVENTS) {
            None
        } else {
            Some(self.event_types.iter().filter_map(|t| EventType::parse(t)).collect())
        };
        let mut e = Endpoint::new(&self.url, secrets.to_vec(), Some(self.service_sid.clone()), event_types);
        e.id.clone_from(&self.sid);
        Some(e)
    }
}

/// Checks one `EventTypes` value: `*` or one of this project's event types
/// by its full name. Twilio's Verify Push and TOTP events (`factor.*`,
/// `challenge.*`) are refused with what to use instead.
pub fn check_event_type(given: &str) -> Result<String, String> {
    let t = given.trim();
    if t == ALL_EVENTS {
        return Ok(t.to_owned());
    }
    if let Some(found) = EventType::ALL.iter().find(|e| e.as_str() == t) {
        return Ok(found.as_str().to_owned());
    }
    let names = || EventType::ALL.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ");
    if t.starts_with("factor.") || t.starts_with("challenge.") {
        return Err(format!("{t} is a Verify Push/TOTP event, and this service has no factors or challenges; use * or one of {}", names()));
    }
    Err(format!("{t} is not an event type; use * or one of {}", names()))
}

/// `Status`: `enabled` or `disabled`.
pub fn parse_status(given: &str) -> Option<bool> {
    match given.trim() {
        "enabled" => Some(true),
        "disabled" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

    fn hook(event_types: &[&str], enabled: bool) -> StoredWebhook {
        StoredWebhook {
            sid: "YW0123456789abcdef0123456789abcdef".into(),
            service_sid: "VA1".into(),
            friendly_name: "hook".into(),
            event_types: event_types.iter().map(|s| s.to_string()).collect(),
            enabled,
            version: DEFAULT_VERSION.into(),
            url: "https://hooks.example.com/v".into(),
            created_at: 1,
            updated_at: 1,
        }
    }

    #[test]
    fn event_types_are_ours_or_star_and_push_events_are_refused_with_what_to_use() {
        assert_eq!(check_event_type(" * ").unwrap(), "*");
        assert_eq!(check_event_type("verification.approved").unwrap(), "verification.approved");
        let push = check_event_type("factor.created").unwrap_err();
        assert!(push.contains("Verify Push") && push.contains("verification.approved"), "{push}");
        assert!(check_event_type("challenge.denied").unwrap_err().contains("Verify Push"));
        assert!(check_event_type("approved").unwrap_err().contains("not an event type"));
    }

    #[test]
    fn an_enabled_webhook_is_an_endpoint_of_its_service_with_its_own_sid() {
        let secrets = vec![Secret::parse(SECRET).unwrap()];
        let e = hook(&["verification.approved"], true).endpoint(&secrets).unwrap();
        assert_eq!(e.id, "YW0123456789abcdef0123456789abcdef");
        assert!(e.wants("VA1", EventType::Approved));
        assert!(!e.wants("VA1", EventType::Pending) && !e.wants("VA2", EventType::Approved));
        assert!(hook(&["*"], true).endpoint(&secrets).unwrap().wants("VA1", EventType::Blocked));
        assert!(hook(&["*"], false).endpoint(&secrets).is_none(), "a disabled webhook gets nothing");
        assert!(hook(&["*"], true).endpoint(&[]).is_none(), "nothing unsigned is sent");
    }

    #[test]
    fn status_is_enabled_or_disabled() {
        assert_eq!(parse_status("enabled"), Some(true));
        assert_eq!(parse_status("disabled"), Some(false));
        assert_eq!(parse_status("on"), None);
    }
}
