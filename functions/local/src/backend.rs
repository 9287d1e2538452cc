//! What verify-local runs on: the embedded engine or the AWS environment,
//! and the console outbox or SNS.

use crate::Args;
use crate::files;
use crate::messages::LocalMessages;
use rand::TryRngCore;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use verify_aws::sms_v2::SmsV2Sender;
use verify_aws::sns::SnsSender;
use verify_aws::store::{DynamoStore, ensure_table};
use verify_aws::voice::VoiceSender;
use verify_aws::webhook_report::{ReportSettings, WebhookReport, vars as report_vars};
use verify_core::api::Api;
use verify_core::api::auth::ApiKey;
use verify_core::channel::Channel;
use verify_core::clock::SystemClock;
use verify_core::config::{Settings, env};
use verify_core::sender::Senders;
use verify_core::sender::outbox::Outbox;
use verify_core::webhooks::config::{Endpoint, check_url, env as webhook_env};
use verify_core::webhooks::signing::Secret;

pub struct Local {
    pub api: Api<DynamoStore, SystemClock>,
    /// Where codes go: printed and listed (the console outbox), or SNS.
    pub sender_description: &'static str,
    /// webhook-report: events, webhooks and the reporting routes.
    pub report: WebhookReport,
    /// Where this process delivers webhooks to (for the banner).
    pub webhook_urls: Vec<String>,
    pub store_description: String,
    /// The embedded engine, kept for TTL sweeps (None with --aws).
    pub embedded: Option<dynoxide::Database>,
    /// What the console outbox "texted" (None with SNS).
    pub messages: Option<Arc<LocalMessages>>,
}

