//! Integration tests of the verification service against real engines.
//! Run through `bash tests/run.sh`, which starts moto for the moto cases.

mod flows;
mod support;
mod concurrency;
mod sns_sender;
mod end_to_end;
mod leaks;
mod local_server;
