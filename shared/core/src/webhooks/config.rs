//! Webhook endpoints and delivery settings, from their own environment
//! variables (until per-service configuration carries them):
//!
//! - `VERIFY_WEBHOOKS`: JSON list of endpoints,
//!   `[{"url": "https://…", "secret": "whsec_…" | "secrets": ["whsec_new", "whsec_old"],
//!      "event_types": ["verification.approved", …] (default: all),
//!      "service_sid": "VA…" (default: every service), "id": "…" (default: derived)}]`
//! - `VERIFY_WEBHOOK_ALLOW_LOOPBACK`, `VERIFY_WEBHOOK_ALLOW_PRIVATE`: allow
//!   deliveries to loopback, or to private and link-local addresses (off).
//! - `VERIFY_WEBHOOK_TIMEOUT_SECONDS`: per attempt, 1 to 15 (15).
//! - `VERIFY_SERVICE_WEBHOOK_SECRETS`: the `whsec_…` secrets (comma list;
//!   every one signs, for rotation) that sign the webhooks created over the
//!   API ([`crate::service_webhooks`]); without one, creating them is refused.

use super::signing::Secret;
use super::ssrf::Allow;
use crate::events::EventType;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::time::Duration;

pub mod env {
    pub const WEBHOOKS: &str = "VERIFY_WEBHOOKS";
    pub const ALLOW_LOOPBACK: &str = "VERIFY_WEBHOOK_ALLOW_LOOPBACK";
    pub const ALLOW_PRIVATE: &str = "VERIFY_WEBHOOK_ALLOW_PRIVATE";
    pub const TIMEOUT_SECONDS: &str = "VERIFY_WEBHOOK_TIMEOUT_SECONDS";
    pub const SERVICE_WEBHOOK_SECRETS: &str = "VERIFY_SERVICE_WEBHOOK_SECRETS";
}

pub const MAX_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone, Debug)]
pub struct Endpoint {
    pub id: String,
    /// Only this service's events; `None` for every service.
    pub service_sid: Option<String>,
    pub url: String,
    /// Every secret signs (rotation: add the new one first, drop the old later).
    pub secrets: Vec<Secret>,
    /// `None` for every event type.
    pub event_types: Option<Vec<EventType>>,
}

impl Endpoint {
    pub fn new(url: &str, secrets: Vec<Secret>, service_sid: Option<String>, event_types: Option<Vec<EventType>>) -> Endpoint {
        let id = derived_id(service_sid.as_deref(), url);
        Endpoint { id, service_sid, url: url.to_owned(), secrets, event_types }
    }

    pub fn wants(&self, service_sid: &str, t: EventType) -> bool {
        self.service_sid.as_deref().is_none_or(|s| s == service_sid) && self.event_types.as_ref().is_none_or(|ts| ts.contains(&t))
    }
}

fn derived_id(service_sid: Option<&str>, url: &str) -> String {
    let d = Sha256::new_with_prefix(b"verify-webhook-endpoint:")
        .chain_update(service_sid.unwrap_or("*"))
        .chain_update(b"|")
        .chain_update(url)
        .finalize();
    format!("we_{}", hex::encode(&d[..8]))
}

