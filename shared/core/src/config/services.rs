//! Verification services: what each one is called (the name in the SMS), its
//! limits, channels and destination countries; read from a JSON document
//! (`VERIFY_SERVICES` or the file named by `VERIFY_SERVICES_FILE`), or built
//! from the single-service environment variables when there is none.
//!
//! ```json
//! {
//!   "default_service_sid": "VA0123456789abcdef0123456789abcdef",
//!   "services": [
//!     { "sid": "VA0123456789abcdef0123456789abcdef", "friendly_name": "Acme",
//!       "code_length": 6, "validity_seconds": 600, "max_check_attempts": 5,
//!       "max_sends": 5, "send_window_seconds": 600, "max_failures": 20,
//!       "failure_window_seconds": 86400, "channels": ["sms"],
//!       "countries": ["US", "CA"], "custom_friendly_name": true,
//!       "skip_sms_to_landlines": false,
//!       "email_from_allowed": ["team@acme.example", "@acme.example"],
//!       "test_recipients": { "+14155550100": "123456", "qa@acme.example": "654321" },
//!       "daily_budget": { "max_sends": 10000, "max_spend_usd": 50,
//!                         "max_sends_by_country": { "ID": 200 }, "price_usd": { "*": 0.05 } } }
//!   ]
//! }
//! ```
//! Only `friendly_name` is required.
//!
//! `test_recipients` is the test mode: a start to one of these exact
//! recipients sends nothing and its code is the one given (checked and
//! limited like any other). Each is one recipient, written out: patterns
//! are refused, so a test mode cannot open a back door to many numbers;
//! the functions log the list at start-up ([`Services::log_test_recipients`]). Limits left out take the deployment's
//! defaults (the `VERIFY_CODE_LENGTH`… variables, else the built-in ones).

use super::{LIMIT_FIELDS, Limits, derived_sid};
use crate::channel::Channel;
use crate::email::EmailAddress;
use crate::otp::Code;
use crate::recipient::{Recipient, mask_address};
use crate::sid;
use serde_json::{Map, Value};

pub use crate::friendly_name::{MAX_FRIENDLY_NAME_CHARS, check_friendly_name};

/// One verification service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub sid: String,
    pub friendly_name: String,
    pub limits: Limits,
    /// Channels a start may ask for (registered ones: [`crate::channel::REGISTRY`]).
    pub channels: Vec<Channel>,
    /// ISO 3166 alpha-2 codes of the countries codes may be sent to; `None`
    /// allows every country.
    pub countries: Option<Vec<String>>,
    /// Countries outside `countries` whose starts go ahead but are recorded
    /// as the geo permissions would have refused them (the per-country
    /// "monitor" mode: see what turning a country off would block first).
    pub countries_monitor: Vec<String>,
    /// Whether a start may replace the name in the SMS (`CustomFriendlyName`).
    pub custom_friendly_name: bool,
    /// Senders a start may choose with `ChannelConfiguration.from`: exact
    /// addresses (lower-cased) or `@domain` for any address of a domain.
    /// Empty: e-mail goes from the deployment's sender only.
    pub email_from_allowed: Vec<String>,
    /// The test mode: recipients (by [`Recipient::key`]) that get no message
    /// and whose code is fixed.
    pub test_recipients: Vec<TestRecipient>,
    /// Twilio's `SkipSmsToLandlines`: an SMS start to a number its plan
    /// calls a fixed line is refused (403 / 60205) instead of sent.
    pub skip_sms_to_landlines: bool,
    /// Daily caps on sends and estimated spend ([`crate::budget`]).
    pub daily_budget: Option<crate::budget::DailyBudget>,
    /// Pumping protection ([`crate::fraud_guard`]); `standard` unless set.
    pub fraud_guard: crate::fraud_guard::FraudGuard,
    /// When it was created and last changed over the API
    /// ([`crate::service_catalog`]); `None` for a service only in the
    /// configuration document (which has no dates).
    pub dates: Option<(crate::clock::Seconds, crate::clock::Seconds)>,
    /// Its messaging configurations with their sender profiles
    /// ([`crate::messaging`]): set from the table, none in the document.
    pub sms_profiles: crate::messaging::CountryProfiles,
}

