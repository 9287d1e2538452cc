//! Configuration: the limits of a service and the settings of a deployment,
//! read from the environment with clear errors for bad values.

mod services;

pub use services::{MAX_FRIENDLY_NAME_CHARS, Service, Services, TestRecipient, check_friendly_name};

use crate::access::credentials::Credentials;
use crate::access::origins::Cors;
use crate::otp::{CodeKey, CodeKeys, MAX_CODE_LENGTH, MIN_CODE_LENGTH};
use crate::sid;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The limits one service enforces. Defaults follow NIST SP 800-63B and
/// Twilio Verify: 6 digits, 10 minutes, 5 checks, 5 sends per 10 minutes,
/// 20 failed checks per number per 24 hours.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    pub code_length: usize,
    pub validity_secs: i64,
    pub max_check_attempts: u32,
    pub max_sends: u32,
    pub send_window_secs: i64,
    pub max_failures: u32,
    pub failure_window_secs: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            code_length: 6,
            validity_secs: 600,
            max_check_attempts: 5,
            max_sends: 5,
            send_window_secs: 600,
            max_failures: 20,
            failure_window_secs: 24 * 3600,
        }
    }
}

/// Everything a deployment needs to know.
#[derive(Clone, Debug)]
pub struct Settings {
    pub table: String,
    pub account_sid: String,
    pub services: Services,
    pub keys: CodeKeys,
    /// Who may call. Empty means open, which only verify-local allows.
    pub credentials: Credentials,
    /// Browser origins allowed to call cross-origin.
    pub cors: Cors,
    pub sms: SmsSettings,
    pub email: EmailSettings,
    /// SMS through End User Messaging SMS and Voice v2 instead of SNS
    /// (`VERIFY_SMS_SENDER=eum`), with its settings; `None`: SNS.
    pub sms_v2: Option<SmsV2Settings>,
    /// End User Messaging sender profiles (`VERIFY_SMS_PROFILES`; only with
    /// `eum`), which messaging configurations choose per country.
    pub sms_profiles: crate::messaging::SmsProfiles,
    pub voice: VoiceSettings,
    /// The `whatsapp` channel's sender (End User Messaging Social).
    pub whatsapp: crate::whatsapp::WhatsappSettings,
    /// Base for the `url` fields, e.g. `https://verify.example.com`; when
    /// unset, taken from each request's Host header.
    pub public_base_url: Option<String>,
    /// Open the DynamoDB connection during init so the first request does not
    /// pay the TLS handshake.
    pub warm_up: bool,
}

/// The SMS and call senders' settings: none of them is a secret, so a
/// function can read them, and open its senders' connections, while it
/// still waits for its secrets. [`Settings::from_vars`] reads them here.
#[derive(Clone, Debug, Default)]
pub struct SenderSettings {
    pub sms: SmsSettings,
    pub sms_v2: Option<SmsV2Settings>,
    pub voice: VoiceSettings,
}

impl SenderSettings {
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<SenderSettings, String> {
        let get = |name: &str| var(vars, name);
        Ok(SenderSettings {
            sms: SmsSettings {
                sender_id: get(env::SMS_SENDER_ID).map(str::to_owned),
                origination_number: get(env::SMS_ORIGINATION_NUMBER).map(str::to_owned),
            },
            sms_v2: SmsV2Settings::read(&get)?,
            voice: VoiceSettings::read(&get)?,
        })
    }
}

#[derive(Clone, Debug, Default)]
pub struct SmsSettings {
    pub sender_id: Option<String>,
    pub origination_number: Option<String>,
}

/// The e-mail sender's settings (Amazon SES v2). No `from` address: no
/// e-mail sender, so `Channel=email` answers 60223.
#[derive(Clone, Debug, Default)]
pub struct EmailSettings {
    /// The verified SES identity codes are sent from (`codes@example.com`).
    pub from: Option<String>,
    /// The name shown with it (`Acme`); none shows the address alone.
    pub from_name: Option<String>,
    /// An SES configuration set (event publishing, dedicated IPs).
    pub configuration_set: Option<String>,
}