impl Local {
    pub async fn open(args: &Args) -> Result<Local, String> {
        let use_aws = args.aws || std::env::var_os("AWS_ENDPOINT_URL_DYNAMODB").is_some() || std::env::var_os("AWS_ENDPOINT_URL").is_some();
        let mut vars: HashMap<String, String> = std::env::vars().collect();
        // verify-local may deliver to loopback (a receiver on this machine),
        // for configured webhooks and those created over the API alike;
        // private ranges stay refused unless configured.
        vars.entry(webhook_env::ALLOW_LOOPBACK.into()).or_insert_with(|| "true".into());
        for (name, file) in [(env::CODE_KEY, "code-key"), (report_vars::NUMBER_KEY, "number-key")] {
            if !vars.contains_key(name) {
                vars.insert(name.into(), local_secret(args, file)?);
            }
        }
        let mut settings = Settings::from_vars(&vars)?;
        for pair in &args.api_keys {
            let (key_id, secret) = pair.split_once(':').ok_or_else(|| format!("--api-key {pair:?}: expected KEY_ID:SECRET"))?;
            settings.credentials.add_key(ApiKey::from_secret(key_id, secret).map_err(|e| format!("--api-key: {e}"))?)?;
        }
        for origin in &args.cors_origins {
            settings.cors.add(origin).map_err(|e| format!("--cors-origin: {e}"))?;
        }
        let (store, embedded, store_description) = if use_aws {
            let sdk = verify_aws::clients::sdk_config().await;
            let client = verify_aws::clients::dynamodb(&sdk);
            if args.create_table {
                ensure_table(&client, &settings.table).await?;
            }
            let store = DynamoStore::new(client, settings.table.clone()).sealing_like(&settings.keys);
            (store, None, format!("DynamoDB table {} (AWS environment)", settings.table))
        } else {
            let (client, db, what) = embedded_engine(args).await?;
            ensure_table(&client, &settings.table).await?;
            (DynamoStore::new(client, settings.table.clone()).sealing_like(&settings.keys), Some(db), what)
        };
        let (senders, messages, sender_description) = if use_aws {
            let sdk = verify_aws::clients::sdk_config().await;
            let sms = match &settings.sms_v2 {
                Some(v2) => Senders::sms(SmsV2Sender::new(verify_aws::clients::voice(&sdk), v2.clone())),
                None => Senders::sms(SnsSender::new(verify_aws::clients::sns(&sdk), settings.sms.clone())),
            };
            // Calls only with an origination identity, e-mail only with a
            // sender address, as in start-verify.
            let voice = VoiceSender::new(verify_aws::clients::voice(&sdk), settings.voice.clone());
            let email = verify_aws::ses::SesSender::new(verify_aws::clients::ses(&sdk), settings.email.clone());
            let description = match (settings.sms_v2.is_some(), voice.is_some()) {
                (false, true) => {
                    "SMS by Amazon SNS, calls by End User Messaging SMS and Voice v2, e-mail by SES v2 with VERIFY_EMAIL_FROM, WhatsApp by End User Messaging Social with VERIFY_WHATSAPP_PHONE_NUMBER_ID (AWS environment)"
                }
                (false, false) => {
                    "SMS by Amazon SNS, e-mail by SES v2 with VERIFY_EMAIL_FROM, WhatsApp by End User Messaging Social with VERIFY_WHATSAPP_PHONE_NUMBER_ID (AWS environment; no calls: VERIFY_VOICE_ORIGINATION_IDENTITY is not set)"
                }
                (true, true) => {
                    "SMS and calls by End User Messaging SMS and Voice v2, e-mail by SES v2 with VERIFY_EMAIL_FROM, WhatsApp by End User Messaging Social with VERIFY_WHATSAPP_PHONE_NUMBER_ID (AWS environment)"
                }
                (true, false) => {
                    "SMS by End User Messaging SMS and Voice v2, e-mail by SES v2 with VERIFY_EMAIL_FROM, WhatsApp by End User Messaging Social with VERIFY_WHATSAPP_PHONE_NUMBER_ID (AWS environment; no calls: VERIFY_VOICE_ORIGINATION_IDENTITY is not set)"
                }
            };
            let mut senders = sms;
            if let Some(voice) = voice {
                senders = senders.with(Channel::Call, Arc::new(voice));
            }
            if let Some(email) = email {
                senders = senders.with(Channel::Email, Arc::new(email));
            }
            // WhatsApp only with a phone number id, as in start-verify.
            if let Some(whatsapp) = verify_aws::whatsapp::WhatsappSender::new(verify_aws::clients::whatsapp(&sdk), &settings.whatsapp) {
                senders = senders.with(Channel::Whatsapp, Arc::new(whatsapp));
            }
            (senders, None, description)
        } else {
            let messages = Arc::new(if args.memory {
                LocalMessages::in_memory()
            } else {
                files::private_dir(&args.data_dir)?;
                LocalMessages::persisted(&args.data_dir.join("messages.jsonl"))?
            });
            let kept = messages.clone();
            let outbox = Outbox::new().whatsapp_template(settings.whatsapp.template_name.clone()).on_send(move |m| {
                // The console is this mode's delivery channel, like a phone.
                match (&m.subject, &m.message) {
                    (Some(subject), _) => println!("{} to {}: {subject}\n{}", m.channel.to_uppercase(), m.to, m.body),
                    (None, Some(object)) => println!("{} to {}: {}\n{object}", m.channel.to_uppercase(), m.to, m.body),
                    (None, None) => println!("{} to {}: {}", m.channel.to_uppercase(), m.to, m.body),
                }
                kept.record(m);
            });
            // Every channel the service has is "delivered" here, listed with its channel.
            let senders =
                verify_core::channel::REGISTRY.iter().fold(Senders::none(), |all, spec| all.with(spec.channel, Arc::new(outbox.clone())));
            (senders, Some(messages), "printed here and listed at /_local/messages (nothing is sent)")
        };
        let table = settings.table.clone();
        let client = store.client().clone();
        let mut api = verify_core::api::Api::new(settings, store, senders);
        let report = webhook_report(args, &vars, client, &mut api)?;
        let webhook_urls = report.dispatcher.endpoints.iter().map(|e| e.url.clone()).collect();
        let local = Local { api, sender_description, report, webhook_urls, store_description, embedded, messages };
        if let Some(db) = &local.embedded {
            spawn_ttl_sweeper(db.clone(), Duration::from_secs(args.ttl_sweep_secs.max(1)));
            crate::stream::spawn_stream_poller(
                db.clone(),
                table,
                local.report.dispatcher.clone(),
                Duration::from_millis(args.stream_poll_ms.max(10)),
            );
        }
        crate::stream::spawn_retries(local.report.dispatcher.clone(), Duration::from_secs(args.retry_secs.max(1)));
        crate::stream::spawn_expiry_sweeps(local.report.expiries.clone(), Duration::from_secs(args.expiry_sweep_secs.max(1)));
        Ok(local)
    }
}

