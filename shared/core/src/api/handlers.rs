//! The request handlers over plain `http` types. Every request of every
//! function goes through [`Api::handle`]: CORS preflight, origin check,
//! authentication, routing, then the handler; CORS headers on the way out.

use super::ApiError;
use super::auth::{self, Caller, Credentials};
use super::cors::{self, Cors};
use super::error::code;
use super::params::{Params, names};
use super::resource::{self, DEFAULT_PAGE_SIZE, Links, MAX_PAGE_SIZE};
use super::routes::{self, Function, Route};
use crate::channel::{Channel, ChannelError};
use crate::clock::Clock;
use crate::config::{Service, Services, check_friendly_name};
use crate::message;
use crate::metrics::{self, MetricSet, MetricsSink, dim};
use crate::otp::Code;
use crate::recipient::{Recipient, RecipientKind};
use crate::record::StoredStatus;
use crate::service::{CheckTarget, GuardNotes, RiskCheck, StartRequest, Verifier, VerifyError};
use crate::sid;
use crate::store::Stores;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use serde_json::Value;

/// Start parameters Twilio defines whose feature this service does not have:
/// refused, because ignoring them would send something other than asked
/// (a caller-chosen code, another template). Other unknown or unsupported
/// parameters are ignored, as Twilio ignores parameters it does not know.
const UNSUPPORTED_START_PARAMS: &[&str] = &["CustomCode", "TemplateSid"];

/// The verifier plus what the HTTP layer adds: who we are, where, who may call.
pub struct Api<S, C> {
    pub verifier: Verifier<S, C>,
    pub account_sid: String,
    /// Fixed base for `url` fields; otherwise taken from each request.
    pub public_base_url: Option<String>,
    pub credentials: Credentials,
    pub cors: Cors,
    /// Where each request's metrics go (one EMF line per request on Lambda).
    pub metrics: std::sync::Arc<dyn MetricsSink>,
    /// Whether webhooks may be created over the API (a secret signs them),
    /// and the rules their URLs are checked by: start-verify's and
    /// verify-local's (none elsewhere, so no other function holds the secret).
    pub api_webhooks: crate::webhooks::config::ApiWebhooks,
}

pub type HttpResponse = Response<String>;

impl<S> Api<S, crate::clock::SystemClock> {
    /// The API over a store and senders, as configured, on the system clock
    /// (the Lambda functions, verify-local and tests assemble it this way).
    pub fn new(settings: crate::config::Settings, store: S, senders: crate::sender::Senders) -> Self {
        Api {
            verifier: Verifier {
                store,
                senders,
                clock: crate::clock::SystemClock,
                services: crate::service_catalog::Catalog::from(settings.services).with_sms_profiles(settings.sms_profiles),
                keys: settings.keys,
            },
            account_sid: settings.account_sid,
            public_base_url: settings.public_base_url,
            credentials: settings.credentials,
            cors: settings.cors,
            metrics: std::sync::Arc::new(crate::metrics::NoMetrics),
            api_webhooks: Default::default(),
        }
    }
}

impl<S, C> Api<S, C> {
    /// The same API on another clock (a benchmark that lets time pass).
    pub fn on_clock<D>(self, clock: D) -> Api<S, D> {
        let Api { verifier, account_sid, public_base_url, credentials, cors, metrics, api_webhooks } = self;
        let Verifier { store, senders, services, keys, .. } = verifier;
        Api {
            verifier: Verifier { store, senders, clock, services, keys },
            account_sid,
            public_base_url,
            credentials,
            cors,
            metrics,
            api_webhooks,
        }
    }
}

