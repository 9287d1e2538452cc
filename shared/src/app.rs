//! The deployed application: DynamoDB store, SNS sender, system clock, built
//! once at init from the environment by each Lambda function's `main`.

use crate::api::Api;
use crate::clock::SystemClock;
use crate::config::Settings;
use crate::sender::sns::SnsSender;
use crate::service::Verifier;
use crate::store::dynamo::DynamoStore;
use std::time::Duration;

pub type App = Api<DynamoStore, SnsSender, SystemClock>;

/// The longest init waits for the warm-up calls. A handshake at 128 MB takes
/// under a second; past this the first request simply opens the connection.
pub const WARM_UP_TIMEOUT: Duration = Duration::from_secs(3);

/// Which AWS services a function calls, so init opens exactly those
/// connections (and its IAM policy needs no more than that).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Uses {
    pub dynamodb: bool,
    pub sns: bool,
}

impl Uses {
    /// start-verify: writes records and sends SMS.
    pub const STORE_AND_SMS: Uses = Uses { dynamodb: true, sns: true };
    /// check-verify: never sends an SMS.
    pub const STORE: Uses = Uses { dynamodb: true, sns: false };
}

/// [`from_env_for`] a function that uses both DynamoDB and SNS.
pub async fn from_env() -> Result<App, String> {
    from_env_for(Uses::STORE_AND_SMS).await
}

/// Reads settings, opens clients and (unless `VERIFY_WARM_UP` is off) the
/// connections the function uses. Fails loudly on bad configuration: better
/// a function that refuses to start than one that answers wrongly.
pub async fn from_env_for(uses: Uses) -> Result<App, String> {
    let settings = Settings::from_env()?;
    require_credentials(&settings)?;
    let aws = crate::aws::LambdaEnv::from_env()?;
    let store = DynamoStore::new(aws.dynamodb(), settings.table.clone());
    let sender = SnsSender::new(aws.sns(), settings.sms.clone());
    if settings.warm_up {
        warm_up(&store, &sender, uses).await;
    }
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

/// Everything a first request would otherwise pay for once, done during
/// init and concurrently: the used connections (one cheap call each, so init
/// costs the slower handshake, not the sum) and the phone-number metadata
/// (libphonenumber's database decoded and its first region's patterns
/// compiled: a few ms of CPU, on a blocking thread so the handshakes proceed
/// meanwhile). Failures are not fatal: the
/// first request will connect again and report properly.
pub async fn warm_up(store: &DynamoStore, sender: &SnsSender, uses: Uses) {
    warm_up_clients(uses.dynamodb.then_some(store), uses.sns.then_some(sender), true).await
}

/// webhook-report's warm-up: its one connection, DynamoDB. It parses no
/// phone numbers, so the metadata is left alone.
pub async fn warm_up_store(store: &DynamoStore) {
    warm_up_clients(Some(store), None, false).await
}

async fn warm_up_clients(store: Option<&DynamoStore>, sender: Option<&SnsSender>, phone_metadata: bool) {
    let started = std::time::Instant::now();
    let phone = async {
        if !phone_metadata {
            return Ok(std::time::Duration::ZERO);
        }
        tokio::task::spawn_blocking(move || {
            let _ = crate::phone::PhoneNumber::parse("+14155550123");
            started.elapsed()
        })
        .await
    };
    let dynamo = async { if let Some(s) = store { s.warm_up().await } else { Ok(()) } };
    let sns = async { if let Some(s) = sender { s.warm_up().await } else { Ok(()) } };
    let network = async {
        let both = tokio::join!(dynamo, sns);
        (both, started.elapsed())
    };
    match tokio::time::timeout(WARM_UP_TIMEOUT, async { tokio::join!(network, phone) }).await {
        Ok((((dynamo, sns), network_took), phone_took)) => {
            if let Err(e) = &dynamo {
                tracing::warn!(error = ?e, "DynamoDB warm-up failed");
            }
            if let Err(e) = &sns {
                tracing::warn!(error = %e.0, "SNS warm-up failed");
            }
            if dynamo.is_ok() && sns.is_ok() {
                // One line per cold start: what init spent, and on what.
                let ms = |d: std::time::Duration| format!("{:.1}", d.as_secs_f64() * 1000.0);
                let phone_ms = phone_took.map(ms).unwrap_or_default();
                tracing::info!(dynamodb = store.is_some(), sns = sender.is_some(), network_ms = ms(network_took), phone_ms, total_ms = ms(started.elapsed()), "warmed up");
            }
        }
        Err(_) => tracing::warn!(timeout = ?WARM_UP_TIMEOUT, "warm-up did not finish; continuing"),
    }
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
