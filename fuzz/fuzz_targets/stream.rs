//! DynamoDB stream records as webhook-report receives them (Lambda's
//! `DynamoDBEvent`, or the embedded engine's GetRecords): parsing, the
//! events derived from old and new images, their payloads and stored form.
//! Input: one record's JSON.
#![no_main]
use libfuzzer_sys::fuzz_target;
use verify_core::events::derive::derive;
use verify_core::events::stream::parse_record;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let records: Vec<&serde_json::Value> = match value.get("Records").and_then(|r| r.as_array()) {
        Some(list) => list.iter().collect(),
        None => vec![&value],
    };
    for v in records {
        let Ok(record) = parse_record(v) else { continue };
        for max_attempts in [1, 5] {
            let events = derive(&record, max_attempts);
            let again = derive(&record, max_attempts);
            assert_eq!(events, again, "derivation must be deterministic (event ids are idempotency keys)");
            for e in &events {
                let _ = e.payload().to_string();
                // Events leave the service: never the full number.
                if let Some(to) = record.new_image.as_ref().or(record.old_image.as_ref()).and_then(|i| i.get("to")).and_then(|v| v.as_s().ok())
                    && to.len() > 5
                    && to[1..].bytes().all(|b| b.is_ascii_digit())
                {
                    assert!(e.to_masked.ends_with("****") && e.to_masked != *to, "the number unmasked: {}", e.to_masked);
                }
            }
        }
    }
});