impl<S: Stores, C: Clock> Api<S, C> {
    /// Answers one request as `function` serves it, in this order: a CORS
    /// preflight (the one thing answered without credentials: browsers send
    /// none with it), the refusal of a cross-site request from an origin
    /// not allowed, authentication, routing, the handler. Nothing is read
    /// from the store or sent before the request has passed all of them.
    pub async fn handle(&self, function: Function, req: &Request<Bytes>) -> HttpResponse {
        let started = std::time::Instant::now();
        let routed = routes::route(function, req.method(), req.uri().path());
        if let Some(preflight) = cors::preflight(&self.cors, req) {
            crate::logging::served("preflight", preflight.status().as_u16(), None, started);
            return preflight;
        }
        let name = routed.as_ref().map_or("unrouted", Route::name);
        let outcome = std::sync::Mutex::new(MetricSet::new());
        let (mut resp, code) = match self.dispatch(routed, req, &outcome).await {
            Ok(resp) => (resp, None),
            Err(e) => (error_response(&e), Some(e.code)),
        };
        cors::apply(&self.cors, req.headers(), &mut resp);
        crate::logging::served(name, resp.status().as_u16(), code, started);
        let mut outcome = outcome.into_inner().unwrap_or_else(|e| e.into_inner());
        outcome.dimension(dim::ROUTE, name).add(&metrics::LATENCY, started.elapsed().as_secs_f64() * 1000.0);
        self.metrics.emit(&outcome);
        resp
    }

    async fn dispatch(
        &self,
        routed: Result<Route, ApiError>,
        req: &Request<Bytes>,
        outcome: &std::sync::Mutex<MetricSet>,
    ) -> Result<HttpResponse, ApiError> {
        if let Some(refused) = cors::refuse_cross_site(&self.cors, req) {
            tracing::warn!(method = %req.method(), path = req.uri().path(), "request refused: origin not allowed");
            return Err(refused);
        }
        let caller = auth::authenticate(&self.credentials, req, self.public_base_url.as_deref()).inspect_err(|_| {
            tracing::warn!(method = %req.method(), path = req.uri().path(), "request refused: bad or missing credentials");
        })?;
        let route = routed?;
        let held = self.credentials.permissions_of(&caller);
        auth::authorize(held, route.operation())?;
        let base = self.base_url(req);
        let links = Links { base_url: &base, account_sid: &self.account_sid };
        // One snapshot for the request (a table read at most once per cache
        // period, not one per request).
        let services = self.verifier.services.current(&self.verifier.store).await.map_err(super::rate_limits::store_failed)?;
        let service = |sid: &str| service(&services, sid);
        let default = services.default_service();
        let (status, body) = match route {
            Route::PlainStart => (StatusCode::CREATED, self.start(default, req, &links, outcome).await?),
            Route::CreateVerification { service_sid } => {
                (StatusCode::CREATED, self.start(service(&service_sid)?, req, &links, outcome).await?)
            }
            Route::PlainCheck => (StatusCode::OK, with_template_message(self.check(default, req, &links, outcome).await?)),
            Route::CreateVerificationCheck { service_sid } => {
                (StatusCode::OK, self.check(service(&service_sid)?, req, &links, outcome).await?)
            }
            Route::FetchVerification { service_sid, id } => (StatusCode::OK, self.fetch(service(&service_sid)?, &id, &links).await?),
            Route::UpdateVerification { service_sid, id } => {
                (StatusCode::OK, self.update(service(&service_sid)?, &id, req, &caller, held, &links).await?)
            }
            Route::FetchService { sid } => (StatusCode::OK, resource::service(service(&sid)?, &links)),
            Route::ListServices => (StatusCode::OK, list_services(&services, req, &links)?),
            Route::CreateService => (StatusCode::CREATED, self.create_service(req, &links).await?),
            Route::UpdateService { sid } => (StatusCode::OK, self.update_service(&sid, req, &links).await?),
            Route::DeleteService { sid } => {
                self.delete_service(&sid).await?;
                return Ok(empty_response(StatusCode::NO_CONTENT));
            }
            Route::CreateSafeListNumber => (StatusCode::CREATED, self.create_safe_number(req, &links).await?),
            Route::FetchSafeListNumber { phone_number } => (StatusCode::OK, self.fetch_safe_number(&phone_number, &links).await?),
            Route::RateLimits { service_sid, target } => {
                let (status, body) = self.rate_limits(service(&service_sid)?, &target, req, &links).await?;
                match body {
                    Some(body) => (status, body),
                    None => return Ok(empty_response(status)),
                }
            }
            Route::MessagingConfigurations { service_sid, country } => {
                match self.messaging_configurations(&service_sid, country.as_deref(), req, &links).await? {
                    (status, Some(body)) => (status, body),
                    (status, None) => return Ok(empty_response(status)),
                }
            }
            Route::Webhooks { service_sid, sid } => {
                service(&service_sid)?;
                match self.webhooks(&services, &service_sid, sid.as_deref(), req, &links).await? {
                    (status, Some(body)) => (status, body),
                    (status, None) => return Ok(empty_response(status)),
                }
            }
            Route::DeleteSafeListNumber { phone_number } => {
                self.delete_safe_number(&phone_number).await?;
                return Ok(empty_response(StatusCode::NO_CONTENT));
            }
        };
        Ok(json_response(status, &body))
    }

