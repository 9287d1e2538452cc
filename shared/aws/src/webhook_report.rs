//! The webhook-report function, assembled: the event pipeline and webhook
//! [`Dispatcher`] for stream batches and scheduled retries, and the
//! [`Reports`] routes, from the environment. Besides the variables of
//! [`verify_core::webhooks::config`] and [`verify_core::api::auth`]:
//!
//! - `VERIFY_TABLE`, the services (`VERIFY_SERVICES`, or `VERIFY_SERVICE_SID`
//!   / `VERIFY_SERVICE_NAME` and the limits), `VERIFY_ACCOUNT_SID`,
//!   `VERIFY_PUBLIC_BASE_URL`, `VERIFY_WARM_UP` as for the other functions
//!   (no code key: this function never sees codes);
//! - `VERIFY_NUMBER_KEY` (required, ≥ 32 bytes) and
//!   `VERIFY_NUMBER_KEY_PREVIOUS`: the secret that keys the hash of each
//!   event's number ([`verify_core::events::number_key`]), and the one before a
//!   rotation;
//! - `VERIFY_REPORT_SERVICE_SIDS`: more services to report on (comma list);
//! - `VERIFY_EVENT_RETENTION_DAYS` (90) and `VERIFY_EVENT_SHARDS` (8; only
//!   ever raise it: events written under a larger count are not found with a
//!   smaller one);
//! - `VERIFY_COUNTER_SHARDS` (4): report counter items per service and hour
//!   ([`crate::counters`]; only ever raise it, as the event shards);
//! - `VERIFY_SERVICE_WEBHOOK_SECRETS`: the secrets that sign the webhooks
//!   created over the API ([`verify_core::webhooks::config::ApiWebhooks`]).
//!
//! The services (those of the configuration document, and those created or
//! changed over the API, with their webhooks) are read through the cached
//! [`Catalog`], as the API functions read them: a change applies here
//! within [`verify_core::service_catalog::CACHE_PERIOD`].

use crate::counters::CounterStore;
use crate::events::store::{DEFAULT_RETENTION_DAYS, DEFAULT_SHARDS, EventStore};
use crate::expiries::DynamoExpiries;
use crate::reports::Reports;
use crate::store::DynamoStore;
use crate::webhooks::Dispatcher;
use crate::webhooks::client::WebhookClient;
use crate::webhooks::store::DeliveryStore;
use std::collections::HashMap;
use std::sync::Arc;
use verify_core::access::credentials::Credentials;
use verify_core::clock::Clock;
use verify_core::config::{Services, env};
use verify_core::events::derive::Deriver;
use verify_core::events::number_key::NumberKeys;
use verify_core::service_catalog::Catalog;
use verify_core::sid;
use verify_core::store::expiries::Swept;
use verify_core::webhooks::config::{self as wh, ApiWebhooks, DeliverySettings, Endpoint};
use verify_core::webhooks::signing::Secret;

pub mod vars {
    pub const NUMBER_KEY: &str = verify_core::events::number_key::VAR;
    pub const NUMBER_KEY_PREVIOUS: &str = verify_core::events::number_key::VAR_PREVIOUS;
    pub const REPORT_SERVICE_SIDS: &str = "VERIFY_REPORT_SERVICE_SIDS";
    pub const EVENT_RETENTION_DAYS: &str = "VERIFY_EVENT_RETENTION_DAYS";
    pub const EVENT_SHARDS: &str = "VERIFY_EVENT_SHARDS";
    pub const COUNTER_SHARDS: &str = "VERIFY_COUNTER_SHARDS";
}

pub struct WebhookReport {
    pub dispatcher: Arc<Dispatcher>,
    pub reports: Reports,
    pub expiries: Expiries,
}

/// The expiry sweep, run on the same schedule as the webhook retries
/// ([`verify_core::store::expiries::sweep`]) over every service of the
/// catalog: the `verification.expired` events then follow from the stream
/// like any other.
#[derive(Clone)]
pub struct Expiries {
    pub store: DynamoExpiries,
    pub catalog: Catalog,
    pub clock: Arc<dyn Clock>,
    /// What the first sweep of a table covers (later ones start at the
    /// mark the last one left): the schedule's period.
    pub first_span_secs: i64,
}

/// The schedule's period on Lambda (`WebhookRetrySchedule`, `rate(1 minute)`).
pub const SWEEP_PERIOD_SECS: i64 = 60;

impl Expiries {
    /// The sweep for the schedule's tick `tick` (Unix seconds; now when the
    /// trigger carries none): how many expiries it noted.
    pub async fn sweep_at(&self, tick: Option<i64>) -> Result<usize, String> {
        let now_ms = self.clock.now_ms();
        let tick = tick.unwrap_or(now_ms / 1000);
        let services = self.catalog.current(&self.store.store).await.map_err(|e| format!("expiry sweep: services: {e:?}"))?;
        let swept: Vec<Swept> = services.all().iter().map(Swept::of).collect();
        verify_core::store::expiries::sweep(&self.store, &swept, tick, self.first_span_secs, now_ms)
            .await
            .map_err(|e| format!("expiry sweep: {e:?}"))
    }
}

/// Everything read from the environment, before any client is built.
#[derive(Debug)]
pub struct ReportSettings {
    pub table: String,
    pub account_sid: String,
    /// The services reported on: the configured ones and any more named.
    pub services: Vec<String>,
    /// The configured services, whose limits events are derived by (with
    /// the table's changes: [`ReportSettings::catalog`]).
    pub configured: Services,
    /// How the services are read: a catalog seeded with `configured`
    /// (verify-local hands in its API's, so both share one snapshot).
    pub catalog: Catalog,
    /// Sign the webhooks created over the API.
    pub api_secrets: Vec<Secret>,
    pub numbers: NumberKeys,
    pub retention_days: i64,
    pub shards: u32,
    pub counter_shards: u32,
    pub endpoints: Vec<Endpoint>,
    pub delivery: DeliverySettings,
    /// Who may read reports: the same keys and tokens as the other functions.
    pub credentials: Credentials,
    pub public_base_url: Option<String>,
    /// Open the DynamoDB connection during init (`VERIFY_WARM_UP`).
    pub warm_up: bool,
}

