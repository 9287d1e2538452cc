//! Signed webhooks, the rules: endpoint configuration ([`config`]), the
//! Standard Webhooks signature ([`signing`]), which addresses may be called
//! ([`ssrf`]) and the delivery record with its retry schedule
//! ([`delivery`]). The pipeline that stores and sends them is in verify-aws.

pub mod config;
pub mod delivery;
pub mod signing;
pub mod ssrf;
