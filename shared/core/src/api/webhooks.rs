//! `/v2/Services/{VA}/Webhooks[/{YW}]`: Twilio's Verify service webhooks,
//! created, listed, fetched, updated and deleted over the API (`admin`
//! only), stored in the services document ([`crate::service_catalog`]) and
//! changed as services are (a conditional write of the whole document).
//! The rules are [`crate::service_webhooks`]'; the URL is checked by the
//! configured endpoints' own rule ([`crate::webhooks::config::check_url`]).
//!
//! Creating one needs a deployment secret to sign it
//! (`VERIFY_SERVICE_WEBHOOK_SECRETS`): without one the create is refused
//! rather than storing a webhook nothing would ever be sent to.

use super::handlers::{Api, body_params, page_of};
use super::params::Params;
use super::rate_limits::not_found;
use super::resource::{Links, list_page};
use super::{ApiError, error::code};
use crate::clock::{Clock, Seconds};
use crate::config::{Services, check_friendly_name};
use crate::service_catalog::merged;
use crate::service_webhooks::{self as rules, MAX_URL_LENGTH, MAX_WEBHOOKS, StoredWebhook};
use crate::sid;
use crate::store::Stores;
use crate::time_fmt::iso8601;
use crate::webhooks::ssrf::Allow;
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use serde_json::{Value, json};

const FRIENDLY_NAME: &[&str] = &["FriendlyName", "friendly_name"];
const EVENT_TYPES: &[&str] = &["EventTypes", "event_types"];
const WEBHOOK_URL: &[&str] = &["WebhookUrl", "webhook_url"];
const STATUS: &[&str] = &["Status", "status"];
const VERSION: &[&str] = &["Version", "version"];

/// What a create or update sets; `None`: unchanged (or, on create, the default).
#[derive(Debug, Default)]
struct Changes {
    friendly_name: Option<String>,
    event_types: Option<Vec<String>>,
    url: Option<String>,
    enabled: Option<bool>,
    version: Option<String>,
}

impl<S: Stores, C: Clock> Api<S, C> {
    /// One request on the webhooks of `service_sid` (a service `services`
    /// has): the status and body (`None` for a deletion's empty 204).
    pub(super) async fn webhooks(
        &self,
        services: &Services,
        service_sid: &str,
        sid: Option<&str>,
        req: &Request<Bytes>,
        links: &Links<'_>,
    ) -> Result<(StatusCode, Option<Value>), ApiError> {
        let list_url = format!("{}/Webhooks", links.service_url(service_sid));
        let url_of = |yw: &str| format!("{list_url}/{yw}");
        let method = req.method();
        let found = |yw: &str| {
            services.webhooks().iter().find(|w| w.sid == yw && w.service_sid == service_sid).ok_or_else(|| not_found(&url_of(yw)))
        };
        match sid {
            None if method == Method::POST => {
                let created = self.create_webhook(service_sid, &body_params(req)?).await?;
                Ok((StatusCode::CREATED, Some(resource(&created, &url_of(&created.sid), links))))
            }
            None => {
                let items = services
                    .webhooks()
                    .iter()
                    .filter(|w| w.service_sid == service_sid)
                    .map(|w| resource(w, &url_of(&w.sid), links))
                    .collect();
                let (size, page) = page_of(req)?;
                let page = list_page("webhooks", items, size, page, |size, n| format!("{list_url}?PageSize={size}&Page={n}"));
                Ok((StatusCode::OK, Some(page)))
            }
            Some(yw) if method == Method::GET => Ok((StatusCode::OK, Some(resource(found(yw)?, &url_of(yw), links)))),
            Some(yw) if method == Method::POST => {
                let changes = changes(&body_params(req)?, self.api_webhooks.allow)?;
                let now = self.verifier.clock.now();
                let updated = self
                    .change_services(|_, doc| {
                        let hook = doc.webhooks.iter_mut().find(|w| w.sid == yw && w.service_sid == service_sid);
                        let hook = hook.ok_or_else(|| not_found(&url_of(yw)))?;
                        changes.apply(hook, now);
                        Ok(hook.clone())
                    })
                    .await?;
                Ok((StatusCode::OK, Some(resource(&updated, &url_of(yw), links))))
            }
            Some(yw) => {
                self.change_services(|_, doc| {
                    let before = doc.webhooks.len();
                    doc.webhooks.retain(|w| !(w.sid == yw && w.service_sid == service_sid));
                    if doc.webhooks.len() == before { Err(not_found(&url_of(yw))) } else { Ok(()) }
                })
                .await?;
                Ok((StatusCode::NO_CONTENT, None))
            }
        }
    }

