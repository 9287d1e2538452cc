//! Twilio Verify v2 resources as JSON: `Verification`, `VerificationCheck`,
//! `Service` and the services list page (field names and shapes from
//! Twilio's OpenAPI description). Verifications carry `"success"` for Studio
//! and Flex callers that branch on it.

use crate::clock::Seconds;
use crate::config::{Limits, Service};
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
        format!("{}/Verifications/{}", self.service_url(&r.service_sid), r.sid)
    }

    pub fn service_url(&self, service_sid: &str) -> String {
        format!("{}/v2/Services/{service_sid}", self.base_url)
    }

    pub fn services_page_url(&self, page_size: usize, page: usize) -> String {
        format!("{}/v2/Services?PageSize={page_size}&Page={page}", self.base_url)
    }
}

pub fn verification(r: &VerificationRecord, now: Seconds, limits: &Limits, links: &Links<'_>) -> Value {
    let status = r.status_at(now, limits);
    let attempts: Vec<Value> =
        r.send_attempts.iter().map(|a| json!({"time": iso8601(a.time), "channel": a.channel, "attempt_sid": a.attempt_sid})).collect();
    json!({
        "sid": r.sid,
        "service_sid": r.service_sid,
        "account_sid": links.account_sid,
        "to": r.to,
        "channel": r.channel,
        "status": status.as_str(),
        "valid": status == Status::Approved,
        // Not in Twilio's resource (its clients ignore it): the locale the
        // last code was sent in, after fallback.
        "locale": r.locale,
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

/// A configured service as Twilio's `Service` resource. Features this
/// implementation does not have are reported off (`false`/`null`); services
/// come from configuration, so they have no creation date. `links` name only
/// the sub-resources served here.
pub fn service(s: &Service, links: &Links<'_>) -> Value {
    let url = links.service_url(&s.sid);
    json!({
        "sid": s.sid,
        "account_sid": links.account_sid,
        "friendly_name": s.friendly_name,
        "code_length": s.limits.code_length,
        "lookup_enabled": false,
        "psd2_enabled": false,
        "skip_sms_to_landlines": s.skip_sms_to_landlines,
        "dtmf_input_required": false,
        "tts_name": null,
        "do_not_share_warning_enabled": false,
        "custom_code_enabled": false,
        "push": {"include_date": false, "apn_credential_sid": null, "fcm_credential_sid": null},
        "totp": {"issuer": null, "time_step": null, "code_length": null, "skew": null},
        "whatsapp": {"msg_service_sid": null, "from": null},
        "passkeys": {
            "relying_party": {"id": null, "name": null, "origins": null},
            "authenticator_attachment": null,
            "discoverable_credentials": null,
            "user_verification": null,
        },
        "default_template_sid": null,
        "verify_event_subscription_enabled": false,
        // A service only in the configuration document has no dates.
        "date_created": s.dates.map(|d| iso8601(d.0)),
        "date_updated": s.dates.map(|d| iso8601(d.1)),
        "links": {
            "verifications": format!("{url}/Verifications"),
            "messaging_configurations": format!("{url}/MessagingConfigurations"),
            "verification_checks": format!("{url}/VerificationCheck"),
            "rate_limits": format!("{url}/RateLimits"),
            "webhooks": format!("{url}/Webhooks"),
        },
        "url": url,
    })
}

/// Default and largest page sizes of list endpoints (Twilio's).
pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 1000;

/// One page of the services list.
pub fn services_page(all: &[Service], page_size: usize, page: usize, links: &Links<'_>) -> Value {
    let items: Vec<Value> = all.iter().map(|s| service(s, links)).collect();
    list_page("services", items, page_size, page, |size, n| links.services_page_url(size, n))
}

/// One page of a list resource under `key`, with Twilio's `meta` (absolute
/// URLs on our own host, so helper libraries can follow `next_page_url`).
/// `url_of(page_size, page)` is a page's address.
pub fn list_page(key: &str, all: Vec<Value>, page_size: usize, page: usize, url_of: impl Fn(usize, usize) -> String) -> Value {
    let start = page.saturating_mul(page_size);
    let has_next = start.saturating_add(page_size) < all.len();
    let items: Vec<Value> = all.into_iter().skip(start).take(page_size).collect();
    json!({
        key: items,
        "meta": {
            "page": page,
            "page_size": page_size,
            "first_page_url": url_of(page_size, 0),
            "previous_page_url": if page > 0 { json!(url_of(page_size, page - 1)) } else { Value::Null },
            "url": url_of(page_size, page),
            "next_page_url": if has_next { json!(url_of(page_size, page + 1)) } else { Value::Null },
            "key": key,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn services(n: usize) -> Vec<Service> {
        (0..n).map(|i| Service::new(format!("VA{i:032x}"), format!("S{i}"), Limits::default())).collect()
    }

    #[test]
    fn service_fields_follow_twilio() {
        let links = Links { base_url: "http://127.0.0.1:9", account_sid: "AC1" };
        let v = service(&services(1)[0], &links);
        assert_eq!(v["sid"], "VA00000000000000000000000000000000");
        assert_eq!(v["code_length"], 6);
        assert_eq!(v["url"], "http://127.0.0.1:9/v2/Services/VA00000000000000000000000000000000");
        assert!(v["links"]["verifications"].as_str().unwrap().ends_with("/Verifications"));
        assert!(v["links"]["verification_checks"].as_str().unwrap().ends_with("/VerificationCheck"));
    }

    #[test]
    fn pages_link_to_each_other() {
        let links = Links { base_url: "https://v.example", account_sid: "AC1" };
        let all = services(5);
        let first = services_page(&all, 2, 0, &links);
        assert_eq!(first["services"].as_array().unwrap().len(), 2);
        assert_eq!(first["meta"]["previous_page_url"], Value::Null);
        assert_eq!(first["meta"]["next_page_url"], "https://v.example/v2/Services?PageSize=2&Page=1");
        assert_eq!(first["meta"]["key"], "services");
        let last = services_page(&all, 2, 2, &links);
        assert_eq!(last["services"].as_array().unwrap().len(), 1);
        assert_eq!(last["meta"]["next_page_url"], Value::Null);
        assert_eq!(last["meta"]["previous_page_url"], "https://v.example/v2/Services?PageSize=2&Page=1");
        let beyond = services_page(&all, 2, usize::MAX, &links);
        assert_eq!(beyond["services"].as_array().unwrap().len(), 0);
    }
}
