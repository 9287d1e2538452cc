//! The [`Store`] in process memory: the reference meaning of a [`Change`].
//! It evaluates each guard with [`Guard::holds`](crate::change::Guard::holds)
//! and applies each write with
//! [`Write::applied_to`](crate::change::Write::applied_to) under one lock,
//! so it is as atomic as a conditional write on one item. The store contract
//! tests run it beside the DynamoDB engines; anything a database adapter
//! translates must behave exactly like this.

use super::blocked::{BlockedStarts, BlockedStore};
use super::counters::{Counter, CounterStore};
use super::expiries::ExpiryStore;
use super::fraud_guard::{FraudGuardStore, Tally};
use super::rate_limits::RateLimitStore;
use super::safe_list::{SafeListEntry, SafeListStore};
use super::services::ServiceStore;
use super::{RecordKey, Store, StoreError};
use crate::change::Change;
use crate::clock::Seconds;
use crate::fraud_guard::{self, Block, BucketCounts, Counts, Window};
use crate::rate_limits::RateLimits;
use crate::record::VerificationRecord;
use crate::service_catalog::StoredServices;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    records: Arc<Mutex<HashMap<RecordKey, VerificationRecord>>>,
    safe_list: Arc<Mutex<HashMap<String, SafeListEntry>>>,
    blocked: Arc<Mutex<HashMap<(String, String), BlockedStarts>>>,
    rate_limits: Arc<Mutex<HashMap<String, RateLimits>>>,
    services: Arc<Mutex<StoredServices>>,
    /// Counters: their totals by name, and when they expire.
    counters: Arc<Mutex<HashMap<String, CounterItem>>>,
    fraud: Arc<Mutex<FraudCounters>>,
    /// The expiry sweep's mark ([`ExpiryStore::sweep_mark`]).
    sweep_mark: Arc<Mutex<Option<Seconds>>>,
}

/// One counter item: its totals by name, and when it expires.
type CounterItem = (HashMap<&'static str, u64>, i64);

/// The fraud guard's counters by (service, prefix or `*` for the whole
/// service, bucket), and blocks by (service, prefix).
#[derive(Debug, Default)]
struct FraudCounters {
    counts: HashMap<(String, String, i64), Counts>,
    blocks: HashMap<(String, String), Block>,
}

/// The counters' name for the whole service (never a prefix: those are digits).
const SERVICE_WIDE: &str = "*";

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Every record, for tests that inspect the whole store.
    pub fn records(&self) -> Vec<VerificationRecord> {
        self.records.lock().expect("store lock").values().cloned().collect()
    }

    /// The blocked starts noted so far, for tests.
    pub fn blocked(&self) -> Vec<BlockedStarts> {
        self.blocked.lock().expect("store lock").values().cloned().collect()
    }

    /// Deletes what a TTL sweep at `now` would delete (`ttl < now`), as
    /// DynamoDB eventually does; returns how many.
    pub fn sweep_ttl(&self, now: i64) -> usize {
        let mut records = self.records.lock().expect("store lock");
        let before = records.len();
        records.retain(|_, r| r.ttl >= now);
        before - records.len()
    }
}

impl Store for MemoryStore {
    async fn read(&self, key: &RecordKey) -> Result<Option<VerificationRecord>, StoreError> {
        Ok(self.records.lock().expect("store lock").get(key).cloned())
    }

    async fn apply(&self, change: &Change) -> Result<VerificationRecord, StoreError> {
        let mut records = self.records.lock().expect("store lock");
        let stored = records.get(&change.key);
        if !change.guard.holds(stored) {
            return Err(StoreError::Conflict(stored.cloned().map(Box::new)));
        }
        let after =
            change.write.applied_to(stored).ok_or_else(|| StoreError::Unavailable("an update of a record that does not exist".into()))?;
        records.insert(change.key.clone(), after.clone());
        Ok(after)
    }

