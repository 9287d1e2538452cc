//! The reporting routes (`/v2/Attempts`, `/v2/Attempts/Summary`, `/events`,
//! `/dashboard`) through `Reports::handle`: every query parameter, page
//! tokens, dates, the CSV switch. The event store is a DynamoDB client
//! answering in-process (empty pages, or a refusal), so the run is the real
//! handler down to the SDK call. Input: route byte, query \0 accept \0 token.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};
use verify_aws::counters::CounterStore;
use verify_aws::events::store::EventStore;
use verify_aws::reports::Reports;
use verify_aws::reports::params::{Bound, cursor};
use verify_core::access::credentials::Credentials;
use verify_core::clock::ManualClock;
use verify_core::events::number_key::{NumberKey, NumberKeys};
use verify_fuzz::{Answer, fake_dynamodb};

const NOW: i64 = 1_700_000_000;
const PATHS: [&str; 5] = ["/v2/Attempts", "/v2/Attempts/Summary", "/events", "/dashboard", "/v2/Attempts/"];

fn reports(answer: Answer) -> Reports {
    Reports {
        // One shard and one day of retention: a page scans a few buckets, not 240.
        events: EventStore::new(fake_dynamodb(answer), "verify", 1, 1),
        counters: CounterStore::new(fake_dynamodb(answer), "verify", 1, 1),
        services: vec!["VA00000000000000000000000000000000".into()],
        catalog: None,
        numbers: NumberKeys::new(NumberKey::new(&[7; 32]).expect("key"), None),
        account_sid: "AC00000000000000000000000000000000".into(),
        auth: Credentials::default(),
        clock: Arc::new(ManualClock::at(NOW)),
        public_base_url: None,
    }
}

struct World {
    rt: tokio::runtime::Runtime,
    empty: Reports,
    refusing: Reports,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| World { rt: verify_fuzz::runtime(), empty: reports(Answer::Empty), refusing: reports(Answer::Refuse) })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let f = verify_fuzz::fields(rest, 3);
    let query = verify_fuzz::text(f[0]);
    // The parameter parsers alone, on the raw fields.
    if let Some(bound) = Bound::parse(&query) {
        assert!(bound.start() <= bound.end(), "{bound:?}");
    }
    let _ = cursor(&verify_fuzz::text(f[2]));
    let mut uri = format!("{}?{query}", PATHS[(selector & 0x7) as usize % PATHS.len()]);
    if !f[2].is_empty() {
        // A page token as clients send it back: percent-encoded.
        let token: String = form_urlencoded_byte_serialize(f[2]);
        uri.push_str(&format!("&PageToken={token}&page_token={token}"));
    }
    let Some(req) = verify_fuzz::request(b"GET", &uri, &[("accept", f[1]), ("host", b"reports.example.com")], b"") else {
        return;
    };
    let w = world();
    let reports = if selector & 0x80 == 0 { &w.empty } else { &w.refusing };
    let resp = w.rt.block_on(reports.handle(&req));
    let status = resp.status().as_u16();
    // Bad input is a 4xx; a store refusal a 503; nothing else.
    assert!(status == 200 || (400..500).contains(&status) || status == 503, "{status} for {uri:?}: {}", resp.body());
    if selector & 0x80 == 0 {
        assert_ne!(status, 503, "the empty store never fails: {uri:?}");
    }
});

fn form_urlencoded_byte_serialize(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("%{b:02X}")).collect()
}
