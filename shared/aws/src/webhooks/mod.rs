//! The webhook pipeline on DynamoDB: deliveries stored in the table
//! ([`store`]), sent by the guarded HTTPS client ([`client`]), driven by the
//! [`dispatcher`] from stream batches and the retry schedule.

pub mod client;
pub mod dispatcher;
pub mod store;

pub use dispatcher::{BatchOutcome, Dispatcher, RETRY_BATCH, RetryOutcome};