impl EmailSettings {
    fn from_vars<'a>(get: &impl Fn(&str) -> Option<&'a str>) -> Result<EmailSettings, String> {
        let from = get(env::EMAIL_FROM)
            .map(|raw| {
                crate::email::EmailAddress::parse(raw)
                    .map(|a| a.key())
                    .map_err(|_| format!("{}: {raw:?} is not an e-mail address", env::EMAIL_FROM))
            })
            .transpose()?;
        let from_name =
            get(env::EMAIL_FROM_NAME).map(|n| check_friendly_name(n).map_err(|e| format!("{}: {e}", env::EMAIL_FROM_NAME))).transpose()?;
        if from.is_none() && from_name.is_some() {
            return Err(format!("{} needs {} (the address it names)", env::EMAIL_FROM_NAME, env::EMAIL_FROM));
        }
        Ok(EmailSettings { from, from_name, configuration_set: get(env::EMAIL_CONFIGURATION_SET).map(str::to_owned) })
    }
}

/// The `call` channel's sender (End User Messaging SMS and Voice v2). With no
/// origination identity no call sender is registered, and a call start is
/// answered 60223 (channel disabled).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VoiceSettings {
    /// The number (or its id or ARN, or a pool's) the calls come from.
    pub origination_identity: Option<String>,
    /// A configuration set routing the calls' events (answered, failed…).
    pub configuration_set: Option<String>,
    /// Most a call may cost per minute, in USD (`0.05`); a pricier call is
    /// not placed and the start answers a retryable error.
    pub max_price_per_minute: Option<String>,
}

impl VoiceSettings {
    /// Checked at start-up against the API's own rules (lengths and
    /// patterns of `SendVoiceMessage`), so a typo stops the function rather
    /// than failing every call.
    fn read<'a>(get: &impl Fn(&str) -> Option<&'a str>) -> Result<VoiceSettings, String> {
        Ok(VoiceSettings {
            origination_identity: identifier(get, env::VOICE_ORIGINATION_IDENTITY, "+")?,
            configuration_set: identifier(get, env::VOICE_CONFIGURATION_SET, "")?,
            max_price_per_minute: price(get, env::VOICE_MAX_PRICE_PER_MINUTE)?,
        })
    }
}

/// The SMS sender `eum`: AWS End User Messaging SMS and Voice v2
/// `SendTextMessage`. Every field is optional (without an origination
/// identity, End User Messaging picks one of the account's).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SmsV2Settings {
    pub origination_identity: Option<String>,
    pub configuration_set: Option<String>,
    /// Overrides the configuration set's (or account's) protect configuration.
    pub protect_configuration_id: Option<String>,
    /// Most a text may cost, in USD (`0.05`); a pricier one is not sent.
    pub max_price: Option<String>,
}

impl SmsV2Settings {
    /// `VERIFY_SMS_SENDER`: `sns` (default) or `eum`. End User Messaging's
    /// settings with SNS chosen (or SNS's with `eum`) are an error, not
    /// silently ignored.
    fn read<'a>(get: &impl Fn(&str) -> Option<&'a str>) -> Result<Option<SmsV2Settings>, String> {
        let settings = SmsV2Settings {
            origination_identity: identifier(get, env::SMS_ORIGINATION_IDENTITY, "+")?,
            configuration_set: identifier(get, env::SMS_CONFIGURATION_SET, "")?,
            protect_configuration_id: identifier(get, env::SMS_PROTECT_CONFIGURATION_ID, "")?,
            max_price: price(get, env::SMS_MAX_PRICE)?,
        };
        let eum_only = [
            env::SMS_ORIGINATION_IDENTITY,
            env::SMS_CONFIGURATION_SET,
            env::SMS_PROTECT_CONFIGURATION_ID,
            env::SMS_MAX_PRICE,
            env::SMS_PROFILES,
        ];
        let sns_only = [env::SMS_SENDER_ID, env::SMS_ORIGINATION_NUMBER];
        let set = |names: &[&str]| names.iter().copied().filter(|n| get(n).is_some()).collect::<Vec<_>>().join(", ");
        match get(env::SMS_SENDER).unwrap_or("sns") {
            "sns" if !set(&eum_only).is_empty() => {
                Err(format!("{} are End User Messaging's settings: set {}=eum to use it", set(&eum_only), env::SMS_SENDER))
            }
            "sns" => Ok(None),
            "eum" if !set(&sns_only).is_empty() => {
                Err(format!("{} are SNS's settings; with {}=eum use {}", set(&sns_only), env::SMS_SENDER, env::SMS_ORIGINATION_IDENTITY))
            }
            "eum" => Ok(Some(settings)),
            other => Err(format!("{}: {other:?} is not sns or eum", env::SMS_SENDER)),
        }
    }
}

