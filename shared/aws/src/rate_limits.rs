//! Programmable rate limits on DynamoDB, in the one table:
//!
//! - a service's definitions: one versioned document `RLS#{service sid}`
//!   (`crate::documents`);
//! - a counter: one item `RLC#{service}#{bucket}#{value tag}#{window start}`
//!   (see `verify_core::rate_limits::hits`), taken as every counter is
//!   (`crate::counters`).
//!
//! Neither is a verification record: the stream mapping's filter (VER#,
//! BLK#) keeps them from webhook-report, and the stream decoder skips them.

use crate::store::DynamoStore;
use verify_core::rate_limits::RateLimits;
use verify_core::store::StoreError;
use verify_core::store::rate_limits::RateLimitStore;

/// Items of the table that are rate-limit definitions.
pub const KIND_RATE_LIMITS: &str = "rate_limits";

fn definitions_key(service_sid: &str) -> String {
    format!("RLS#{service_sid}")
}

impl RateLimitStore for DynamoStore {
    async fn rate_limits(&self, service_sid: &str) -> Result<RateLimits, StoreError> {
        self.document(&definitions_key(service_sid)).await
    }

    async fn save_rate_limits(&self, service_sid: &str, limits: &RateLimits) -> Result<(), StoreError> {
        self.save_document(&definitions_key(service_sid), KIND_RATE_LIMITS, limits, limits.version).await
    }

    async fn delete_rate_limits(&self, service_sid: &str, version: u64) -> Result<(), StoreError> {
        self.delete_document(&definitions_key(service_sid), version).await
    }
}
