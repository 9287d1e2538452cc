//! `/v2/Services/{sid}/RateLimits` and `…/RateLimits/{RK}/Buckets`:
//! Twilio's programmable rate limits, defined over the API (`admin` only)
//! and stored as one versioned document per service. Every change reads
//! the document, applies the rule from [`crate::rate_limits`] and writes it
//! back on the condition that nobody changed it meanwhile (tried again a
//! few times when somebody did).

use super::handlers::{Api, body_params, page_of};
use super::params::Params;
use super::resource::{Links, list_page};
use super::routes::RateLimitTarget;
use super::{ApiError, error::code};
use crate::clock::Clock;
use crate::config::Service;
use crate::rate_limits::{self as rules, Bucket, RateLimit, RateLimits};
use crate::service::VerifyError;
use crate::sid;
use crate::store::StoreError;
use crate::store::Stores;
use crate::time_fmt::iso8601;
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use serde_json::{Value, json};

/// How many times a change is tried when another change got in first.
const SAVE_TRIES: usize = 5;

impl<S: Stores, C: Clock> Api<S, C> {
    /// One request on a rate-limit resource: the status and body (`None`
    /// for a deletion's empty 204).
    pub(super) async fn rate_limits(
        &self,
        service: &Service,
        target: &RateLimitTarget,
        req: &Request<Bytes>,
        links: &Links<'_>,
    ) -> Result<(StatusCode, Option<Value>), ApiError> {
        let at = Urls { base: links.service_url(&service.sid), account_sid: links.account_sid, service_sid: &service.sid };
        let method = req.method();
        match target {
            RateLimitTarget::Limits if method == Method::POST => {
                let created = self.create_limit(service, req).await?;
                Ok((StatusCode::CREATED, Some(at.limit(&created))))
            }
            RateLimitTarget::Limits => {
                let set = self.read(service).await?;
                let items = set.limits.iter().map(|l| at.limit(l)).collect();
                Ok((StatusCode::OK, Some(at.page(req, "rate_limits", items, &at.limits_url())?)))
            }
            RateLimitTarget::Limit(rk) if method == Method::GET => {
                let set = self.read(service).await?;
                let limit = set.limit(rk).ok_or_else(|| not_found(&at.limit_url(rk)))?;
                Ok((StatusCode::OK, Some(at.limit(limit))))
            }
            RateLimitTarget::Limit(rk) if method == Method::POST => {
                let params = body_params(req)?;
                let description = params.text(&["Description", "description"])?.map(str::to_owned);
                let now = self.verifier.clock.now();
                let updated = self
                    .change(service, |set| {
                        let limit = set.limit_mut(rk).ok_or_else(|| not_found(&at.limit_url(rk)))?;
                        if description.is_some() {
                            limit.description.clone_from(&description);
                            limit.updated_at = now;
                        }
                        Ok(limit.clone())
                    })
                    .await?;
                Ok((StatusCode::OK, Some(at.limit(&updated))))
            }
            RateLimitTarget::Limit(rk) => {
                self.change(service, |set| {
                    let before = set.limits.len();
                    set.limits.retain(|l| &l.sid != rk);
                    if set.limits.len() == before { Err(not_found(&at.limit_url(rk))) } else { Ok(()) }
                })
                .await?;
                Ok((StatusCode::NO_CONTENT, None))
            }
            RateLimitTarget::Buckets(rk) if method == Method::POST => {
                let created = self.create_bucket(service, rk, req, &at).await?;
                Ok((StatusCode::CREATED, Some(at.bucket(rk, &created))))
            }
            RateLimitTarget::Buckets(rk) => {
                let set = self.read(service).await?;
                let limit = set.limit(rk).ok_or_else(|| not_found(&at.limit_url(rk)))?;
                let items = limit.buckets.iter().map(|b| at.bucket(rk, b)).collect();
                Ok((StatusCode::OK, Some(at.page(req, "buckets", items, &at.buckets_url(rk))?)))
            }
            RateLimitTarget::Bucket(rk, bl) if method == Method::GET => {
                let set = self.read(service).await?;
                let bucket = set.limit(rk).and_then(|l| l.bucket(bl)).ok_or_else(|| not_found(&at.bucket_url(rk, bl)))?;
                Ok((StatusCode::OK, Some(at.bucket(rk, bucket))))
            }
            RateLimitTarget::Bucket(rk, bl) if method == Method::POST => {
                let params = body_params(req)?;
                let max = optional(&params, &["Max", "max"], rules::parse_max, "Max (a whole number, at least 1)")?;
                let interval = optional(&params, &["Interval", "interval"], rules::parse_interval, INTERVAL_RULE)?;
                let now = self.verifier.clock.now();
                let updated = self
                    .change(service, |set| {
                        let missing = || not_found(&at.bucket_url(rk, bl));
                        let limit = set.limit_mut(rk).ok_or_else(missing)?;
                        limit.update_bucket(bl, max, interval, now).ok_or_else(missing)?.map_err(refused)?;
                        limit.bucket(bl).cloned().ok_or_else(missing)
                    })
                    .await?;
                Ok((StatusCode::OK, Some(at.bucket(rk, &updated))))
            }
            RateLimitTarget::Bucket(rk, bl) => {
                self.change(service, |set| {
                    let limit = set.limit_mut(rk).ok_or_else(|| not_found(&at.bucket_url(rk, bl)))?;
                    let before = limit.buckets.len();
                    limit.buckets.retain(|b| &b.sid != bl);
                    if limit.buckets.len() == before { Err(not_found(&at.bucket_url(rk, bl))) } else { Ok(()) }
                })
                .await?;
                Ok((StatusCode::NO_CONTENT, None))
            }
        }
    }