    /// `FriendlyName`, `EventTypes` and `WebhookUrl` (required), `Status`
    /// (enabled), `Version` (v2).
    async fn create_webhook(&self, service_sid: &str, params: &Params) -> Result<StoredWebhook, ApiError> {
        let changes = changes(params, self.api_webhooks.allow)?;
        for (given, names) in [
            (changes.friendly_name.is_some(), FRIENDLY_NAME),
            (changes.event_types.is_some(), EVENT_TYPES),
            (changes.url.is_some(), WEBHOOK_URL),
        ] {
            if !given {
                return Err(ApiError::invalid(format!("Missing required parameter {}", names[0])));
            }
        }
        if self.api_webhooks.secrets.is_empty() {
            return Err(ApiError::new(
                403,
                code::FEATURE_NOT_SUPPORTED,
                // The variable is not named: every function links this
                // message, and only start-verify is given the secret.
                "Service does not support this feature: webhooks created over the API are signed with the \
                 deployment's service webhook secret, and none is configured (verify-local: --webhook-secret)",
            ));
        }
        let now = self.verifier.clock.now();
        let mut hook = StoredWebhook {
            sid: sid::new_sid(sid::WEBHOOK),
            service_sid: service_sid.to_owned(),
            friendly_name: String::new(),
            event_types: Vec::new(),
            enabled: true,
            version: rules::DEFAULT_VERSION.to_owned(),
            url: String::new(),
            created_at: now,
            updated_at: now,
        };
        changes.apply(&mut hook, now);
        self.change_services(|seed, doc| {
            // The service may have been deleted since this request's snapshot.
            if merged(seed, doc).get(service_sid).is_none() {
                return Err(not_found(&format!("/v2/Services/{service_sid}")));
            }
            if doc.webhooks.len() >= MAX_WEBHOOKS {
                return Err(ApiError::invalid(format!("Max Webhooks reached ({MAX_WEBHOOKS} over all services)")));
            }
            doc.webhooks.push(hook.clone());
            Ok(())
        })
        .await?;
        Ok(hook)
    }
}

impl Changes {
    fn apply(&self, hook: &mut StoredWebhook, now: Seconds) {
        let set = |to: &mut String, from: &Option<String>| {
            if let Some(v) = from {
                to.clone_from(v);
            }
        };
        set(&mut hook.friendly_name, &self.friendly_name);
        set(&mut hook.url, &self.url);
        set(&mut hook.version, &self.version);
        if let Some(types) = &self.event_types {
            hook.event_types.clone_from(types);
        }
        if let Some(enabled) = self.enabled {
            hook.enabled = enabled;
        }
        hook.updated_at = now;
    }
}

