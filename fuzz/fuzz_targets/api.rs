//! Whole requests through `Api::handle`, as each function serves them:
//! CORS preflight, authentication (open here), routing, body parameters
//! (form and JSON), phone numbers, channels, locales, codes, sids in paths.
//! The store is DynamoDB answering in-process (empty results, or a refusal).
//! Input: selector byte, then method \0 path \0 content type \0 origin \0 body.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use verify_aws::store::DynamoStore;
use verify_core::api::Api;
use verify_core::api::routes::Function;
use verify_core::channel::REGISTRY;
use verify_core::clock::SystemClock;
use verify_core::config::{Settings, env};
use verify_core::sender::Senders;
use verify_core::sender::outbox::Outbox;
use verify_fuzz::{Answer, fake_dynamodb};

type FuzzApi = Api<DynamoStore, SystemClock>;

fn api(answer: Answer) -> FuzzApi {
    let vars: HashMap<String, String> = [
        (env::CODE_KEY, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"),
        (env::CORS_ORIGINS, "https://app.example.com"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let settings = Settings::from_vars(&vars).expect("settings");
    // Every channel "delivered" to the local outbox, as verify-local does.
    let outbox = Outbox::new();
    let senders = REGISTRY.iter().fold(Senders::none(), |all, spec| all.with(spec.channel, Arc::new(outbox.clone())));
    Api::new(settings, DynamoStore::new(fake_dynamodb(answer), "verify"), senders)
}

struct World {
    rt: tokio::runtime::Runtime,
    empty: FuzzApi,
    refusing: FuzzApi,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| World { rt: verify_fuzz::runtime(), empty: api(Answer::Empty), refusing: api(Answer::Refuse) })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let f = verify_fuzz::fields(rest, 5);
    let path = verify_fuzz::text(f[1]);
    let path = if path.starts_with('/') { path } else { format!("/{path}") };
    let headers = [
        ("content-type", f[2]),
        ("origin", f[3]),
        ("access-control-request-method", if selector & 0x40 != 0 { b"POST".as_slice() } else { b"" }),
    ];
    let Some(req) = verify_fuzz::request(f[0], &path, &headers, f[4]) else { return };
    let function = [Function::StartVerify, Function::CheckVerify, Function::Local][(selector & 0x3) as usize % 3];
    let w = world();
    let api = if selector & 0x80 == 0 { &w.empty } else { &w.refusing };
    let resp = w.rt.block_on(api.handle(function, &req));
    let status = resp.status().as_u16();
    // Bad input is a 4xx, a store failure a retryable 503; never a 500.
    assert!(status < 500 || status == 503, "{status} for {req:?}: {}", resp.body());
    if status >= 400 {
        let body: serde_json::Value = serde_json::from_str(resp.body()).expect("errors are JSON");
        assert!(body.get("code").is_some() && body.get("message").is_some(), "not Twilio-shaped: {body}");
    }
});
