//! Who may call, as configuration and pure checks: API keys and auth
//! tokens ([`credentials`]) and what each may do ([`permissions`]), browser origins ([`origins`]), and how a body
//! is encoded ([`body`], which the signature check needs). No HTTP
//! responses here: [`crate::api`] turns refusals into Twilio's errors, so
//! configuration can hold these without importing the HTTP layer.

pub mod body;
pub mod credentials;
pub mod origins;
pub mod permissions;

use bytes::Bytes;
use http::Request;

/// `https://host` as the client reached us: function URLs put the scheme in
/// `X-Forwarded-Proto`; verify-local is plain http.
pub fn request_base_url(req: &Request<Bytes>) -> String {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let host = header("host").or_else(|| req.uri().host()).unwrap_or("localhost");
    let scheme = header("x-forwarded-proto").and_then(|p| p.split(',').next()).map(str::trim).unwrap_or("http");
    format!("{scheme}://{host}")
}
