//! Cross-origin requests from browsers over HTTP: preflight `OPTIONS`
//! answered, `Access-Control-Allow-*` headers on every response to an
//! allowed origin, nothing for any other origin, and any state-changing
//! request from another origin refused before it runs.
//!
//! CORS headers only decide whether a page may *read* an answer; a browser
//! sends "simple" cross-site requests (form or `text/plain` POSTs) without
//! asking first. So the `Origin` a browser puts on every such request is
//! checked here too, and a disallowed one does nothing.

use super::ApiError;
use super::error::code;
use super::handlers::{HttpResponse, error_response};
pub use crate::access::origins::Cors;
use crate::access::origins::origin_of;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};

pub const ALLOWED_METHODS: &str = "GET, POST, OPTIONS";
/// What browsers may send: credentials, the body's type, a Twilio signature.
pub const ALLOWED_HEADERS: &str = "Authorization, Content-Type, Accept, X-Twilio-Signature, X-Requested-With";
/// What scripts may read besides the simple headers.
pub const EXPOSED_HEADERS: &str = "Retry-After";
/// How long a browser may cache a preflight, in seconds.
pub const MAX_AGE_SECS: u32 = 600;

/// The refusal of a request that would change something (any method
/// but GET, HEAD and OPTIONS) made by a page whose `Origin` is not
/// allowed; `None` for every other request, including those without an
/// `Origin` (servers, the helper libraries, curl).
pub fn refuse_cross_site(cors: &Cors, req: &Request<Bytes>) -> Option<ApiError> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    let origin = req.headers().get(header::ORIGIN)?;
    if cors.allow_origin(origin.to_str().ok()).is_some() {
        return None;
    }
    Some(ApiError::new(403, code::FORBIDDEN, "Origin not allowed"))
}

/// Answers an `OPTIONS` request (a preflight when it has an `Origin`):
/// 204 with the allow headers for an allowed origin, 403 without any for
/// another. Credentials are never asked of a preflight; browsers send none.
pub fn preflight(cors: &Cors, req: &Request<Bytes>) -> Option<HttpResponse> {
    if req.method() != Method::OPTIONS {
        return None;
    }
    let origin = origin_of(req.headers());
    let mut resp = Response::new(String::new());
    *resp.status_mut() = StatusCode::NO_CONTENT;
    let headers = resp.headers_mut();
    headers.insert(header::ALLOW, HeaderValue::from_static(ALLOWED_METHODS));
    if origin.is_none() {
        return Some(resp);
    }
    let Some(allow) = cors.allow_origin(origin) else {
        let mut refused = error_response(&ApiError::new(403, code::FORBIDDEN, "Origin not allowed"));
        cors.vary(refused.headers_mut());
        return Some(refused);
    };
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
    headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(ALLOWED_METHODS));
    headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(ALLOWED_HEADERS));
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from(MAX_AGE_SECS));
    cors.vary(headers);
    Some(resp)
}

