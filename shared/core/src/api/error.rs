//! Twilio-shaped errors: `{"code","message","more_info","status"}` plus
//! `"success": false`, with `Retry-After` on the retryable ones.

use crate::clock::Seconds;
use crate::email::EmailError;
use crate::phone::PhoneError;
use crate::recipient::RecipientError;
use crate::service::VerifyError;
use serde_json::json;

pub mod code {
    pub const AUTHENTICATE: u32 = 20003;
    pub const FORBIDDEN: u32 = 20403;
    pub const METHOD_NOT_ALLOWED: u32 = 20004;
    pub const NOT_FOUND: u32 = 20404;
    /// Twilio's "Too many requests" (a programmable rate limit's bucket is full).
    pub const TOO_MANY_REQUESTS: u32 = 20429;
    pub const SERVICE_UNAVAILABLE: u32 = 20503;
    pub const INVALID_PARAMETER: u32 = 60200;
    pub const MAX_CHECK_ATTEMPTS: u32 = 60202;
    pub const MAX_SEND_ATTEMPTS: u32 = 60203;
    pub const FEATURE_NOT_SUPPORTED: u32 = 60204;
    pub const SMS_TO_LANDLINE: u32 = 60205;
    pub const TOO_MANY_CONCURRENT: u32 = 60212;
    pub const CHANNEL_DISABLED: u32 = 60223;
    pub const DELIVERY_BLOCKED: u32 = 60605;
    pub const FRAUD_GUARD_BLOCKED: u32 = 60410;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: u32,
    pub message: String,
    /// Twilio's longer explanation, when it gives one (401 does).
    pub detail: Option<String>,
    pub retry_after: Option<Seconds>,
}

