//! Secrets read from AWS Secrets Manager during a Lambda function's init.
//!
//! A setting that is a secret (the code key, the API keys, …) is given to a
//! function in one of two ways:
//!
//! - by its value, `VERIFY_CODE_KEY=…`: verify-local, the tests, and anyone
//!   running a function by hand;
//! - by the name or ARN of the secret that holds it,
//!   `VERIFY_CODE_KEY_SECRET_ID=verify/code-key`: template.yaml. The values
//!   are read during init ([`read`]: one `BatchGetSecretValue`), so the
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
pub const API_SECRETS: &[SecretSetting] = &[CODE_KEY, CODE_KEY_PREVIOUS, API_KEYS, AUTH_TOKENS, NUMBER_KEY, NUMBER_KEY_PREVIOUS];
/// The secrets start-verify reads: check-verify's and the webhooks'.
pub const START_SECRETS: &[SecretSetting] =
    &[CODE_KEY, CODE_KEY_PREVIOUS, API_KEYS, AUTH_TOKENS, NUMBER_KEY, NUMBER_KEY_PREVIOUS, SERVICE_WEBHOOK_SECRETS];
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

/// The most secrets one `BatchGetSecretValue` returns by id.
const BATCH_LIMIT: usize = 20;

/// Reads every named secret's `SecretString`, as the values of their
/// settings, with one `BatchGetSecretValue` (a function names at most six):
/// one request during init instead of one per secret, and so one
/// connection and TLS handshake on a fresh client instead of one each. AWS
/// requires `secretsmanager:GetSecretValue` on each secret besides the
/// batch action. An error names the variable and the secret, never a
/// value: the function then refuses to start.
pub async fn read(client: &aws_sdk_secretsmanager::Client, named: Vec<(SecretSetting, String)>) -> Result<Vec<(String, String)>, String> {
    let mut ids: Vec<&str> = named.iter().map(|(_, id)| id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for chunk in ids.chunks(BATCH_LIMIT) {
        let out = client
            .batch_get_secret_value()
            .set_secret_id_list(Some(chunk.iter().map(|id| id.to_string()).collect()))
            .send()
            .await
            .map_err(|e| {
                let why = DisplayErrorContext(&e).to_string();
                let hint = crate::clients::certificate_hint(&why);
                format!("{}: cannot read secrets {chunk:?} from Secrets Manager: {why}{hint}", variables(&named))
            })?;
        entries.extend(out.secret_values().iter().cloned());
        errors.extend(out.errors().iter().cloned());
    }
    named
        .iter()
        .map(|(setting, id)| {
            let failed = |why: String| format!("{}: cannot read secret {id:?} from Secrets Manager: {why}", setting.secret_id);
            let Some(entry) = entries.iter().find(|v| v.name().is_some_and(|name| answers(id, name, v.arn()))) else {
                // Secrets Manager's reason for this one (the error's id is the
                // name or ARN asked for), else that it is simply missing.
                let why = errors
                    .iter()
                    .find(|e| e.secret_id().is_some_and(|s| answers(id, s, Some(s))))
                    .map(|e| format!("{}: {}", e.error_code().unwrap_or("error"), e.message().unwrap_or("")))
                    .unwrap_or_else(|| "not in Secrets Manager's answer".into());
                return Err(failed(why));
            };
            let value = entry.secret_string().ok_or_else(|| failed("it has no SecretString (a binary secret is not read)".into()))?;
            Ok((setting.value.to_owned(), value.to_owned()))
        })
        .collect()
}

/// Whether a secret named `name` (ARN `arn`) is the one `id` asks for: by
/// name, by ARN, or by an ARN without its "-" and six random characters.
fn answers(id: &str, name: &str, arn: Option<&str>) -> bool {
    id == name || arn.is_some_and(|arn| id == arn || arn.strip_prefix(id).is_some_and(|rest| rest.len() == 7 && rest.starts_with('-')))
}

/// The variables naming the secrets, for an error about all of them.
fn variables(named: &[(SecretSetting, String)]) -> String {
    named.iter().map(|(s, _)| s.secret_id).collect::<Vec<_>>().join(", ")
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

    #[test]
    fn a_batch_answer_is_matched_by_name_arn_or_arn_without_its_suffix() {
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:verify/code-key-AbC123";
        assert!(answers("verify/code-key", "verify/code-key", Some(arn)));
        assert!(answers(arn, "verify/code-key", Some(arn)));
        assert!(answers("arn:aws:secretsmanager:us-east-1:123456789012:secret:verify/code-key", "verify/code-key", Some(arn)));
        assert!(!answers("verify/code", "verify/code-key", Some(arn)), "a prefix of the name is another secret");
        assert!(!answers("arn:aws:secretsmanager:us-east-1:123456789012:secret:verify/code", "verify/code-key", Some(arn)));
        assert!(!answers("verify/code-key-previous", "verify/code-key", Some(arn)));
    }
}