/// Adds the CORS headers to any response, for an allowed origin.
pub fn apply(cors: &Cors, request_headers: &HeaderMap, resp: &mut HttpResponse) {
    if !cors.is_enabled() {
        return;
    }
    let headers = resp.headers_mut();
    cors.vary(headers);
    if let Some(allow) = cors.allow_origin(origin_of(request_headers)) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
        headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSED_HEADERS));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, headers: &[(&str, &str)]) -> Request<Bytes> {
        let mut b = Request::builder().method(method).uri("/check-verify");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(Bytes::new()).unwrap()
    }

    fn flex() -> Cors {
        Cors::parse_list("https://flex.twilio.com, http://localhost:3000").unwrap()
    }

    #[test]
    fn preflight_from_an_allowed_origin() {
        let r = req("OPTIONS", &[("origin", "https://flex.twilio.com"), ("access-control-request-method", "POST")]);
        let resp = preflight(&flex(), &r).unwrap();
        assert_eq!(resp.status(), 204);
        let h = resp.headers();
        assert_eq!(h["access-control-allow-origin"], "https://flex.twilio.com");
        assert!(h["access-control-allow-methods"].to_str().unwrap().contains("POST"));
        assert!(h["access-control-allow-headers"].to_str().unwrap().contains("Authorization"));
        assert_eq!(h["vary"], "Origin");
    }

    #[test]
    fn other_origins_get_nothing() {
        let r = req("OPTIONS", &[("origin", "https://evil.example"), ("access-control-request-method", "POST")]);
        let resp = preflight(&flex(), &r).unwrap();
        assert_eq!(resp.status(), 403);
        assert!(resp.headers().keys().all(|k| !k.as_str().starts_with("access-control-")));
        let mut plain = Response::new(String::new());
        apply(&flex(), req("POST", &[("origin", "https://evil.example")]).headers(), &mut plain);
        assert!(plain.headers().keys().all(|k| !k.as_str().starts_with("access-control-")));
        // Prefix and suffix tricks are different origins.
        for o in ["https://flex.twilio.com.evil.example", "http://flex.twilio.com", "https://flex.twilio.co", "null"] {
            assert!(flex().allow_origin(Some(o)).is_none(), "{o}");
        }
    }

    #[test]
    fn state_changing_requests_from_other_origins_are_refused() {
        let any = Cors::parse_list("*").unwrap();
        for cors in [flex(), Cors::default(), any.clone()] {
            for method in ["POST", "PUT", "PATCH", "DELETE"] {
                for origin in ["https://evil.example", "null", "https://flex.twilio.com/path"] {
                    if cors == any && origin == "https://evil.example" {
                        continue;
                    }
                    let e = refuse_cross_site(&cors, &req(method, &[("origin", origin)])).unwrap_or_else(|| panic!("{method} {origin}"));
                    assert_eq!((e.status, e.code, e.message.as_str()), (403, 20403, "Origin not allowed"));
                }
            }
            // Reading is not refused (the answer carries no CORS header, so
            // the page cannot see it); requests without an Origin are not browsers'.
            for method in ["GET", "HEAD", "OPTIONS"] {
                assert!(refuse_cross_site(&cors, &req(method, &[("origin", "https://evil.example")])).is_none());
            }
            assert!(refuse_cross_site(&cors, &req("POST", &[])).is_none());
        }
        assert!(refuse_cross_site(&flex(), &req("POST", &[("origin", "https://flex.twilio.com")])).is_none());
        assert!(refuse_cross_site(&any, &req("POST", &[("origin", "https://anyone.example")])).is_none());
        // An Origin that is not text is not an allowed one.
        let mut r = req("POST", &[]);
        r.headers_mut().insert("origin", HeaderValue::from_bytes(b"https://\xffx.example").unwrap());
        assert!(refuse_cross_site(&flex(), &r).is_some());
        assert!(refuse_cross_site(&any, &r).is_some());
    }

    #[test]
    fn every_response_to_an_allowed_origin_carries_the_headers() {
        let mut resp = Response::new(String::new());
        apply(&flex(), req("POST", &[("origin", "http://localhost:3000")]).headers(), &mut resp);
        assert_eq!(resp.headers()["access-control-allow-origin"], "http://localhost:3000");
        assert_eq!(resp.headers()["access-control-expose-headers"], "Retry-After");
        // Spelling differences that are the same origin.
        assert!(flex().allow_origin(Some("HTTPS://Flex.Twilio.com:443")).is_some());
    }

    #[test]
    fn star_allows_any_and_nothing_configured_adds_nothing() {
        let any = Cors::parse_list("*").unwrap();
        let mut resp = Response::new(String::new());
        apply(&any, req("POST", &[("origin", "https://x.example")]).headers(), &mut resp);
        assert_eq!(resp.headers()["access-control-allow-origin"], "*");
        let mut resp = Response::new(String::new());
        apply(&Cors::default(), req("POST", &[("origin", "https://x.example")]).headers(), &mut resp);
        assert!(resp.headers().is_empty());
        assert!(preflight(&Cors::default(), &req("POST", &[])).is_none());
        assert_eq!(preflight(&Cors::default(), &req("OPTIONS", &[])).unwrap().status(), 204);
    }

    #[test]
    fn bad_origins_are_configuration_errors() {
        for bad in ["flex.twilio.com", "https://x.example/path", "ftp://x.example", "https://", "https://u@x.example"] {
            assert!(Cors::parse_list(bad).is_err(), "{bad}");
        }
    }
}