impl ApiError {
    pub fn new(status: u16, code: u32, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), detail: None, retry_after: None }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(400, code::INVALID_PARAMETER, message)
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn retry_after(mut self, secs: Seconds) -> Self {
        self.retry_after = Some(secs.max(1));
        self
    }

    pub fn body(&self) -> serde_json::Value {
        let mut body = json!({
            "code": self.code,
            "message": self.message,
            "more_info": format!("https://www.twilio.com/docs/errors/{}", self.code),
            "status": self.status,
            "success": false,
        });
        if let Some(detail) = &self.detail {
            body["detail"] = json!(detail);
        }
        body
    }

    /// Why `To` is not a recipient we can send to.
    pub fn from_recipient(e: &RecipientError, raw: &str) -> ApiError {
        match e {
            RecipientError::Phone(e) => ApiError::from_phone(e, raw),
            RecipientError::Email(e) => {
                let shown: String = raw.chars().filter(|c| !c.is_control()).take(64).collect();
                let why = match e {
                    EmailError::NotAnAddress => "is not an e-mail address",
                    EmailError::BadLocalPart => {
                        "has a part before @ that is not accepted (letters, digits and . ! # $ % & ' * + - / = ? ^ _ ` { | } ~)"
                    }
                    EmailError::BadDomain => "has no valid domain after @",
                };
                ApiError::invalid(format!("Invalid parameter `To`: {shown} {why}"))
            }
        }
    }

    /// Why `To` is not a number we can send to, in words a person can act on.
    pub fn from_phone(e: &PhoneError, raw: &str) -> ApiError {
        // Echo the input only when it is short and printable, as Twilio does.
        let shown: String = raw.chars().filter(|c| !c.is_control()).take(32).collect();
        let why = match e {
            PhoneError::Invalid => "is not a phone number".to_owned(),
            PhoneError::NoCountryCode => "has no country code; write it with + and the country code, e.g. +14155550123".to_owned(),
            PhoneError::NotInPlan { country: Some(c) } => format!("is not a valid number in the numbering plan of {c}"),
            PhoneError::NotInPlan { country: None } => "is not a valid number for its country code".to_owned(),
            PhoneError::BlockedType => {
                return ApiError::new(403, code::DELIVERY_BLOCKED, "Delivery to premium-rate and shared-cost numbers is blocked");
            }
        };
        ApiError::invalid(format!("Invalid parameter `To`: {shown} {why}"))
    }

    /// Maps a domain refusal; `resource` names what was not found, as Twilio
    /// does ("The requested resource /Services/VA…/VerificationCheck …").
    pub fn from_verify(e: &VerifyError, resource: &str) -> ApiError {
        match e {
            VerifyError::NotFound => ApiError::new(404, code::NOT_FOUND, format!("The requested resource {resource} was not found")),
            VerifyError::AttemptsExhausted { retry_after } => {
                ApiError::new(429, code::MAX_CHECK_ATTEMPTS, "Max check attempts reached").retry_after(*retry_after)
            }
            VerifyError::Locked { retry_after, until } => ApiError::new(
                429,
                code::MAX_CHECK_ATTEMPTS,
                format!(
                    "Max check attempts reached: this number is locked after too many wrong codes, until {}",
                    crate::time_fmt::iso8601(*until)
                ),
            )
            .retry_after(*retry_after),
            VerifyError::SendsExhausted { retry_after } => {
                ApiError::new(429, code::MAX_SEND_ATTEMPTS, "Max send attempts reached").retry_after(*retry_after)
            }
            VerifyError::Busy => {
                ApiError::new(429, code::TOO_MANY_CONCURRENT, "Too many concurrent requests for phone number").retry_after(1)
            }
            // The cause is logged by the caller; the client learns only that
            // it may retry, and that nothing was lost.
            VerifyError::StoreUnavailable(_) => {
                ApiError::new(503, code::SERVICE_UNAVAILABLE, "Verification store unavailable; please retry").retry_after(1)
            }
            VerifyError::SendFailed(_) => {
                ApiError::new(503, code::SERVICE_UNAVAILABLE, "The code could not be sent and no code was issued; please retry")
                    .retry_after(2)
            }
            VerifyError::CountryNotAllowed => ApiError::new(
                403,
                code::DELIVERY_BLOCKED,
                "Delivery of verifications to this country is not allowed by the service's geo permissions",
            ),
            VerifyError::ChannelDisabled(channel) => {
                ApiError::new(400, code::CHANNEL_DISABLED, format!("Delivery channel disabled: {channel}"))
            }
            VerifyError::RateLimited { unique_name, max, interval, retry_after } => ApiError::new(
                429,
                code::TOO_MANY_REQUESTS,
                format!("Too many requests: rate limit {unique_name} allows {max} per {interval} s for this value"),
            )
            .retry_after(*retry_after),
            VerifyError::BudgetExhausted { cap, retry_after } => ApiError::new(
                429,
                code::TOO_MANY_REQUESTS,
                match cap {
                    crate::budget::BudgetCap::Service => {
                        "Too many requests: the service's daily send budget is used up; it resets at 00:00 UTC".to_owned()
                    }
                    crate::budget::BudgetCap::Country(cc) => {
                        format!("Too many requests: the service's daily send budget for {cc} is used up; it resets at 00:00 UTC")
                    }
                },
            )
            .retry_after(*retry_after),
            VerifyError::UnknownRateLimit(name) => {
                ApiError::invalid(format!("Invalid parameter: RateLimits names {name}, which is not a rate limit of this service"))
            }
            VerifyError::FraudGuard { retry_after } => ApiError::new(
                403,
                code::FRAUD_GUARD_BLOCKED,
                "Verification delivery attempt blocked: the service's fraud guard blocked this number's prefix for suspected SMS pumping",
            )
            .retry_after(*retry_after),
            VerifyError::SmsToLandline => ApiError::new(403, code::SMS_TO_LANDLINE, "SMS is not supported by landline phone number"),
            VerifyError::FeatureDisabled(what) => {
                ApiError::new(403, code::FEATURE_NOT_SUPPORTED, format!("Service does not support this feature: {what}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_numbers_say_what_is_wrong() {
        let msg = |raw: &str| ApiError::from_phone(&PhoneNumber::parse(raw).unwrap_err(), raw);
        use crate::phone::PhoneNumber;
        let e = msg("4155550123");
        assert_eq!((e.status, e.code), (400, 60200));
        assert!(e.message.contains("no country code"), "{}", e.message);
        assert!(msg("+44 20 7946 095").message.contains("numbering plan of GB"));
        assert!(msg("call me").message.contains("is not a phone number"));
        assert_eq!(msg("+44 909 8790000").status, 403);
    }

    #[test]
    fn a_locked_number_is_told_apart_from_used_up_attempts() {
        let locked = ApiError::from_verify(&VerifyError::Locked { retry_after: 3600, until: 1_438_290_000 }, "/x");
        let used_up = ApiError::from_verify(&VerifyError::AttemptsExhausted { retry_after: 60 }, "/x");
        assert_eq!((locked.status, locked.code, locked.retry_after), (429, 60202, Some(3600)));
        assert!(locked.message.contains("locked") && locked.message.contains("2015-07-30T21:00:00Z"), "{}", locked.message);
        assert_eq!(used_up.message, "Max check attempts reached");
    }
}
