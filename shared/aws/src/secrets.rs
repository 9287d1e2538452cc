//! Secrets read from AWS Secrets Manager during a Lambda function's init.
//!
//! A setting that is a secret (the code key, the API keys, …) is given to a
//! function in one of two ways:
//!
//! - by its value, `VERIFY_CODE_KEY=…`: verify-local, the tests, and anyone
//!   running a function by hand;
//! - by the name or ARN of the secret that holds it,
//!   `VERIFY_CODE_KEY_SECRET_ID=verify/code-key`: template.yaml. The value
//!   is read with `secretsmanager:GetSecretValue` during init, so the
//!   function's configuration (what `lambda:GetFunctionConfiguration`
//!   shows) holds only the secret's name.
//!
//! Setting both is refused: which one wins would be a guess.

use aws_sdk_secretsmanager::error::DisplayErrorContext;
use std::collections::HashMap;
use verify_core::config::env;

/// A setting that may come from Secrets Manager: the variable holding its
/// value, and the one naming the secret that holds it (always the value's
/// name followed by `_SECRET_ID`: template.yaml's tests rely on it).
#[derive(Clone, Copy, Debug)]
pub struct SecretSetting {
    pub value: &'static str,
    pub secret_id: &'static str,
}

pub const CODE_KEY: SecretSetting = SecretSetting { value: env::CODE_KEY, secret_id: "VERIFY_CODE_KEY_SECRET_ID" };
pub const CODE_KEY_PREVIOUS: SecretSetting =
    SecretSetting { value: env::CODE_KEY_PREVIOUS, secret_id: "VERIFY_CODE_KEY_PREVIOUS_SECRET_ID" };
pub const API_KEYS: SecretSetting = SecretSetting { value: env::API_KEYS, secret_id: "VERIFY_API_KEYS_SECRET_ID" };
pub const AUTH_TOKENS: SecretSetting = SecretSetting { value: env::AUTH_TOKENS, secret_id: "VERIFY_AUTH_TOKENS_SECRET_ID" };
pub const WEBHOOKS: SecretSetting =
    SecretSetting { value: verify_core::webhooks::config::env::WEBHOOKS, secret_id: "VERIFY_WEBHOOKS_SECRET_ID" };
pub const NUMBER_KEY: SecretSetting =
    SecretSetting { value: crate::webhook_report::vars::NUMBER_KEY, secret_id: "VERIFY_NUMBER_KEY_SECRET_ID" };
pub const NUMBER_KEY_PREVIOUS: SecretSetting =
    SecretSetting { value: crate::webhook_report::vars::NUMBER_KEY_PREVIOUS, secret_id: "VERIFY_NUMBER_KEY_PREVIOUS_SECRET_ID" };

/// The secrets that sign webhooks created over the API (start-verify
/// checks one exists before creating one; webhook-report signs with them).
pub const SERVICE_WEBHOOK_SECRETS: SecretSetting = SecretSetting {
    value: verify_core::webhooks::config::env::SERVICE_WEBHOOK_SECRETS,
    secret_id: "VERIFY_SERVICE_WEBHOOK_SECRETS_SECRET_ID",
};

/// The secrets check-verify reads.
pub const API_SECRETS: &[SecretSetting] = &[CODE_KEY, CODE_KEY_PREVIOUS, API_KEYS, AUTH_TOKENS];
/// The secrets start-verify reads: check-verify's and the webhooks'.
pub const START_SECRETS: &[SecretSetting] = &[CODE_KEY, CODE_KEY_PREVIOUS, API_KEYS, AUTH_TOKENS, SERVICE_WEBHOOK_SECRETS];
/// The secrets webhook-report reads (no code key: it never sees codes).
pub const REPORT_SECRETS: &[SecretSetting] = &[API_KEYS, AUTH_TOKENS, WEBHOOKS, SERVICE_WEBHOOK_SECRETS, NUMBER_KEY, NUMBER_KEY_PREVIOUS];

/// The secrets `vars` names among `settings`: (setting, secret id). Refuses
/// a setting given both ways.
pub fn named(vars: &HashMap<String, String>, settings: &[SecretSetting]) -> Result<Vec<(SecretSetting, String)>, String> {
    let get = |name: &str| verify_core::config::var(vars, name);
    let mut out = Vec::new();
    for s in settings {
        if let Some(id) = get(s.secret_id) {
            if get(s.value).is_some() {
                return Err(format!("set {} or {}, not both", s.value, s.secret_id));
            }
            out.push((*s, id.to_owned()));
        }
    }
    Ok(out)
}

/// Reads each named secret's `SecretString` (all at once), as the values
/// of their settings. An error names the variable and the secret, never a
/// value: the function then refuses to start.
pub async fn read(client: &aws_sdk_secretsmanager::Client, named: Vec<(SecretSetting, String)>) -> Result<Vec<(String, String)>, String> {
    let mut calls = tokio::task::JoinSet::new();
    for (i, (setting, id)) in named.into_iter().enumerate() {
        let client = client.clone();
        calls.spawn(async move { (i, setting.value, read_one(&client, setting, &id).await) });
    }
    let mut values = Vec::new();
    while let Some(done) = calls.join_next().await {
        let (i, name, value) = done.map_err(|e| format!("reading a secret: {e}"))?;
        values.push((i, name.to_owned(), value?));
    }
    values.sort_by_key(|(i, ..)| *i);
    Ok(values.into_iter().map(|(_, name, value)| (name, value)).collect())
}

async fn read_one(client: &aws_sdk_secretsmanager::Client, setting: SecretSetting, id: &str) -> Result<String, String> {
    let failed = |why: String| format!("{}: cannot read secret {id:?} from Secrets Manager: {why}", setting.secret_id);
    let out = client.get_secret_value().secret_id(id).send().await.map_err(|e| failed(DisplayErrorContext(&e).to_string()))?;
    out.secret_string.ok_or_else(|| failed("it has no SecretString (a binary secret is not read)".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_secret_id_is_its_value_name_and_secret_id() {
        for s in API_SECRETS.iter().chain(REPORT_SECRETS) {
            assert_eq!(s.secret_id, format!("{}_SECRET_ID", s.value));
        }
    }

    #[test]
    fn a_setting_is_given_one_way_only() {
        let vars = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let named_ = named(&vars(&[("VERIFY_CODE_KEY_SECRET_ID", "verify/code-key"), ("VERIFY_API_KEYS", "[]")]), API_SECRETS).unwrap();
        assert_eq!(named_.len(), 1);
        assert_eq!((named_[0].0.value, named_[0].1.as_str()), ("VERIFY_CODE_KEY", "verify/code-key"));
        // Empty counts as unset, as for every other variable.
        assert!(named(&vars(&[("VERIFY_CODE_KEY_SECRET_ID", " "), ("VERIFY_CODE_KEY", "k")]), API_SECRETS).unwrap().is_empty());
        let err = named(&vars(&[("VERIFY_CODE_KEY_SECRET_ID", "verify/code-key"), ("VERIFY_CODE_KEY", "k")]), API_SECRETS).unwrap_err();
        assert_eq!(err, "set VERIFY_CODE_KEY or VERIFY_CODE_KEY_SECRET_ID, not both");
        // webhook-report never reads the code key's secret.
        assert!(named(&vars(&[("VERIFY_CODE_KEY_SECRET_ID", "x")]), REPORT_SECRETS).unwrap().is_empty());
    }
}