    async fn find_by_sid(&self, service_sid: &str, sid: &str) -> Result<Option<RecordKey>, StoreError> {
        let records = self.records.lock().expect("store lock");
        Ok(records.iter().find(|(k, r)| k.service_sid == service_sid && r.sid == sid).map(|(k, _)| k.clone()))
    }
}

impl ExpiryStore for MemoryStore {
    /// The memory store keeps no history: the sends it knows are those of
    /// each record's current verification.
    async fn sent_between(&self, service_sid: &str, after: Seconds, until: Seconds) -> Result<Vec<String>, StoreError> {
        let records = self.records.lock().expect("store lock");
        Ok(records
            .iter()
            .filter(|(k, r)| k.service_sid == service_sid && r.send_attempts.iter().any(|a| a.time > after && a.time <= until))
            .map(|(_, r)| r.sid.clone())
            .collect())
    }

    async fn sweep_mark(&self) -> Result<Option<Seconds>, StoreError> {
        Ok(*self.sweep_mark.lock().expect("store lock"))
    }

    async fn save_sweep_mark(&self, tick: Seconds) -> Result<(), StoreError> {
        let mut mark = self.sweep_mark.lock().expect("store lock");
        *mark = Some(mark.map_or(tick, |m| m.max(tick)));
        Ok(())
    }

    async fn current_records(&self, service_sid: &str, sids: &[String]) -> Result<Vec<(RecordKey, VerificationRecord)>, StoreError> {
        let records = self.records.lock().expect("store lock");
        Ok(records
            .iter()
            .filter(|(k, r)| k.service_sid == service_sid && sids.contains(&r.sid))
            .map(|(k, r)| (k.clone(), r.clone()))
            .collect())
    }

    async fn note_expired(&self, key: &RecordKey, now_ms: crate::clock::Millis) -> Result<VerificationRecord, StoreError> {
        self.apply(&crate::record::note_expired(key, now_ms)).await
    }
}

impl SafeListStore for MemoryStore {
    async fn add_safe_number(&self, entry: &SafeListEntry) -> Result<(), StoreError> {
        let mut listed = self.safe_list.lock().expect("store lock");
        if listed.contains_key(&entry.key) {
            return Err(StoreError::Conflict(None));
        }
        listed.insert(entry.key.clone(), entry.clone());
        Ok(())
    }

    async fn safe_number(&self, key: &str) -> Result<Option<SafeListEntry>, StoreError> {
        Ok(self.safe_list.lock().expect("store lock").get(key).cloned())
    }

    async fn remove_safe_number(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.safe_list.lock().expect("store lock").remove(key).is_some())
    }
}

impl BlockedStore for MemoryStore {
    async fn note_blocked(&self, note: &BlockedStarts) -> Result<(), StoreError> {
        let mut blocked = self.blocked.lock().expect("store lock");
        let count = blocked.get(&(note.service_sid.clone(), note.key.clone())).map_or(0, |b| b.count) + 1;
        blocked.insert((note.service_sid.clone(), note.key.clone()), BlockedStarts { count, ..note.clone() });
        Ok(())
    }
}

impl RateLimitStore for MemoryStore {
    async fn rate_limits(&self, service_sid: &str) -> Result<RateLimits, StoreError> {
        Ok(self.rate_limits.lock().expect("store lock").get(service_sid).cloned().unwrap_or_default())
    }

    async fn save_rate_limits(&self, service_sid: &str, limits: &RateLimits) -> Result<(), StoreError> {
        let mut all = self.rate_limits.lock().expect("store lock");
        let stored = all.get(service_sid).map_or(0, |l| l.version);
        if stored + 1 != limits.version {
            return Err(StoreError::Conflict(None));
        }
        all.insert(service_sid.to_owned(), limits.clone());
        Ok(())
    }