/// An identity, id or ARN as End User Messaging takes them: letters,
/// digits, `_ : / -` and `extra`, at most 256.
pub(crate) fn identifier<'a>(get: &impl Fn(&str) -> Option<&'a str>, name: &str, extra: &str) -> Result<Option<String>, String> {
    let Some(v) = get(name) else { return Ok(None) };
    let ok = v.len() <= 256 && v.chars().all(|c| c.is_ascii_alphanumeric() || "_:/-".contains(c) || extra.contains(c));
    if !ok {
        return Err(format!("{name}: {v:?} is not an identity, id or ARN (letters, digits, _ : / - {extra}, at most 256)"));
    }
    Ok(Some(v.to_owned()))
}

/// A price setting in USD, checked by [`is_price`].
pub(crate) fn price<'a>(get: &impl Fn(&str) -> Option<&'a str>, name: &str) -> Result<Option<String>, String> {
    match get(name) {
        Some(p) if !is_price(p) => {
            Err(format!("{name}: {p:?} is not a price in USD like 0.05 (at most 2 digits before the point, 1 to 5 after)"))
        }
        p => Ok(p.map(str::to_owned)),
    }
}

/// A price as End User Messaging takes it: `[0-9]{0,2}\.[0-9]{1,5}`.
fn is_price(p: &str) -> bool {
    let Some((whole, cents)) = p.split_once('.') else { return false };
    whole.len() <= 2 && (1..=5).contains(&cents.len()) && (whole.to_owned() + cents).bytes().all(|b| b.is_ascii_digit())
}

/// The name of every environment variable, in one place.
pub mod env {
    pub const TABLE: &str = "VERIFY_TABLE";
    pub const ACCOUNT_SID: &str = "VERIFY_ACCOUNT_SID";
    pub const SERVICE_SID: &str = "VERIFY_SERVICE_SID";
    pub const SERVICE_NAME: &str = "VERIFY_SERVICE_NAME";
    pub const CODE_KEY: &str = "VERIFY_CODE_KEY";
    pub const CODE_KEY_PREVIOUS: &str = "VERIFY_CODE_KEY_PREVIOUS";
    pub const CODE_LENGTH: &str = "VERIFY_CODE_LENGTH";
    pub const VALIDITY_SECONDS: &str = "VERIFY_VALIDITY_SECONDS";
    pub const MAX_CHECK_ATTEMPTS: &str = "VERIFY_MAX_CHECK_ATTEMPTS";
    pub const MAX_SENDS: &str = "VERIFY_MAX_SENDS";
    pub const SEND_WINDOW_SECONDS: &str = "VERIFY_SEND_WINDOW_SECONDS";
    pub const MAX_FAILURES: &str = "VERIFY_MAX_FAILURES";
    pub const FAILURE_WINDOW_SECONDS: &str = "VERIFY_FAILURE_WINDOW_SECONDS";
    pub const SMS_SENDER_ID: &str = "VERIFY_SMS_SENDER_ID";
    pub const SMS_ORIGINATION_NUMBER: &str = "VERIFY_SMS_ORIGINATION_NUMBER";
    /// The SES identity e-mails are sent from; unset, no e-mail channel.
    pub const EMAIL_FROM: &str = "VERIFY_EMAIL_FROM";
    pub const EMAIL_FROM_NAME: &str = "VERIFY_EMAIL_FROM_NAME";
    pub const EMAIL_CONFIGURATION_SET: &str = "VERIFY_EMAIL_CONFIGURATION_SET";
    /// Which SMS sender start-verify uses: `sns` (default) or `eum` (End
    /// User Messaging SMS and Voice v2), and the latter's settings.
    pub const SMS_SENDER: &str = "VERIFY_SMS_SENDER";
    pub const SMS_ORIGINATION_IDENTITY: &str = "VERIFY_SMS_ORIGINATION_IDENTITY";
    pub const SMS_CONFIGURATION_SET: &str = "VERIFY_SMS_CONFIGURATION_SET";
    pub const SMS_PROTECT_CONFIGURATION_ID: &str = "VERIFY_SMS_PROTECT_CONFIGURATION_ID";
    pub const SMS_MAX_PRICE: &str = "VERIFY_SMS_MAX_PRICE";
    /// End User Messaging sender profiles by `MG…` sid, for messaging
    /// configurations to choose per country ([`crate::messaging`]).
    pub const SMS_PROFILES: &str = "VERIFY_SMS_PROFILES";
    /// The `call` channel: where calls come from (its sender is registered
    /// only when this is set), their configuration set and price cap.
    pub const VOICE_ORIGINATION_IDENTITY: &str = "VERIFY_VOICE_ORIGINATION_IDENTITY";
    pub const VOICE_CONFIGURATION_SET: &str = "VERIFY_VOICE_CONFIGURATION_SET";
    pub const VOICE_MAX_PRICE_PER_MINUTE: &str = "VERIFY_VOICE_MAX_PRICE_PER_MINUTE";
    /// The `whatsapp` channel: the End User Messaging Social phone number
    /// id messages come from (its sender is registered only when this is
    /// set), the approved authentication template, the Graph API version.
    pub const WHATSAPP_PHONE_NUMBER_ID: &str = "VERIFY_WHATSAPP_PHONE_NUMBER_ID";
    pub const WHATSAPP_TEMPLATE_NAME: &str = "VERIFY_WHATSAPP_TEMPLATE_NAME";
    pub const WHATSAPP_META_API_VERSION: &str = "VERIFY_WHATSAPP_META_API_VERSION";
    pub const PUBLIC_BASE_URL: &str = "VERIFY_PUBLIC_BASE_URL";
    pub const WARM_UP: &str = "VERIFY_WARM_UP";
    /// The services JSON document (see [`super::Services::from_json`]).
    pub const SERVICES: &str = "VERIFY_SERVICES";
    /// A file holding the services JSON document, instead of `VERIFY_SERVICES`.
    pub const SERVICES_FILE: &str = "VERIFY_SERVICES_FILE";
    /// JSON list of `{"key_id", "secret_sha256"}`: Basic credentials.
    pub const API_KEYS: &str = "VERIFY_API_KEYS";
    /// Comma-separated auth tokens that sign `X-Twilio-Signature` requests.
    pub const AUTH_TOKENS: &str = "VERIFY_AUTH_TOKENS";
    /// Comma-separated browser origins allowed cross-origin, or `*`.
    pub const CORS_ORIGINS: &str = "VERIFY_CORS_ORIGINS";

