//! The deployed application: DynamoDB store, the function's senders, system
//! clock, built once at init from the environment by each Lambda function's
//! `main`. Each main names its setup ([`EVERY_CHANNEL`]: senders by [`every_channel`], `sms_and_call`,
//! [`sms_by_sns`]; or [`NO_DELIVERY`]),
//! so a function that never sends links no sender's SDK.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use verify_aws::clients::LambdaEnv;
use verify_aws::secrets::{self, SecretSetting};
use verify_aws::store::DynamoStore;
use verify_core::api::Api;
use verify_core::clock::SystemClock;
use verify_core::config::{SenderSettings, Settings};
use verify_core::sender::Senders;

use std::time::Duration;

pub type App = Api<DynamoStore, SystemClock>;

/// The longest init waits for the warm-up calls. A handshake at 128 MB takes
/// under a second; past this the first request simply opens the connection.
pub const WARM_UP_TIMEOUT: Duration = Duration::from_secs(3);

/// A warm-up call: opens one connection (a cheap, harmless request).
pub type WarmUp = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// What a function sends codes with, and how to open its connections.
pub struct Delivery {
    pub senders: Senders,
    /// One per sender's service, named for the log line.
    pub warm_ups: Vec<(&'static str, WarmUp)>,
    /// start-verify's webhooks created over the API: the secrets that sign
    /// them and the rules their URLs are checked by
    /// (`VERIFY_SERVICE_WEBHOOK_SECRETS`, `VERIFY_WEBHOOK_ALLOW_*`); read
    /// only where they are managed, so no other function holds the secret.
    pub api_webhooks: verify_core::webhooks::config::ApiWebhooks,
}

/// How a function's main sets up what it sends with: the secrets it reads
/// from Secrets Manager when its configuration names them, and how it
/// builds its [`Delivery`]: first the senders whose settings hold no secret,
/// so that their connections open while the secrets are read, then the
/// rest from the settings and the variables (the secrets' values among
/// them). Each function links only its own, so one that reads no webhook
/// secret does not even name it.
#[derive(Clone, Copy)]
pub struct DeliverySetup {
    pub secrets: &'static [secrets::SecretSetting],
    pub senders: fn(&LambdaEnv, &SenderSettings) -> Delivery,
    pub build: CompleteDelivery,
}

/// Completes the [`Delivery`] a setup's `senders` made, from the settings
/// and the variables, secrets among them.
pub type CompleteDelivery = fn(&LambdaEnv, &Settings, &HashMap<String, String>, Delivery) -> Result<Delivery, String>;

/// start-verify: [`sms_and_call`] then [`every_channel`], and the API's
/// secrets with the one that signs the webhooks it manages.
#[cfg(all(feature = "sns", feature = "sms-voice", feature = "ses", feature = "social"))]
pub const EVERY_CHANNEL: DeliverySetup = DeliverySetup { secrets: secrets::START_SECRETS, senders: sms_and_call, build: every_channel };

/// check-verify: [`no_delivery`], and the API's secrets.
pub const NO_DELIVERY: DeliverySetup =
    DeliverySetup { secrets: secrets::API_SECRETS, senders: no_delivery, build: |_, _, _, none| Ok(none) };

/// start-verify: SMS through SNS.
#[cfg(feature = "sns")]
pub fn sms_by_sns(aws: &LambdaEnv, settings: &SenderSettings) -> Delivery {
    let sns = std::sync::Arc::new(verify_aws::sns::SnsSender::new(aws.sns(), settings.sms.clone()));
    let warm = sns.clone();
    let warm_up: WarmUp = Box::pin(async move { warm.warm_up().await.map_err(|e| e.0) });
    Delivery {
        senders: Senders::none().with(verify_core::channel::Channel::Sms, sns),
        warm_ups: vec![("sns", warm_up)],
        api_webhooks: Default::default(),
    }
}

/// start-verify: SMS through SNS (or, with `VERIFY_SMS_SENDER=eum`, End
/// User Messaging SMS and Voice v2), and calls through End User Messaging
/// when an origination identity is configured (without one, a call start
/// is refused with 60223, as for any channel with no sender).
#[cfg(all(feature = "sns", feature = "sms-voice"))]
pub fn sms_and_call(aws: &LambdaEnv, settings: &SenderSettings) -> Delivery {
    let Delivery { mut senders, mut warm_ups, api_webhooks } = match &settings.sms_v2 {
        Some(v2) => {
            let sms = std::sync::Arc::new(verify_aws::sms_v2::SmsV2Sender::new(aws.voice(), v2.clone()));
            let warm = sms.clone();
            let warm_up: WarmUp = Box::pin(async move { warm.warm_up().await.map_err(|e| e.0) });
            let senders = Senders::none().with(verify_core::channel::Channel::Sms, sms);
            Delivery { senders, warm_ups: vec![("sms-voice", warm_up)], api_webhooks: Default::default() }
        }
        None => sms_by_sns(aws, settings),
    };
    if let Some(voice) = verify_aws::voice::VoiceSender::new(aws.voice(), settings.voice.clone()) {
        let voice = std::sync::Arc::new(voice);
        let warm = voice.clone();
        warm_ups.push(("sms-voice", Box::pin(async move { warm.warm_up().await.map_err(|e| e.0) })));
        senders = senders.with(verify_core::channel::Channel::Call, voice);
    }
    Delivery { senders, warm_ups, api_webhooks }
}

/// start-verify: every channel — SMS and calls as [`sms_and_call`] set them
/// up (`phone`) and, when `VERIFY_EMAIL_FROM` names a sender, e-mail through SES v2
/// (without it, `Channel=email` answers 60223). SES has no warm-up call: the
/// only action the function may call is `ses:SendEmail`, so the first e-mail
/// of an instance opens its connection. WhatsApp likewise, through End User
/// Messaging Social when `VERIFY_WHATSAPP_PHONE_NUMBER_ID` is set (its one
/// action is `social-messaging:SendWhatsAppMessage`). And the webhooks
/// created over the API, which start-verify manages.
#[cfg(all(feature = "sns", feature = "sms-voice", feature = "ses", feature = "social"))]
pub fn every_channel(aws: &LambdaEnv, settings: &Settings, vars: &HashMap<String, String>, phone: Delivery) -> Result<Delivery, String> {
    let mut delivery = phone;
    delivery.api_webhooks = verify_core::webhooks::config::ApiWebhooks::from_vars(vars)?;
    if let Some(ses) = verify_aws::ses::SesSender::new(aws.ses(), settings.email.clone()) {
        delivery.senders = delivery.senders.with(verify_core::channel::Channel::Email, std::sync::Arc::new(ses));
    }
    if let Some(whatsapp) = verify_aws::whatsapp::WhatsappSender::new(aws.whatsapp(), &settings.whatsapp) {
        delivery.senders = delivery.senders.with(verify_core::channel::Channel::Whatsapp, std::sync::Arc::new(whatsapp));
    }
    Ok(delivery)
}

/// check-verify: sends nothing.
pub fn no_delivery(_: &LambdaEnv, _: &SenderSettings) -> Delivery {
    Delivery { senders: Senders::none(), warm_ups: Vec::new(), api_webhooks: Default::default() }
}

/// Reads settings (and the secrets template.yaml names, from Secrets
/// Manager: [`verify_aws::secrets`]), opens clients and (unless
/// `VERIFY_WARM_UP` is off) the connections the function uses. Fails loudly
/// on bad configuration or a secret it cannot read: better a function that
/// refuses to start than one that answers wrongly.
pub async fn from_env(delivery: DeliverySetup) -> Result<App, String> {
    let aws = LambdaEnv::from_env()?;
    let mut vars: HashMap<String, String> = std::env::vars().collect();
    let warm = verify_core::config::warm_up(&vars);
    let store = DynamoStore::new(aws.dynamodb(), verify_core::config::table(&vars));
    let named = secrets::named(&vars, delivery.secrets)?;
    let mut early = (delivery.senders)(&aws, &SenderSettings::from_vars(&vars)?);
    let mut connections = Some(std::mem::take(&mut early.warm_ups)).filter(|_| warm);
    // Secrets to read: their round trips overlap every handshake (DynamoDB
    // and the senders', whose settings hold no secret) and the phone
    // metadata.
    if !named.is_empty() {
        let opened = async {
            if let Some(connections) = connections.take() {
                warm_up(&store, connections).await
            }
        };
        let (values, ()) = tokio::join!(read_secrets(&aws, named), opened);
        vars.extend(values?);
    }
    let settings = Settings::from_vars(&vars)?;
    require_credentials(&settings)?;
    settings.services.log_test_recipients();
    let Delivery { senders, api_webhooks, .. } = (delivery.build)(&aws, &settings, &vars, early)?;
    // With no secret to wait for, the connections open once the settings
    // are known to be good.
    if let Some(connections) = connections {
        warm_up(&store, connections).await
    }
    let store = store.sealing_like(&settings.keys);
    let mut api = Api::new(settings, store, senders);
    api.api_webhooks = api_webhooks;
    // One EMF line per request on stdout: CloudWatch Logs makes the metrics.
    api.metrics = std::sync::Arc::new(verify_core::metrics::StdoutEmf);
    Ok(api)
}

/// The named secrets' values, read from Secrets Manager, with one log line
/// naming the settings read (never a value) and what it took.
pub async fn read_secrets(aws: &LambdaEnv, named: Vec<(SecretSetting, String)>) -> Result<Vec<(String, String)>, String> {
    let started = std::time::Instant::now();
    let values = secrets::read(&aws.secrets_manager(), named).await?;
    let read: Vec<&str> = values.iter().map(|(name, _)| name.as_str()).collect();
    let secrets_ms = format!("{:.1}", started.elapsed().as_secs_f64() * 1000.0);
    tracing::info!(settings = read.join(","), secrets_ms, "secrets read from Secrets Manager");
    Ok(values)
}

/// The Lambda functions' rule: no credentials, no start.
pub fn require_credentials(settings: &Settings) -> Result<(), String> {
    if settings.credentials.is_empty() {
        return Err(format!(
            "no credentials configured: set {} (API keys) and/or {} (auth tokens for X-Twilio-Signature); \
             refusing to serve an open API that sends SMS",
            verify_core::config::env::API_KEYS,
            verify_core::config::env::AUTH_TOKENS
        ));
    }
    Ok(())
}

/// Everything a first request would otherwise pay for once, done during
/// init and concurrently: the used connections (one cheap call each, so init
/// costs the slower handshake, not the sum) and the phone-number metadata
/// (libphonenumber's database decoded and its first region's patterns
/// compiled: a few ms of CPU, on a blocking thread so the handshakes proceed
/// meanwhile). Failures are not fatal: the first request will connect again
/// and report properly.
pub async fn warm_up(store: &DynamoStore, senders: Vec<(&'static str, WarmUp)>) {
    warm_up_clients(Some(store), senders, || {
        let _ = verify_core::phone::PhoneNumber::parse("+14155550123");
    })
    .await
}

/// webhook-report's warm-up: its one connection, DynamoDB. It parses no
/// phone numbers: passing no loader (rather than a flag) keeps
/// libphonenumber's metadata out of its binary altogether.
pub async fn warm_up_store(store: &DynamoStore) {
    warm_up_clients(Some(store), Vec::new(), || ()).await
}

/// `load` is CPU work to do on a blocking thread meanwhile.
async fn warm_up_clients(store: Option<&DynamoStore>, senders: Vec<(&'static str, WarmUp)>, load: impl FnOnce() + Send + 'static) {
    let started = std::time::Instant::now();
    let phone = tokio::task::spawn_blocking(move || {
        load();
        started.elapsed()
    });
    let names: Vec<&str> = senders.iter().map(|(n, _)| *n).collect();
    let dynamo = async { if let Some(s) = store { s.warm_up().await.map_err(|e| format!("{e:?}")) } else { Ok(()) } };
    let others = futures_join_all(senders.into_iter().map(|(_, f)| f).collect());
    let network = async {
        let both = tokio::join!(dynamo, others);
        (both, started.elapsed())
    };
    match tokio::time::timeout(WARM_UP_TIMEOUT, async { tokio::join!(network, phone) }).await {
        Ok((((dynamo, others), network_took), phone_took)) => {
            let mut ok = true;
            if let Err(e) = &dynamo {
                tracing::warn!(error = %format_args!("{e}{}", verify_aws::clients::certificate_hint(e)), "DynamoDB warm-up failed");
                ok = false;
            }
            for (name, result) in names.iter().zip(&others) {
                if let Err(e) = result {
                    tracing::warn!(sender = name, error = %format_args!("{e}{}", verify_aws::clients::certificate_hint(e)), "sender warm-up failed");
                    ok = false;
                }
            }
            if ok {
                // One line per cold start: what init spent, and on what.
                let ms = |d: std::time::Duration| format!("{:.1}", d.as_secs_f64() * 1000.0);
                let phone_ms = phone_took.map(ms).unwrap_or_default();
                let senders = names.join(",");
                tracing::info!(
                    dynamodb = store.is_some(),
                    senders,
                    network_ms = ms(network_took),
                    phone_ms,
                    total_ms = ms(started.elapsed()),
                    "warmed up"
                );
            }
        }
        Err(_) => tracing::warn!(timeout = ?WARM_UP_TIMEOUT, "warm-up did not finish; continuing"),
    }
}

/// Runs warm-up calls concurrently, each result in order.
async fn futures_join_all(calls: Vec<WarmUp>) -> Vec<Result<(), String>> {
    let mut set = tokio::task::JoinSet::new();
    for (i, call) in calls.into_iter().enumerate() {
        set.spawn(async move { (i, call.await) });
    }
    let mut out: Vec<(usize, Result<(), String>)> = Vec::new();
    while let Some(done) = set.join_next().await {
        out.push(done.unwrap_or_else(|e| (usize::MAX, Err(e.to_string()))));
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}
