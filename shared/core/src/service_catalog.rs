//! Services managed over the API (`/v2/Services[/{VA}]`): what the table
//! stores, how it combines with the configuration document, and the cache
//! every function reads services through.
//!
//! The configuration document (`VERIFY_SERVICES`) seeds the services; the
//! table holds one versioned document ([`StoredServices`]) with the
//! services created over the API and the API's changes to seeded ones. The
//! services a request sees are the seeded ones, each with its stored
//! changes, then the created ones ([`merged`]).
//!
//! A seeded service can be updated over the API (the stored values of the
//! API's parameters then win over the document's for as long as the table
//! holds them) but not deleted: it is part of the deployment, and the
//! default service answers the plain endpoints.
//!
//! [`Catalog`] is the holder each function keeps: a snapshot refreshed
//! from the table at most once per [`CACHE_PERIOD`] (one read of one item),
//! so a change made on one function instance applies on every other
//! within that period, and immediately on the instance that made it.

use crate::clock::Seconds;
use crate::config::{Limits, Service, Services};
use crate::messaging::{CountryProfiles, MessagingConfiguration, SmsProfiles};
use crate::service_webhooks::StoredWebhook;
use crate::store::StoreError;
use crate::store::services::ServiceStore;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a function serves a snapshot before reading the table again:
/// the longest a change made over the API takes to reach every function.
pub const CACHE_PERIOD: Duration = Duration::from_secs(30);

/// How many services the table may hold (created ones plus changed seeded
/// ones): the document stays one item, well under DynamoDB's 400 KB.
pub const MAX_STORED_SERVICES: usize = 200;

/// The services created or changed over the API, as one document with a
/// version (every change is a write conditioned on the version it read).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredServices {
    pub version: u64,
    pub services: Vec<StoredService>,
    /// Per-country sender profiles of seeded and created services alike
    /// ([`crate::messaging`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messaging_configurations: Vec<MessagingConfiguration>,
    /// The webhooks created over the API, of any service (absent from a
    /// document written before they existed).
    #[serde(default)]
    pub webhooks: Vec<StoredWebhook>,
}

/// The values the API sets; everything else a service has (channels,
/// countries, budgets, fraud guard, test recipients) comes from the
/// document for a seeded service, and is the deployment's default for a
/// created one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredService {
    pub sid: String,
    pub friendly_name: String,
    pub code_length: usize,
    pub skip_sms_to_landlines: bool,
    pub created_at: Seconds,
    pub updated_at: Seconds,
}

impl StoredService {
    /// The API's values of an existing service (its dates, or `now` when it
    /// has none yet: a seeded service changed for the first time).
    pub fn of(service: &Service, now: Seconds) -> StoredService {
        let (created_at, updated_at) = service.dates.unwrap_or((now, now));
        StoredService {
            sid: service.sid.clone(),
            friendly_name: service.friendly_name.clone(),
            code_length: service.limits.code_length,
            skip_sms_to_landlines: service.skip_sms_to_landlines,
            created_at,
            updated_at,
        }
    }

    /// `base` with this document's values.
    fn applied_to(&self, mut base: Service) -> Service {
        base.friendly_name.clone_from(&self.friendly_name);
        base.limits.code_length = self.code_length;
        base.skip_sms_to_landlines = self.skip_sms_to_landlines;
        base.dates = Some((self.created_at, self.updated_at));
        base
    }

    /// A service created over the API: the deployment's defaults and these values.
    fn created(&self, defaults: &Limits) -> Service {
        self.applied_to(Service::new(self.sid.clone(), self.friendly_name.clone(), defaults.clone()))
    }
}

impl StoredServices {
    pub fn get(&self, sid: &str) -> Option<&StoredService> {
        self.services.iter().find(|s| s.sid == sid)
    }

    /// Stores `service`'s values in place of its old ones, or adds them.
    pub fn put(&mut self, service: StoredService) {
        match self.services.iter_mut().find(|s| s.sid == service.sid) {
            Some(old) => *old = service,
            None => self.services.push(service),
        }
    }
}

