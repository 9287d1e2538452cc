//! `POST /v2/Services`, `POST`/`DELETE /v2/Services/{VA}`: services
//! created, updated and deleted over the API (`admin` only), stored as one
//! versioned document ([`crate::service_catalog`]). Every change reads the
//! document, applies itself, and writes it back on the condition that
//! nobody changed it meanwhile (tried again a few times when somebody did);
//! the process that made it serves it at once, the others within
//! [`crate::service_catalog::CACHE_PERIOD`].
//!
//! Twilio's parameters this project has are taken (`FriendlyName`,
//! `CodeLength`, `SkipSmsToLandlines`); the feature switches it does not
//! have are taken only as `false` (what they say is then true); any other
//! parameter is refused with 400 and nothing written, rather than ignored.

use super::handlers::{Api, body_params};
use super::params::Params;
use super::rate_limits::{not_found, store_failed};
use super::resource::{self, Links};
use super::{ApiError, error::code};
use crate::clock::Clock;
use crate::config::{Service, Services, check_friendly_name};
use crate::otp::{MAX_CODE_LENGTH, MIN_CODE_LENGTH};
use crate::service_catalog::{MAX_STORED_SERVICES, StoredService, StoredServices, merged};
use crate::sid;
use crate::store::{StoreError, Stores};
use bytes::Bytes;
use http::Request;
use serde_json::Value;

/// How many times a change is tried when another change got in first.
const SAVE_TRIES: usize = 5;

const FRIENDLY_NAME: &[&str] = &["FriendlyName", "friendly_name"];
const CODE_LENGTH: &[&str] = &["CodeLength", "code_length"];
const SKIP_SMS_TO_LANDLINES: &[&str] = &["SkipSmsToLandlines", "skip_sms_to_landlines"];

/// Twilio's switches for features this project does not have: `false` is
/// taken (it is what the service does), `true` refused.
const NOT_AVAILABLE: &[&[&str]] = &[
    &["LookupEnabled", "lookup_enabled"],
    &["Psd2Enabled", "psd2_enabled"],
    &["DoNotShareWarningEnabled", "do_not_share_warning_enabled"],
    &["CustomCodeEnabled", "custom_code_enabled"],
    &["DtmfInputRequired", "dtmf_input_required"],
    &["VerifyEventSubscriptionEnabled", "verify_event_subscription_enabled"],
];

/// What a create or update sets; `None`: unchanged (or, on create, the
/// deployment's default).
#[derive(Debug, Default)]
struct Changes {
    friendly_name: Option<String>,
    code_length: Option<usize>,
    skip_sms_to_landlines: Option<bool>,
}

impl<S: Stores, C: Clock> Api<S, C> {
    /// `FriendlyName` (required), `CodeLength`, `SkipSmsToLandlines`.
    pub(super) async fn create_service(&self, req: &Request<Bytes>, links: &Links<'_>) -> Result<Value, ApiError> {
        let changes = changes(&body_params(req)?)?;
        if changes.friendly_name.is_none() {
            return Err(ApiError::invalid("Missing required parameter FriendlyName"));
        }
        let now = self.verifier.clock.now();
        let sid = sid::new_sid(sid::SERVICE);
        let created = self
            .change_services(|seed, doc| {
                if doc.services.len() >= MAX_STORED_SERVICES {
                    return Err(ApiError::invalid(format!("Max Services reached ({MAX_STORED_SERVICES} created or changed over the API)")));
                }
                let mut service = Service::new(sid.clone(), String::new(), seed.defaults().clone());
                service.dates = Some((now, now));
                let stored = changes.applied(&service, now)?;
                doc.put(stored);
                Ok(sid.clone())
            })
            .await?;
        self.service_resource(&created, links).await
    }

    /// The same parameters, none required.
    pub(super) async fn update_service(&self, sid: &str, req: &Request<Bytes>, links: &Links<'_>) -> Result<Value, ApiError> {
        let changes = changes(&body_params(req)?)?;
        let now = self.verifier.clock.now();
        self.change_services(|seed, doc| {
            let current = merged(seed, doc);
            let service = current.get(sid).ok_or_else(|| missing(sid))?;
            doc.put(changes.applied(service, now)?);
            Ok(())
        })
        .await?;
        self.service_resource(sid, links).await
    }

