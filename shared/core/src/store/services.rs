//! The persistence of services managed over the API: one versioned
//! document ([`crate::service_catalog::StoredServices`]) for the deployment.

use super::StoreError;
use crate::service_catalog::StoredServices;
use std::future::Future;

pub trait ServiceStore: Send + Sync {
    /// The stored services (an empty set at version 0 when there are
    /// none), strongly consistent.
    fn stored_services(&self) -> impl Future<Output = Result<StoredServices, StoreError>> + Send;

    /// Replaces the document with `services` (whose `version` is one more
    /// than what was read) if the stored version is still
    /// `services.version - 1`; otherwise nothing changes and the answer is
    /// `Err(Conflict(None))`.
    fn save_stored_services(&self, services: &StoredServices) -> impl Future<Output = Result<(), StoreError>> + Send;
}
