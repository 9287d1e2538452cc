//! Authentication over HTTP: the checks of [`crate::access::credentials`],
//! refused with Twilio's 401.

use super::ApiError;
use super::error::code;
pub use crate::access::credentials::*;
use bytes::Bytes;
use http::Request;

/// Who is calling, or Twilio's 401 `Authenticate` (20003).
pub fn authenticate(credentials: &Credentials, req: &Request<Bytes>, public_base_url: Option<&str>) -> Result<Caller, ApiError> {
    credentials.authenticate(req, public_base_url).map_err(|Unauthorized| {
        ApiError::new(401, code::AUTHENTICATE, "Authenticate").with_detail("Your AccountSid or AuthToken was incorrect.")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_twilios_401() {
        let mut c = Credentials::default();
        c.add_key(ApiKey::from_secret("SK1", "s").unwrap()).unwrap();
        let req = Request::builder().uri("/v2/Services").body(Bytes::new()).unwrap();
        let e = authenticate(&c, &req, None).unwrap_err();
        assert_eq!((e.status, e.code), (401, 20003));
        assert!(e.body()["detail"].as_str().unwrap().contains("AuthToken"));
    }
}
