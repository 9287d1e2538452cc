//! Request bodies (form and JSON) as every handler reads them, the request
//! path as the router reads it, and codes as a check reads them.
//! Input: content type \0 path \0 body.
#![no_main]
use libfuzzer_sys::fuzz_target;
use verify_core::api::params::{Params, names};
use verify_core::api::routes::{Function, route};

fuzz_target!(|data: &[u8]| {
    let f = verify_fuzz::fields(data, 3);
    let content_type = verify_fuzz::text(f[0]);
    let ct = (!content_type.is_empty()).then_some(content_type.as_str());
    if let Ok(params) = Params::from_body(ct, f[2]) {
        for n in
            [names::TO, names::CHANNEL, names::LOCALE, names::CODE, names::VERIFICATION_SID, names::CUSTOM_FRIENDLY_NAME, names::STATUS]
        {
            if let Ok(Some(v)) = params.text(n) {
                assert!(!v.trim().is_empty(), "an empty value must read as absent");
                let _ = verify_core::otp::Code::parse(v, 6);
                let _ = verify_core::config::check_friendly_name(v);
            }
            let _ = params.required(n);
        }
    }
    let path = verify_fuzz::text(f[1]);
    for function in [Function::StartVerify, Function::CheckVerify, Function::Local] {
        for method in [http::Method::GET, http::Method::POST, http::Method::DELETE] {
            let _ = route(function, &method, &path);
        }
    }
});
