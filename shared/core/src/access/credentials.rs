//! Who may call: nobody sends an SMS on the deployment's bill without one of
//!
//! - HTTP Basic with a configured API key (`SK…:secret` or
//!   `AccountSid:AuthToken`, as Twilio's helper libraries send), in the
//!   `Authorization` header or the URL's user-info. Only SHA-256 digests of
//!   the secrets are configured; digests are compared in constant time.
//! - `X-Twilio-Signature`: base64 HMAC-SHA1 over the URL the client used plus
//!   the form parameters sorted by name (Twilio's webhook scheme), made with
//!   a configured auth token, so Twilio webhooks and Studio can call us. HMAC
//!   needs the token itself, so these are configured in plaintext (from a
//!   secret store).
//!
//! With neither configured the API is open; only verify-local allows that.
//! This is configuration and pure checking over `http` types; the HTTP
//! layer turns a refusal into Twilio's 401 ([`crate::api::auth`]).

use super::body::BodyKind;
use super::permissions::Permissions;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http::{Request, header};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::{Choice, ConstantTimeEq};

/// An API key as configured: its public id, the SHA-256 of its secret and
/// what it may do.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    key_id: String,
    secret_sha256: [u8; 32],
    permissions: Permissions,
}

impl ApiKey {
    /// From a key id and the hex SHA-256 of its secret (the configured
    /// form), holding [`Permissions::UNLISTED_KEY`] until told otherwise.
    pub fn from_digest(key_id: &str, secret_sha256_hex: &str) -> Result<ApiKey, String> {
        let key_id = check_key_id(key_id)?;
        let digest = hex::decode(secret_sha256_hex.trim())
            .ok()
            .and_then(|d| <[u8; 32]>::try_from(d).ok())
            .ok_or_else(|| format!("API key {key_id}: secret_sha256 must be 64 hex digits (the SHA-256 of the secret)"))?;
        Ok(ApiKey { key_id, secret_sha256: digest, permissions: Permissions::UNLISTED_KEY })
    }

    /// From a key id and its secret (verify-local's `--api-key ID:SECRET`);
    /// only the digest is kept. The developer's own key: every permission.
    pub fn from_secret(key_id: &str, secret: &str) -> Result<ApiKey, String> {
        let key_id = check_key_id(key_id)?;
        if secret.is_empty() {
            return Err(format!("API key {key_id}: the secret is empty"));
        }
        Ok(ApiKey { key_id, secret_sha256: Sha256::digest(secret.as_bytes()).into(), permissions: Permissions::ALL })
    }

    pub fn with_permissions(mut self, permissions: Permissions) -> ApiKey {
        self.permissions = permissions;
        self
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn permissions(&self) -> Permissions {
        self.permissions
    }
}

fn check_key_id(key_id: &str) -> Result<String, String> {
    let key_id = key_id.trim();
    if key_id.is_empty() || key_id.len() > 64 || key_id.contains(':') || key_id.chars().any(|c| c.is_control()) {
        return Err(format!("API key id {key_id:?} must be 1 to 64 characters without ':'"));
    }
    Ok(key_id.to_owned())
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({})", self.key_id)
    }
}

/// An auth token that signs `X-Twilio-Signature` requests.
#[derive(Clone)]
pub struct AuthToken(String);

/// Shorter tokens could be guessed; Twilio's are 32 hex digits.
pub const MIN_AUTH_TOKEN_CHARS: usize = 16;

impl AuthToken {
    pub fn new(token: &str) -> Result<AuthToken, String> {
        let token = token.trim();
        if token.len() < MIN_AUTH_TOKEN_CHARS {
            return Err(format!("an auth token must be at least {MIN_AUTH_TOKEN_CHARS} characters"));
        }
        Ok(AuthToken(token.to_owned()))
    }
}

impl fmt::Debug for AuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthToken(<redacted>)")
    }
}

/// Who made a request, once authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// No credentials are configured (verify-local only).
    Open,
    /// HTTP Basic with this API key id.
    ApiKey(String),
    /// A valid `X-Twilio-Signature`.
    Signed,
}

