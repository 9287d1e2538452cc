//! Integration tests of the verification service against real engines.
//! Run through `bash tests/run.sh`, which starts moto for the moto cases.
//! Each module is one area; see its header.

// First: its macros (on_every_store!) are used by the suites below.
#[macro_use]
mod support;
mod budget;
mod concurrency;
mod daily_budget;
mod end_to_end;
mod expiry;
mod flows;
mod fraud_guard;
mod lambda_init;
mod leaks;
mod local_edge;
mod local_server;
mod local_stream;
mod messaging_configurations;
mod rate_limits;
mod report_counters;
mod safe_list;
mod scoped_keys;
mod service_webhooks;
mod services;
mod ses_sender;
mod sns_sender;
mod subscribers;
mod voice_sender;
mod whatsapp_sender;
mod wire;