/// The services a request sees: the seeded ones in the document's order,
/// each with its stored changes, then the created ones in creation order.
pub fn merged(seed: &Services, stored: &StoredServices) -> Services {
    let mut list: Vec<Service> = seed
        .all()
        .iter()
        .map(|s| match stored.get(&s.sid) {
            Some(changed) => changed.applied_to(s.clone()),
            None => s.clone(),
        })
        .collect();
    for s in stored.services.iter().filter(|s| seed.get(&s.sid).is_none()) {
        list.push(s.created(seed.defaults()));
    }
    let webhooks = stored.webhooks.iter().filter(|w| list.iter().any(|s| s.sid == w.service_sid)).cloned().collect();
    seed.with_list(list, webhooks)
}

/// A function's view of its services: the seed, and the last snapshot read
/// from the table with when it was read. Clones share the snapshot.
#[derive(Clone, Debug)]
pub struct Catalog {
    seed: Services,
    /// The deployment's sender profiles, which the stored messaging
    /// configurations name.
    sms_profiles: SmsProfiles,
    period: Duration,
    cached: Arc<tokio::sync::Mutex<Option<Snapshot>>>,
}

/// The services as last read from the table, and when.
type Snapshot = (Instant, Arc<Services>);

impl From<Services> for Catalog {
    fn from(seed: Services) -> Catalog {
        Catalog::with_period(seed, CACHE_PERIOD)
    }
}

impl Catalog {
    pub fn with_period(seed: Services, period: Duration) -> Catalog {
        Catalog { seed, period, sms_profiles: SmsProfiles::default(), cached: Default::default() }
    }

    /// The same catalog with the deployment's sender profiles.
    pub fn with_sms_profiles(mut self, profiles: SmsProfiles) -> Catalog {
        self.sms_profiles = profiles;
        self
    }

    pub fn sms_profiles(&self) -> &SmsProfiles {
        &self.sms_profiles
    }

    /// The services a request sees ([`merged`]), each with its messaging
    /// configurations' profiles.
    fn snapshot(&self, stored: &StoredServices) -> Services {
        let services = merged(&self.seed, stored);
        if stored.messaging_configurations.is_empty() {
            return services;
        }
        let configs = &stored.messaging_configurations;
        let with_profiles = |mut s: Service| {
            s.sms_profiles = CountryProfiles::resolve(&s.sid, configs, &self.sms_profiles);
            s
        };
        self.seed.with_list(services.all().iter().cloned().map(with_profiles).collect(), services.webhooks().to_vec())
    }

    /// The configuration document's services, without the table's changes
    /// (what a process logs at start-up, and what tests build on).
    pub fn seeded(&self) -> &Services {
        &self.seed
    }

    /// The current services: the snapshot, read again from the table when
    /// it is older than the period. Concurrent callers wait for one read
    /// rather than each making its own. When the read fails, an older
    /// snapshot is served (and the next call tries again); without one,
    /// the error is the caller's (retryable: nothing was written).
    pub async fn current(&self, store: &impl ServiceStore) -> Result<Arc<Services>, StoreError> {
        let mut cached = self.cached.lock().await;
        if let Some((read_at, services)) = cached.as_ref()
            && read_at.elapsed() < self.period
        {
            return Ok(services.clone());
        }
        match store.stored_services().await {
            Ok(stored) => {
                let services = Arc::new(self.snapshot(&stored));
                *cached = Some((Instant::now(), services.clone()));
                Ok(services)
            }
            Err(e) => match cached.as_ref() {
                Some((_, stale)) => {
                    tracing::warn!(error = ?e, "services: the table could not be read; serving the last snapshot");
                    Ok(stale.clone())
                }
                None => Err(e),
            },
        }
    }

