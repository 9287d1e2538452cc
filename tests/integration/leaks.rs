//! No plaintext code in what is stored or sent, and no full phone number
//! outside the verification's own item: after a full flow (starts, a resend,
//! a wrong code, the right code) and the webhook pipeline fed from the
//! table's real stream, every item of the table (verification, events,
//! conversions, webhook deliveries) and every webhook body a local receiver
//! got are scanned, on embedded dynoxide and on moto.

use crate::support::*;
use aws_sdk_dynamodb::types::AttributeValue;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use verify_aws::webhook_report::{ReportSettings, build};
use verify_core::config::Limits;
use verify_core::otp::Code;
use verify_core::phone::PhoneNumber;
use verify_core::service::CheckTarget;
use verify_core::webhooks::config::Endpoint;
use verify_core::webhooks::signing::Secret;
use verify_core::webhooks::ssrf::Allow;

const SECRET: &str = "whsec_bGVha3MtdGVzdC1zaWduaW5nLWtleS0zMmJ5dGVz";

fn carries(value: &AttributeValue, needle: &str) -> bool {
    match value {
        AttributeValue::S(s) => s.contains(needle),
        AttributeValue::B(b) => b.as_ref().windows(needle.len()).any(|w| w == needle.as_bytes()),
        AttributeValue::N(n) => n == needle,
        AttributeValue::L(l) => l.iter().any(|v| carries(v, needle)),
        AttributeValue::M(m) => m.values().any(|v| carries(v, needle)),
        AttributeValue::Ss(ss) => ss.iter().any(|s| s.contains(needle)),
        _ => false,
    }
}

/// A webhook receiver on 127.0.0.1 that answers 204 and keeps every body.
async fn receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    async fn hook(State(bodies): State<Arc<Mutex<Vec<String>>>>, body: String) -> axum::http::StatusCode {
        bodies.lock().unwrap().push(body);
        axum::http::StatusCode::NO_CONTENT
    }
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = Router::new().route("/hook", post(hook)).with_state(bodies.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, bodies)
}

/// Starts, a resend, a wrong code each time, then the right code: the codes
/// issued, in order.
async fn verification_with_every_write(h: &Harness, to: &str) -> Vec<String> {
    let target = CheckTarget::To(PhoneNumber::parse(to).unwrap().into());
    let mut codes = Vec::new();
    for _ in 0..2 {
        h.start(&start_request(to)).await.unwrap();
        codes.push(last_code(&h.outbox, to));
        let wrong = wrong_code_for(codes.last().unwrap());
        assert!(!h.check(&target, &Code::parse(wrong, 6).unwrap()).await.unwrap().approved);
    }
    let right = Code::parse(codes.last().unwrap(), 6).unwrap();
    assert!(h.check(&target, &right).await.unwrap().approved);
    codes
}

async fn nothing_stored_or_sent_carries_a_code_or_a_full_number(engine: Engine) {
    let h = harness(engine, Limits::default()).await;
    let to = fresh_number();
    let codes = verification_with_every_write(&h, &to).await;

    // The webhook pipeline, fed what the table's stream holds.
    let (url, bodies) = receiver().await;
    let vars = HashMap::from([
        ("VERIFY_SERVICE_SID".to_owned(), SERVICE_SID.to_owned()),
        ("VERIFY_TABLE".to_owned(), h.verifier.store.dynamo().table().to_owned()),
        ("VERIFY_NUMBER_KEY".to_owned(), "leak-test-number-key-0123456789abcdef".to_owned()),
    ]);
    let mut settings = ReportSettings::from_vars(&vars).unwrap();
    settings.endpoints = vec![Endpoint::new(&url, vec![Secret::parse(SECRET).unwrap()], None, None)];
    settings.delivery.allow = Allow::LOOPBACK;
    let app = build(settings, h.verifier.store.dynamo().client().clone(), h.clock.clone());
    let records = stream_records(&h).await;
    assert!(!records.is_empty(), "{engine:?}: the table's stream is empty");
    let outcome = app.dispatcher.handle_records(&records).await;
    assert!(outcome.failed.is_empty(), "{engine:?}: records handed back: {:?} of {records:?}", outcome.failed);

    let bodies = bodies.lock().unwrap().clone();
    let types: Vec<String> =
        bodies.iter().map(|b| serde_json::from_str::<Value>(b).unwrap()["type"].as_str().unwrap().to_owned()).collect();
    for t in ["verification.pending", "verification.check_failed", "verification.approved"] {
        assert!(types.iter().any(|x| x == t), "{engine:?}: no {t} webhook among {types:?}");
    }
    // The number as written, and without its "+".
    let numbers = [to.clone(), to[1..].to_owned()];
    // Control: the bodies do name the number, masked.
    assert!(bodies.iter().any(|b| b.contains(&format!("{}****", &to[..to.len() - 4]))), "{engine:?}: {bodies:?}");
    for body in &bodies {
        for secret in codes.iter().chain(&numbers) {
            assert!(!body.contains(secret.as_str()), "{engine:?}: a webhook body carries {secret}: {body}");
        }
    }

    let store = h.verifier.store.dynamo();
    let items = store.client().scan().table_name(store.table()).send().await.unwrap().items().to_vec();
    let kinds: Vec<&str> = items.iter().map(|i| i["pk"].as_s().unwrap().split('#').next().unwrap()).collect();
    for kind in ["VER", "EV", "CONV", "DLV"] {
        assert!(kinds.contains(&kind), "{engine:?}: no {kind}# item among {kinds:?}");
    }
    // Control: the scan finds the number where it is kept.
    assert!(items.iter().any(|i| i["pk"].as_s().unwrap().starts_with("VER#") && i.values().any(|v| carries(v, &to))));
    for item in &items {
        let pk = item["pk"].as_s().unwrap();
        for (name, value) in item {
            for code in &codes {
                assert!(!carries(value, code), "{engine:?}: {pk}: attribute {name} carries a code");
            }
            // Only the verification's own item is keyed by the number.
            if !pk.starts_with("VER#") {
                for n in &numbers {
                    assert!(!carries(value, n), "{engine:?}: {pk}: attribute {name} carries the full number");
                }
            }
        }
        if pk.starts_with("VER#") {
            assert_eq!(item["code_hash"].as_b().unwrap().as_ref().len(), 32, "an HMAC-SHA256 digest");
        }
    }
}

mod on_dynoxide {
    #[tokio::test(flavor = "multi_thread")]
    async fn nothing_stored_or_sent_carries_a_code_or_a_full_number() {
        super::nothing_stored_or_sent_carries_a_code_or_a_full_number(super::Engine::Dynoxide).await
    }
}

mod on_moto {
    #[tokio::test(flavor = "multi_thread")]
    async fn nothing_stored_or_sent_carries_a_code_or_a_full_number() {
        super::nothing_stored_or_sent_carries_a_code_or_a_full_number(super::Engine::Moto).await
    }
}