    /// Variables for verify-local only. The functions share the reading of
    /// `VERIFY_SERVICES_FILE`, but a Lambda deployment has no file to name
    /// (it passes `VERIFY_SERVICES`), so `template.yaml` sets none of these;
    /// the template tests read this list.
    pub const LOCAL_ONLY: &[&str] = &[SERVICES_FILE];
}

pub const DEFAULT_TABLE: &str = "verify";
pub const DEFAULT_SERVICE_NAME: &str = "Verify";

/// A stable default sid derived from a name, so a deployment that sets none
/// keeps the same service sid across restarts.
pub fn derived_sid(prefix: &str, name: &str) -> String {
    let digest = Sha256::new_with_prefix(b"verify-default-sid:").chain_update(name).finalize();
    format!("{prefix}{}", hex::encode(&digest[..16]))
}

/// The code keys, sealing verification sids when the number key is
/// configured (see [`crate::sid_seal`]; without it sids are random).
fn with_sid_seal(keys: CodeKeys, vars: &HashMap<String, String>) -> Result<CodeKeys, String> {
    Ok(match crate::events::number_key::NumberKeys::from_vars(vars)? {
        Some(numbers) => keys.with_sid_seal(numbers.sid_seal()),
        None => keys,
    })
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Settings, String> {
        Settings::from_vars(&std::env::vars().collect())
    }

    /// Reads settings from a map of variables. The code key is required:
    /// without it there is nothing safe to hash codes with.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Settings, String> {
        let get = |name: &str| var(vars, name);
        let current = get(env::CODE_KEY).ok_or_else(|| format!("{} is required (a random secret of at least 32 bytes)", env::CODE_KEY))?;
        let current = CodeKey::new(current.as_bytes()).map_err(|e| format!("{}: {e}", env::CODE_KEY))?;
        let previous = get(env::CODE_KEY_PREVIOUS)
            .map(|k| CodeKey::new(k.as_bytes()).map_err(|e| format!("{}: {e}", env::CODE_KEY_PREVIOUS)))
            .transpose()?;
        let (services, account_sid) = services_and_account(vars)?;
        let credentials = Credentials::parse(get(env::API_KEYS), get(env::AUTH_TOKENS))
            .map_err(|e| format!("{} / {}: {e}", env::API_KEYS, env::AUTH_TOKENS))?;
        let cors = Cors::parse_list(get(env::CORS_ORIGINS).unwrap_or("")).map_err(|e| format!("{}: {e}", env::CORS_ORIGINS))?;
        let SenderSettings { sms, sms_v2, voice } = SenderSettings::from_vars(vars)?;
        Ok(Settings {
            table: table(vars),
            account_sid,
            services,
            keys: with_sid_seal(CodeKeys::new(current, previous), vars)?,
            credentials,
            cors,
            sms,
            email: EmailSettings::from_vars(&get)?,
            sms_v2,
            sms_profiles: get(env::SMS_PROFILES)
                .map(|json| crate::messaging::SmsProfiles::parse(json).map_err(|e| format!("{}: {e}", env::SMS_PROFILES)))
                .transpose()?
                .unwrap_or_default(),
            voice,
            whatsapp: crate::whatsapp::WhatsappSettings::read(&get)?,
            public_base_url: get(env::PUBLIC_BASE_URL).map(|u| u.trim_end_matches('/').to_owned()),
            warm_up: warm_up(vars),
        })
    }
}