    /// `UniqueName` (required) and `Description`.
    async fn create_limit(&self, service: &Service, req: &Request<Bytes>) -> Result<RateLimit, ApiError> {
        let params = body_params(req)?;
        let unique_name = params.required(&["UniqueName", "unique_name"])?.trim().to_owned();
        let description = params.text(&["Description", "description"])?.map(str::to_owned);
        let now = self.verifier.clock.now();
        let limit = RateLimit {
            sid: sid::new_sid(sid::RATE_LIMIT),
            unique_name,
            description,
            created_at: now,
            updated_at: now,
            buckets: Vec::new(),
        };
        self.change(service, |set| set.add_limit(limit.clone()).map_err(refused)).await?;
        Ok(limit)
    }

    /// `Max` and `Interval`, both required.
    async fn create_bucket(&self, service: &Service, rk: &str, req: &Request<Bytes>, at: &Urls<'_>) -> Result<Bucket, ApiError> {
        let params = body_params(req)?;
        let max = optional(&params, &["Max", "max"], rules::parse_max, "Max (a whole number, at least 1)")?
            .ok_or_else(|| ApiError::invalid("Missing required parameter Max"))?;
        let interval = optional(&params, &["Interval", "interval"], rules::parse_interval, INTERVAL_RULE)?
            .ok_or_else(|| ApiError::invalid("Missing required parameter Interval"))?;
        let now = self.verifier.clock.now();
        let bucket = Bucket { sid: sid::new_sid(sid::BUCKET), max, interval, created_at: now, updated_at: now };
        self.change(service, |set| {
            let limit = set.limit_mut(rk).ok_or_else(|| not_found(&at.limit_url(rk)))?;
            limit.add_bucket(bucket.clone()).map_err(refused)
        })
        .await?;
        Ok(bucket)
    }

    /// Removes `service`'s definitions document (the service is being
    /// deleted), on the condition that it did not change since it was read;
    /// again on a fresh read when it did. Writes nothing when it has none.
    pub(super) async fn delete_rate_limits(&self, service: &Service) -> Result<(), ApiError> {
        for _ in 0..SAVE_TRIES {
            let version = self.read(service).await?.version;
            match self.verifier.store.delete_rate_limits(&service.sid, version).await {
                Ok(()) => return Ok(()),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(store_failed(e)),
            }
        }
        Err(ApiError::from_verify(&VerifyError::Busy, "/RateLimits"))
    }