/// One recipient of the test mode (Debug shows it masked, its code redacted).
#[derive(Clone, PartialEq, Eq)]
pub struct TestRecipient {
    /// [`Recipient::key`], what a start's recipient is matched on.
    pub key: String,
    /// The code that approves its verifications (redacted in Debug).
    pub code: Code,
}

impl Service {
    /// A service with the given name and limits, every country and the
    /// supported channels allowed.
    pub fn new(sid: String, friendly_name: String, limits: Limits) -> Service {
        Service {
            sid,
            friendly_name,
            limits,
            channels: crate::channel::REGISTRY.iter().map(|c| c.channel).collect(),
            countries: None,
            countries_monitor: Vec::new(),
            custom_friendly_name: true,
            email_from_allowed: Vec::new(),
            test_recipients: Vec::new(),
            skip_sms_to_landlines: false,
            daily_budget: None,
            fraud_guard: Default::default(),
            dates: None,
            sms_profiles: Default::default(),
        }
    }

    /// The fixed code of a test recipient; `None` for everyone else.
    pub fn test_code(&self, to: &Recipient) -> Option<&Code> {
        let key = to.key();
        self.test_recipients.iter().find(|t| t.key == key).map(|t| &t.code)
    }

    /// Whether a start may send e-mail from `address` (`ChannelConfiguration.from`).
    pub fn allows_email_from(&self, address: &EmailAddress) -> bool {
        let key = address.key();
        self.email_from_allowed.iter().any(|a| match a.strip_prefix('@') {
            Some(domain) => key.rsplit_once('@').is_some_and(|(_, d)| d == domain),
            None => *a == key,
        })
    }

    pub fn allows_channel(&self, channel: Channel) -> bool {
        self.channels.contains(&channel)
    }

    /// A number whose country is unknown is allowed only when every country is.
    pub fn allows_country(&self, country: Option<&str>) -> bool {
        match (&self.countries, country) {
            (None, _) => true,
            (Some(list), Some(c)) => list.iter().any(|allowed| allowed.eq_ignore_ascii_case(c)),
            (Some(_), None) => false,
        }
    }

    /// A country the geo permissions refuse but only monitor: its starts go
    /// ahead and are recorded as refusals that did not happen.
    pub fn monitors_country(&self, country: Option<&str>) -> bool {
        country.is_some_and(|c| self.countries_monitor.iter().any(|m| m.eq_ignore_ascii_case(c)))
    }
}

impl std::fmt::Debug for TestRecipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TestRecipient({}, {:?})", mask_address(&self.key), self.code)
    }
}

/// The configured services, looked up by sid, with one default (used by the
/// plain function-URL endpoints, which name no service).
#[derive(Clone, Debug)]
pub struct Services {
    list: Vec<Service>,
    default: usize,
    /// The limits of a service that names none: what a service created
    /// over the API starts with.
    defaults: Limits,
    /// The webhooks created over the API ([`crate::service_webhooks`]).
    webhooks: Vec<crate::service_webhooks::StoredWebhook>,
}

impl Services {
    /// A set of exactly one service, which is the default (its limits are
    /// the deployment's defaults).
    pub fn single(service: Service) -> Services {
        let defaults = service.limits.clone();
        Services { list: vec![service], default: 0, defaults, webhooks: Vec::new() }
    }

    pub fn defaults(&self) -> &Limits {
        &self.defaults
    }

    /// The same default and defaults over another list, whose first
    /// services are this set's in its order (the services of the
    /// configuration document, as changed over the API, then those created
    /// over the API), with the webhooks created over the API.
    pub(crate) fn with_list(&self, list: Vec<Service>, webhooks: Vec<crate::service_webhooks::StoredWebhook>) -> Services {
        debug_assert_eq!(list.get(self.default).map(|s| &s.sid), Some(&self.default_service().sid));
        Services { list, default: self.default, defaults: self.defaults.clone(), webhooks }
    }

    /// The webhooks created over the API, of these services.
    pub fn webhooks(&self) -> &[crate::service_webhooks::StoredWebhook] {
        &self.webhooks
    }