impl Caller {
    /// Whether the caller proved who it is (not merely an open server).
    pub fn is_authenticated(&self) -> bool {
        !matches!(self, Caller::Open)
    }
}

#[derive(Clone, Debug, Default)]
pub struct Credentials {
    keys: Vec<ApiKey>,
    tokens: Vec<AuthToken>,
}

impl Credentials {
    /// Reads `VERIFY_API_KEYS` (a JSON list of `{"key_id", "secret_sha256"}`
    /// and optionally `"permissions": ["verify", …]`) and
    /// `VERIFY_AUTH_TOKENS` (comma-separated), both optional.
    pub fn parse(api_keys_json: Option<&str>, auth_tokens: Option<&str>) -> Result<Credentials, String> {
        let mut creds = Credentials::default();
        if let Some(json) = api_keys_json {
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Entry {
                key_id: String,
                secret_sha256: String,
                permissions: Option<Vec<String>>,
            }
            let entries: Vec<Entry> = serde_json::from_str(json).map_err(|e| {
                format!(
                    "API keys: {e} (expected [{{\"key_id\": \"SK…\", \"secret_sha256\": \"<hex>\", \"permissions\": [\"verify\", …]}}])"
                )
            })?;
            for e in entries {
                let mut key = ApiKey::from_digest(&e.key_id, &e.secret_sha256)?;
                if let Some(names) = &e.permissions {
                    key = key.with_permissions(Permissions::parse(names).map_err(|m| format!("API key {}: {m}", e.key_id))?);
                }
                creds.add_key(key)?;
            }
        }
        if let Some(list) = auth_tokens {
            for token in list.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                creds.tokens.push(AuthToken::new(token)?);
            }
        }
        Ok(creds)
    }

    pub fn add_key(&mut self, key: ApiKey) -> Result<(), String> {
        if self.keys.iter().any(|k| k.key_id == key.key_id) {
            return Err(format!("API key {} is configured twice", key.key_id));
        }
        self.keys.push(key);
        Ok(())
    }

    pub fn add_token(&mut self, token: AuthToken) {
        self.tokens.push(token);
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.tokens.is_empty()
    }

    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.key_id.as_str())
    }

    pub fn token_count(&self) -> usize {
        self.tokens.len()
    }

    /// What an authenticated caller may do: its key's permissions, the
    /// fixed set of signed requests, or an open server's.
    pub fn permissions_of(&self, caller: &Caller) -> Permissions {
        match caller {
            Caller::Open => Permissions::OPEN,
            Caller::Signed => Permissions::SIGNED,
            Caller::ApiKey(id) => self.keys.iter().find(|k| &k.key_id == id).map_or(Permissions::NONE, |k| k.permissions),
        }
    }

    /// Decides who is calling. With no credentials configured everyone is
    /// [`Caller::Open`]. Otherwise Basic credentials, when given, must be
    /// valid; else a valid signature is needed. `public_base_url` is another
    /// URL the signer may have used (the deployment's public address).
    pub fn authenticate(&self, req: &Request<Bytes>, public_base_url: Option<&str>) -> Result<Caller, Unauthorized> {
        if self.is_empty() {
            return Ok(Caller::Open);
        }
        if let Some(basic) = basic_credentials(req) {
            return match basic {
                Some((user, secret)) => self.check_key(&user, &secret).ok_or(Unauthorized),
                None => Err(Unauthorized),
            };
        }
        let signature = req.headers().get("x-twilio-signature").and_then(|v| v.to_str().ok());
        match signature {
            Some(given) if self.check_signature(req, given.trim(), public_base_url) => Ok(Caller::Signed),
            _ => Err(Unauthorized),
        }
    }

    /// Every configured key is compared (id and digest, in constant time), so
    /// the time taken does not tell which key ids exist.
    fn check_key(&self, key_id: &str, secret: &str) -> Option<Caller> {
        let digest: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        let mut found: Option<&ApiKey> = None;
        for k in &self.keys {
            let hit: Choice = k.key_id.as_bytes().ct_eq(key_id.as_bytes()) & k.secret_sha256.ct_eq(&digest);
            if bool::from(hit) {
                found = Some(k);
            }
        }
        found.map(|k| Caller::ApiKey(k.key_id.clone()))
    }

    fn check_signature(&self, req: &Request<Bytes>, given: &str, public_base_url: Option<&str>) -> bool {
        let path_and_query = req.uri().path_and_query().map_or("/", |p| p.as_str());
        let mut urls = vec![format!("{}{path_and_query}", super::request_base_url(req))];
        if let Some(base) = public_base_url {
            urls.push(format!("{}{path_and_query}", base.trim_end_matches('/')));
        }
        // Form bodies are signed through their parameters, anything else
        // (JSON) through the bodySHA256 in the URL. The body is read as the
        // handlers will read it.
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let is_form = BodyKind::of(content_type, req.body()).is_ok_and(|k| k == BodyKind::Form);
        let params = if is_form { form_pairs(req.body()) } else { Vec::new() };
        let mut any = false;
        for token in &self.tokens {
            for url in &urls {
                any |= if is_form {
                    signature_matches(token.0.as_bytes(), url, &params, given)
                } else {
                    signature_matches_json_body(token.0.as_bytes(), url, req.body(), given)
                };
            }
        }
        any
    }
}

