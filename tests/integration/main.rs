//! Integration tests of the verification service against real engines.
//! Run through `bash tests/run.sh`, which starts moto for the moto cases.

mod flows;
mod support;
