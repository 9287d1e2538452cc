//! The persistence of programmable rate limits: each service's definitions
//! as one versioned document. The counters starts take are
//! [`super::counters`] (one per bucket, value and window).

use super::StoreError;
use crate::rate_limits::RateLimits;
use std::future::Future;

pub trait RateLimitStore: Send + Sync {
    /// The service's definitions (an empty set at version 0 when it has
    /// none), strongly consistent.
    fn rate_limits(&self, service_sid: &str) -> impl Future<Output = Result<RateLimits, StoreError>> + Send;

    /// Replaces the service's definitions with `limits` (whose `version`
    /// is one more than what was read) if the stored version is still
    /// `limits.version - 1`; otherwise nothing changes and the answer is
    /// `Err(Conflict(None))`.
    fn save_rate_limits(&self, service_sid: &str, limits: &RateLimits) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes the service's definitions (its service is being deleted) if
    /// the stored version is still `version`, the one read; otherwise
    /// nothing changes and the answer is `Err(Conflict(None))`. Afterwards
    /// the service reads as having none, at version 0. `version` 0 (nothing
    /// stored) removes nothing.
    fn delete_rate_limits(&self, service_sid: &str, version: u64) -> impl Future<Output = Result<(), StoreError>> + Send;
}