/// The parameters of a create or update, every one checked before anything
/// is written; a name the resource does not take is refused.
fn changes(params: &Params, allow: Allow) -> Result<Changes, ApiError> {
    let taken = [FRIENDLY_NAME, EVENT_TYPES, WEBHOOK_URL, STATUS, VERSION];
    if let Some(name) = params.names().find(|n| !taken.iter().any(|names| names.contains(n))) {
        return Err(ApiError::invalid(format!(
            "Invalid parameter: {name} is not supported (a webhook takes FriendlyName, EventTypes, WebhookUrl, Status \
             and Version)"
        )));
    }
    let invalid = |name: &str, why: String| ApiError::invalid(format!("Invalid parameter: {name} ({why})"));
    let friendly_name = params.text(FRIENDLY_NAME)?.map(check_friendly_name).transpose().map_err(|e| invalid(FRIENDLY_NAME[0], e))?;
    let given_types = params.list(EVENT_TYPES)?;
    let event_types = match given_types.is_empty() {
        true => None,
        false => Some(
            given_types.into_iter().map(rules::check_event_type).collect::<Result<Vec<_>, _>>().map_err(|e| invalid(EVENT_TYPES[0], e))?,
        ),
    };
    let url = params
        .text(WEBHOOK_URL)?
        .map(|u| {
            let u = u.trim();
            if u.len() > MAX_URL_LENGTH {
                return Err(format!("at most {MAX_URL_LENGTH} characters"));
            }
            crate::webhooks::config::check_url(u, allow).map(|()| u.to_owned())
        })
        .transpose()
        .map_err(|e| invalid(WEBHOOK_URL[0], e))?;
    let enabled =
        params.text(STATUS)?.map(|s| rules::parse_status(s).ok_or_else(|| invalid(STATUS[0], "enabled or disabled".into()))).transpose()?;
    let version = params
        .text(VERSION)?
        .map(|v| {
            let v = v.trim();
            rules::VERSIONS.iter().find(|known| **known == v).map(|k| k.to_string()).ok_or_else(|| invalid(VERSION[0], "v1 or v2".into()))
        })
        .transpose()?;
    Ok(Changes { friendly_name, event_types, url, enabled, version })
}

/// Twilio's Webhook resource.
fn resource(w: &StoredWebhook, url: &str, links: &Links<'_>) -> Value {
    json!({
        "sid": w.sid,
        "service_sid": w.service_sid,
        "account_sid": links.account_sid,
        "friendly_name": w.friendly_name,
        "event_types": w.event_types,
        "status": if w.enabled { "enabled" } else { "disabled" },
        "version": w.version,
        "webhook_url": w.url,
        "webhook_method": "POST",
        "date_created": iso8601(w.created_at),
        "date_updated": iso8601(w.updated_at),
        "url": url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(body: &str) -> Params {
        Params::from_form(body.as_bytes())
    }

    fn refused(body: &str) -> String {
        changes(&form(body), Allow::NONE).unwrap_err().message
    }

    #[test]
    fn parameters_are_taken_repeated_event_types_included() {
        let body = "FriendlyName=Orders&EventTypes=verification.approved&EventTypes=verification.canceled\
                    &WebhookUrl=https%3A%2F%2Fhooks.example.com%2Fv&Status=disabled&Version=v1";
        let c = changes(&form(body), Allow::NONE).unwrap();
        assert_eq!(c.friendly_name.as_deref(), Some("Orders"));
        assert_eq!(c.event_types.unwrap(), ["verification.approved", "verification.canceled"]);
        assert_eq!(c.url.as_deref(), Some("https://hooks.example.com/v"));
        assert_eq!((c.enabled, c.version.as_deref()), (Some(false), Some("v1")));
        let json = Params::from_body(Some("application/json"), br#"{"EventTypes":["*"]}"#).unwrap();
        assert_eq!(changes(&json, Allow::NONE).unwrap().event_types.unwrap(), ["*"]);
    }

    #[test]
    fn bad_values_are_refused_naming_the_parameter() {
        assert!(refused("EventTypes=factor.created").contains("EventTypes (factor.created is a Verify Push"));
        assert!(refused("EventTypes=nope").contains("EventTypes"));
        assert!(refused("WebhookUrl=http%3A%2F%2Fhooks.example.com%2F").contains("WebhookUrl (only https"));
        assert!(refused("WebhookUrl=https%3A%2F%2F127.0.0.1%2F").contains("WebhookUrl"));
        let long = format!("WebhookUrl=https%3A%2F%2Fa.example.com%2F{}", "a".repeat(MAX_URL_LENGTH));
        assert!(refused(&long).contains("WebhookUrl (at most"));
        assert!(refused("Status=on").contains("Status"));
        assert!(refused("Version=v3").contains("Version"));
        assert!(refused("FriendlyName=visit+evil.com").contains("FriendlyName"));
        assert!(refused("WebhookMethod=GET").contains("WebhookMethod is not supported"));
        // Loopback only where the deployment allows it, as for configured endpoints.
        assert!(changes(&form("WebhookUrl=http%3A%2F%2F127.0.0.1%3A9%2Fh"), Allow::LOOPBACK).is_ok());
    }
}