    pub fn get(&self, sid: &str) -> Option<&Service> {
        self.list.iter().find(|s| s.sid == sid)
    }

    pub fn default_service(&self) -> &Service {
        &self.list[self.default]
    }

    /// In configuration order.
    pub fn all(&self) -> &[Service] {
        &self.list
    }

    /// Parses the services document. `defaults` are the limits a service gets
    /// for every limit it does not name.
    pub fn from_json(json: &str, defaults: &Limits) -> Result<Services, String> {
        let doc: Value = serde_json::from_str(json).map_err(|e| format!("services JSON: {e}"))?;
        let Value::Object(doc) = doc else { return Err("services JSON: must be an object with \"services\"".into()) };
        for key in doc.keys() {
            if !matches!(key.as_str(), "services" | "default_service_sid") {
                return Err(format!("services JSON: unknown key {key:?}"));
            }
        }
        let entries = match doc.get("services") {
            Some(Value::Array(a)) if !a.is_empty() => a,
            _ => return Err("services JSON: \"services\" must be a non-empty array".into()),
        };
        let mut list = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let Value::Object(entry) = entry else { return Err(format!("services[{i}]: must be an object")) };
            let service = parse_service(entry, defaults).map_err(|e| format!("services[{i}]: {e}"))?;
            if list.iter().any(|s: &Service| s.sid == service.sid) {
                return Err(format!("services[{i}]: sid {} is used twice", service.sid));
            }
            list.push(service);
        }
        let default = match doc.get("default_service_sid") {
            None | Some(Value::Null) => 0,
            Some(Value::String(sid)) => list
                .iter()
                .position(|s| &s.sid == sid)
                .ok_or_else(|| format!("services JSON: default_service_sid {sid:?} is not one of the services"))?,
            Some(_) => return Err("services JSON: default_service_sid must be a string".into()),
        };
        Ok(Services { list, default, defaults: defaults.clone(), webhooks: Vec::new() })
    }

    /// Logs every service's test recipients (masked), once at start-up: a
    /// test mode is never silent.
    pub fn log_test_recipients(&self) {
        for s in self.list.iter().filter(|s| !s.test_recipients.is_empty()) {
            let masked: Vec<String> = s.test_recipients.iter().map(|t| mask_address(&t.key)).collect();
            tracing::warn!(service_sid = %s.sid, test_recipients = %masked.join(","), "test mode: these recipients get no message and a fixed code");
        }
    }
}

/// ISO 3166 alpha-2 codes, upper-cased; `key` names the setting in errors.
fn country_codes(key: &str, codes: &[String]) -> Result<Vec<String>, String> {
    codes
        .iter()
        .map(|c| {
            if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(format!("{key}: {c:?} is not an ISO 3166 alpha-2 code such as \"US\""));
            }
            Ok(c.to_ascii_uppercase())
        })
        .collect()
}

