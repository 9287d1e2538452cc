//! Per-country SMS sender settings, Twilio's Messaging Configurations.
//!
//! Twilio's configuration names a Messaging Service (`MG…`) for a
//! service's texts to one country. This project has no Messaging Services;
//! its deployment names *sender profiles* instead: End User Messaging SMS
//! settings (origination identity, configuration set, protect
//! configuration, price cap) under an `MG…` sid of the deployment's
//! choosing (`VERIFY_SMS_PROFILES`, read with `VERIFY_SMS_SENDER=eum` only:
//! SNS has no origination identity to choose, so a deployment on SNS
//! defines no profile and every configuration is refused as naming none).
//!
//! A messaging configuration (`/v2/Services/{VA}/MessagingConfigurations`)
//! is stored with the services document ([`crate::service_catalog`]) and
//! reaches the functions through its cache, so a start reads nothing more.
//! A text to a number goes out with the profile of the number's country,
//! else the service's `all` profile, else the deployment's own
//! `VERIFY_SMS_*` settings. A profile is whole: what it leaves out is unset
//! (End User Messaging's account defaults), not the deployment's.

use crate::clock::Seconds;
use crate::config::SmsV2Settings;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::Arc;

/// The `Country` of the fallback configuration.
pub const ALL_COUNTRIES: &str = "all";

/// How many configurations the table may hold over all services: with the
/// services they stay one item, well under DynamoDB's 400 KB.
pub const MAX_STORED: usize = 500;

/// The keys a profile may set, as End User Messaging's `SendTextMessage` names them.
const PROFILE_KEYS: &[&str] = &["origination_identity", "configuration_set", "protect_configuration_id", "max_price"];

/// One sender profile of the deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmsProfile {
    /// The `MG…` sid a messaging configuration names it by.
    pub sid: String,
    pub settings: SmsV2Settings,
}

/// The deployment's sender profiles (`VERIFY_SMS_PROFILES`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SmsProfiles(Vec<Arc<SmsProfile>>);

impl SmsProfiles {
    /// `{"MG…": {"origination_identity": "+447700900123", "configuration_set": "uk",
    /// "protect_configuration_id": "…", "max_price": "0.05"}, …}`, every key
    /// optional and checked as the `VERIFY_SMS_*` settings are.
    pub fn parse(json: &str) -> Result<SmsProfiles, String> {
        let doc: Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
        let Value::Object(doc) = doc else { return Err("must be an object of MG sids to settings".into()) };
        let profiles = doc.iter().map(|(sid, settings)| profile(sid, settings).map(Arc::new)).collect::<Result<_, _>>()?;
        Ok(SmsProfiles(profiles))
    }

    pub fn get(&self, sid: &str) -> Option<&Arc<SmsProfile>> {
        self.0.iter().find(|p| p.sid == sid)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The sids, for errors that say what may be named.
    pub fn sids(&self) -> String {
        self.0.iter().map(|p| p.sid.as_str()).collect::<Vec<_>>().join(", ")
    }
}

fn profile(sid: &str, settings: &Value) -> Result<SmsProfile, String> {
    if !crate::sid::is_sid(crate::sid::MESSAGING_SERVICE, sid) {
        return Err(format!("{sid:?} is not an MG sid (MG + 32 hex digits)"));
    }
    let Value::Object(fields) = settings else { return Err(format!("{sid}: must be an object of settings")) };
    let at = |e: String| format!("{sid}: {e}");
    if let Some(k) = fields.keys().find(|k| !PROFILE_KEYS.contains(&k.as_str())) {
        return Err(at(format!("{k:?} is not a setting (it takes {})", PROFILE_KEYS.join(", "))));
    }
    if let Some((k, _)) = fields.iter().find(|(_, v)| !v.is_string()) {
        return Err(at(format!("{k}: must be a string")));
    }
    let get = |k: &str| text(fields, k);
    let settings = SmsV2Settings {
        origination_identity: crate::config::identifier(&get, "origination_identity", "+").map_err(at)?,
        configuration_set: crate::config::identifier(&get, "configuration_set", "").map_err(at)?,
        protect_configuration_id: crate::config::identifier(&get, "protect_configuration_id", "").map_err(at)?,
        max_price: crate::config::price(&get, "max_price").map_err(at)?,
    };
    Ok(SmsProfile { sid: sid.to_owned(), settings })
}

fn text<'a>(fields: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    fields.get(key).and_then(Value::as_str).map(str::trim).filter(|v| !v.is_empty())
}

/// One messaging configuration as the table keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagingConfiguration {
    pub service_sid: String,
    /// ISO 3166-1 alpha-2 (upper case) or [`ALL_COUNTRIES`].
    pub country: String,
    pub messaging_service_sid: String,
    pub created_at: Seconds,
    pub updated_at: Seconds,
}

/// `Country` as a configuration takes it: `all` (any case), or a country
/// of the phone numbering plans (any case; kept upper case). `None`: neither.
pub fn parse_country(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.eq_ignore_ascii_case(ALL_COUNTRIES) {
        return Some(ALL_COUNTRIES.to_owned());
    }
    let upper = raw.to_ascii_uppercase();
    // A country no number is ever in would never apply.
    crate::phone::is_region(&upper).then_some(upper)
}