    /// Takes `stored` (just written by this process) as the current
    /// snapshot: a change applies at once where it was made.
    pub async fn replace(&self, stored: &StoredServices) {
        let services = Arc::new(self.snapshot(stored));
        *self.cached.lock().await = Some((Instant::now(), services));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    const SEEDED: &str = "VA0123456789abcdef0123456789abcdef";
    const CREATED: &str = "VAfedcba9876543210fedcba9876543210";

    fn seed() -> Services {
        let json = format!(r#"{{"services":[{{"sid":"{SEEDED}","friendly_name":"Acme","countries":["US"],"code_length":8}}]}}"#);
        Services::from_json(&json, &Limits { max_sends: 3, ..Limits::default() }).unwrap()
    }

    fn stored(sid: &str, name: &str) -> StoredService {
        StoredService {
            sid: sid.into(),
            friendly_name: name.into(),
            code_length: 4,
            skip_sms_to_landlines: true,
            created_at: 10,
            updated_at: 20,
        }
    }

    #[test]
    fn stored_values_win_over_the_seed_and_created_services_take_the_defaults() {
        let doc =
            StoredServices { version: 2, services: vec![stored(CREATED, "Created"), stored(SEEDED, "Renamed")], ..Default::default() };
        let all = merged(&seed(), &doc);
        assert_eq!(all.all().len(), 2);
        let seeded = all.default_service();
        assert_eq!((seeded.sid.as_str(), seeded.friendly_name.as_str()), (SEEDED, "Renamed"));
        assert_eq!(seeded.limits.code_length, 4);
        assert_eq!(seeded.countries.as_deref(), Some(&["US".to_owned()][..]), "what the API does not set stays the document's");
        assert_eq!(seeded.dates, Some((10, 20)));
        let created = all.get(CREATED).unwrap();
        assert_eq!(created.limits, Limits { max_sends: 3, code_length: 4, ..Limits::default() });
        assert!(created.skip_sms_to_landlines && created.countries.is_none());
        assert_eq!(merged(&seed(), &StoredServices::default()).all(), seed().all());
    }

    #[test]
    fn the_snapshot_carries_the_webhooks_of_its_services_only() {
        let hook = |sid: &str, service_sid: &str| StoredWebhook {
            sid: sid.into(),
            service_sid: service_sid.into(),
            friendly_name: "Hook".into(),
            event_types: vec!["*".into()],
            enabled: true,
            version: "v2".into(),
            url: "https://hooks.example.com/".into(),
            created_at: 1,
            updated_at: 1,
        };
        let doc = StoredServices {
            version: 3,
            services: vec![stored(CREATED, "Created")],
            webhooks: vec![hook("YW1", SEEDED), hook("YW2", CREATED), hook("YW3", "VAgone")],
            ..Default::default()
        };
        let all = merged(&seed(), &doc);
        let sids: Vec<&str> = all.webhooks().iter().map(|w| w.sid.as_str()).collect();
        assert_eq!(sids, ["YW1", "YW2"]);
        // A document written before webhooks existed reads as having none.
        let old: StoredServices = serde_json::from_str(r#"{"version":1,"services":[]}"#).unwrap();
        assert!(old.webhooks.is_empty());
    }

    #[tokio::test]
    async fn a_stored_messaging_configuration_reaches_its_service_with_its_profile() {
        use crate::messaging::{MessagingConfiguration, SmsProfiles};
        let mg = "MG0123456789abcdef0123456789abcdef";
        let profiles = SmsProfiles::parse(&format!(r#"{{"{mg}":{{"origination_identity":"+447700900123"}}}}"#)).unwrap();
        let catalog = Catalog::with_period(seed(), Duration::from_secs(3600)).with_sms_profiles(profiles);
        let config = MessagingConfiguration {
            service_sid: SEEDED.into(),
            country: "GB".into(),
            messaging_service_sid: mg.into(),
            created_at: 1,
            updated_at: 1,
        };
        catalog.replace(&StoredServices { version: 1, messaging_configurations: vec![config], ..Default::default() }).await;
        let services = catalog.current(&MemoryStore::new()).await.unwrap();
        let seeded = services.get(SEEDED).unwrap();
        assert_eq!(seeded.sms_profiles.for_country(Some("GB")).unwrap().sid, mg);
        assert!(seeded.sms_profiles.for_country(Some("US")).is_none());
        assert_eq!(seeded.friendly_name, "Acme", "a configuration does not store the seeded service's values");
    }

    #[tokio::test]
    async fn a_snapshot_is_served_for_the_period_and_a_local_change_applies_at_once() {
        use crate::store::services::ServiceStore;
        let store = MemoryStore::new();
        let catalog = Catalog::with_period(seed(), Duration::from_secs(3600));
        assert!(catalog.current(&store).await.unwrap().get(CREATED).is_none());
        // Written by another instance: not seen within the period.
        let doc = StoredServices { version: 1, services: vec![stored(CREATED, "Created")], ..Default::default() };
        store.save_stored_services(&doc).await.unwrap();
        assert!(catalog.current(&store).await.unwrap().get(CREATED).is_none());
        // Written here: seen at once.
        catalog.replace(&doc).await;
        assert!(catalog.current(&store).await.unwrap().get(CREATED).is_some());
        // With no period, every call reads the table.
        let fresh = Catalog::with_period(seed(), Duration::ZERO);
        assert!(fresh.current(&store).await.unwrap().get(CREATED).is_some());
    }
}
