//! Services managed over the API on DynamoDB: one versioned document,
//! item `SVC#catalog` (`crate::documents`), read by every function at most
//! once per cache period (`verify_core::service_catalog::CACHE_PERIOD`).
//! Not a verification record: the stream mapping's filter (VER#, BLK#)
//! keeps it from webhook-report.

use crate::store::DynamoStore;
use verify_core::service_catalog::StoredServices;
use verify_core::store::StoreError;
use verify_core::store::services::ServiceStore;

/// Items of the table that are the services document.
pub const KIND_SERVICES: &str = "services";

/// The document's key.
pub const SERVICES_KEY: &str = "SVC#catalog";

impl ServiceStore for DynamoStore {
    async fn stored_services(&self) -> Result<StoredServices, StoreError> {
        self.document(SERVICES_KEY).await
    }

    async fn save_stored_services(&self, services: &StoredServices) -> Result<(), StoreError> {
        self.save_document(SERVICES_KEY, KIND_SERVICES, services, services.version).await
    }
}