/// A service's configurations with their profiles: what its texts use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CountryProfiles(Vec<(String, Arc<SmsProfile>)>);

impl CountryProfiles {
    /// `service_sid`'s configurations among `all`, each with its profile. A
    /// configuration naming a profile the deployment no longer defines is
    /// left out (its texts take the next choice) and logged.
    pub fn resolve(service_sid: &str, all: &[MessagingConfiguration], profiles: &SmsProfiles) -> CountryProfiles {
        let mine = all.iter().filter(|c| c.service_sid == service_sid);
        CountryProfiles(
            mine.filter_map(|c| match profiles.get(&c.messaging_service_sid) {
                Some(p) => Some((c.country.clone(), p.clone())),
                None => {
                    tracing::warn!(service = %service_sid, country = %c.country, profile = %c.messaging_service_sid,
                        "messaging configuration names a sender profile the deployment no longer defines (its SMS profiles setting); not used");
                    None
                }
            })
            .collect(),
        )
    }

    /// The profile for a text to `country`: its own, else `all`'s; `None`:
    /// the deployment's settings.
    pub fn for_country(&self, country: Option<&str>) -> Option<&Arc<SmsProfile>> {
        let of = |wanted: &str| self.0.iter().find(|(c, _)| c == wanted).map(|(_, p)| p);
        country.and_then(of).or_else(|| of(ALL_COUNTRIES))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UK: &str = "MG0000000000000000000000000000000a";
    const ANY: &str = "MG0000000000000000000000000000000b";

    fn profiles() -> SmsProfiles {
        SmsProfiles::parse(&format!(r#"{{"{UK}": {{"origination_identity": "+447700900123", "max_price": "0.05"}}, "{ANY}": {{}}}}"#))
            .unwrap()
    }

    fn config(service: &str, country: &str, mg: &str) -> MessagingConfiguration {
        MessagingConfiguration {
            service_sid: service.into(),
            country: country.into(),
            messaging_service_sid: mg.into(),
            created_at: 1,
            updated_at: 1,
        }
    }

    #[test]
    fn profiles_are_checked_as_the_sms_settings_are() {
        let p = profiles();
        let uk = &p.get(UK).unwrap().settings;
        assert_eq!((uk.origination_identity.as_deref(), uk.max_price.as_deref()), (Some("+447700900123"), Some("0.05")));
        assert_eq!(uk.configuration_set, None);
        assert_eq!(p.get(ANY).unwrap().settings, SmsV2Settings::default());
        assert_eq!(p.sids(), format!("{UK}, {ANY}"));
        let refused = |json: &str| SmsProfiles::parse(json).unwrap_err();
        assert!(refused("[]").contains("object"));
        assert!(refused(r#"{"MG1": {}}"#).contains("not an MG sid"));
        assert!(refused(&format!(r#"{{"{UK}": {{"sender_id": "ACME"}}}}"#)).contains("\"sender_id\" is not a setting"));
        assert!(refused(&format!(r#"{{"{UK}": {{"max_price": "cheap"}}}}"#)).contains("max_price"));
        assert!(refused(&format!(r#"{{"{UK}": {{"max_price": 0.05}}}}"#)).contains("must be a string"));
        assert!(refused(&format!(r#"{{"{UK}": {{"origination_identity": "a b"}}}}"#)).contains("origination_identity"));
        assert!(refused(&format!(r#"{{"{UK}": "+447700900123"}}"#)).contains("object of settings"));
    }

    #[test]
    fn a_country_is_all_or_one_of_the_numbering_plans() {
        assert_eq!(parse_country("gb").as_deref(), Some("GB"));
        assert_eq!(parse_country(" ALL ").as_deref(), Some("all"));
        for bad in ["", "G", "GBR", "ZZ", "XX", "U1", "all countries"] {
            assert_eq!(parse_country(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_text_takes_its_countrys_profile_then_alls_then_none() {
        const VA: &str = "VA1";
        let all = [config(VA, "GB", UK), config(VA, "all", ANY), config("VA2", "US", UK)];
        let mine = CountryProfiles::resolve(VA, &all, &profiles());
        assert_eq!(mine.for_country(Some("GB")).unwrap().sid, UK);
        assert_eq!(mine.for_country(Some("US")).unwrap().sid, ANY, "another service's US is not this one's");
        assert_eq!(mine.for_country(None).unwrap().sid, ANY, "a number of no known country");
        let only_gb = CountryProfiles::resolve(VA, &all[..1], &profiles());
        assert!(only_gb.for_country(Some("FR")).is_none(), "the deployment's settings");
        // A profile the deployment no longer defines: the next choice.
        let gone = CountryProfiles::resolve(VA, &[config(VA, "GB", "MG0000000000000000000000000000000c"), all[1].clone()], &profiles());
        assert_eq!(gone.for_country(Some("GB")).unwrap().sid, ANY);
    }
}
