//! Webhook configuration (`VERIFY_WEBHOOKS` JSON) and delivery URLs, under
//! each address policy; and `Retry-After` as receivers answer it.
//! Input: allow byte, then the JSON.
#![no_main]
use libfuzzer_sys::fuzz_target;
use verify_core::webhooks::config::{check_url, parse_endpoints};
use verify_core::webhooks::delivery::parse_retry_after;
use verify_core::webhooks::ssrf::Allow;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let allow = Allow { loopback: flags & 1 != 0, private: flags & 2 != 0 };
    if let Ok(endpoints) = parse_endpoints(text, allow) {
        for e in &endpoints {
            assert!(check_url(&e.url, allow).is_ok(), "accepted an endpoint its own check refuses: {}", e.url);
            assert!(!e.secrets.is_empty());
        }
    }
    let _ = check_url(text, allow);
    let _ = parse_retry_after(text, 1_700_000_000);
});
