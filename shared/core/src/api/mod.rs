//! The HTTP contract: Twilio Verify v2 routes and the function-URL
//! endpoints, authentication, CORS, parsing requests (form or JSON,
//! Twilio-style or lower-case names), Twilio-shaped resources and errors,
//! and the handlers. Framework-free: handlers take and return plain `http`
//! types, so Lambda and verify-local call the same code.

pub mod auth;
pub mod channel_config;
pub mod cors;
pub mod error;
pub mod handlers;
pub mod messaging_configurations;
pub mod params;
pub mod rate_limits;
pub mod resource;
pub mod routes;
pub mod safe_list;
pub mod services;
pub mod webhooks;

pub use error::ApiError;
pub use handlers::Api;
