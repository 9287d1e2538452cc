//! The start-verify and check-verify handlers over plain `http` types.

use super::error::code;
use super::params::{Params, names};
use super::resource::{self, Links};
use super::ApiError;
use crate::clock::Clock;
use crate::message;
use crate::otp::Code;
use crate::phone::{PhoneError, PhoneNumber};
use crate::sender::Sender;
use crate::service::{CheckTarget, StartRequest, Verifier};
use crate::sid;
use crate::store::Store;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};

/// Channels Twilio knows that this service does not deliver (yet).
const KNOWN_CHANNELS: &[&str] = &["call", "email", "whatsapp", "sna", "auto", "rcs"];

/// The verifier plus what the HTTP layer adds: who we are and where.
pub struct Api<S, M, C> {
    pub verifier: Verifier<S, M, C>,
    pub account_sid: String,
    /// Fixed base for `url` fields; otherwise taken from each request.
    pub public_base_url: Option<String>,
}

pub type HttpResponse = Response<String>;

impl<S: Store, M: Sender, C: Clock> Api<S, M, C> {
    /// `POST` with `To`, `Channel`, `Locale`: sends a code, answers 201 with
    /// the Verification.
    pub async fn start_verify(&self, req: &Request<Bytes>) -> HttpResponse {
        match self.try_start(req).await {
            Ok(body) => json_response(StatusCode::CREATED, &body),
            Err(e) => error_response(&e),
        }
    }

    /// `POST` with `Code` and `To` or `VerificationSid`: answers 200 with the
    /// VerificationCheck, `approved` or (wrong code) `pending`.
    pub async fn check_verify(&self, req: &Request<Bytes>) -> HttpResponse {
        match self.try_check(req).await {
            Ok(body) => json_response(StatusCode::OK, &body),
            Err(e) => error_response(&e),
        }
    }

    async fn try_start(&self, req: &Request<Bytes>) -> Result<serde_json::Value, ApiError> {
        let params = post_params(req)?;
        let to = parse_to(params.required(names::TO)?)?;
        let channel = parse_channel(params.text(names::CHANNEL)?.unwrap_or("sms"))?;
        let language = params
            .text(names::LOCALE)?
            .map(|l| message::language_for(l).ok_or_else(|| ApiError::invalid("Invalid parameter: Locale")))
            .transpose()?;
        let record = self
            .verifier
            .start(&StartRequest { to, channel, language })
            .await
            .map_err(|e| self.refused(&e, "Verifications"))?;
        let now = self.verifier.clock.now();
        let base = self.base_url(req);
        let links = Links { base_url: &base, account_sid: &self.account_sid };
        Ok(resource::verification(&record, now, self.verifier.limits(), &links))
    }

    async fn try_check(&self, req: &Request<Bytes>) -> Result<serde_json::Value, ApiError> {
        let params = post_params(req)?;
        let code = params.required(names::CODE)?;
        let limits = self.verifier.limits();
        // A code that cannot possibly match is refused before anything is
        // counted or compared: it reveals nothing and costs no attempt.
        let code = Code::parse(code, limits.code_length).ok_or_else(|| {
            ApiError::invalid(format!("Invalid parameter: Code (must be {} digits)", limits.code_length))
        })?;
        let target = match (params.text(names::VERIFICATION_SID)?, params.text(names::TO)?) {
            (Some(sid), _) if sid::is_sid(sid::VERIFICATION, sid) => CheckTarget::Sid(sid.to_owned()),
            (Some(_), _) => return Err(ApiError::invalid("Invalid parameter: VerificationSid")),
            (None, Some(to)) => CheckTarget::To(parse_to(to)?),
            (None, None) => return Err(ApiError::invalid("Missing required parameter To or VerificationSid")),
        };
        let outcome = self.verifier.check(&target, &code).await.map_err(|e| self.refused(&e, "VerificationCheck"))?;
        let now = self.verifier.clock.now();
        let base = self.base_url(req);
        let links = Links { base_url: &base, account_sid: &self.account_sid };
        Ok(resource::verification_check(&outcome.record, now, limits, &links))
    }

    fn refused(&self, e: &crate::service::VerifyError, what: &str) -> ApiError {
        if let crate::service::VerifyError::StoreUnavailable(cause) | crate::service::VerifyError::SendFailed(cause) = e {
            tracing::error!(%cause, "dependency failed");
        }
        ApiError::from_verify(e, &format!("/Services/{}/{what}", self.verifier.service.sid))
    }

    fn base_url(&self, req: &Request<Bytes>) -> String {
        self.public_base_url.clone().unwrap_or_else(|| request_base_url(req))
    }
}

/// Only POST carries parameters; the body is parsed by its content type.
fn post_params(req: &Request<Bytes>) -> Result<Params, ApiError> {
    if req.method() != Method::POST {
        return Err(ApiError::new(405, code::METHOD_NOT_ALLOWED, format!("Method {} not allowed; use POST", req.method())));
    }
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    Params::from_body(content_type, req.body())
}

fn parse_to(raw: &str) -> Result<PhoneNumber, ApiError> {
    PhoneNumber::parse(raw).map_err(|e| match e {
        PhoneError::Invalid => {
            // Echo the input only when it is short and printable, as Twilio does.
            let shown: String = raw.chars().filter(|c| !c.is_control()).take(32).collect();
            ApiError::invalid(format!("Invalid parameter `To`: {shown}"))
        }
        PhoneError::BlockedType => ApiError::new(
            403,
            code::DELIVERY_BLOCKED,
            "Delivery to premium-rate and shared-cost numbers is blocked",
        ),
    })
}

fn parse_channel(raw: &str) -> Result<String, ApiError> {
    let channel = raw.trim().to_ascii_lowercase();
    match channel.as_str() {
        "sms" => Ok(channel),
        c if KNOWN_CHANNELS.contains(&c) => {
            Err(ApiError::new(400, code::CHANNEL_DISABLED, format!("Delivery channel disabled: {c} (only sms is supported)")))
        }
        _ => Err(ApiError::invalid("Invalid parameter: Channel")),
    }
}

/// `https://host` as the client reached us: function URLs put the scheme in
/// `X-Forwarded-Proto`; verify-local is plain http.
pub fn request_base_url(req: &Request<Bytes>) -> String {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let host = header("host").or_else(|| req.uri().host()).unwrap_or("localhost");
    let scheme = header("x-forwarded-proto").unwrap_or("http");
    format!("{scheme}://{host}")
}

pub fn json_response(status: StatusCode, body: &serde_json::Value) -> HttpResponse {
    let mut resp = Response::new(body.to_string());
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

pub fn error_response(e: &ApiError) -> HttpResponse {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut resp = json_response(status, &e.body());
    if let Some(secs) = e.retry_after {
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1) as u64));
    }
    resp
}
