//! The webhook-report function, assembled: the event pipeline and webhook
//! [`Dispatcher`] for stream batches and scheduled retries, and the
//! [`Reports`] routes, from the environment. Besides the variables of
//! [`crate::webhooks::config`] and [`crate::api::auth`]:
//!
//! - `VERIFY_TABLE`, `VERIFY_SERVICE_SID` / `VERIFY_SERVICE_NAME`,
//!   `VERIFY_ACCOUNT_SID`, `VERIFY_MAX_CHECK_ATTEMPTS`, `VERIFY_PUBLIC_BASE_URL`
//!   as for the other functions (no code key: this function never sees codes);
//! - `VERIFY_REPORT_SERVICE_SIDS`: more services to report on (comma list);
//! - `VERIFY_EVENT_RETENTION_DAYS` (90) and `VERIFY_EVENT_SHARDS` (8; only
//!   ever raise it: events written under a larger count are not found with a
//!   smaller one).

use crate::clock::Clock;
use crate::config::{DEFAULT_TABLE, env};
use crate::events::store::{DEFAULT_RETENTION_DAYS, DEFAULT_SHARDS, EventStore};
use crate::reports::Reports;
use crate::api::auth::Credentials;
use crate::sid;
use crate::webhooks::client::WebhookClient;
use crate::webhooks::config::{self as wh, DeliverySettings, Endpoint};
use crate::webhooks::store::DeliveryStore;
use crate::webhooks::Dispatcher;
use std::collections::HashMap;
use std::sync::Arc;

pub mod vars {
    pub const REPORT_SERVICE_SIDS: &str = "VERIFY_REPORT_SERVICE_SIDS";
    pub const EVENT_RETENTION_DAYS: &str = "VERIFY_EVENT_RETENTION_DAYS";
    pub const EVENT_SHARDS: &str = "VERIFY_EVENT_SHARDS";
}

pub struct WebhookReport {
    pub dispatcher: Arc<Dispatcher>,
    pub reports: Reports,
}

/// Everything read from the environment, before any client is built.
#[derive(Debug)]
pub struct ReportSettings {
    pub table: String,
    pub account_sid: String,
    pub services: Vec<String>,
    pub max_check_attempts: u32,
    pub retention_days: i64,
    pub shards: u32,
    pub endpoints: Vec<Endpoint>,
    pub delivery: DeliverySettings,
    /// Who may read reports: the same keys and tokens as the other functions.
    pub credentials: Credentials,
    pub public_base_url: Option<String>,
}

impl ReportSettings {
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<ReportSettings, String> {
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let num = |name: &str, default: i64, min: i64, max: i64| -> Result<i64, String> {
            match get(name) {
                None => Ok(default),
                Some(v) => v.parse::<i64>().ok().filter(|n| (min..=max).contains(n)).ok_or_else(|| format!("{name}: {v:?} is not a whole number from {min} to {max}")),
            }
        };
        let (configured, account_sid) = crate::config::services_and_account(vars)?;
        let max_check_attempts = configured.default_service().limits.max_check_attempts;
        let mut services: Vec<String> = configured.all().iter().map(|s| s.sid.clone()).collect();
        for s in get(vars::REPORT_SERVICE_SIDS).unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if !sid::is_sid(sid::SERVICE, s) {
                return Err(format!("{}: {s:?} is not a VA sid", vars::REPORT_SERVICE_SIDS));
            }
            if !services.iter().any(|x| x == s) {
                services.push(s.to_owned());
            }
        }
        let (endpoints, delivery) = wh::from_vars(vars)?;
        Ok(ReportSettings {
            table: get(env::TABLE).unwrap_or(DEFAULT_TABLE).to_owned(),
            account_sid,
            services,
            max_check_attempts,
            retention_days: num(vars::EVENT_RETENTION_DAYS, DEFAULT_RETENTION_DAYS, 1, 3650)?,
            shards: num(vars::EVENT_SHARDS, DEFAULT_SHARDS as i64, 1, 64)? as u32,
            endpoints,
            delivery,
            credentials: Credentials::parse(get(env::API_KEYS), get(env::AUTH_TOKENS))
                .map_err(|e| format!("{} / {}: {e}", env::API_KEYS, env::AUTH_TOKENS))?,
            public_base_url: get(env::PUBLIC_BASE_URL).map(|u| u.trim_end_matches('/').to_owned()),
        })
    }
}

/// Builds the function from settings, a DynamoDB client and a clock.
pub fn build(settings: ReportSettings, client: aws_sdk_dynamodb::Client, clock: Arc<dyn Clock>) -> WebhookReport {
    let events = EventStore::new(client.clone(), settings.table.clone(), settings.shards, settings.retention_days);
    let deliveries = DeliveryStore::new(client, settings.table.clone(), settings.retention_days);
    let dispatcher = Arc::new(Dispatcher {
        events: events.clone(),
        deliveries,
        client: WebhookClient::new(settings.delivery.allow, settings.delivery.timeout),
        endpoints: settings.endpoints,
        settings: settings.delivery,
        clock: clock.clone(),
        max_check_attempts: settings.max_check_attempts,
    });
    let reports = Reports {
        events,
        services: settings.services,
        account_sid: settings.account_sid,
        auth: settings.credentials,
        clock,
        public_base_url: settings.public_base_url,
    };
    WebhookReport { dispatcher, reports }
}

/// The deployed function: requires `VERIFY_API_KEYS`, since its URL serves reports.
pub async fn from_env() -> Result<WebhookReport, String> {
    let settings = ReportSettings::from_vars(&std::env::vars().collect())?;
    if settings.credentials.is_empty() {
        return Err(format!("{} is required: the reporting routes must be authenticated", env::API_KEYS));
    }
    let dynamodb = crate::aws::LambdaEnv::from_env()?.dynamodb();
    Ok(build(settings, dynamodb, Arc::new(crate::clock::SystemClock)))
}