fn parse_service(entry: &Map<String, Value>, defaults: &Limits) -> Result<Service, String> {
    const OTHER_KEYS: &[&str] = &[
        "sid",
        "friendly_name",
        "channels",
        "countries",
        "countries_monitor",
        "custom_friendly_name",
        "email_from_allowed",
        "test_recipients",
        "skip_sms_to_landlines",
        "daily_budget",
        "fraud_guard",
    ];
    for key in entry.keys() {
        if !OTHER_KEYS.contains(&key.as_str()) && !LIMIT_FIELDS.iter().any(|f| f.json == key) {
            return Err(format!("unknown key {key:?}"));
        }
    }
    let friendly_name = match entry.get("friendly_name") {
        Some(Value::String(name)) => check_friendly_name(name).map_err(|e| format!("friendly_name: {e}"))?,
        _ => return Err("friendly_name (a string) is required".into()),
    };
    let sid = match entry.get("sid") {
        None | Some(Value::Null) => derived_sid(sid::SERVICE, &friendly_name),
        Some(Value::String(s)) if sid::is_sid(sid::SERVICE, s) => s.clone(),
        Some(other) => return Err(format!("sid: {other} is not a VA sid (VA + 32 hex digits)")),
    };
    let mut limits = defaults.clone();
    for field in LIMIT_FIELDS {
        if let Some(v) = entry.get(field.json) {
            field.apply(&mut limits, v.as_i64(), &v.to_string(), field.json)?;
        }
    }
    let mut service = Service::new(sid, friendly_name, limits);
    if let Some(v) = entry.get("channels") {
        let channels = string_list(v).ok_or("channels: must be a list of strings")?;
        if channels.is_empty() {
            return Err("channels: must name at least one channel".into());
        }
        let mut parsed = Vec::new();
        for c in channels {
            let supported = || crate::channel::REGISTRY.iter().map(|s| s.name).collect::<Vec<_>>().join(", ");
            match Channel::parse(&c) {
                Ok(channel) => parsed.push(channel),
                Err(_) => return Err(format!("channels: {c:?} is not supported (supported: {})", supported())),
            }
        }
        service.channels = parsed;
    }
    match entry.get("countries") {
        None | Some(Value::Null) => {}
        Some(v) => {
            let countries = string_list(v).ok_or("countries: must be a list of strings")?;
            if countries.len() == 1 && countries[0] == "*" {
                // Every country, said explicitly.
            } else if countries.is_empty() {
                return Err("countries: an empty list would refuse every number; leave it out to allow all".into());
            } else {
                service.countries = Some(country_codes("countries", &countries)?);
            }
        }
    }
    if let Some(v) = entry.get("countries_monitor") {
        let listed = string_list(v).ok_or("countries_monitor: must be a list of strings")?;
        let monitored = country_codes("countries_monitor", &listed)?;
        let Some(allowed) = &service.countries else {
            return Err("countries_monitor: every country is allowed (no `countries` list), so there is nothing to monitor".into());
        };
        if let Some(both) = monitored.iter().find(|c| allowed.contains(c)) {
            return Err(format!("countries_monitor: {both} is in `countries` too; a country is either allowed or monitored"));
        }
        service.countries_monitor = monitored;
    }
    match entry.get("custom_friendly_name") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => service.custom_friendly_name = *b,
        Some(_) => return Err("custom_friendly_name: must be true or false".into()),
    }
    if let Some(v) = entry.get("email_from_allowed") {
        let list = string_list(v).ok_or("email_from_allowed: must be a list of strings")?;
        service.email_from_allowed = list.iter().map(|a| allowed_sender(a)).collect::<Result<_, _>>()?;
    }
    if let Some(v) = entry.get("test_recipients") {
        service.test_recipients = test_recipients(v, service.limits.code_length)?;
    }
    match entry.get("skip_sms_to_landlines") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => service.skip_sms_to_landlines = *b,
        Some(_) => return Err("skip_sms_to_landlines: must be true or false".into()),
    }
    if let Some(v) = entry.get("daily_budget").filter(|v| !v.is_null()) {
        service.daily_budget = Some(crate::budget::parse(v)?);
    }
    if let Some(v) = entry.get("fraud_guard") {
        service.fraud_guard = fraud_guard(v)?;
    }
    Ok(service)
}

/// `"standard"`, or `{"level": "max", "min_sends": 5}` (a floor of its own).
fn fraud_guard(v: &Value) -> Result<crate::fraud_guard::FraudGuard, String> {
    use crate::fraud_guard::{FraudGuard, Level};
    let levels = || format!("fraud_guard: the level must be one of {}", Level::NAMES.join(", "));
    let level = |v: Option<&Value>| match v {
        None | Some(Value::Null) => Ok(Level::default()),
        Some(l) => l.as_str().and_then(Level::parse).ok_or_else(levels),
    };
    match v {
        Value::Object(o) => {
            if let Some(k) = o.keys().find(|k| !matches!(k.as_str(), "level" | "min_sends")) {
                return Err(format!("fraud_guard: unknown key {k:?} (level, min_sends)"));
            }
            let min_sends = match o.get("min_sends") {
                None | Some(Value::Null) => None,
                Some(n) => Some(n.as_u64().filter(|n| *n >= 1).ok_or("fraud_guard: min_sends must be a whole number from 1")?),
            };
            Ok(FraudGuard { level: level(o.get("level"))?, min_sends })
        }
        other => Ok(FraudGuard { level: level(Some(other))?, min_sends: None }),
    }
}

