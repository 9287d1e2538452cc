//! The deployed application: DynamoDB store, SNS sender, system clock, built
//! once at init from the environment by each Lambda function's `main`.

use crate::api::Api;
use crate::clock::SystemClock;
use crate::config::Settings;
use crate::sender::sns::SnsSender;
use crate::service::Verifier;
use crate::store::dynamo::DynamoStore;

pub type App = Api<DynamoStore, SnsSender, SystemClock>;

/// Reads settings, opens clients and (unless disabled) the DynamoDB
/// connection. Fails loudly on bad configuration: better a function that
/// refuses to start than one that answers wrongly. A deployed function
/// without credentials would let anyone send SMS on the deployment's bill,
/// so that is bad configuration too.
pub async fn from_env() -> Result<App, String> {
    let settings = Settings::from_env()?;
    require_credentials(&settings)?;
    let sdk = crate::aws::sdk_config().await;
    let store = DynamoStore::new(crate::aws::dynamodb(&sdk), settings.table.clone());
    if settings.warm_up {
        if let Err(e) = store.warm_up().await {
            // Not fatal: the first request will try again and report properly.
            tracing::warn!(error = ?e, "DynamoDB warm-up failed");
        }
    }
    let sender = SnsSender::new(crate::aws::sns(&sdk), settings.sms.clone());
    Ok(build(settings, store, sender))
}

/// The Lambda functions' rule: no credentials, no start.
pub fn require_credentials(settings: &Settings) -> Result<(), String> {
    if settings.credentials.is_empty() {
        return Err(format!(
            "no credentials configured: set {} (API keys) and/or {} (auth tokens for X-Twilio-Signature); \
             refusing to serve an open API that sends SMS",
            crate::config::env::API_KEYS,
            crate::config::env::AUTH_TOKENS
        ));
    }
    Ok(())
}

/// Assembles an [`App`] from parts (also used by tests and verify-local).
pub fn build<S, M>(settings: Settings, store: S, sender: M) -> Api<S, M, SystemClock> {
    Api {
        verifier: Verifier {
            store,
            sender,
            clock: SystemClock,
            services: settings.services,
            keys: settings.keys,
        },
        account_sid: settings.account_sid,
        public_base_url: settings.public_base_url,
        credentials: settings.credentials,
        cors: settings.cors,
    }
}