    /// A service created over the API, with its webhooks and rate-limit
    /// definitions; a configured one is refused (it is part of the
    /// deployment: remove it from the document instead). The definitions
    /// go first: should the service's own write then fail, the delete can
    /// be asked again and finds the service still there.
    pub(super) async fn delete_service(&self, sid: &str) -> Result<(), ApiError> {
        let (store, catalog) = (&self.verifier.store, &self.verifier.services);
        let doc = store.stored_services().await.map_err(store_failed)?;
        deletable(catalog.seeded(), &doc, sid)?;
        if let Some(service) = merged(catalog.seeded(), &doc).get(sid) {
            self.delete_rate_limits(service).await?;
        }
        self.change_services(|seed, doc| {
            deletable(seed, doc, sid)?;
            doc.services.retain(|s| s.sid != sid);
            // Its messaging configurations and webhooks go with it.
            doc.messaging_configurations.retain(|c| c.service_sid != sid);
            doc.webhooks.retain(|w| w.service_sid != sid);
            Ok(())
        })
        .await
    }

    /// The service as the catalog now has it.
    async fn service_resource(&self, sid: &str, links: &Links<'_>) -> Result<Value, ApiError> {
        let services = self.verifier.services.current(&self.verifier.store).await.map_err(store_failed)?;
        let service = services.get(sid).ok_or_else(|| missing(sid))?;
        Ok(resource::service(service, links))
    }

    /// Applies `edit` to the stored document (given the seed) and saves it
    /// on the condition that it did not change since it was read; again on
    /// a fresh read when it did. `edit`'s error is answered as it is, with
    /// nothing written. The saved document becomes this process's snapshot.
    pub(super) async fn change_services<T>(
        &self,
        mut edit: impl FnMut(&Services, &mut StoredServices) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let (store, catalog) = (&self.verifier.store, &self.verifier.services);
        for _ in 0..SAVE_TRIES {
            let mut doc = store.stored_services().await.map_err(store_failed)?;
            let out = edit(catalog.seeded(), &mut doc)?;
            doc.version += 1;
            match store.save_stored_services(&doc).await {
                Ok(()) => {
                    catalog.replace(&doc).await;
                    return Ok(out);
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(store_failed(e)),
            }
        }
        Err(ApiError::new(429, code::TOO_MANY_CONCURRENT, "Too many concurrent changes to services; please retry").retry_after(1))
    }
}

impl Changes {
    /// `service`'s stored values with these changes. A code length its
    /// test recipients' codes do not have is refused: they would never match.
    fn applied(&self, service: &Service, now: crate::clock::Seconds) -> Result<StoredService, ApiError> {
        let mut stored = StoredService::of(service, now);
        if let Some(name) = &self.friendly_name {
            stored.friendly_name.clone_from(name);
        }
        if let Some(length) = self.code_length {
            if service.test_recipients.iter().any(|t| t.code.reveal().len() != length) {
                return Err(ApiError::invalid(format!(
                    "Invalid parameter: CodeLength ({length} would not fit the codes of this service's test \
                     recipients, which have {}; change them in the configuration document first)",
                    service.limits.code_length
                )));
            }
            stored.code_length = length;
        }
        if let Some(skip) = self.skip_sms_to_landlines {
            stored.skip_sms_to_landlines = skip;
        }
        stored.updated_at = now;
        Ok(stored)
    }
}

/// The parameters of a create or update, every one checked before anything
/// is written.
fn changes(params: &Params) -> Result<Changes, ApiError> {
    let taken =
        |name: &str| [FRIENDLY_NAME, CODE_LENGTH, SKIP_SMS_TO_LANDLINES].iter().chain(NOT_AVAILABLE).any(|names| names.contains(&name));
    if let Some(name) = params.names().find(|n| !taken(n)) {
        return Err(ApiError::invalid(format!(
            "Invalid parameter: {name} is not supported by this service (it takes FriendlyName, CodeLength and \
             SkipSmsToLandlines; {} only as false)",
            NOT_AVAILABLE.iter().map(|n| n[0]).collect::<Vec<_>>().join(", ")
        )));
    }
    for names in NOT_AVAILABLE {
        if params.flag(names)? == Some(true) {
            return Err(ApiError::invalid(format!("Invalid parameter: {} is not supported by this service (only false)", names[0])));
        }
    }
    let friendly_name = params
        .text(FRIENDLY_NAME)?
        .map(|n| check_friendly_name(n).map_err(|e| ApiError::invalid(format!("Invalid parameter: FriendlyName ({e})"))))
        .transpose()?;
    let code_length = params
        .text(CODE_LENGTH)?
        .map(|raw| {
            raw.trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (MIN_CODE_LENGTH..=MAX_CODE_LENGTH).contains(n))
                .ok_or_else(|| ApiError::invalid(format!("Invalid parameter: CodeLength ({MIN_CODE_LENGTH} to {MAX_CODE_LENGTH})")))
        })
        .transpose()?;
    let skip_sms_to_landlines = params.flag(SKIP_SMS_TO_LANDLINES)?;
    Ok(Changes { friendly_name, code_length, skip_sms_to_landlines })
}