    async fn delete_rate_limits(&self, service_sid: &str, version: u64) -> Result<(), StoreError> {
        let mut all = self.rate_limits.lock().expect("store lock");
        if all.get(service_sid).map_or(0, |l| l.version) != version {
            return Err(StoreError::Conflict(None));
        }
        all.remove(service_sid);
        Ok(())
    }
}

impl ServiceStore for MemoryStore {
    async fn stored_services(&self) -> Result<StoredServices, StoreError> {
        Ok(self.services.lock().expect("store lock").clone())
    }

    async fn save_stored_services(&self, services: &StoredServices) -> Result<(), StoreError> {
        let mut stored = self.services.lock().expect("store lock");
        if stored.version + 1 != services.version {
            return Err(StoreError::Conflict(None));
        }
        *stored = services.clone();
        Ok(())
    }
}

impl CounterStore for MemoryStore {
    async fn take(&self, counter: &Counter) -> Result<bool, StoreError> {
        let Some(limits) = counter.limits_before() else { return Ok(false) };
        let mut counters = self.counters.lock().expect("store lock");
        // What a TTL sweep would have deleted long ago: counters that ended
        // more than the longest window before this one ends.
        if counters.len() > 4096 {
            let horizon = counter.expires_at - crate::rate_limits::MAX_INTERVAL as i64;
            counters.retain(|_, (_, end)| *end >= horizon);
        }
        let (totals, _) = counters.entry(counter.key.clone()).or_insert_with(|| (HashMap::new(), counter.expires_at));
        let within = limits.iter().all(|(name, limit)| limit.is_none_or(|l| totals.get(name).copied().unwrap_or(0) <= l));
        if within {
            for add in &counter.adds {
                *totals.entry(add.name).or_insert(0) += add.amount;
            }
        }
        Ok(within)
    }

    async fn give_back(&self, counter: &Counter) -> Result<(), StoreError> {
        if let Some((totals, _)) = self.counters.lock().expect("store lock").get_mut(&counter.key) {
            for add in &counter.adds {
                let total = totals.entry(add.name).or_insert(0);
                *total = total.saturating_sub(add.amount);
            }
        }
        Ok(())
    }
}

impl FraudGuardStore for MemoryStore {
    async fn fraud_window(&self, service_sid: &str, prefix: &str, now_ms: i64) -> Result<Window, StoreError> {
        let fraud = self.fraud.lock().expect("store lock");
        let get = |p: &str, b: i64| fraud.counts.get(&(service_sid.to_owned(), p.to_owned(), b)).copied().unwrap_or_default();
        let buckets = fraud_guard::window_buckets(now_ms)
            .map(|bucket| BucketCounts { bucket, prefix: get(prefix, bucket), service: get(SERVICE_WIDE, bucket) })
            .collect();
        Ok(Window { buckets, block: fraud.blocks.get(&(service_sid.to_owned(), prefix.to_owned())).copied() })
    }

    async fn fraud_tally(&self, service_sid: &str, prefix: &str, tally: Tally, now_ms: i64) -> Result<(), StoreError> {
        let mut fraud = self.fraud.lock().expect("store lock");
        let bucket = fraud_guard::bucket_of(now_ms);
        for p in [prefix, SERVICE_WIDE] {
            let c = fraud.counts.entry((service_sid.to_owned(), p.to_owned(), bucket)).or_default();
            match tally {
                Tally::Send => c.sends += 1,
                Tally::Approval => c.approvals += 1,
            }
        }
        Ok(())
    }

    async fn fraud_block(&self, service_sid: &str, prefix: &str, block: &Block, previous: Option<&Block>) -> Result<(), StoreError> {
        let mut fraud = self.fraud.lock().expect("store lock");
        let key = (service_sid.to_owned(), prefix.to_owned());
        if fraud.blocks.get(&key) != previous {
            return Err(StoreError::Conflict(None));
        }
        fraud.blocks.insert(key, *block);
        Ok(())
    }
}