/// `VERIFY_WARM_UP`: on unless it says off, for every function.
pub fn warm_up(vars: &HashMap<String, String>) -> bool {
    var(vars, env::WARM_UP).is_none_or(|v| !matches!(v, "0" | "false" | "no" | "off"))
}

/// `VERIFY_TABLE`, for every function: known before the rest of the
/// settings, so a function can open its DynamoDB connection while it reads
/// its secrets.
pub fn table(vars: &HashMap<String, String>) -> String {
    var(vars, env::TABLE).unwrap_or(DEFAULT_TABLE).to_owned()
}

/// A variable's value, trimmed; set to blank is the same as unset (a
/// template parameter left empty still sets its variable).
pub fn var<'a>(vars: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// The configured services and the account sid shown in resources: the one
/// reading shared by every function, webhook-report included (which needs no
/// code key).
pub fn services_and_account(vars: &HashMap<String, String>) -> Result<(Services, String), String> {
    let get = |name: &str| var(vars, name);
    let limits = limits_from(&get)?;
    let services = services_from(&get, &limits)?;
    let account_sid = match get(env::ACCOUNT_SID) {
        Some(s) if sid::is_sid(sid::ACCOUNT, s) => s.to_owned(),
        Some(s) => return Err(format!("{}: {s:?} is not an AC sid", env::ACCOUNT_SID)),
        None => derived_sid(sid::ACCOUNT, &services.default_service().sid),
    };
    Ok((services, account_sid))
}

/// The services: from the JSON document when one is configured (limits it
/// leaves out default to `limits`), else the one service the
/// `VERIFY_SERVICE_SID` / `VERIFY_SERVICE_NAME` variables describe.
fn services_from<'a>(get: &impl Fn(&str) -> Option<&'a str>, limits: &Limits) -> Result<Services, String> {
    let document = match (get(env::SERVICES), get(env::SERVICES_FILE)) {
        (Some(_), Some(_)) => return Err(format!("set {} or {}, not both", env::SERVICES, env::SERVICES_FILE)),
        (Some(json), None) => Some((json.to_owned(), env::SERVICES.to_owned())),
        (None, Some(path)) => {
            let json = std::fs::read_to_string(path).map_err(|e| format!("{}: {path}: {e}", env::SERVICES_FILE))?;
            Some((json, format!("{} ({path})", env::SERVICES_FILE)))
        }
        (None, None) => None,
    };
    if let Some((json, source)) = document {
        for single in [env::SERVICE_SID, env::SERVICE_NAME] {
            if get(single).is_some() {
                return Err(format!("{single} cannot be combined with {source}: name the service in the JSON"));
            }
        }
        return Services::from_json(&json, limits).map_err(|e| format!("{source}: {e}"));
    }
    let name = get(env::SERVICE_NAME).unwrap_or(DEFAULT_SERVICE_NAME);
    let name = check_friendly_name(name).map_err(|e| format!("{}: {e}", env::SERVICE_NAME))?;
    let sid = match get(env::SERVICE_SID) {
        Some(s) if sid::is_sid(sid::SERVICE, s) => s.to_owned(),
        Some(s) => return Err(format!("{}: {s:?} is not a VA sid (VA + 32 hex digits)", env::SERVICE_SID)),
        None => derived_sid(sid::SERVICE, &name),
    };
    Ok(Services::single(Service::new(sid, name, limits.clone())))
}