/// An address, or `@domain`, checked as an address and lower-cased.
fn allowed_sender(raw: &str) -> Result<String, String> {
    let err = || format!("email_from_allowed: {raw:?} is neither an e-mail address nor @domain");
    match raw.strip_prefix('@') {
        Some(domain) => {
            let address = EmailAddress::parse(&format!("x@{domain}")).map_err(|_| err())?;
            Ok(format!("@{}", address.key().split_once('@').map_or("", |p| p.1)))
        }
        None => EmailAddress::parse(raw).map(|a| a.key()).map_err(|_| err()),
    }
}

/// Characters of patterns: a test recipient is one exact recipient.
const PATTERN_CHARS: &[char] = &['*', '?', '%', '[', ']', '^', '$', '|', '\\'];

/// `{"recipient": "code", …}`: each recipient exact and valid, each code
/// exactly the service's code length.
fn test_recipients(v: &Value, code_length: usize) -> Result<Vec<TestRecipient>, String> {
    let Value::Object(map) = v else { return Err("test_recipients: must be an object of recipient to code".into()) };
    let mut list: Vec<TestRecipient> = Vec::with_capacity(map.len());
    for (raw, code) in map {
        let shown = mask_address(raw.trim());
        if raw.contains(PATTERN_CHARS) {
            return Err(format!(
                "test_recipients: {shown} is a pattern; list each test recipient exactly (patterns would turn the test mode into a back door)"
            ));
        }
        let recipient =
            Recipient::parse_any(raw).map_err(|_| format!("test_recipients: {shown} is not an E.164 number or an e-mail address"))?;
        let code = code.as_str().and_then(|c| Code::parse(c, code_length)).ok_or_else(|| {
            format!("test_recipients: the code of {shown} must be a string of {code_length} digits (the service's code_length)")
        })?;
        let key = recipient.key();
        if list.iter().any(|t| t.key == key) {
            return Err(format!("test_recipients: {shown} is listed twice"));
        }
        list.push(TestRecipient { key, code });
    }
    Ok(list)
}