/// Refuses deleting a service of the configuration document, or one the
/// table does not hold.
fn deletable(seed: &Services, doc: &StoredServices, sid: &str) -> Result<(), ApiError> {
    if seed.get(sid).is_some() {
        return Err(ApiError::new(
            403,
            code::FEATURE_NOT_SUPPORTED,
            format!(
                "Service does not support this feature: deleting {sid}, a service of the configuration document \
                 (VERIFY_SERVICES); remove it there"
            ),
        ));
    }
    doc.get(sid).map(|_| ()).ok_or_else(|| missing(sid))
}

fn missing(sid: &str) -> ApiError {
    not_found(&format!("/v2/Services/{sid}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(body: &str) -> Params {
        Params::from_form(body.as_bytes())
    }

    #[test]
    fn parameters_are_taken_checked_or_refused_by_name() {
        let c = changes(&form("FriendlyName=Acme+Pay&CodeLength=8&SkipSmsToLandlines=True&LookupEnabled=false")).unwrap();
        assert_eq!(c.friendly_name.as_deref(), Some("Acme Pay"));
        assert_eq!(c.code_length, Some(8));
        assert_eq!(c.skip_sms_to_landlines, Some(true));
        let refused = |body: &str| changes(&form(body)).unwrap_err().message;
        assert!(refused("FriendlyName=A&Totp.Issuer=x").contains("Totp.Issuer is not supported"));
        assert!(refused("Whatsapp.From=whatsapp:%2B1").contains("Whatsapp.From is not supported"));
        assert!(refused("CustomCodeEnabled=true").contains("CustomCodeEnabled is not supported"));
        assert!(refused("LookupEnabled=maybe").contains("true or false"));
        assert!(refused("CodeLength=3").contains("4 to 10"));
        assert!(refused("CodeLength=x").contains("CodeLength"));
        assert!(refused("FriendlyName=visit+evil.com").contains("FriendlyName"));
        assert!(refused("SkipSmsToLandlines=yes").contains("SkipSmsToLandlines"));
    }

    #[test]
    fn a_code_length_that_breaks_test_recipients_is_refused() {
        let json = r#"{"services":[{"friendly_name":"A","test_recipients":{"+14155550100":"123456"}}]}"#;
        let seed = Services::from_json(json, &crate::config::Limits::default()).unwrap();
        let service = seed.default_service();
        let to = |n| Changes { code_length: Some(n), ..Changes::default() }.applied(service, 5);
        assert!(to(8).unwrap_err().message.contains("test recipients"));
        let same = to(6).unwrap();
        assert_eq!((same.code_length, same.created_at, same.updated_at), (6, 5, 5));
    }
}
