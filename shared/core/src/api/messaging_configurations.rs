//! `/v2/Services/{VA}/MessagingConfigurations[/{Country}]`: which sender
//! profile a service's texts to a country go out with ([`crate::messaging`]),
//! managed over the API (`admin`, as the service itself). Kept in the
//! services document, so every change goes through the services' versioned
//! write ([`Api::change_services`]) and reaches the functions through their
//! cache; reads here take the table's current document, not the cache.
//!
//! `Country` is `all` or a country of the numbering plans; a
//! `MessagingServiceSid` must name one of the deployment's profiles
//! (`VERIFY_SMS_PROFILES`): anything else is a 400 naming the parameter,
//! with nothing written.

use super::ApiError;
use super::handlers::{Api, body_params, page_of};
use super::params::Params;
use super::rate_limits::{not_found, store_failed};
use super::resource::{Links, list_page};
use crate::clock::Clock;
use crate::config::Services;
use crate::messaging::{self, MAX_STORED, MessagingConfiguration, SmsProfiles};
use crate::service_catalog::StoredServices;
use crate::sid;
use crate::store::Stores;
use crate::time_fmt::iso8601;
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use serde_json::{Value, json};

const COUNTRY: &[&str] = &["Country", "country"];
const MESSAGING_SERVICE_SID: &[&str] = &["MessagingServiceSid", "messaging_service_sid"];

impl<S: Stores, C: Clock> Api<S, C> {
    /// One request on the collection (`country` `None`: create, list) or on
    /// one country's configuration (fetch, update, delete): the status and
    /// body (`None` for a deletion's empty 204).
    pub(super) async fn messaging_configurations(
        &self,
        service_sid: &str,
        country: Option<&str>,
        req: &Request<Bytes>,
        links: &Links<'_>,
    ) -> Result<(StatusCode, Option<Value>), ApiError> {
        let at = Urls { base: links.service_url(service_sid), account_sid: links.account_sid };
        let method = req.method();
        let Some(country) = country else {
            if method == Method::POST {
                let created = self.create_messaging_configuration(service_sid, req).await?;
                return Ok((StatusCode::CREATED, Some(at.resource(&created))));
            }
            let doc = self.current_document(service_sid).await?;
            let items = of_service(&doc, service_sid).map(|c| at.resource(c)).collect();
            let (size, page) = page_of(req)?;
            let url = at.collection();
            let page = list_page("messaging_configurations", items, size, page, |size, n| format!("{url}?PageSize={size}&Page={n}"));
            return Ok((StatusCode::OK, Some(page)));
        };
        // A country that is none has no configuration.
        let missing = || not_found(&at.item(country));
        let country = messaging::parse_country(country).ok_or_else(missing)?;
        let find = |doc: &StoredServices| of_service(doc, service_sid).find(|c| c.country == country).cloned();
        match *method {
            Method::GET => {
                let doc = self.current_document(service_sid).await?;
                Ok((StatusCode::OK, Some(at.resource(&find(&doc).ok_or_else(missing)?))))
            }
            Method::POST => {
                let params = body_params(req)?;
                only(&params, &[MESSAGING_SERVICE_SID])?;
                let profile = profile_sid(&params, self.verifier.services.sms_profiles())?
                    .ok_or_else(|| ApiError::invalid("Missing required parameter MessagingServiceSid"))?;
                let now = self.verifier.clock.now();
                let updated = self
                    .change_services(|seed, doc| {
                        exists(seed, doc, service_sid)?;
                        let c = doc
                            .messaging_configurations
                            .iter_mut()
                            .find(|c| c.service_sid == service_sid && c.country == country)
                            .ok_or_else(missing)?;
                        c.messaging_service_sid.clone_from(&profile);
                        c.updated_at = now;
                        Ok(c.clone())
                    })
                    .await?;
                Ok((StatusCode::OK, Some(at.resource(&updated))))
            }
            _ => {
                self.change_services(|seed, doc| {
                    exists(seed, doc, service_sid)?;
                    let before = doc.messaging_configurations.len();
                    doc.messaging_configurations.retain(|c| !(c.service_sid == service_sid && c.country == country));
                    if doc.messaging_configurations.len() == before { Err(missing()) } else { Ok(()) }
                })
                .await?;
                Ok((StatusCode::NO_CONTENT, None))
            }
        }
    }

    /// `Country` and `MessagingServiceSid`, both required; one
    /// configuration per country and service.
    async fn create_messaging_configuration(&self, service_sid: &str, req: &Request<Bytes>) -> Result<MessagingConfiguration, ApiError> {
        let params = body_params(req)?;
        only(&params, &[COUNTRY, MESSAGING_SERVICE_SID])?;
        let country = messaging::parse_country(params.required(COUNTRY)?)
            .ok_or_else(|| ApiError::invalid("Invalid parameter: Country (an ISO 3166-1 alpha-2 country code such as GB, or all)"))?;
        let profile = profile_sid(&params, self.verifier.services.sms_profiles())?
            .ok_or_else(|| ApiError::invalid("Missing required parameter MessagingServiceSid"))?;
        let now = self.verifier.clock.now();
        self.change_services(|seed, doc| {
            exists(seed, doc, service_sid)?;
            if of_service(doc, service_sid).any(|c| c.country == country) {
                return Err(ApiError::invalid(format!(
                    "Invalid parameter: Country ({country} already has a messaging configuration on this service; update or delete it)"
                )));
            }
            if doc.messaging_configurations.len() >= MAX_STORED {
                return Err(ApiError::invalid(format!("Max Messaging Configurations reached ({MAX_STORED} over all services)")));
            }
            let created = MessagingConfiguration {
                service_sid: service_sid.to_owned(),
                country: country.clone(),
                messaging_service_sid: profile.clone(),
                created_at: now,
                updated_at: now,
            };
            doc.messaging_configurations.push(created.clone());
            Ok(created)
        })
        .await
    }