    /// `To`, `Channel`, `Locale`, `CustomFriendlyName`: sends a code.
    async fn start(
        &self,
        service: &Service,
        req: &Request<Bytes>,
        links: &Links<'_>,
        outcome: &std::sync::Mutex<MetricSet>,
    ) -> Result<Value, ApiError> {
        let params = body_params(req)?;
        for name in UNSUPPORTED_START_PARAMS {
            if params.text(&[name])?.is_some() {
                return Err(ApiError::new(403, code::FEATURE_NOT_SUPPORTED, format!("Service does not support this feature: {name}")));
            }
        }
        let verifications = format!("/Services/{}/Verifications", service.sid);
        let requested = params.text(names::CHANNEL)?.unwrap_or("sms");
        let (to, channel) = if crate::channel::is_auto(requested) {
            let to = parse_to(RecipientKind::Phone, params.required(names::TO)?)?;
            let channel = self.verifier.auto_channel(service, &to).map_err(|e| refused(&e, &verifications))?;
            (to, channel)
        } else {
            let channel = parse_channel(requested)?;
            (parse_to(channel.spec().accepts, params.required(names::TO)?)?, channel)
        };
        let language = params
            .text(names::LOCALE)?
            .map(|l| message::language_for(l).ok_or_else(|| ApiError::invalid("Invalid parameter: Locale")))
            .transpose()?;
        let friendly_name = params
            .text(names::CUSTOM_FRIENDLY_NAME)?
            .map(|n| check_friendly_name(n).map_err(|e| ApiError::invalid(format!("Invalid parameter: CustomFriendlyName ({e})"))))
            .transpose()?;
        let email_from = super::channel_config::email_from(params.text(names::CHANNEL_CONFIGURATION)?, channel, service)?;
        let rate_limits = match params.object(&["RateLimits", "rate_limits"])? {
            Some(object) => crate::rate_limits::parse_start_param(&object)
                .map_err(|e| ApiError::invalid(format!("Invalid parameter: RateLimits ({e})")))?,
            None => Vec::new(),
        };
        let risk = risk_check(params.text(names::RISK_CHECK)?)?;
        let request = StartRequest { to, channel, language, friendly_name, email_from };
        let mut notes = GuardNotes::default();
        // The programmable rate limits count every well-formed start (as
        // Twilio counts requests), before the rules that may refuse it.
        let started = match self.verifier.take_rate_limits(service, &request, &rate_limits).await {
            Ok(()) => self.verifier.start_guarded(service, &request, risk, &mut notes).await,
            Err(e) => Err(e),
        };
        note_start(&mut outcome.lock().unwrap(), &request, &started);
        note_guard(&mut outcome.lock().unwrap(), notes);
        let record = started.map_err(|e| refused(&e, &verifications))?;
        Ok(resource::verification(&record, self.verifier.clock.now(), &service.limits, links))
    }