impl ReportSettings {
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<ReportSettings, String> {
        let get = |name: &str| verify_core::config::var(vars, name);
        let num = |name: &str, default: i64, min: i64, max: i64| -> Result<i64, String> {
            match get(name) {
                None => Ok(default),
                Some(v) => v
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (min..=max).contains(n))
                    .ok_or_else(|| format!("{name}: {v:?} is not a whole number from {min} to {max}")),
            }
        };
        let (configured, account_sid) = verify_core::config::services_and_account(vars)?;
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
            table: verify_core::config::table(vars),
            account_sid,
            services,
            catalog: Catalog::from(configured.clone()),
            configured,
            api_secrets: ApiWebhooks::from_vars(vars)?.secrets,
            numbers: number_keys(vars)?,
            retention_days: num(vars::EVENT_RETENTION_DAYS, DEFAULT_RETENTION_DAYS, 1, 3650)?,
            shards: num(vars::EVENT_SHARDS, DEFAULT_SHARDS as i64, 1, 64)? as u32,
            counter_shards: num(vars::COUNTER_SHARDS, crate::counters::DEFAULT_SHARDS as i64, 1, 64)? as u32,
            endpoints,
            delivery,
            credentials: Credentials::parse(get(env::API_KEYS), get(env::AUTH_TOKENS))
                .map_err(|e| format!("{} / {}: {e}", env::API_KEYS, env::AUTH_TOKENS))?,
            public_base_url: get(env::PUBLIC_BASE_URL).map(|u| u.trim_end_matches('/').to_owned()),
            warm_up: verify_core::config::warm_up(vars),
        })
    }
}

/// The number key is required: without it the stored hash of a number
/// could be reversed by trying the 10⁴ numbers its masked form leaves.
fn number_keys(vars: &HashMap<String, String>) -> Result<NumberKeys, String> {
    NumberKeys::from_vars(vars)?.ok_or_else(|| {
        format!("{} is required (a random secret of at least 32 bytes; it keys the hash of numbers in stored events)", vars::NUMBER_KEY)
    })
}

/// Builds the function from settings, a DynamoDB client and a clock.
pub fn build(settings: ReportSettings, client: aws_sdk_dynamodb::Client, clock: Arc<dyn Clock>) -> WebhookReport {
    let events = EventStore::new(client.clone(), settings.table.clone(), settings.shards, settings.retention_days);
    let counters = CounterStore::new(client.clone(), settings.table.clone(), settings.counter_shards, settings.retention_days);
    let store = DynamoStore::new(client.clone(), settings.table.clone()).with_sid_seal(settings.numbers.sid_seal());
    let expiries = Expiries {
        store: DynamoExpiries { store: store.clone(), events: events.clone() },
        catalog: settings.catalog.clone(),
        clock: clock.clone(),
        first_span_secs: SWEEP_PERIOD_SECS,
    };
    let deliveries = DeliveryStore::new(client, settings.table.clone(), settings.retention_days);
    let dispatcher = Arc::new(Dispatcher {
        events: events.clone(),
        counters: counters.clone(),
        deliveries,
        client: WebhookClient::new(settings.delivery.allow, settings.delivery.timeout),
        endpoints: settings.endpoints,
        catalog: settings.catalog.clone(),
        store: store.clone(),
        api_secrets: settings.api_secrets,
        settings: settings.delivery,
        clock: clock.clone(),
        deriver: Deriver { services: settings.configured, numbers: settings.numbers.clone() },
        tally: Default::default(),
    });
    let reports = Reports {
        events,
        counters,
        services: settings.services,
        catalog: Some((settings.catalog, store)),
        numbers: settings.numbers,
        account_sid: settings.account_sid,
        auth: settings.credentials,
        clock,
        public_base_url: settings.public_base_url,
    };
    WebhookReport { dispatcher, reports, expiries }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_number_key_is_required_and_rotatable() {
        let err = ReportSettings::from_vars(&vars(&[])).unwrap_err();
        assert!(err.contains(vars::NUMBER_KEY), "{err}");
        let err = ReportSettings::from_vars(&vars(&[(vars::NUMBER_KEY, "short")])).unwrap_err();
        assert!(err.contains(vars::NUMBER_KEY), "{err}");
        let (old, new) = ("o".repeat(32), "n".repeat(32));
        let before = ReportSettings::from_vars(&vars(&[(vars::NUMBER_KEY, &old)])).unwrap();
        let after = ReportSettings::from_vars(&vars(&[(vars::NUMBER_KEY, &new), (vars::NUMBER_KEY_PREVIOUS, &old)])).unwrap();
        let stored = before.numbers.hash("VA1", "+14155550123");
        assert_ne!(after.numbers.hash("VA1", "+14155550123"), stored);
        assert!(after.numbers.lookups("VA1", "+14155550123").contains(&stored));
    }

    #[test]
    fn warm_up_is_on_unless_turned_off() {
        let key = "k".repeat(32);
        assert!(ReportSettings::from_vars(&vars(&[(vars::NUMBER_KEY, &key)])).unwrap().warm_up);
        let off = ReportSettings::from_vars(&vars(&[(vars::NUMBER_KEY, &key), (env::WARM_UP, "false")])).unwrap();
        assert!(!off.warm_up);
    }
}