/// How deliveries are made.
#[derive(Clone, Debug)]
pub struct DeliverySettings {
    pub allow: Allow,
    /// Per attempt: connect, send, and read the status line.
    pub timeout: Duration,
    /// How long a stream batch waits for its first attempts before leaving the
    /// rest to the scheduled retries, so a slow endpoint cannot stall the stream.
    pub immediate_budget: Duration,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings { allow: Allow::NONE, timeout: MAX_TIMEOUT, immediate_budget: Duration::from_secs(5) }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEndpoint {
    id: Option<String>,
    service_sid: Option<String>,
    url: String,
    secret: Option<String>,
    #[serde(default)]
    secrets: Vec<String>,
    event_types: Option<Vec<String>>,
}

/// Parses `VERIFY_WEBHOOKS`.
pub fn parse_endpoints(json: &str, allow: Allow) -> Result<Vec<Endpoint>, String> {
    let raw: Vec<RawEndpoint> = serde_json::from_str(json).map_err(|e| format!("{}: {e}", env::WEBHOOKS))?;
    let mut out: Vec<Endpoint> = Vec::new();
    for r in raw {
        check_url(&r.url, allow).map_err(|e| format!("{}: {}: {e}", env::WEBHOOKS, r.url))?;
        let secrets: Vec<Secret> = r
            .secret
            .iter()
            .chain(r.secrets.iter())
            .map(|s| Secret::parse(s))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{}: {}: {e}", env::WEBHOOKS, r.url))?;
        if secrets.is_empty() {
            return Err(format!("{}: {}: a secret (whsec_…) is required", env::WEBHOOKS, r.url));
        }
        let event_types = r
            .event_types
            .filter(|ts| !ts.iter().any(|t| t == "*"))
            .map(|ts| {
                ts.iter()
                    .map(|t| EventType::parse(t).ok_or_else(|| format!("{}: unknown event type {t:?}", env::WEBHOOKS)))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let mut e = Endpoint::new(&r.url, secrets, r.service_sid, event_types);
        if let Some(id) = r.id {
            if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
                return Err(format!("{}: endpoint id {id:?}: 1 to 64 letters, digits, _ or -", env::WEBHOOKS));
            }
            e.id = id;
        }
        if out.iter().any(|o| o.id == e.id) {
            return Err(format!("{}: endpoint {} is listed twice", env::WEBHOOKS, e.id));
        }
        out.push(e);
    }
    Ok(out)
}

/// A URL we may deliver to: absolute http(s) with a host, no credentials;
/// plain http only where local addresses are allowed (development).
pub fn check_url(url: &str, allow: Allow) -> Result<(), String> {
    let uri: http::Uri = url.parse().map_err(|_| "not a URL".to_owned())?;
    let scheme = uri.scheme_str().ok_or("not an absolute URL")?;
    let authority = uri.authority().ok_or("no host")?;
    if authority.as_str().contains('@') {
        return Err("credentials in the URL are not supported".into());
    }
    match scheme {
        "https" => {}
        "http" if allow.loopback || allow.private => {}
        "http" => return Err("only https URLs are allowed".into()),
        _ => return Err(format!("unsupported scheme {scheme}")),
    }
    if let Some(ip) = super::ssrf::parse_host_ip(authority.host()) {
        allow.permits(ip).map_err(|r| format!("{} address refused", r.as_str()))?;
    }
    Ok(())
}

/// What the webhooks created over the API take from the deployment: the
/// secrets that sign them, and the address rules their URLs are checked by
/// (the configured endpoints' rules: [`check_url`] with the same allowances).
#[derive(Clone, Debug, Default)]
pub struct ApiWebhooks {
    pub secrets: Vec<Secret>,
    pub allow: Allow,
}

impl ApiWebhooks {
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<ApiWebhooks, String> {
        let get = |name: &str| crate::config::var(vars, name);
        let secrets = get(env::SERVICE_WEBHOOK_SECRETS)
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| Secret::parse(s).map_err(|e| format!("{}: {e}", env::SERVICE_WEBHOOK_SECRETS)))
            .collect::<Result<_, _>>()?;
        Ok(ApiWebhooks { secrets, allow: allow_from(vars) })
    }
}

fn allow_from(vars: &HashMap<String, String>) -> Allow {
    let flag = |name: &str| vars.get(name).is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes" | "on"));
    Allow { loopback: flag(env::ALLOW_LOOPBACK), private: flag(env::ALLOW_PRIVATE) }
}

/// Endpoints and delivery settings from the environment.
pub fn from_vars(vars: &HashMap<String, String>) -> Result<(Vec<Endpoint>, DeliverySettings), String> {
    let get = |name: &str| crate::config::var(vars, name);
    let allow = allow_from(vars);
    let timeout = match get(env::TIMEOUT_SECONDS) {
        None => MAX_TIMEOUT,
        Some(v) => match v.parse::<u64>() {
            Ok(s @ 1..=15) => Duration::from_secs(s),
            _ => return Err(format!("{}: {v:?} is not a whole number from 1 to 15", env::TIMEOUT_SECONDS)),
        },
    };
    let endpoints = get(env::WEBHOOKS).map(|j| parse_endpoints(j, allow)).transpose()?.unwrap_or_default();
    Ok((endpoints, DeliverySettings { allow, timeout, ..DeliverySettings::default() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

    #[test]
    fn endpoints_parse_with_defaults() {
        let json = format!(
            r#"[{{"url":"https://hooks.example.com/v","secret":"{SECRET}"}},
                {{"url":"https://b.example.com/","secrets":["{SECRET}","{SECRET}"],"event_types":["verification.approved","expired"],"service_sid":"VA1","id":"b-1"}}]"#
        );
        let eps = parse_endpoints(&json, Allow::NONE).unwrap();
        assert!(eps[0].id.starts_with("we_") && eps[0].event_types.is_none());
        assert!(eps[0].wants("VAx", EventType::Pending));
        assert_eq!(eps[1].id, "b-1");
        assert_eq!(eps[1].secrets.len(), 2);
        assert!(eps[1].wants("VA1", EventType::Expired));
        assert!(!eps[1].wants("VA1", EventType::Pending));
        assert!(!eps[1].wants("VA2", EventType::Approved));
    }

    #[test]
    fn unsafe_or_broken_endpoints_are_refused() {
        for (url, allow) in [
            ("http://hooks.example.com/", Allow::NONE),
            ("https://127.0.0.1/", Allow::NONE),
            ("https://[::1]:8443/", Allow::NONE),
            ("https://169.254.169.254/latest", Allow::LOOPBACK),
            ("https://10.0.0.1/", Allow::LOOPBACK),
            ("https://user:pw@example.com/", Allow::NONE),
            ("ftp://example.com/", Allow::NONE),
            ("/relative", Allow::NONE),
        ] {
            assert!(check_url(url, allow).is_err(), "{url}");
        }
        assert!(check_url("http://127.0.0.1:9000/hook", Allow::LOOPBACK).is_ok());
        let no_secret = r#"[{"url":"https://a.example.com/"}]"#;
        assert!(parse_endpoints(no_secret, Allow::NONE).unwrap_err().contains("secret"));
        let bad_type = format!(r#"[{{"url":"https://a.example.com/","secret":"{SECRET}","event_types":["x"]}}]"#);
        assert!(parse_endpoints(&bad_type, Allow::NONE).is_err());
    }

    #[test]
    fn api_webhook_secrets_are_a_comma_list_and_the_allowances_are_the_endpoints() {
        let vars = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let none = ApiWebhooks::from_vars(&vars(&[])).unwrap();
        assert!(none.secrets.is_empty() && none.allow == Allow::NONE);
        let two = format!("{SECRET}, {SECRET}");
        let set = ApiWebhooks::from_vars(&vars(&[(env::SERVICE_WEBHOOK_SECRETS, &two), (env::ALLOW_LOOPBACK, "true")])).unwrap();
        assert_eq!(set.secrets.len(), 2);
        assert!(set.allow.loopback && !set.allow.private);
        let bad = ApiWebhooks::from_vars(&vars(&[(env::SERVICE_WEBHOOK_SECRETS, "whsec_short")])).unwrap_err();
        assert!(bad.contains(env::SERVICE_WEBHOOK_SECRETS), "{bad}");
    }
}