    /// `Code` plus `To` or `VerificationSid`: `approved`, or (wrong code) `pending`.
    async fn check(
        &self,
        service: &Service,
        req: &Request<Bytes>,
        links: &Links<'_>,
        outcome: &std::sync::Mutex<MetricSet>,
    ) -> Result<Value, ApiError> {
        let params = body_params(req)?;
        let code = params.required(names::CODE)?;
        let limits = &service.limits;
        // A code that cannot possibly match is refused before anything is
        // counted or compared: it reveals nothing and costs no attempt.
        let code = Code::parse(code, limits.code_length)
            .ok_or_else(|| ApiError::invalid(format!("Invalid parameter: Code (must be {} digits)", limits.code_length)))?;
        let target = match (params.text(names::VERIFICATION_SID)?, params.text(names::TO)?) {
            (Some(sid), _) if sid::is_sid(sid::VERIFICATION, sid) => CheckTarget::Sid(sid.to_owned()),
            (Some(_), _) => return Err(ApiError::invalid("Invalid parameter: VerificationSid")),
            (None, Some(to)) => CheckTarget::To(parse_recipient(to)?),
            (None, None) => return Err(ApiError::invalid("Missing required parameter To or VerificationSid")),
        };
        let mut notes = GuardNotes::default();
        let checked = self.verifier.check_noted(service, &target, &code, &mut notes).await;
        note_check(&mut outcome.lock().unwrap(), limits, &checked);
        note_guard(&mut outcome.lock().unwrap(), notes);
        let checked = checked.map_err(|e| refused(&e, &format!("/Services/{}/VerificationCheck", service.sid)))?;
        Ok(resource::verification_check(&checked.record, self.verifier.clock.now(), limits, links))
    }

    /// The pending verification a sid or number names.
    async fn fetch(&self, service: &Service, id: &str, links: &Links<'_>) -> Result<Value, ApiError> {
        let resource_path = format!("/Services/{}/Verifications/{id}", service.sid);
        let target = path_target(id).ok_or_else(|| not_found(&resource_path))?;
        let record = self.verifier.fetch(service, &target).await.map_err(|e| refused(&e, &resource_path))?;
        Ok(resource::verification(&record, self.verifier.clock.now(), &service.limits, links))
    }

    /// `Status=canceled` ends a pending verification; `Status=approved`
    /// approves it without a code, which only an authenticated caller
    /// holding `approve` may do (for apps that verify the code themselves,
    /// as with Twilio's custom codes).
    async fn update(
        &self,
        service: &Service,
        id: &str,
        req: &Request<Bytes>,
        caller: &Caller,
        held: auth::Permissions,
        links: &Links<'_>,
    ) -> Result<Value, ApiError> {
        let params = body_params(req)?;
        let status = match params.required(names::STATUS)?.trim().to_ascii_lowercase().as_str() {
            "canceled" => StoredStatus::Canceled,
            "approved" if caller.is_authenticated() => {
                auth::authorize(held, routes::Operation::ApproveVerification)?;
                StoredStatus::Approved
            }
            "approved" => {
                return Err(ApiError::new(
                    403,
                    code::FEATURE_NOT_SUPPORTED,
                    "Service does not support this feature: approval without a code needs credentials",
                ));
            }
            _ => return Err(ApiError::invalid("Invalid parameter: Status (canceled or approved)")),
        };
        let resource_path = format!("/Services/{}/Verifications/{id}", service.sid);
        let target = path_target(id).ok_or_else(|| not_found(&resource_path))?;
        let record = self.verifier.close(service, &target, status).await.map_err(|e| refused(&e, &resource_path))?;
        Ok(resource::verification(&record, self.verifier.clock.now(), &service.limits, links))
    }

    fn base_url(&self, req: &Request<Bytes>) -> String {
        self.public_base_url.clone().unwrap_or_else(|| request_base_url(req))
    }
}