fn string_list(v: &Value) -> Option<Vec<String>> {
    v.as_array()?.iter().map(|s| s.as_str().map(|s| s.trim().to_owned())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SID_A: &str = "VA0123456789abcdef0123456789abcdef";
    const SID_B: &str = "VAfedcba9876543210fedcba9876543210";

    #[test]
    fn a_full_document_parses() {
        let json = format!(
            r#"{{"default_service_sid":"{SID_B}","services":[
                {{"sid":"{SID_A}","friendly_name":"Acme"}},
                {{"sid":"{SID_B}","friendly_name":"Acme Pay","code_length":8,"validity_seconds":300,
                  "max_check_attempts":3,"max_sends":2,"channels":["SMS"],"countries":["us","CA"],
                  "custom_friendly_name":false,"skip_sms_to_landlines":true}}]}}"#
        );
        let defaults = Limits { max_failures: 7, ..Limits::default() };
        let s = Services::from_json(&json, &defaults).unwrap();
        assert_eq!(s.all().len(), 2);
        assert_eq!(s.default_service().sid, SID_B);
        let a = s.get(SID_A).unwrap();
        assert_eq!(a.limits, defaults, "omitted limits take the deployment's defaults");
        assert_eq!(a.countries, None);
        assert!(a.custom_friendly_name);
        assert!(!a.skip_sms_to_landlines);
        let b = s.get(SID_B).unwrap();
        assert_eq!((b.limits.code_length, b.limits.validity_secs, b.limits.max_check_attempts, b.limits.max_sends), (8, 300, 3, 2));
        assert_eq!(b.limits.max_failures, 7);
        assert_eq!(b.channels, vec![Channel::Sms]);
        assert_eq!(b.countries.as_deref(), Some(&["US".to_owned(), "CA".to_owned()][..]));
        assert!(!b.custom_friendly_name);
        assert!(b.skip_sms_to_landlines);
        assert!(b.allows_country(Some("US")) && b.allows_country(Some("ca")));
        assert!(!b.allows_country(Some("GB")) && !b.allows_country(None));
        assert!(a.allows_country(None));
        assert!(s.get("VA00000000000000000000000000000000").is_none());
    }

    #[test]
    fn the_first_service_is_the_default_and_sids_can_be_derived() {
        let s = Services::from_json(r#"{"services":[{"friendly_name":"One"},{"friendly_name":"Two"}]}"#, &Limits::default()).unwrap();
        assert_eq!(s.default_service().friendly_name, "One");
        assert!(sid::is_sid(sid::SERVICE, &s.all()[1].sid));
        assert_ne!(s.all()[0].sid, s.all()[1].sid);
        let again = Services::from_json(r#"{"services":[{"friendly_name":"One"}]}"#, &Limits::default()).unwrap();
        assert_eq!(again.default_service().sid, s.default_service().sid, "derived sids are stable");
    }

    #[test]
    fn mistakes_are_named() {
        let d = Limits::default();
        let cases = [
            ("[]", "object"),
            (r#"{"services":[]}"#, "non-empty"),
            (r#"{"services":[{}]}"#, "friendly_name"),
            (r#"{"services":[{"friendly_name":"A"}],"extra":1}"#, "extra"),
            (r#"{"services":[{"friendly_name":"A","code_lenght":6}]}"#, "code_lenght"),
            (r#"{"services":[{"friendly_name":"A","code_length":3}]}"#, "code_length"),
            (r#"{"services":[{"friendly_name":"A","max_sends":"5"}]}"#, "max_sends"),
            (r#"{"services":[{"friendly_name":"A","sid":"VA1"}]}"#, "sid"),
            (r#"{"services":[{"friendly_name":"A","channels":["sna"]}]}"#, "sna"),
            (r#"{"services":[{"friendly_name":"A","countries":["USA"]}]}"#, "USA"),
            (r#"{"services":[{"friendly_name":"A","skip_sms_to_landlines":"yes"}]}"#, "skip_sms_to_landlines"),
            (r#"{"services":[{"friendly_name":"A","countries":[]}]}"#, "empty"),
            (r#"{"services":[{"friendly_name":"A","countries_monitor":["NG"]}]}"#, "nothing to monitor"),
            (r#"{"services":[{"friendly_name":"A","countries":["US"],"countries_monitor":["us"]}]}"#, "either allowed or monitored"),
            (r#"{"services":[{"friendly_name":"A","countries":["US"],"countries_monitor":["NGA"]}]}"#, "countries_monitor: \"NGA\""),
            (r#"{"services":[{"friendly_name":"visit evil.com"}]}"#, "'.'"),
            (r#"{"services":[{"friendly_name":"A"},{"friendly_name":"A"}]}"#, "twice"),
            (r#"{"services":[{"friendly_name":"A"}],"default_service_sid":"VA0"}"#, "default_service_sid"),
        ];
        for (json, needle) in cases {
            let err = Services::from_json(json, &d).unwrap_err();
            assert!(err.contains(needle), "{json}: {err}");
        }
        let star = Services::from_json(r#"{"services":[{"friendly_name":"A","countries":["*"]}]}"#, &d).unwrap();
        assert_eq!(star.default_service().countries, None);
    }

    #[test]
    fn a_monitored_country_is_neither_allowed_nor_refused_silently() {
        let s = Services::from_json(
            r#"{"services":[{"friendly_name":"A","countries":["US"],"countries_monitor":["ng","GB"]}]}"#,
            &Limits::default(),
        )
        .unwrap();
        let a = s.default_service();
        assert_eq!(a.countries_monitor, ["NG", "GB"]);
        assert!(!a.allows_country(Some("NG")) && a.monitors_country(Some("ng")));
        assert!(a.allows_country(Some("US")) && !a.monitors_country(Some("US")));
        assert!(!a.allows_country(Some("FR")) && !a.monitors_country(Some("FR")));
        assert!(!a.monitors_country(None), "an unknown country is refused, not monitored");
    }

    #[test]
    fn test_recipients_are_exact_and_their_codes_fit_the_service() {
        let d = Limits::default();
        let json = r#"{"services":[{"friendly_name":"A","code_length":4,
            "test_recipients":{"+1 415 555 0100":"0042","QA@Example.COM":"1234"}}]}"#;
        let s = Services::from_json(json, &d).unwrap();
        let a = s.default_service();
        let code = |to: &str| a.test_code(&Recipient::parse_any(to).unwrap()).map(|c| c.reveal().to_owned());
        assert_eq!(code("+14155550100").as_deref(), Some("0042"));
        assert_eq!(code("qa@example.com").as_deref(), Some("1234"));
        assert_eq!(code("+14155550101"), None);
        assert!(!format!("{a:?}").contains("0042"), "codes are redacted in Debug");
        assert!(!format!("{a:?}").contains("5550100"), "numbers are masked in Debug");
        for (recipients, needle) in [
            (r#"{"+1415555*":"1234"}"#, "pattern"),
            (r#"{"*@example.com":"1234"}"#, "pattern"),
            (r#"{"+1415555010?":"1234"}"#, "pattern"),
            (r#"{"%":"1234"}"#, "pattern"),
            (r#"{"anyone":"1234"}"#, "not an E.164"),
            (r#"{"+14155550100":"123456"}"#, "4 digits"),
            (r#"{"+14155550100":1234}"#, "4 digits"),
            (r#"{"+14155550100":"1234","+1 415 555 0100":"1234"}"#, "twice"),
            (r#"["+14155550100"]"#, "object"),
        ] {
            let json = format!(r#"{{"services":[{{"friendly_name":"A","code_length":4,"test_recipients":{recipients}}}]}}"#);
            let err = Services::from_json(&json, &d).unwrap_err();
            assert!(err.contains(needle), "{recipients}: {err}");
            assert!(!err.contains("5550100"), "numbers are masked in errors: {err}");
        }
    }

    #[test]
    fn fraud_guard_is_a_level_or_a_level_with_a_floor() {
        use crate::fraud_guard::{FraudGuard, Level};
        let parse = |fg: &str| {
            Services::from_json(&format!(r#"{{"services":[{{"friendly_name":"A","fraud_guard":{fg}}}]}}"#), &Limits::default())
                .map(|s| s.default_service().fraud_guard)
        };
        assert_eq!(parse("\"max\""), Ok(FraudGuard { level: Level::Max, min_sends: None }));
        assert_eq!(parse(r#"{"level":"off"}"#), Ok(FraudGuard { level: Level::Off, min_sends: None }));
        assert_eq!(parse(r#"{"min_sends":5}"#), Ok(FraudGuard { level: Level::Standard, min_sends: Some(5) }));
        for bad in ["\"high\"", "3", r#"{"min_sends":0}"#, r#"{"level":"max","floor":2}"#] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let plain = Services::from_json(r#"{"services":[{"friendly_name":"A"}]}"#, &Limits::default()).unwrap();
        assert_eq!(plain.default_service().fraud_guard.level, Level::Standard);
    }

    #[test]
    fn email_senders_a_start_may_choose() {
        let json = r#"{"services":[{"friendly_name":"A","email_from_allowed":["Team@Acme.example","@Mail.Example.org"]}]}"#;
        let s = Services::from_json(json, &Limits::default()).unwrap();
        let a = s.default_service();
        assert_eq!(a.email_from_allowed, ["team@acme.example", "@mail.example.org"]);
        let allowed = |x: &str| a.allows_email_from(&EmailAddress::parse(x).unwrap());
        assert!(allowed("TEAM@acme.example") && allowed("any@mail.example.org"));
        assert!(!allowed("other@acme.example") && !allowed("x@sub.mail.example.org") && !allowed("x@example.org"));
        let none = Services::from_json(r#"{"services":[{"friendly_name":"A"}]}"#, &Limits::default()).unwrap();
        assert!(!none.default_service().allows_email_from(&EmailAddress::parse("a@b.example").unwrap()));
        let err = Services::from_json(r#"{"services":[{"friendly_name":"A","email_from_allowed":["@nodot"]}]}"#, &Limits::default());
        assert!(err.unwrap_err().contains("email_from_allowed"));
    }
}
