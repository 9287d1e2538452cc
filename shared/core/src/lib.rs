//! Every rule of the verification service, with no AWS, Lambda or HTTP
//! server dependency: the state machine as pure functions returning a
//! change and its guard ([`record`], [`change`]), recipients and channels,
//! codes and keyed hashing, limits, events derived from pairs of records,
//! request parsing and Twilio-shaped responses ([`api`]), and the flow that
//! composes them over a [`store::Store`] and per-channel senders
//! ([`service`]).
//!
//! Adapters live elsewhere: `verify-aws` (DynamoDB, its stream, SNS, the
//! webhook pipeline and reports on the table) and `verify-lambda` (the
//! Lambda edge). The functions in `functions/` are thin mains.

pub mod access;
pub mod api;
pub mod budget;
pub mod change;
pub mod channel;
pub mod clock;
pub mod config;
pub mod email;
pub mod events;
pub mod fraud_guard;
pub mod friendly_name;
pub mod locale;
pub mod logging;
pub mod message;
pub mod messaging;
pub mod metrics;
pub mod otp;
pub mod phone;
pub mod rate_limits;
pub mod recipient;
pub mod record;
pub mod sender;
pub mod service;
pub mod service_catalog;
pub mod service_webhooks;
pub mod sid;
pub mod sid_seal;
pub mod store;
pub mod time_fmt;
pub mod webhooks;
pub mod whatsapp;