/// Bad or missing credentials (the HTTP layer answers 401).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unauthorized;

/// The Basic credentials of a request: from the `Authorization` header, or
/// from user-info in the request URI. `None` when there are none,
/// `Some(None)` when they are present but malformed.
pub fn basic_credentials(req: &Request<Bytes>) -> Option<Option<(String, String)>> {
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let parsed = value.to_str().ok().and_then(|v| {
            let (scheme, encoded) = v.trim().split_once(' ')?;
            if !scheme.eq_ignore_ascii_case("basic") {
                return None;
            }
            let decoded = String::from_utf8(BASE64.decode(encoded.trim()).ok()?).ok()?;
            let (user, secret) = decoded.split_once(':')?;
            Some((user.to_owned(), secret.to_owned()))
        });
        return Some(parsed);
    }
    let authority = req.uri().authority()?.as_str();
    let (userinfo, _) = authority.rsplit_once('@')?;
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8().ok().map(|c| c.into_owned());
    Some(userinfo.split_once(':').and_then(|(u, p)| Some((decode(u)?, decode(p)?))))
}

/// The form parameters of a body, in order, for signing.
pub fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// Twilio's signature: base64(HMAC-SHA1(token, url + name1 + value1 + …))
/// with the parameters sorted by name, then value, duplicates once (as
/// Twilio's Python validator does).
pub fn signature(token: &[u8], url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    sorted.dedup();
    let mut mac = Hmac::<Sha1>::new_from_slice(token).expect("HMAC takes keys of any length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    BASE64.encode(mac.finalize().into_bytes())
}

/// Whether `given` signs this URL and these parameters. Like Twilio's
/// validators, the URL is tried both without a port and with one (the
/// scheme's default when it has none), because signers differ.
pub fn signature_matches(token: &[u8], url: &str, params: &[(String, String)], given: &str) -> bool {
    let mut ok = Choice::from(0);
    for candidate in url_variants(url) {
        ok |= signature(token, &candidate, params).as_bytes().ct_eq(given.as_bytes());
    }
    ok.into()
}

/// The JSON-body variant: Twilio puts `bodySHA256=<hex sha256(body)>` in the
/// query and signs the URL alone. Both the hash and the signature must hold.
pub fn signature_matches_json_body(token: &[u8], url: &str, body: &[u8], given: &str) -> bool {
    let Some(query) = url.split_once('?').map(|(_, q)| q) else { return false };
    let claimed = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "bodySHA256").map(|(_, v)| v.into_owned());
    let Some(claimed) = claimed else { return false };
    let actual = hex::encode(Sha256::digest(body));
    let hash_ok = actual.as_bytes().ct_eq(claimed.to_ascii_lowercase().as_bytes());
    let sig_ok = Choice::from(signature_matches(token, url, &[], given) as u8);
    (hash_ok & sig_ok).into()
}

