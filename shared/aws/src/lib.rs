//! The AWS adapters of the verification service. Every rule is in
//! `verify-core`; this crate translates:
//!
//! - [`store`]: the [`verify_core::store::Store`] on DynamoDB, each
//!   [`verify_core::change::Change`] one conditional write (guards to
//!   `ConditionExpression`s, mechanically), the item layout ([`item`]) and
//!   the table ([`store::ensure_table`]); [`safe_list`]: the Safe List's
//!   items in the same table; [`fraud_guard`]: the fraud guard's counters
//!   and blocks, also there;
//! - [`events`]: events stored for reports, and the table's stream decoded
//!   into record changes at the edge;
//! - [`counters`]: hourly report counters kept from the stream, which the
//!   Summary and the dashboard read instead of events;
//! - [`webhooks`]: deliveries stored in the table and sent by the guarded
//!   HTTPS client; [`reports`]: the reporting routes on the stored events;
//!   [`webhook_report`]: that function's settings and assembly;
//! - [`sns`]: the SMS sender; `voice`: the call sender and `sms_v2`: the
//!   SMS sender by End User Messaging (feature "sms-voice"); `ses`: the
//!   e-mail sender (feature "ses"); `whatsapp`: the WhatsApp sender by End
//!   User Messaging Social (feature "social"); [`clients`]: the SDK clients
//!   and the one HTTPS client they share; [`batch_get`]: reading many
//!   items by key, one rule for every store; `secrets`: the secrets a Lambda
//!   function reads from Secrets Manager during init (feature "secrets").

pub mod batch_get;
pub mod blocked;
pub mod clients;
pub mod conditional;
pub mod counters;
mod documents;
pub mod events;
pub mod expiries;
pub mod fraud_guard;
pub mod item;
pub mod limit_counters;
pub mod rate_limits;
pub mod reports;
pub mod safe_list;
#[cfg(feature = "secrets")]
pub mod secrets;
pub mod services;
#[cfg(feature = "ses")]
pub mod ses;
#[cfg(feature = "sms-voice")]
pub mod sms_v2;
#[cfg(feature = "sns")]
pub mod sns;
pub mod store;
#[cfg(feature = "sms-voice")]
pub mod voice;
pub mod webhook_report;
pub mod webhooks;
#[cfg(feature = "social")]
pub mod whatsapp;
