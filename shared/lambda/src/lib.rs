//! The Lambda edge: the only crate that knows Lambda's types. Each function's
//! `main` is one call here:
//!
//! - [`http::serve`] for start-verify and check-verify: one handler for
//!   function URL and HTTP API requests, routed by `verify_core::api`;
//! - [`webhook_report::run`] for webhook-report: its three triggers (stream
//!   batch, schedule, function URL) decoded into typed events;
//! - [`app`]: settings, clients and the function's senders from the
//!   environment, and the init-time warm-up.

pub mod app;
pub mod http;
pub mod webhook_report;