/// `url` without its port and with one: `https://h:8443/p` gives
/// `https://h/p` and itself; `https://h/p` gives itself and `https://h:443/p`.
fn url_variants(url: &str) -> [String; 2] {
    let Some((scheme, rest)) = url.split_once("://") else { return [url.to_owned(), url.to_owned()] };
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split);
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), authority),
    };
    // A port follows the last ':' unless that ':' is inside an IPv6 literal.
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') && p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty() => (h, Some(p)),
        _ => (hostport, None),
    };
    let default_port = if scheme.eq_ignore_ascii_case("https") { "443" } else { "80" };
    let without = format!("{scheme}://{userinfo}{host}{tail}");
    let with = format!("{scheme}://{userinfo}{host}:{}{tail}", port.unwrap_or(default_port));
    [without, with]
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const TOKEN: &[u8] = b"12345";
    const EXPECTED: &str = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";

    fn twilio_params() -> Vec<(String, String)> {
        [("CallSid", "CA1234567890ABCDE"), ("Caller", "+12349013030"), ("Digits", "1234"), ("From", "+12349013030"), ("To", "+18005551212")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn twilio_known_answer_vector() {
        assert_eq!(signature(TOKEN, URL, &twilio_params()), EXPECTED);
        // Order of the parameters as sent does not matter.
        let mut reversed = twilio_params();
        reversed.reverse();
        assert_eq!(signature(TOKEN, URL, &reversed), EXPECTED);
        assert!(signature_matches(TOKEN, URL, &twilio_params(), EXPECTED));
    }

    #[test]
    fn any_changed_byte_is_rejected() {
        let params = twilio_params();
        // Every byte of the URL.
        for i in 0..URL.len() {
            let mut bytes = URL.as_bytes().to_vec();
            bytes[i] ^= 0x01;
            let url = String::from_utf8(bytes).unwrap();
            assert!(!signature_matches(TOKEN, &url, &params, EXPECTED), "url byte {i}: {url}");
        }
        // Every byte of every parameter name and value.
        for p in 0..params.len() {
            for which in 0..2 {
                let len = if which == 0 { params[p].0.len() } else { params[p].1.len() };
                for i in 0..len {
                    let mut changed = params.clone();
                    let field = if which == 0 { &mut changed[p].0 } else { &mut changed[p].1 };
                    let mut bytes = field.as_bytes().to_vec();
                    bytes[i] ^= 0x01;
                    *field = String::from_utf8(bytes).unwrap();
                    assert!(!signature_matches(TOKEN, URL, &changed, EXPECTED), "param {p}/{which} byte {i}");
                }
            }
        }
        // A parameter added or dropped.
        let mut added = params.clone();
        added.push(("Extra".into(), "".into()));
        assert!(!signature_matches(TOKEN, URL, &added, EXPECTED));
        assert!(!signature_matches(TOKEN, URL, &params[1..], EXPECTED));
        // Every byte of the signature, and the token.
        for i in 0..EXPECTED.len() {
            let mut bytes = EXPECTED.as_bytes().to_vec();
            bytes[i] ^= 0x01;
            let sig = String::from_utf8(bytes).unwrap();
            assert!(!signature_matches(TOKEN, URL, &params, &sig), "signature byte {i}");
        }
        assert!(!signature_matches(b"12346", URL, &params, EXPECTED));
        assert!(!signature_matches(TOKEN, URL, &params, ""));
        assert!(!signature_matches(TOKEN, URL, &params, &EXPECTED[..EXPECTED.len() - 1]));
    }

    #[test]
    fn ports_are_tried_both_ways() {
        let params = twilio_params();
        let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        // Signed without the port, received with it, and the other way round.
        assert!(signature_matches(TOKEN, with_port, &params, EXPECTED));
        let signed_with_port = signature(TOKEN, with_port, &params);
        assert!(signature_matches(TOKEN, URL, &params, &signed_with_port));
        let local = "http://127.0.0.1:8080/v2/Services";
        let sig = signature(TOKEN, "http://127.0.0.1/v2/Services", &[]);
        assert!(signature_matches(TOKEN, local, &[], &sig));
        assert_eq!(url_variants("http://[::1]:8080/x?y"), ["http://[::1]/x?y".to_owned(), "http://[::1]:8080/x?y".to_owned()]);
        assert_eq!(url_variants("http://h"), ["http://h".to_owned(), "http://h:80".to_owned()]);
    }

    #[test]
    fn json_bodies_are_signed_through_their_hash() {
        let body = br#"{"To":"+14155550123"}"#;
        let url = format!("https://example.com/hook?bodySHA256={}", hex::encode(Sha256::digest(body)));
        let sig = signature(TOKEN, &url, &[]);
        assert!(signature_matches_json_body(TOKEN, &url, body, &sig));
        assert!(!signature_matches_json_body(TOKEN, &url, br#"{"To":"+14155550124"}"#, &sig), "body changed");
        assert!(!signature_matches_json_body(TOKEN, "https://example.com/hook", body, &signature(TOKEN, "https://example.com/hook", &[])));
    }

    fn request(headers: &[(&str, &str)], uri: &str, body: &str) -> Request<Bytes> {
        let mut b = Request::builder().method("POST").uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(Bytes::from(body.to_owned())).unwrap()
    }

    fn creds() -> Credentials {
        let mut c = Credentials::default();
        c.add_key(ApiKey::from_secret("SK1", "secret-one").unwrap()).unwrap();
        let digest = hex::encode(Sha256::digest(b"token-two-secret"));
        c.add_key(ApiKey::from_digest("AC2", &digest).unwrap()).unwrap();
        c.add_token(AuthToken::new("0123456789abcdef0123456789abcdef").unwrap());
        c
    }

    fn basic(user: &str, secret: &str) -> String {
        format!("Basic {}", BASE64.encode(format!("{user}:{secret}")))
    }

    #[test]
    fn basic_credentials_are_checked_against_digests() {
        let c = creds();
        let ok = |h: String| c.authenticate(&request(&[("authorization", &h)], "/v2/Services", ""), None);
        assert_eq!(ok(basic("SK1", "secret-one")), Ok(Caller::ApiKey("SK1".into())));
        assert_eq!(ok(basic("AC2", "token-two-secret")), Ok(Caller::ApiKey("AC2".into())));
        for bad in [basic("SK1", "secret-two"), basic("AC2", "secret-one"), basic("SK3", "secret-one"), basic("SK1", "")] {
            assert_eq!(ok(bad), Err(Unauthorized));
        }
        assert_eq!(ok("Bearer abc".into()), Err(Unauthorized));
        assert_eq!(ok("Basic !!!".into()), Err(Unauthorized));
        assert_eq!(c.authenticate(&request(&[], "/v2/Services", ""), None), Err(Unauthorized));
    }

    #[test]
    fn basic_credentials_in_the_url_user_info() {
        let c = creds();
        let req = request(&[], "https://SK1:secret-one@verify.example.com/", "");
        assert_eq!(c.authenticate(&req, None), Ok(Caller::ApiKey("SK1".into())));
        let req = request(&[], "https://SK1:wrong@verify.example.com/", "");
        assert!(c.authenticate(&req, None).is_err());
    }

    #[test]
    fn signed_requests_are_accepted_by_url_and_params() {
        let c = creds();
        let token = b"0123456789abcdef0123456789abcdef";
        let body = "To=%2B14155550123&Channel=sms";
        let params = form_pairs(body.as_bytes());
        let url = "https://verify.example.com/v2/Services/VA1/Verifications";
        let sig = signature(token, url, &params);
        let headers = |sig: &str| {
            vec![
                ("host", "verify.example.com".to_owned()),
                ("x-forwarded-proto", "https".to_owned()),
                ("content-type", "application/x-www-form-urlencoded".to_owned()),
                ("x-twilio-signature", sig.to_owned()),
            ]
        };
        let req = |h: Vec<(&str, String)>, body: &str| {
            let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
            request(&h, "/v2/Services/VA1/Verifications", body)
        };
        assert_eq!(c.authenticate(&req(headers(&sig), body), None), Ok(Caller::Signed));
        assert!(c.authenticate(&req(headers(&sig), "To=%2B14155550124&Channel=sms"), None).is_err());
        assert!(c.authenticate(&req(headers("AAAA"), body), None).is_err());
        let mut http = headers(&sig);
        http[1].1 = "http".into();
        assert!(c.authenticate(&req(http, body), None).is_err(), "the scheme is part of the URL");
        // Signed for the public address, received on another host.
        let mut other_host = headers(&sig);
        other_host[0].1 = "abc.lambda-url.us-east-1.on.aws".into();
        assert!(c.authenticate(&req(other_host.clone(), body), None).is_err());
        assert_eq!(c.authenticate(&req(other_host, body), Some("https://verify.example.com")), Ok(Caller::Signed));
    }

    #[test]
    fn no_credentials_means_open() {
        let c = Credentials::default();
        assert_eq!(c.authenticate(&request(&[], "/", ""), None), Ok(Caller::Open));
        assert!(!Caller::Open.is_authenticated());
    }

    #[test]
    fn configuration_is_validated() {
        let digest = "a".repeat(64);
        let c = Credentials::parse(Some(&format!(r#"[{{"key_id":"SKx","secret_sha256":"{digest}"}}]"#)), Some("t".repeat(32).as_str()))
            .unwrap();
        assert_eq!(c.key_ids().collect::<Vec<_>>(), ["SKx"]);
        assert_eq!(c.token_count(), 1);
        assert!(Credentials::parse(Some(r#"[{"key_id":"SKx","secret_sha256":"abc"}]"#), None).is_err());
        assert!(Credentials::parse(Some(r#"[{"key_id":"SKx","secret":"abc"}]"#), None).is_err());
        assert!(Credentials::parse(Some(r#"{"key_id":"SKx"}"#), None).is_err());
        assert!(Credentials::parse(None, Some("short")).is_err());
        let twice = format!(r#"[{{"key_id":"SKx","secret_sha256":"{digest}"}},{{"key_id":"SKx","secret_sha256":"{digest}"}}]"#);
        assert!(Credentials::parse(Some(&twice), None).is_err());
        assert!(ApiKey::from_secret("a:b", "s").is_err());
        assert!(!format!("{:?}", AuthToken::new(&"t".repeat(32)).unwrap()).contains("tttt"));
    }

    #[test]
    fn keys_carry_their_permissions() {
        use crate::access::permissions::{Permission, Permissions};
        let digest = hex::encode(Sha256::digest(b"panel-secret"));
        let json = format!(
            r#"[{{"key_id":"SKpanel","secret_sha256":"{digest}","permissions":["verify"]}},
                {{"key_id":"SKserver","secret_sha256":"{digest}"}}]"#
        );
        let mut c = Credentials::parse(Some(&json), None).unwrap();
        c.add_key(ApiKey::from_secret("SKdev", "s").unwrap()).unwrap();
        let of = |id: &str| c.permissions_of(&Caller::ApiKey(id.into()));
        assert_eq!(of("SKpanel"), Permissions::of(&[Permission::Verify]));
        assert_eq!(of("SKserver"), Permissions::UNLISTED_KEY, "no list: today's access minus admin");
        assert!(!of("SKserver").allows(Permission::Admin));
        assert_eq!(of("SKdev"), Permissions::ALL, "verify-local --api-key");
        assert_eq!(of("SKunknown"), Permissions::NONE);
        assert_eq!(c.permissions_of(&Caller::Signed), Permissions::SIGNED);
        assert_eq!(c.permissions_of(&Caller::Open), Permissions::OPEN);
        let bad = format!(r#"[{{"key_id":"SKx","secret_sha256":"{digest}","permissions":["verify","root"]}}]"#);
        let e = Credentials::parse(Some(&bad), None).unwrap_err();
        assert!(e.contains("SKx") && e.contains("root"), "{e}");
        let empty = format!(r#"[{{"key_id":"SKx","secret_sha256":"{digest}","permissions":[]}}]"#);
        let c = Credentials::parse(Some(&empty), None).unwrap();
        assert_eq!(c.permissions_of(&Caller::ApiKey("SKx".into())), Permissions::NONE, "an empty list grants nothing");
    }
}
