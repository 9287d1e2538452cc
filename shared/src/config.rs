//! Configuration: the limits of a service and the settings of a deployment,
//! read from the environment with clear errors for bad values.

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

/// One verification service: its sid, the name used in the SMS, its limits.
#[derive(Clone, Debug)]
pub struct Service {
    pub sid: String,
    pub friendly_name: String,
    pub limits: Limits,
}

/// Everything a deployment needs to know.
#[derive(Clone, Debug)]
pub struct Settings {
    pub table: String,
    pub account_sid: String,
    pub service: Service,
    pub keys: CodeKeys,
    pub sms: SmsSettings,
    /// Base for the `url` fields, e.g. `https://verify.example.com`; when
    /// unset, taken from each request's Host header.
    pub public_base_url: Option<String>,
    /// During init, open the DynamoDB and (for functions that send SMS) SNS
    /// connections (`DescribeTable`, `GetSMSAttributes`) and load the phone
    /// number metadata, concurrently, so the first request pays for neither
    /// the TLS handshakes nor the metadata. On unless `VERIFY_WARM_UP` is 0/false/no/off.
    pub warm_up: bool,
}

#[derive(Clone, Debug, Default)]
pub struct SmsSettings {
    pub sender_id: Option<String>,
    pub origination_number: Option<String>,
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
    pub const PUBLIC_BASE_URL: &str = "VERIFY_PUBLIC_BASE_URL";
    pub const WARM_UP: &str = "VERIFY_WARM_UP";
}

pub const DEFAULT_TABLE: &str = "verify";
pub const DEFAULT_SERVICE_NAME: &str = "Verify";

/// A stable default sid derived from a name, so a deployment that sets none
/// keeps the same service sid across restarts.
pub fn derived_sid(prefix: &str, name: &str) -> String {
    let digest = Sha256::new_with_prefix(b"verify-default-sid:").chain_update(name).finalize();
    format!("{prefix}{}", hex::encode(&digest[..16]))
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Settings, String> {
        Settings::from_vars(&std::env::vars().collect())
    }

    /// Reads settings from a map of variables. The code key is required:
    /// without it there is nothing safe to hash codes with.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Settings, String> {
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let current = get(env::CODE_KEY)
            .ok_or_else(|| format!("{} is required (a random secret of at least 32 bytes)", env::CODE_KEY))?;
        let current = CodeKey::new(current.as_bytes()).map_err(|e| format!("{}: {e}", env::CODE_KEY))?;
        let previous = get(env::CODE_KEY_PREVIOUS)
            .map(|k| CodeKey::new(k.as_bytes()).map_err(|e| format!("{}: {e}", env::CODE_KEY_PREVIOUS)))
            .transpose()?;
        let name = get(env::SERVICE_NAME).unwrap_or(DEFAULT_SERVICE_NAME).to_owned();
        let service_sid = match get(env::SERVICE_SID) {
            Some(s) if sid::is_sid(sid::SERVICE, s) => s.to_owned(),
            Some(s) => return Err(format!("{}: {s:?} is not a VA sid (VA + 32 hex digits)", env::SERVICE_SID)),
            None => derived_sid(sid::SERVICE, &name),
        };
        let account_sid = match get(env::ACCOUNT_SID) {
            Some(s) if sid::is_sid(sid::ACCOUNT, s) => s.to_owned(),
            Some(s) => return Err(format!("{}: {s:?} is not an AC sid", env::ACCOUNT_SID)),
            None => derived_sid(sid::ACCOUNT, &service_sid),
        };
        let limits = limits_from(&get)?;
        Ok(Settings {
            table: get(env::TABLE).unwrap_or(DEFAULT_TABLE).to_owned(),
            account_sid,
            service: Service { sid: service_sid, friendly_name: name, limits },
            keys: CodeKeys::new(current, previous),
            sms: SmsSettings {
                sender_id: get(env::SMS_SENDER_ID).map(str::to_owned),
                origination_number: get(env::SMS_ORIGINATION_NUMBER).map(str::to_owned),
            },
            public_base_url: get(env::PUBLIC_BASE_URL).map(|u| u.trim_end_matches('/').to_owned()),
            warm_up: get(env::WARM_UP).is_none_or(|v| !matches!(v, "0" | "false" | "no" | "off")),
        })
    }
}

fn limits_from<'a>(get: &impl Fn(&str) -> Option<&'a str>) -> Result<Limits, String> {
    fn num<'a, T: std::str::FromStr + PartialOrd + std::fmt::Display>(
        get: &impl Fn(&str) -> Option<&'a str>,
        name: &str,
        default: T,
        min: T,
        max: T,
    ) -> Result<T, String> {
        let Some(raw) = get(name) else { return Ok(default) };
        match raw.parse::<T>() {
            Ok(v) if v >= min && v <= max => Ok(v),
            _ => Err(format!("{name}: {raw:?} is not a whole number from {min} to {max}")),
        }
    }
    let d = Limits::default();
    Ok(Limits {
        code_length: num(get, env::CODE_LENGTH, d.code_length, MIN_CODE_LENGTH, MAX_CODE_LENGTH)?,
        validity_secs: num(get, env::VALIDITY_SECONDS, d.validity_secs, 60, 24 * 3600)?,
        max_check_attempts: num(get, env::MAX_CHECK_ATTEMPTS, d.max_check_attempts, 1, 100)?,
        max_sends: num(get, env::MAX_SENDS, d.max_sends, 1, 100)?,
        send_window_secs: num(get, env::SEND_WINDOW_SECONDS, d.send_window_secs, 60, 24 * 3600)?,
        max_failures: num(get, env::MAX_FAILURES, d.max_failures, 1, 100)?,
        failure_window_secs: num(get, env::FAILURE_WINDOW_SECONDS, d.failure_window_secs, 60, 30 * 24 * 3600)?,
    })
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
        assert_eq!(s.service.limits, Limits::default());
        assert!(sid::is_sid(sid::SERVICE, &s.service.sid));
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
        let s = Settings::from_vars(&vars(&[(env::CODE_KEY, &key), (env::CODE_LENGTH, "8"), (env::WARM_UP, "false")]))
            .unwrap();
        assert_eq!(s.service.limits.code_length, 8);
        assert!(!s.warm_up);
    }
}
