//! DynamoDB stream records as webhook-report receives them (Lambda's
//! `DynamoDBEvent`, or the embedded engine's GetRecords): parsing, the
//! record change decoded from old and new images, the events derived from
//! it (as the webhook pipeline does: `parse_record`, `change`, `derive`),
//! their payloads and stored form.
//! Input: one record's JSON.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use verify_aws::events::store::{EventStore, from_item};
use verify_aws::events::stream::parse_record;
use verify_core::config::{Limits, Service, Services};
use verify_core::events::Event;
use verify_core::events::derive::{Deriver, RecordChange};
use verify_core::events::number_key::{NumberKey, NumberKeys};
use verify_core::record::VerificationRecord;
use verify_fuzz::{Answer, fake_dynamodb};

struct World {
    /// The same service with a check limit of 1 and of 5: a record of any
    /// other service is judged by the default's (the only one) limit.
    derivers: [Deriver; 2],
    /// Only for its item layout; never called.
    events: EventStore,
}

fn deriver(max_check_attempts: u32) -> Deriver {
    let limits = Limits { max_check_attempts, ..Limits::default() };
    let service = Service::new("VA00000000000000000000000000000000".into(), "Fuzz".into(), limits);
    Deriver { services: Services::single(service), numbers: NumberKeys::new(NumberKey::new(&[7; 32]).expect("key"), None) }
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| World { derivers: [deriver(1), deriver(5)], events: EventStore::new(fake_dynamodb(Answer::Empty), "verify", 8, 90) })
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let records: Vec<&serde_json::Value> = match value.get("Records").and_then(|r| r.as_array()) {
        Some(list) => list.iter().collect(),
        None => vec![&value],
    };
    let w = world();
    for v in records {
        let Ok(record) = parse_record(v) else { continue };
        let change = record.change();
        for deriver in &w.derivers {
            let events = deriver.derive(&change);
            let again = deriver.derive(&record.change());
            assert_eq!(events, again, "derivation must be deterministic (event ids are idempotency keys)");
            for e in &events {
                let _ = e.payload().to_string();
                let stored = w.events.to_item(e);
                assert_eq!(from_item(&stored).map(|back| back.id), Some(e.id.clone()), "an event must read back from its item");
                never_the_full_number(e, &change);
            }
        }
    }
});

/// Events leave the service: a number is always masked in them.
fn never_the_full_number(e: &Event, change: &RecordChange) {
    // The record the event is about: the new one when it has the event's
    // sid (every event of a same-sid change), else the old one (expiry).
    let about: Option<&VerificationRecord> = match (&change.new, &change.old) {
        (Some(n), _) if n.sid == e.verification_sid => Some(n),
        (_, Some(o)) if o.sid == e.verification_sid => Some(o),
        _ => None,
    };
    let Some(to) = about.map(|r| r.to.as_str()) else { return };
    let phone_shaped = to.strip_prefix('+').is_some_and(|digits| digits.len() >= 4 && digits.bytes().all(|b| b.is_ascii_digit()));
    if phone_shaped {
        assert!(e.to_masked.ends_with("****") && e.to_masked != to, "the number unmasked: {}", e.to_masked);
        assert!(!e.to_masked.contains(to), "the full number in {}", e.to_masked);
    }
}
