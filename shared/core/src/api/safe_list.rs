//! `/v2/SafeList/Numbers`: Twilio's Safe List, numbers the geo permissions
//! of every service never refuse (they still count against each number's
//! send and check limits). Account-wide, as Twilio has it; `admin` only.

use super::handlers::{Api, body_params};
use super::resource::Links;
use super::{ApiError, error::code};
use crate::clock::Clock;
use crate::phone::PhoneNumber;
use crate::recipient::Recipient;
use crate::service::VerifyError;
use crate::sid;
use crate::store::StoreError;
use crate::store::Stores;
use crate::store::safe_list::SafeListEntry;
use bytes::Bytes;
use http::Request;
use serde_json::{Value, json};

/// Twilio's "already in the Safe List" (its status is not documented; a
/// client error like its other duplicate-resource codes).
const ALREADY_LISTED: u32 = 60411;

impl<S: Stores, C: Clock> Api<S, C> {
    /// `PhoneNumber` (E.164) → 201 `{sid, phone_number, url}`.
    pub(super) async fn create_safe_number(&self, req: &Request<Bytes>, links: &Links<'_>) -> Result<Value, ApiError> {
        let params = body_params(req)?;
        let number = listed_number(params.required(&["PhoneNumber", "phone_number"])?)?;
        let entry = SafeListEntry {
            sid: sid::new_sid(sid::SAFE_LIST),
            key: number.key(),
            phone_number: number.address().to_owned(),
            created_at: self.verifier.clock.now(),
        };
        match self.verifier.store.add_safe_number(&entry).await {
            Ok(()) => Ok(safe_number(&entry, links)),
            Err(StoreError::Conflict(_)) => Err(ApiError::new(400, ALREADY_LISTED, "Phone number already exists in SafeList")),
            Err(StoreError::Unavailable(cause)) => Err(unavailable(cause)),
        }
    }

    /// The entry, or 404 when the number is not listed.
    pub(super) async fn fetch_safe_number(&self, raw: &str, links: &Links<'_>) -> Result<Value, ApiError> {
        let number = listed_number(raw)?;
        match self.verifier.store.safe_number(&number.key()).await {
            Ok(Some(entry)) => Ok(safe_number(&entry, links)),
            Ok(None) => Err(not_listed(raw)),
            Err(e) => Err(store_failed(e)),
        }
    }

    /// Removes the entry (204), or 404 when the number is not listed.
    pub(super) async fn delete_safe_number(&self, raw: &str) -> Result<(), ApiError> {
        let number = listed_number(raw)?;
        match self.verifier.store.remove_safe_number(&number.key()).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(not_listed(raw)),
            Err(e) => Err(store_failed(e)),
        }
    }
}

/// The resource: `sid`, `phone_number`, `url` (Twilio's OpenAPI).
pub fn safe_number(entry: &SafeListEntry, links: &Links<'_>) -> Value {
    json!({
        "sid": entry.sid,
        "phone_number": entry.phone_number,
        "url": format!("{}/v2/SafeList/Numbers/{}", links.base_url, entry.phone_number),
    })
}

/// A number as the Safe List takes it: E.164 (any spelling `To` accepts).
fn listed_number(raw: &str) -> Result<Recipient, ApiError> {
    PhoneNumber::parse(raw).map(Recipient::Phone).map_err(|_| {
        let shown: String = raw.chars().filter(|c| !c.is_control()).take(32).collect();
        ApiError::invalid(format!("Invalid parameter `PhoneNumber`: {shown} is not a phone number in E.164 format"))
    })
}

fn not_listed(raw: &str) -> ApiError {
    ApiError::new(404, code::NOT_FOUND, format!("The requested resource /SafeList/Numbers/{raw} was not found"))
}

fn unavailable(cause: String) -> ApiError {
    tracing::error!(%cause, "dependency failed");
    ApiError::from_verify(&VerifyError::StoreUnavailable(cause), "/SafeList/Numbers")
}

fn store_failed(e: StoreError) -> ApiError {
    match e {
        StoreError::Unavailable(cause) => unavailable(cause),
        StoreError::Conflict(_) => unavailable("unexpected conflict on a read".into()),
    }
}
