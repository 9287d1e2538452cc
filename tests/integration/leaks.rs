//! No plaintext code in what is stored: scan every item after a full flow.

use crate::support::*;
use aws_sdk_dynamodb::types::AttributeValue;
use verify_core::config::Limits;
use verify_core::otp::Code;
use verify_core::phone::PhoneNumber;
use verify_core::service::{CheckTarget, StartRequest};

fn carries(value: &AttributeValue, code: &str) -> bool {
    match value {
        AttributeValue::S(s) => s.contains(code),
        AttributeValue::B(b) => b.as_ref().windows(code.len()).any(|w| w == code.as_bytes()),
        AttributeValue::N(n) => n == code,
        AttributeValue::L(l) => l.iter().any(|v| carries(v, code)),
        AttributeValue::M(m) => m.values().any(|v| carries(v, code)),
        AttributeValue::Ss(ss) => ss.iter().any(|s| s.contains(code)),
        _ => false,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn stored_items_hold_only_a_keyed_hash() {
    let h = harness(Engine::Dynoxide, Limits::default()).await;
    let to = fresh_number();
    let req = StartRequest { to: PhoneNumber::parse(&to).unwrap(), channel: "sms".into(), language: None };
    let mut codes = Vec::new();
    for _ in 0..3 {
        h.verifier.start(&req).await.unwrap();
        codes.push(last_code(&h.outbox, &to));
        let target = CheckTarget::To(PhoneNumber::parse(&to).unwrap());
        let wrong = if codes.last().unwrap() == "000000" { "111111" } else { "000000" };
        h.verifier.check(&target, &Code::parse(wrong, 6).unwrap()).await.unwrap();
    }
    let items = h.verifier.store.client().scan().table_name(h.verifier.store.table()).send().await.unwrap();
    assert!(!items.items().is_empty());
    for item in items.items() {
        for code in &codes {
            for (name, value) in item {
                assert!(!carries(value, code), "attribute {name} carries the code");
            }
        }
        let hash = item["code_hash"].as_b().unwrap();
        assert_eq!(hash.as_ref().len(), 32, "an HMAC-SHA256 digest");
    }
}