/// A service (configured or created over the API), or Twilio's 404 for an unknown one.
fn service<'a>(services: &'a Services, sid: &str) -> Result<&'a Service, ApiError> {
    services.get(sid).ok_or_else(|| not_found(&format!("/Services/{sid}")))
}

fn list_services(services: &Services, req: &Request<Bytes>, links: &Links<'_>) -> Result<Value, ApiError> {
    let (page_size, page) = page_of(req)?;
    Ok(resource::services_page(services.all(), page_size, page, links))
}

/// A list's `PageSize` (1–1000, default 50) and `Page` from the query.
pub(super) fn page_of(req: &Request<Bytes>) -> Result<(usize, usize), ApiError> {
    let query = Params::from_form(req.uri().query().unwrap_or("").as_bytes());
    let number = |name: &str, default: usize, min: usize, max: usize| match query.text(&[name])? {
        None => Ok(default),
        Some(raw) => match raw.trim().parse::<usize>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::invalid(format!("Invalid parameter: {name}"))),
        },
    };
    Ok((number("PageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)?, number("Page", 0, 0, 1_000_000)?))
}

fn empty_response(status: StatusCode) -> HttpResponse {
    let mut resp = Response::new(String::new());
    *resp.status_mut() = status;
    resp
}

/// The plain check endpoint answers as Twilio's serverless `check-verify`
/// template does, so pages written for it can show `message`: the
/// VerificationCheck plus a `message` ("Verification success." or
/// "Incorrect token."). The v2 resource stays exactly Twilio's.
fn with_template_message(mut check: Value) -> Value {
    let approved = check["status"] == "approved";
    check["message"] = Value::from(if approved { "Verification success." } else { "Incorrect token." });
    check
}

/// A start's metrics: the send (by channel and country), or why there was none.
fn note_start(set: &mut MetricSet, req: &StartRequest, result: &Result<crate::record::VerificationRecord, VerifyError>) {
    set.dimension(dim::CHANNEL, req.channel.as_str());
    match result {
        // A test recipient is sent nothing and costs nothing: not a send.
        Ok(record) if record.test => {}
        Ok(record) => {
            set.dimension(dim::COUNTRY, record.country.as_deref().unwrap_or("none")).add(&metrics::SENDS, 1.0);
        }
        Err(e) => note_error(set, e),
    }
}

/// A check's metrics: an approval (by channel and country), a wrong code
/// (and a lockout when it used up the number's failures), or a refusal.
fn note_check(set: &mut MetricSet, limits: &crate::config::Limits, result: &Result<crate::service::CheckOutcome, VerifyError>) {
    match result {
        Ok(checked) => {
            let record = &checked.record;
            set.dimension(dim::CHANNEL, &record.channel).dimension(dim::COUNTRY, record.country.as_deref().unwrap_or("none"));
            if checked.approved {
                set.add(&metrics::APPROVALS, 1.0);
            } else {
                set.add(&metrics::WRONG_CODES, 1.0);
                if record.failures >= limits.max_failures {
                    set.add(&metrics::LOCKOUTS, 1.0);
                }
            }
        }
        Err(e) => note_error(set, e),
    }
}

/// What the fraud guard did beside the answer (see [`GuardNotes`]).
fn note_guard(set: &mut MetricSet, notes: GuardNotes) {
    if notes.monitored {
        set.dimension(dim::REASON, crate::store::blocked::reason::FRAUD_GUARD_MONITOR).add(&metrics::FRAUD_GUARD, 1.0);
    }
    if notes.counter_failures > 0 {
        set.dimension(dim::REASON, "counter_write").add(&metrics::FRAUD_GUARD, f64::from(notes.counter_failures));
    }
}

/// Twilio's `RiskCheck`: `enable` (the default) or `disable`.
fn risk_check(raw: Option<&str>) -> Result<RiskCheck, ApiError> {
    match raw.map(|r| r.trim().to_ascii_lowercase()).as_deref() {
        None | Some("enable") => Ok(RiskCheck::Enable),
        Some("disable") => Ok(RiskCheck::Disable),
        Some(_) => Err(ApiError::invalid("Invalid parameter: RiskCheck (enable or disable)")),
    }
}

fn note_error(set: &mut MetricSet, e: &VerifyError) {
    if let Some(reason) = metrics::block_reason(e) {
        set.dimension(dim::REASON, reason).add(&metrics::BLOCKS, 1.0);
    }
    match e {
        VerifyError::StoreUnavailable(_) => {
            set.add(&metrics::STORE_ERRORS, 1.0);
        }
        VerifyError::SendFailed(_) => {
            set.add(&metrics::SENDER_ERRORS, 1.0);
        }
        _ => {}
    }
}

/// Maps a domain refusal to Twilio's error, logging causes the client does
/// not see.
fn refused(e: &VerifyError, resource: &str) -> ApiError {
    if let VerifyError::StoreUnavailable(cause) | VerifyError::SendFailed(cause) = e {
        tracing::error!(%cause, "dependency failed");
    }
    ApiError::from_verify(e, resource)
}

fn not_found(resource: &str) -> ApiError {
    ApiError::from_verify(&VerifyError::NotFound, resource)
}

/// The `{Sid}` of a verification path: a `VE` sid, or the recipient (an
/// E.164 number or an e-mail address).
fn path_target(id: &str) -> Option<CheckTarget> {
    if sid::is_sid(sid::VERIFICATION, id) {
        return Some(CheckTarget::Sid(id.to_owned()));
    }
    Recipient::parse_any(id).ok().map(CheckTarget::To)
}

/// The body's parameters, by its content type (the router has already made
/// sure only POST gets here).
pub(super) fn body_params(req: &Request<Bytes>) -> Result<Params, ApiError> {
    if req.method() != Method::POST {
        return Err(ApiError::new(405, code::METHOD_NOT_ALLOWED, format!("Method {} not allowed; use POST", req.method())));
    }
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    Params::from_body(content_type, req.body())
}

/// `To` as the kind of recipient the channel takes. The other kind is
/// named as such, with the channel that takes it.
fn parse_to(kind: RecipientKind, raw: &str) -> Result<Recipient, ApiError> {
    Recipient::parse(kind, raw).map_err(|e| match (kind, Recipient::parse_any(raw)) {
        (RecipientKind::Phone, Ok(Recipient::Email(_))) => {
            ApiError::invalid("Invalid parameter `To`: an e-mail address needs Channel=email; this channel sends to phone numbers")
        }
        (RecipientKind::Email, Ok(Recipient::Phone(_))) => {
            ApiError::invalid("Invalid parameter `To`: a phone number cannot receive e-mail; Channel=email needs an e-mail address")
        }
        _ => ApiError::from_recipient(&e, raw),
    })
}

/// `To` of a check: whichever kind of recipient it is.
fn parse_recipient(raw: &str) -> Result<Recipient, ApiError> {
    Recipient::parse_any(raw).map_err(|e| ApiError::from_recipient(&e, raw))
}

fn parse_channel(raw: &str) -> Result<Channel, ApiError> {
    Channel::parse(raw).map_err(|e| match e {
        ChannelError::NotDelivered(c) => ApiError::new(
            400,
            code::CHANNEL_DISABLED,
            format!("Delivery channel disabled: {c} (this service delivers on: {})", delivered()),
        ),
        ChannelError::Unknown => ApiError::invalid("Invalid parameter: Channel"),
    })
}

fn delivered() -> String {
    crate::channel::REGISTRY.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
}

pub use crate::access::request_base_url;

pub fn json_response(status: StatusCode, body: &Value) -> HttpResponse {
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
    if e.status == 401 {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"Twilio API\""));
    }
    resp
}
