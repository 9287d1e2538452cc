//! Authentication over HTTP: the checks of [`crate::access::credentials`],
//! refused with Twilio's 401.

use super::ApiError;
use super::error::code;
use super::routes::Operation;
pub use crate::access::credentials::*;
pub use crate::access::permissions::{Permission, Permissions};
use bytes::Bytes;
use http::Request;

/// Who is calling, or Twilio's 401 `Authenticate` (20003).
pub fn authenticate(credentials: &Credentials, req: &Request<Bytes>, public_base_url: Option<&str>) -> Result<Caller, ApiError> {
    credentials.authenticate(req, public_base_url).map_err(|Unauthorized| {
        ApiError::new(401, code::AUTHENTICATE, "Authenticate").with_detail("Your AccountSid or AuthToken was incorrect.")
    })
}

/// Whether a caller holding `held` may do `op` ([`Operation::permission`]),
/// or 403 Forbidden. Twilio documents no Verify code for a key that lacks a
/// permission, so this is its generic 20403 Forbidden.
pub fn authorize(held: Permissions, op: Operation) -> Result<(), ApiError> {
    let needed = op.permission();
    if held.allows(needed) {
        return Ok(());
    }
    tracing::warn!(operation = ?op, permission = needed.name(), "request refused: the key lacks the permission");
    Err(ApiError::new(403, code::FORBIDDEN, "Forbidden")
        .with_detail(format!("These credentials do not hold the '{}' permission this request needs.", needed.name())))
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

    #[test]
    fn a_missing_permission_is_403_20403() {
        let verify_only = Permissions::of(&[Permission::Verify]);
        assert!(authorize(verify_only, Operation::StartVerification).is_ok());
        let e = authorize(verify_only, Operation::ApproveVerification).unwrap_err();
        assert_eq!((e.status, e.code), (403, 20403));
        assert!(e.body()["detail"].as_str().unwrap().contains("'approve'"));
        assert!(authorize(Permissions::NONE, Operation::CheckVerification).is_err());
        assert!(authorize(Permissions::ALL, Operation::ManageSafeList).is_ok());
    }
}