/// webhook-report as on Lambda, plus `--webhook` endpoints for the default
/// service, sharing the API's services snapshot (a change made over the API
/// applies to deliveries at once). The `--webhook-secret` (or the one
/// generated for `--webhook`) also signs the webhooks created over the API,
/// unless `VERIFY_SERVICE_WEBHOOK_SECRETS` names their own.
fn webhook_report(
    args: &Args,
    vars: &HashMap<String, String>,
    client: aws_sdk_dynamodb::Client,
    api: &mut Api<DynamoStore, SystemClock>,
) -> Result<WebhookReport, String> {
    let mut settings = ReportSettings::from_vars(vars)?;
    // Reports are guarded exactly as the API is, --api-key included.
    settings.credentials = api.credentials.clone();
    settings.catalog = api.verifier.services.clone();
    let secret = match (&args.webhook_secret, args.webhook.is_empty()) {
        (Some(s), _) => Some(Secret::parse(s).map_err(|e| format!("--webhook-secret: {e}"))?),
        (None, false) => {
            let s = Secret::generate();
            eprintln!("verify-local: no --webhook-secret given; signing with {}", s.expose());
            Some(s)
        }
        (None, true) => None,
    };
    let service_sid = api.verifier.services.seeded().default_service().sid.clone();
    for url in &args.webhook {
        check_url(url, settings.delivery.allow).map_err(|e| format!("--webhook {url}: {e}"))?;
        let secrets = secret.iter().cloned().collect();
        settings.endpoints.push(Endpoint::new(url, secrets, Some(service_sid.clone()), None));
    }
    api.api_webhooks = verify_core::webhooks::config::ApiWebhooks::from_vars(vars)?;
    if settings.api_secrets.is_empty() {
        settings.api_secrets.extend(secret);
        api.api_webhooks.secrets.clone_from(&settings.api_secrets);
    }
    Ok(verify_aws::webhook_report::build(settings, client, Arc::new(SystemClock)))
}

/// Starts dynoxide in this process, served on an ephemeral loopback port,
/// and a DynamoDB client pointed at it.
async fn embedded_engine(args: &Args) -> Result<(aws_sdk_dynamodb::Client, dynoxide::Database, String), String> {
    let (db, sqlite_path, what) = if args.memory {
        // A named in-memory database, so the stream history can be prepared
        // on it (crate::stream_history); still nothing on disk.
        let uri = crate::stream_history::memory_uri();
        let db = crate::memory_engine::open(&uri)?;
        (db, uri, "embedded DynamoDB engine, in memory".to_owned())
    } else {
        files::private_dir(&args.data_dir)?;
        let path = args.data_dir.join("verify.db");
        // SQLite gives its -wal, -shm and -journal files the database's own
        // mode, so a 0600 database keeps them private too; ones left by an
        // older version are tightened.
        files::private_file(&path)?;
        for suffix in ["-wal", "-shm", "-journal"] {
            let side = args.data_dir.join(format!("verify.db{suffix}"));
            files::tighten(&side).map_err(|e| format!("{}: {e}", side.display()))?;
        }
        let path_str = path.to_str().ok_or("data directory path is not UTF-8")?;
        let db = dynoxide::Database::new(path_str).map_err(|e| format!("{}: {e}", path.display()))?;
        (db, path_str.to_owned(), format!("embedded DynamoDB engine, {}", path.display()))
    };
    crate::stream_history::prepare(&db, &sqlite_path)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let endpoint = format!("http://{}", listener.local_addr().map_err(|e| e.to_string())?);
    tokio::spawn(dynoxide::server::serve_on(listener, db.clone()));
    // The SDK client as everywhere else, its requests answered by the engine
    // in process where they can be, over HTTP otherwise.
    let client = crate::engine_connector::client(&verify_aws::clients::dynamodb_at(&endpoint), db.clone())?;
    Ok((client, db, what))
}

/// DynamoDB deletes expired items on its own; the embedded engine only when
/// asked. Sweeping here keeps local storage bounded and makes TTL removals
/// happen as they would on AWS (the service never relies on them).
fn spawn_ttl_sweeper(db: dynoxide::Database, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            let db = db.clone();
            match tokio::task::spawn_blocking(move || db.sweep_ttl()).await {
                Ok(Ok(n)) if n > 0 => tracing::info!(deleted = n, "TTL sweep"),
                Ok(Err(e)) => tracing::warn!(error = %e, "TTL sweep failed"),
                _ => {}
            }
        }
    });
}

/// A secret for local use (the code key, the number key): a random one kept
/// (0600) in the data directory so what it protects survives a restart, or
/// a fresh one per process with --memory.
fn local_secret(args: &Args, file: &str) -> Result<String, String> {
    let fresh = || {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.try_fill_bytes(&mut bytes).map_err(|e| e.to_string())?;
        Ok::<_, String>(hex::encode(bytes))
    };
    if args.memory {
        return fresh();
    }
    let path = args.data_dir.join(file);
    files::private_dir(&args.data_dir)?;
    if let Ok(existing) = std::fs::read_to_string(&path) {
        files::tighten(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(existing.trim().to_owned());
    }
    let key = fresh()?;
    files::write_new_private(&path, &key).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(key)
}