/// One limit: where it is read from (environment variable, key in the
/// services JSON) and the values it may take. The environment and the JSON
/// go through this one table, so both accept exactly the same ranges.
pub(crate) struct LimitField {
    pub env: &'static str,
    pub json: &'static str,
    pub min: i64,
    pub max: i64,
    pub set: fn(&mut Limits, i64),
}

pub(crate) const LIMIT_FIELDS: &[LimitField] = &[
    LimitField {
        env: env::CODE_LENGTH,
        json: "code_length",
        min: MIN_CODE_LENGTH as i64,
        max: MAX_CODE_LENGTH as i64,
        set: |l, v| l.code_length = v as usize,
    },
    LimitField { env: env::VALIDITY_SECONDS, json: "validity_seconds", min: 60, max: 24 * 3600, set: |l, v| l.validity_secs = v },
    LimitField { env: env::MAX_CHECK_ATTEMPTS, json: "max_check_attempts", min: 1, max: 100, set: |l, v| l.max_check_attempts = v as u32 },
    LimitField { env: env::MAX_SENDS, json: "max_sends", min: 1, max: 100, set: |l, v| l.max_sends = v as u32 },
    LimitField { env: env::SEND_WINDOW_SECONDS, json: "send_window_seconds", min: 60, max: 24 * 3600, set: |l, v| l.send_window_secs = v },
    LimitField { env: env::MAX_FAILURES, json: "max_failures", min: 1, max: 100, set: |l, v| l.max_failures = v as u32 },
    LimitField {
        env: env::FAILURE_WINDOW_SECONDS,
        json: "failure_window_seconds",
        min: 60,
        max: 30 * 24 * 3600,
        set: |l, v| l.failure_window_secs = v,
    },
];

impl LimitField {
    /// Checks a value against the field's range; `name` is how the caller
    /// spelt the field, for the error.
    pub(crate) fn apply(&self, limits: &mut Limits, value: Option<i64>, raw: &str, name: &str) -> Result<(), String> {
        match value {
            Some(v) if v >= self.min && v <= self.max => {
                (self.set)(limits, v);
                Ok(())
            }
            _ => Err(format!("{name}: {raw} is not a whole number from {} to {}", self.min, self.max)),
        }
    }
}

