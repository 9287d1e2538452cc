//! Which browser origins may call (Flex plugins, web sign-up forms): the
//! configured list and the one reading of an `Origin` against it. The HTTP
//! layer ([`crate::api::cors`]) answers preflights, adds the headers and
//! refuses cross-site requests with it.

use http::{HeaderMap, HeaderValue, header};

/// The allowed origins: exact `scheme://host[:port]` values, or `*` for any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cors {
    origins: Vec<String>,
    any: bool,
}

impl Cors {
    /// From a comma-separated list (`VERIFY_CORS_ORIGINS`).
    pub fn parse_list(list: &str) -> Result<Cors, String> {
        let mut cors = Cors::default();
        for origin in list.split(',').map(str::trim).filter(|o| !o.is_empty()) {
            cors.add(origin)?;
        }
        Ok(cors)
    }

    /// Adds one origin (`https://app.example.com`, `http://localhost:3000`, `*`).
    pub fn add(&mut self, origin: &str) -> Result<(), String> {
        let origin = origin.trim();
        if origin == "*" {
            self.any = true;
            return Ok(());
        }
        let normal = normalise(origin).ok_or_else(|| {
            format!("CORS origin {origin:?} must be scheme://host[:port] with no path, e.g. https://app.example.com, or *")
        })?;
        if !self.origins.contains(&normal) {
            self.origins.push(normal);
        }
        Ok(())
    }

    pub fn is_enabled(&self) -> bool {
        self.any || !self.origins.is_empty()
    }

    /// For display: `*` or the origins.
    pub fn describe(&self) -> String {
        if self.any { "*".into() } else { self.origins.join(", ") }
    }

    /// The `Access-Control-Allow-Origin` value for a request's `Origin`, if
    /// that origin is allowed.
    pub fn allow_origin(&self, origin: Option<&str>) -> Option<HeaderValue> {
        let origin = origin?;
        // `null` (sandboxed frames, files, some redirects) names no origin
        // anyone could list, so it is never allowed, not even by `*`.
        let normal = normalise(origin)?;
        if self.any {
            return Some(HeaderValue::from_static("*"));
        }
        self.origins.contains(&normal).then(|| HeaderValue::from_str(origin).ok()).flatten()
    }

    /// The answer depends on `Origin` unless every origin gets `*`.
    pub fn vary(&self, headers: &mut HeaderMap) {
        if !self.any {
            headers.insert(header::VARY, HeaderValue::from_static("Origin"));
        }
    }
}

pub fn origin_of(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
}

/// `scheme://host[:port]` lower-cased, default ports dropped; `None` for
/// anything else (paths, user-info, `null`).
fn normalise(origin: &str) -> Option<String> {
    let origin = origin.trim().trim_end_matches('/');
    let (scheme, hostport) = origin.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https") || hostport.is_empty() {
        return None;
    }
    if hostport.contains(['/', '?', '#', '@', ' ']) {
        return None;
    }
    let hostport = hostport.to_ascii_lowercase();
    let hostport = match (scheme.as_str(), hostport.rsplit_once(':')) {
        ("http", Some((h, "80"))) | ("https", Some((h, "443"))) => h.to_owned(),
        _ => hostport,
    };
    Some(format!("{scheme}://{hostport}"))
}