    async fn read(&self, service: &Service) -> Result<RateLimits, ApiError> {
        self.verifier.store.rate_limits(&service.sid).await.map_err(store_failed)
    }

    /// Applies `edit` to the service's definitions and saves them, on the
    /// condition that they did not change since they were read; again on a
    /// fresh read when they did. `edit`'s error is answered as it is, with
    /// nothing written.
    async fn change<T>(&self, service: &Service, mut edit: impl FnMut(&mut RateLimits) -> Result<T, ApiError>) -> Result<T, ApiError> {
        for _ in 0..SAVE_TRIES {
            let mut set = self.read(service).await?;
            let out = edit(&mut set)?;
            set.version += 1;
            match self.verifier.store.save_rate_limits(&service.sid, &set).await {
                Ok(()) => return Ok(out),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(store_failed(e)),
            }
        }
        Err(ApiError::from_verify(&VerifyError::Busy, "/RateLimits"))
    }
}

const INTERVAL_RULE: &str = "Interval (seconds, 1 to 2678400)";

/// A numeric parameter, if given, through its rule.
fn optional(params: &Params, names: &[&str], parse: fn(&str) -> Option<u64>, rule: &str) -> Result<Option<u64>, ApiError> {
    params.text(names)?.map(|raw| parse(raw).ok_or_else(|| ApiError::invalid(format!("Invalid parameter: {rule}")))).transpose()
}

/// The resources' addresses and shapes (Twilio's OpenAPI: `RateLimit` and
/// `Bucket`).
struct Urls<'a> {
    /// `{base}/v2/Services/{VA}`
    base: String,
    account_sid: &'a str,
    service_sid: &'a str,
}

impl Urls<'_> {
    fn limits_url(&self) -> String {
        format!("{}/RateLimits", self.base)
    }

    fn limit_url(&self, rk: &str) -> String {
        format!("{}/RateLimits/{rk}", self.base)
    }

    fn buckets_url(&self, rk: &str) -> String {
        format!("{}/Buckets", self.limit_url(rk))
    }

    fn bucket_url(&self, rk: &str, bl: &str) -> String {
        format!("{}/Buckets/{bl}", self.limit_url(rk))
    }

    fn limit(&self, l: &RateLimit) -> Value {
        json!({
            "sid": l.sid,
            "service_sid": self.service_sid,
            "account_sid": self.account_sid,
            "unique_name": l.unique_name,
            "description": l.description,
            "date_created": iso8601(l.created_at),
            "date_updated": iso8601(l.updated_at),
            "url": self.limit_url(&l.sid),
            "links": {"buckets": self.buckets_url(&l.sid)},
        })
    }

    fn bucket(&self, rk: &str, b: &Bucket) -> Value {
        json!({
            "sid": b.sid,
            "rate_limit_sid": rk,
            "service_sid": self.service_sid,
            "account_sid": self.account_sid,
            "max": b.max,
            "interval": b.interval,
            "date_created": iso8601(b.created_at),
            "date_updated": iso8601(b.updated_at),
            "url": self.bucket_url(rk, &b.sid),
        })
    }

    /// A list page (`PageSize` and `Page` from the query).
    fn page(&self, req: &Request<Bytes>, key: &str, items: Vec<Value>, url: &str) -> Result<Value, ApiError> {
        let (size, page) = page_of(req)?;
        Ok(list_page(key, items, size, page, |size, n| format!("{url}?PageSize={size}&Page={n}")))
    }
}

fn refused(e: rules::Invalid) -> ApiError {
    ApiError::new(400, e.code, e.message)
}

pub(super) fn not_found(url: &str) -> ApiError {
    let path = url.find("/v2/").map_or(url, |i| &url[i + 3..]);
    ApiError::new(404, code::NOT_FOUND, format!("The requested resource {path} was not found"))
}

pub(super) fn store_failed(e: StoreError) -> ApiError {
    let cause = match e {
        StoreError::Unavailable(cause) => cause,
        StoreError::Conflict(_) => "unexpected conflict on a read".into(),
    };
    tracing::error!(%cause, "dependency failed");
    ApiError::from_verify(&VerifyError::StoreUnavailable(cause), "")
}
