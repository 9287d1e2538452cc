//! Deployment configuration: the whole environment as `Settings::from_vars`
//! reads it (services JSON, API keys, auth tokens, CORS origins, limits,
//! code keys), plus the parsers one by one.
//! Input: `NAME=value` lines; the raw input also feeds each parser.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use verify_core::access::credentials::Credentials;
use verify_core::access::origins::Cors;
use verify_core::config::{Limits, Services, Settings, env};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = Services::from_json(text, &Limits::default());
    let (a, b) = text.split_once('\u{1}').unwrap_or((text, ""));
    let _ = Credentials::parse(Some(a), Some(b));
    let _ = Credentials::parse(None, Some(text));
    if let Ok(cors) = Cors::parse_list(text) {
        let _ = cors.describe();
    }
    let mut vars: HashMap<String, String> = HashMap::new();
    vars.insert(env::CODE_KEY.into(), "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff".into());
    for line in text.lines() {
        if let Some((k, v)) = line.split_once('=') {
            vars.insert(k.to_owned(), v.to_owned());
        }
    }
    // The one variable that names a file: the fuzzer must not read the disk.
    vars.remove(env::SERVICES_FILE);
    if let Ok(settings) = Settings::from_vars(&vars) {
        let default = settings.services.default_service();
        assert!(settings.services.get(&default.sid).is_some());
    }
});