    /// The table's services document, once the service is known to be in it
    /// or in the seed.
    async fn current_document(&self, service_sid: &str) -> Result<StoredServices, ApiError> {
        let doc = self.verifier.store.stored_services().await.map_err(store_failed)?;
        exists(self.verifier.services.seeded(), &doc, service_sid)?;
        Ok(doc)
    }
}

/// A service of the seed or created over the API, or Twilio's 404.
fn exists(seed: &Services, doc: &StoredServices, service_sid: &str) -> Result<(), ApiError> {
    if seed.get(service_sid).is_some() || doc.get(service_sid).is_some() {
        Ok(())
    } else {
        Err(not_found(&format!("/v2/Services/{service_sid}")))
    }
}

fn of_service<'a>(doc: &'a StoredServices, service_sid: &'a str) -> impl Iterator<Item = &'a MessagingConfiguration> {
    doc.messaging_configurations.iter().filter(move |c| c.service_sid == service_sid)
}

/// Refuses any parameter but `allowed` (rather than ignoring it).
fn only(params: &Params, allowed: &[&[&str]]) -> Result<(), ApiError> {
    match params.names().find(|n| !allowed.iter().any(|names| names.contains(n))) {
        Some(name) => Err(ApiError::invalid(format!(
            "Invalid parameter: {name} is not supported here (it takes {})",
            allowed.iter().map(|n| n[0]).collect::<Vec<_>>().join(" and ")
        ))),
        None => Ok(()),
    }
}

/// `MessagingServiceSid`, if given: an `MG` sid naming one of the
/// deployment's sender profiles.
fn profile_sid(params: &Params, profiles: &SmsProfiles) -> Result<Option<String>, ApiError> {
    let Some(raw) = params.text(MESSAGING_SERVICE_SID)?.map(str::trim) else { return Ok(None) };
    if !sid::is_sid(sid::MESSAGING_SERVICE, raw) {
        return Err(ApiError::invalid("Invalid parameter: MessagingServiceSid (MG followed by 32 hex digits)"));
    }
    if profiles.get(raw).is_none() {
        let defined = if profiles.is_empty() {
            "it defines none: VERIFY_SMS_PROFILES, with VERIFY_SMS_SENDER=eum".to_owned()
        } else {
            format!("it defines {}", profiles.sids())
        };
        return Err(ApiError::invalid(format!(
            "Invalid parameter: MessagingServiceSid ({raw} is not a sender profile of this deployment; {defined})"
        )));
    }
    Ok(Some(raw.to_owned()))
}

/// The resource's address and shape (Twilio's OpenAPI:
/// `verify.v2.service.messaging_configuration`).
struct Urls<'a> {
    /// `{base}/v2/Services/{VA}`
    base: String,
    account_sid: &'a str,
}

impl Urls<'_> {
    fn collection(&self) -> String {
        format!("{}/MessagingConfigurations", self.base)
    }

    fn item(&self, country: &str) -> String {
        format!("{}/{country}", self.collection())
    }

    fn resource(&self, c: &MessagingConfiguration) -> Value {
        json!({
            "account_sid": self.account_sid,
            "service_sid": c.service_sid,
            "country": c.country,
            "messaging_service_sid": c.messaging_service_sid,
            "date_created": iso8601(c.created_at),
            "date_updated": iso8601(c.updated_at),
            "url": self.item(&c.country),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MG: &str = "MG0123456789abcdef0123456789abcdef";

    fn form(body: &str) -> Params {
        Params::from_form(body.as_bytes())
    }

    #[test]
    fn a_messaging_service_sid_must_name_a_profile_of_the_deployment() {
        let profiles = SmsProfiles::parse(&format!(r#"{{"{MG}": {{}}}}"#)).unwrap();
        let given = |body: &str, p: &SmsProfiles| profile_sid(&form(body), p);
        assert_eq!(given(&format!("MessagingServiceSid={MG}"), &profiles).unwrap().as_deref(), Some(MG));
        assert_eq!(given("", &profiles).unwrap(), None);
        let refused = |body: &str, p: &SmsProfiles| given(body, p).unwrap_err().message;
        assert!(refused("MessagingServiceSid=MG1", &profiles).contains("32 hex"));
        let other = "MessagingServiceSid=MGfedcba9876543210fedcba9876543210";
        assert!(refused(other, &profiles).contains(&format!("it defines {MG}")));
        assert!(refused(other, &SmsProfiles::default()).contains("defines none"));
    }

    #[test]
    fn other_parameters_are_refused_by_name() {
        assert!(only(&form("Country=GB&MessagingServiceSid=x"), &[COUNTRY, MESSAGING_SERVICE_SID]).is_ok());
        let e = only(&form("Country=GB"), &[MESSAGING_SERVICE_SID]).unwrap_err();
        assert_eq!((e.status, e.code), (400, 60200));
        assert!(e.message.contains("Country is not supported"), "{}", e.message);
    }
}
