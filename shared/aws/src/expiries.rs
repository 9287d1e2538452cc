//! The expiry sweep's store on DynamoDB ([`verify_core::store::expiries`]):
//! the sends of a span of time from the stored `pending` events
//! ([`EventStore::sent_between`]), the records their verifications belong
//! to (a sealed sid names its record; others are looked up in `sid-index`)
//! and one `BatchGetItem` per page, and the note
//! as a guarded update. Nothing here is written on a verification's way:
//! the sweep reads what the Attempts reports keep anyway. Its mark is one
//! item, `pk = SWEEP#expiry`, written once a sweep (outside the stream's
//! `VER#` filter).

use crate::conditional::{applied, unavailable};
use crate::events::store::EventStore;
use crate::item::attr;
use crate::store::DynamoStore;
use aws_sdk_dynamodb::types::AttributeValue as AV;
use verify_core::clock::{Millis, Seconds};
use verify_core::record::VerificationRecord;
use verify_core::store::expiries::ExpiryStore;
use verify_core::store::{RecordKey, Store, StoreError};

/// The mark's item key, and its attribute.
pub const MARK_KEY: &str = "SWEEP#expiry";
const MARK_TICK: &str = "tick";

#[derive(Clone, Debug)]
pub struct DynamoExpiries {
    pub store: DynamoStore,
    pub events: EventStore,
}

impl ExpiryStore for DynamoExpiries {
    async fn sent_between(&self, service_sid: &str, after: Seconds, until: Seconds) -> Result<Vec<String>, StoreError> {
        self.events.sent_between(service_sid, after, until).await.map_err(StoreError::Unavailable)
    }

    async fn current_records(&self, service_sid: &str, sids: &[String]) -> Result<Vec<(RecordKey, VerificationRecord)>, StoreError> {
        let mut lookups = tokio::task::JoinSet::new();
        for sid in sids {
            let (store, service_sid, sid) = (self.store.clone(), service_sid.to_owned(), sid.clone());
            lookups.spawn(async move { store.find_by_sid(&service_sid, &sid).await });
        }
        let mut keys = Vec::new();
        while let Some(found) = lookups.join_next().await {
            keys.extend(found.map_err(|e| StoreError::Unavailable(e.to_string()))??);
        }
        keys.sort_by(|a, b| a.to.cmp(&b.to));
        keys.dedup();
        // The index may point at a record whose current verification is
        // already another one: only those still on one of `sids` count.
        let records = self.store.read_many(&keys).await?;
        Ok(records.into_iter().filter(|(_, r)| sids.contains(&r.sid)).collect())
    }

    async fn sweep_mark(&self) -> Result<Option<Seconds>, StoreError> {
        let out = self
            .store
            .client()
            .get_item()
            .table_name(self.store.table())
            .key(attr::PK, AV::S(MARK_KEY.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item().and_then(|i| i.get(MARK_TICK)).and_then(|t| t.as_n().ok()).and_then(|t| t.parse().ok()))
    }

    async fn save_sweep_mark(&self, tick: Seconds) -> Result<(), StoreError> {
        let result = self
            .store
            .client()
            .update_item()
            .table_name(self.store.table())
            .key(attr::PK, AV::S(MARK_KEY.into()))
            .update_expression("SET #t = :t")
            .condition_expression("attribute_not_exists(#t) OR #t < :t")
            .expression_attribute_names("#t", MARK_TICK)
            .expression_attribute_values(":t", AV::N(tick.to_string()))
            .send()
            .await;
        // Refused: a sweep of a later tick finished first, and its mark stays.
        applied(result).map(|_| ()).map_err(StoreError::Unavailable)
    }

    async fn note_expired(&self, key: &RecordKey, now_ms: Millis) -> Result<VerificationRecord, StoreError> {
        self.store.note_expired(key, now_ms).await
    }
}