fn limits_from<'a>(get: &impl Fn(&str) -> Option<&'a str>) -> Result<Limits, String> {
    let mut limits = Limits::default();
    for field in LIMIT_FIELDS {
        if let Some(raw) = get(field.env) {
            field.apply(&mut limits, raw.parse::<i64>().ok(), &format!("{raw:?}"), field.env)?;
        }
    }
    Ok(limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_need_only_a_key() {
        let s = Settings::from_vars(&vars(&[(env::CODE_KEY, &"k".repeat(32))])).unwrap();
        assert_eq!(s.services.default_service().limits, Limits::default());
        assert!(sid::is_sid(sid::SERVICE, &s.services.default_service().sid));
        assert!(s.credentials.is_empty());
        assert!(!s.cors.is_enabled());
        assert!(sid::is_sid(sid::ACCOUNT, &s.account_sid));
        assert_eq!(s.table, DEFAULT_TABLE);
        assert!(s.warm_up);
    }

    #[test]
    fn missing_or_short_key_is_an_error() {
        assert!(Settings::from_vars(&vars(&[])).unwrap_err().contains(env::CODE_KEY));
        assert!(Settings::from_vars(&vars(&[(env::CODE_KEY, "short")])).is_err());
    }

    #[test]
    fn out_of_range_limits_are_errors() {
        let key = "k".repeat(32);
        for (name, bad) in [(env::CODE_LENGTH, "3"), (env::CODE_LENGTH, "11"), (env::MAX_SENDS, "x"), (env::SERVICE_SID, "VA1")] {
            let err = Settings::from_vars(&vars(&[(env::CODE_KEY, &key), (name, bad)])).unwrap_err();
            assert!(err.contains(name), "{err}");
        }
        let s = Settings::from_vars(&vars(&[(env::CODE_KEY, &key), (env::CODE_LENGTH, "8"), (env::WARM_UP, "false")])).unwrap();
        assert_eq!(s.services.default_service().limits.code_length, 8);
        assert!(!s.warm_up);
    }

    #[test]
    fn services_come_from_json_with_env_limits_as_defaults() {
        let key = "k".repeat(32);
        let json = r#"{"services":[{"friendly_name":"Acme","max_sends":3},{"friendly_name":"Beta"}]}"#;
        let s = Settings::from_vars(&vars(&[(env::CODE_KEY, &key), (env::SERVICES, json), (env::CODE_LENGTH, "8")])).unwrap();
        assert_eq!(s.services.all().len(), 2);
        let acme = s.services.default_service();
        assert_eq!((acme.friendly_name.as_str(), acme.limits.max_sends, acme.limits.code_length), ("Acme", 3, 8));
        let err = Settings::from_vars(&vars(&[(env::CODE_KEY, &key), (env::SERVICES, json), (env::SERVICE_NAME, "X")])).unwrap_err();
        assert!(err.contains(env::SERVICE_NAME), "{err}");
        let err = Settings::from_vars(&vars(&[(env::CODE_KEY, &key), (env::SERVICES, "{")])).unwrap_err();
        assert!(err.contains(env::SERVICES), "{err}");
    }

    #[test]
    fn services_file_is_read() {
        let key = "k".repeat(32);
        let path = std::env::temp_dir().join(format!("verify-services-{}.json", std::process::id()));
        std::fs::write(&path, r#"{"services":[{"friendly_name":"From File"}]}"#).unwrap();
        let s = Settings::from_vars(&vars(&[(env::CODE_KEY, &key), (env::SERVICES_FILE, path.to_str().unwrap())])).unwrap();
        std::fs::remove_file(&path).ok();
        assert_eq!(s.services.default_service().friendly_name, "From File");
        let missing = Settings::from_vars(&vars(&[(env::CODE_KEY, &key), (env::SERVICES_FILE, "/nonexistent/x.json")]));
        assert!(missing.unwrap_err().contains(env::SERVICES_FILE));
    }

    #[test]
    fn email_settings_are_read_and_checked() {
        let key = "k".repeat(32);
        let s = Settings::from_vars(&vars(&[
            (env::CODE_KEY, &key),
            (env::EMAIL_FROM, "Codes@Example.COM"),
            (env::EMAIL_FROM_NAME, "Acme"),
            (env::EMAIL_CONFIGURATION_SET, "verify"),
        ]))
        .unwrap();
        assert_eq!((s.email.from.as_deref(), s.email.from_name.as_deref()), (Some("codes@example.com"), Some("Acme")));
        assert_eq!(s.email.configuration_set.as_deref(), Some("verify"));
        assert!(Settings::from_vars(&vars(&[(env::CODE_KEY, &key)])).unwrap().email.from.is_none());
        let err = Settings::from_vars(&vars(&[(env::CODE_KEY, &key), (env::EMAIL_FROM, "not-an-address")])).unwrap_err();
        assert!(err.contains(env::EMAIL_FROM), "{err}");
        let err = Settings::from_vars(&vars(&[(env::CODE_KEY, &key), (env::EMAIL_FROM_NAME, "Acme")])).unwrap_err();
        assert!(err.contains(env::EMAIL_FROM), "{err}");
    }

    #[test]
    fn credentials_and_cors_are_read() {
        let key = "k".repeat(32);
        let keys = format!(r#"[{{"key_id":"SK1","secret_sha256":"{}"}}]"#, "0".repeat(64));
        let s = Settings::from_vars(&vars(&[
            (env::CODE_KEY, &key),
            (env::API_KEYS, &keys),
            (env::AUTH_TOKENS, &"t".repeat(32)),
            (env::CORS_ORIGINS, "https://a.example, http://localhost:3000"),
        ]))
        .unwrap();
        assert_eq!(s.credentials.key_ids().collect::<Vec<_>>(), ["SK1"]);
        assert_eq!(s.credentials.token_count(), 1);
        assert!(s.cors.is_enabled());
        let bad = Settings::from_vars(&vars(&[(env::CODE_KEY, &key), (env::CORS_ORIGINS, "a.example")]));
        assert!(bad.unwrap_err().contains(env::CORS_ORIGINS));
        let bad = Settings::from_vars(&vars(&[(env::CODE_KEY, &key), (env::API_KEYS, "[1]")]));
        assert!(bad.unwrap_err().contains(env::API_KEYS));
    }

    #[test]
    fn voice_settings_are_checked_against_the_api_rules() {
        let key = "k".repeat(32);
        let read = |pairs: &[(&str, &str)]| {
            let mut all = vars(pairs);
            all.insert(env::CODE_KEY.into(), key.clone());
            Settings::from_vars(&all).map(|s| s.voice)
        };
        assert_eq!(read(&[]).unwrap(), VoiceSettings::default());
        let arn = "arn:aws:sms-voice:us-east-1:123456789012:phone-number/phone-1234";
        let v = read(&[
            (env::VOICE_ORIGINATION_IDENTITY, "+12065550100"),
            (env::VOICE_CONFIGURATION_SET, arn),
            (env::VOICE_MAX_PRICE_PER_MINUTE, "0.05"),
        ])
        .unwrap();
        assert_eq!(v.origination_identity.as_deref(), Some("+12065550100"));
        assert_eq!(v.configuration_set.as_deref(), Some(arn));
        assert_eq!(v.max_price_per_minute.as_deref(), Some("0.05"));
        for (name, bad) in [
            (env::VOICE_ORIGINATION_IDENTITY, "my number"),
            (env::VOICE_CONFIGURATION_SET, "+1206"),
            (env::VOICE_MAX_PRICE_PER_MINUTE, "5"),
            (env::VOICE_MAX_PRICE_PER_MINUTE, "100.0"),
            (env::VOICE_MAX_PRICE_PER_MINUTE, "0.123456"),
        ] {
            assert!(read(&[(name, bad)]).unwrap_err().contains(name), "{name}={bad}");
        }
    }

    #[test]
    fn the_sms_sender_is_sns_unless_eum_is_chosen_and_settings_must_match_it() {
        let key = "k".repeat(32);
        let read = |pairs: &[(&str, &str)]| {
            let mut all = vars(pairs);
            all.insert(env::CODE_KEY.into(), key.clone());
            Settings::from_vars(&all).map(|s| s.sms_v2)
        };
        assert_eq!(read(&[]).unwrap(), None);
        assert_eq!(read(&[(env::SMS_SENDER, "sns"), (env::SMS_SENDER_ID, "ACME")]).unwrap(), None);
        assert_eq!(read(&[(env::SMS_SENDER, "eum")]).unwrap(), Some(SmsV2Settings::default()));
        let full = read(&[
            (env::SMS_SENDER, "eum"),
            (env::SMS_ORIGINATION_IDENTITY, "pool-0123456789abcdef"),
            (env::SMS_CONFIGURATION_SET, "verify"),
            (env::SMS_PROTECT_CONFIGURATION_ID, "protect-0123456789abcdef"),
            (env::SMS_MAX_PRICE, "0.05"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(full.origination_identity.as_deref(), Some("pool-0123456789abcdef"));
        assert_eq!(full.protect_configuration_id.as_deref(), Some("protect-0123456789abcdef"));
        assert_eq!(full.max_price.as_deref(), Some("0.05"));
        let mg = "MG0123456789abcdef0123456789abcdef";
        let mut all =
            vars(&[(env::SMS_SENDER, "eum"), (env::SMS_PROFILES, &format!(r#"{{"{mg}":{{"origination_identity":"+447700900123"}}}}"#))]);
        all.insert(env::CODE_KEY.into(), key.clone());
        let profiles = Settings::from_vars(&all).unwrap().sms_profiles;
        assert_eq!(profiles.get(mg).unwrap().settings.origination_identity.as_deref(), Some("+447700900123"));
        for (pairs, needle) in [
            (&[(env::SMS_SENDER, "pigeon")][..], env::SMS_SENDER),
            (&[(env::SMS_MAX_PRICE, "0.05")][..], "=eum"),
            (&[(env::SMS_SENDER, "eum"), (env::SMS_SENDER_ID, "ACME")][..], env::SMS_SENDER_ID),
            (&[(env::SMS_SENDER, "eum"), (env::SMS_MAX_PRICE, "free")][..], env::SMS_MAX_PRICE),
            (&[(env::SMS_SENDER, "eum"), (env::SMS_PROTECT_CONFIGURATION_ID, "a b")][..], env::SMS_PROTECT_CONFIGURATION_ID),
            // SNS has no origination identity to choose: no profiles with it.
            (&[(env::SMS_PROFILES, "{}")][..], "=eum"),
            (&[(env::SMS_SENDER, "eum"), (env::SMS_PROFILES, r#"{"MG1":{}}"#)][..], env::SMS_PROFILES),
        ] {
            assert!(read(pairs).unwrap_err().contains(needle), "{pairs:?}");
        }
    }
}
