//! Credentials as every authenticated route reads them: Basic in the
//! `Authorization` header or the URI, `X-Twilio-Signature` over form or JSON
//! bodies, the URL variants signers use. Besides "no panic", a request
//! signed as Twilio's validators sign must pass, and one byte off must not.
//! Input: uri \0 authorization \0 signature \0 content type \0 host \0 forwarded proto \0 body.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sha2::Digest;
use std::sync::OnceLock;
use verify_core::access::body::BodyKind;
use verify_core::access::credentials::{
    ApiKey, Caller, Credentials, basic_credentials, form_pairs, signature, signature_matches, signature_matches_json_body,
};
use verify_core::access::request_base_url;

const TOKEN: &str = "fuzz-auth-token-0123456789abcdef";

fn credentials() -> &'static Credentials {
    static C: OnceLock<Credentials> = OnceLock::new();
    C.get_or_init(|| {
        let mut c = Credentials::parse(None, Some(TOKEN)).expect("token");
        c.add_key(ApiKey::from_secret("SK00000000000000000000000000000000", "secret").expect("key")).expect("add");
        c
    })
}

fuzz_target!(|data: &[u8]| {
    let f = verify_fuzz::fields(data, 7);
    let uri = verify_fuzz::text(f[0]);
    let uri = if uri.is_empty() { "/v2/Services/VA1/Verifications".to_owned() } else { uri };
    let headers =
        [("authorization", f[1]), ("x-twilio-signature", f[2]), ("content-type", f[3]), ("host", f[4]), ("x-forwarded-proto", f[5])];
    let body = f[6];
    let Some(req) = verify_fuzz::request(b"POST", &uri, &headers, body) else { return };
    let creds = credentials();
    let _ = basic_credentials(&req);
    let verdict = creds.authenticate(&req, Some("https://verify.example.com/"));
    if let Ok(caller) = &verdict {
        // Only the right secret or a valid signature gets in.
        assert!(matches!(caller, Caller::ApiKey(_) | Caller::Signed), "{caller:?}");
    }

    // Sign the same request as a Twilio client would, and it must pass;
    // flip one character of the signature and it must not.
    if f[1].is_empty() {
        let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
        let url = format!("{}{path}", request_base_url(&req));
        // The body is read as the handlers read it (one rule, `BodyKind`):
        // a form is signed through its parameters, anything else through
        // the URL's bodySHA256.
        let ct = req.headers().get("content-type").and_then(|v| v.to_str().ok());
        let is_form = BodyKind::of(ct, body).is_ok_and(|k| k == BodyKind::Form);
        let good = if is_form { signature(TOKEN.as_bytes(), &url, &form_pairs(body)) } else { signature(TOKEN.as_bytes(), &url, &[]) };
        let mut signed = req.clone();
        signed.headers_mut().insert("x-twilio-signature", http::HeaderValue::from_str(&good).expect("base64"));
        // Basic credentials in the URI take precedence over any signature.
        let expect_ok = basic_credentials(&req).is_none() && (is_form || signature_hash_in(&url, body));
        assert_eq!(creds.authenticate(&signed, None).is_ok(), expect_ok, "url {url:?} form {is_form}");
        let mut bad = good.into_bytes();
        bad[0] = if bad[0] == b'A' { b'B' } else { b'A' };
        let mut forged = req.clone();
        forged.headers_mut().insert("x-twilio-signature", http::HeaderValue::from_bytes(&bad).expect("ascii"));
        assert!(creds.authenticate(&forged, None).is_err());
    }

    // The primitives alone, on the raw fields.
    let url = verify_fuzz::text(f[0]);
    let given = verify_fuzz::text(f[2]);
    let pairs = form_pairs(body);
    let _ = signature_matches(TOKEN.as_bytes(), &url, &pairs, &given);
    let _ = signature_matches_json_body(TOKEN.as_bytes(), &url, body, &given);
    assert!(signature_matches(TOKEN.as_bytes(), &url, &pairs, &signature(TOKEN.as_bytes(), &url, &pairs)));
});

/// Whether the URL's `bodySHA256` is this body's hash (what a JSON signature also needs).
fn signature_hash_in(url: &str, body: &[u8]) -> bool {
    let Some((_, query)) = url.split_once('?') else { return false };
    let want = hex::encode(sha2::Sha256::digest(body));
    form_urlencoded_find(query, "bodySHA256").is_some_and(|v| v.to_ascii_lowercase() == want)
}

fn form_urlencoded_find(query: &str, name: &str) -> Option<String> {
    form_pairs(query.as_bytes()).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}
