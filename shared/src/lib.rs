//! Every rule of the phone-verification service, free of Lambda types.
//!
//! The functions in `functions/` are thin edges: they build [`app::App`] once
//! and hand each HTTP request to [`api::handlers`]. Everything that decides
//! anything lives here, so the Lambda binaries and `verify-local` run the very
//! same code.

pub mod access;
pub mod api;
pub mod app;
pub mod change;
pub mod channel;
pub mod aws;
pub mod clock;
pub mod config;
pub mod email;
pub mod events;
pub mod friendly_name;
pub mod logging;
pub mod message;
pub mod otp;
pub mod phone;
pub mod recipient;
pub mod record;
pub mod reports;
pub mod sender;
pub mod service;
pub mod sid;
pub mod store;
pub mod time_fmt;
pub mod webhook_report;
pub mod webhooks;
