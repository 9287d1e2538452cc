//! Twilio Verify v2 resources as JSON: `Verification` and `VerificationCheck`
//! (field names and shapes from Twilio's OpenAPI description), each with
//! `"success"` for Studio and Flex callers that branch on it.

use crate::clock::Seconds;
use crate::config::Limits;
use crate::record::{Status, VerificationRecord};
use crate::time_fmt::iso8601;
use serde_json::{Value, json};

/// Where the resources live, for their `url` fields.
pub struct Links<'a> {
    pub base_url: &'a str,
    pub account_sid: &'a str,
}

impl Links<'_> {
    pub fn verification_url(&self, r: &VerificationRecord) -> String {
        format!("{}/v2/Services/{}/Verifications/{}", self.base_url, r.service_sid, r.sid)
    }
}

pub fn verification(r: &VerificationRecord, now: Seconds, limits: &Limits, links: &Links<'_>) -> Value {
    let status = r.status_at(now, limits);
    let attempts: Vec<Value> = r
        .send_attempts
        .iter()
        .map(|a| json!({"time": iso8601(a.time), "channel": a.channel, "attempt_sid": a.attempt_sid}))
        .collect();
    json!({
        "sid": r.sid,
        "service_sid": r.service_sid,
        "account_sid": links.account_sid,
        "to": r.to,
        "channel": r.channel,
        "status": status.as_str(),
        "valid": status == Status::Approved,
        "lookup": {},
        "amount": null,
        "payee": null,
        "send_code_attempts": attempts,
        "sna": null,
        "date_created": iso8601(r.created_at),
        "date_updated": iso8601(r.updated_at),
        "url": links.verification_url(r),
        "success": true,
    })
}

/// A check's result. `success` mirrors approval, so a Studio flow can branch
/// on `parsed.success` exactly as with Twilio's serverless templates.
pub fn verification_check(r: &VerificationRecord, now: Seconds, limits: &Limits, links: &Links<'_>) -> Value {
    let status = r.status_at(now, limits);
    // A wrong code leaves the verification pending even on the last attempt:
    // Twilio answers "pending" then, and 60202 only on the next check.
    let status = if status == Status::MaxAttemptsReached { Status::Pending } else { status };
    let approved = status == Status::Approved;
    json!({
        "sid": r.sid,
        "service_sid": r.service_sid,
        "account_sid": links.account_sid,
        "to": r.to,
        "channel": r.channel,
        "status": status.as_str(),
        "valid": approved,
        "amount": null,
        "payee": null,
        "sna_attempts_error_codes": [],
        "date_created": iso8601(r.created_at),
        "date_updated": iso8601(r.updated_at),
        "success": approved,
    })
}
