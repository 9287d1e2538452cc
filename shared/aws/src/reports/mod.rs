//! The reporting routes of webhook-report, over plain `http` types:
//!
//! - `GET /v2/Attempts`, `GET /v2/Attempts/{Sid}` and `GET /v2/Attempts/Summary`:
//!   Twilio's Verification Attempts API, so the official clients can read
//!   them. An attempt is one code sent (a `verification.pending` event); it
//!   is converted when its verification was approved.
//! - `GET /events`: stored events as JSON, or CSV with `Accept: text/csv`.
//! - `GET /dashboard`: a self-contained HTML page charting conversion, wrong
//!   codes, lockouts, expiries and blocks over time, by country and by
//!   prefix ([`dashboard`]); its errors are a page too.
//!
//! The Summary and the dashboard read the hourly counters
//! ([`crate::counters`]), never events: what they cost follows the hours
//! of their range. Attempts and `/events` read one page of events at a time.
//!
//! Parameters and their formats: [`params`].

pub mod dashboard;
pub mod params;

use crate::counters::{Cell, CounterStore};
use crate::events::store::{EventQuery, EventStore};
use crate::store::DynamoStore;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use params::{Bound, Query};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use verify_core::access::credentials::Credentials;
use verify_core::api::ApiError;
use verify_core::api::error::code;
use verify_core::api::handlers::{HttpResponse, error_response, json_response, request_base_url};
use verify_core::api::routes::Operation;
use verify_core::clock::Clock;
use verify_core::events::number_key::NumberKeys;
use verify_core::events::{Event, EventType};
use verify_core::service_catalog::Catalog;
use verify_core::sid;
use verify_core::time_fmt::{iso8601, iso8601_ms};

pub const DEFAULT_PAGE_SIZE: usize = 50;
pub use params::MAX_PAGE_SIZE;
/// Without `DateCreatedAfter` / `from`, reports cover this many days back.
pub const DEFAULT_DAYS: i64 = 30;

pub struct Reports {
    pub events: EventStore,
    pub counters: CounterStore,
    /// The services reported on when a request names none (besides those
    /// `catalog` has).
    pub services: Vec<String>,
    /// The services created over the API are reported on too, read through
    /// the cached catalog (at most once per cache period); `None`: only
    /// `services`.
    pub catalog: Option<(Catalog, DynamoStore)>,
    /// Hashes a `ChannelData.To` number as stored events do.
    pub numbers: NumberKeys,
    pub account_sid: String,
    /// Empty only in an open verify-local; the Lambda refuses to start so.
    pub auth: Credentials,
    pub clock: Arc<dyn Clock>,
    pub public_base_url: Option<String>,
}

/// How a route names its period and service: Twilio's Attempts API, or this
/// service's own `/events` and `/dashboard`.
#[derive(Clone, Copy)]
enum Names {
    Twilio,
    Own,
}

impl Names {
    fn after(self) -> &'static str {
        match self {
            Names::Twilio => "DateCreatedAfter",
            Names::Own => "from",
        }
    }
    fn before(self) -> &'static str {
        match self {
            Names::Twilio => "DateCreatedBefore",
            Names::Own => "to",
        }
    }
    fn service(self) -> &'static str {
        match self {
            Names::Twilio => "VerifyServiceSid",
            Names::Own => "service_sid",
        }
    }
    /// A period's bound: Twilio's routes take its date-time only.
    fn bound(self, q: &Query, name: &str) -> Result<Option<Bound>, ApiError> {
        match self {
            Names::Twilio => q.typed(name, |v| params::date_time(v).map(Bound::At)),
            Names::Own => q.typed(name, Bound::parse),
        }
    }
}

fn not_found(path: &str) -> ApiError {
    ApiError::new(404, code::NOT_FOUND, format!("The requested resource {path} was not found"))
}

impl Reports {
    /// Routes one request: authentication first, then the path.
    pub async fn handle(&self, req: &Request<Bytes>) -> HttpResponse {
        let resp = self.route(req).await;
        // A browser shows the dashboard's errors, its 401 included, as a page.
        if req.uri().path().trim_end_matches('/') == "/dashboard" && resp.status().as_u16() >= 400 {
            return dashboard::error_page(resp);
        }
        resp
    }

    async fn route(&self, req: &Request<Bytes>) -> HttpResponse {
        let caller = match verify_core::api::auth::authenticate(&self.auth, req, self.public_base_url.as_deref()) {
            Ok(caller) => caller,
            Err(e) => {
                let mut resp = error_response(&e);
                resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"verify\""));
                return resp;
            }
        };
        let held = self.auth.permissions_of(&caller);
        if let Err(e) = verify_core::api::auth::authorize(held, Operation::ReadReports) {
            return error_response(&e);
        }
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return error_response(&ApiError::new(405, code::METHOD_NOT_ALLOWED, format!("Method {} not allowed; use GET", req.method())));
        }
        let q = Query::parse(req.uri());
        let path = req.uri().path().trim_end_matches('/');
        let services = match self.reported_services().await {
            Ok(services) => services,
            Err(e) => return error_response(&e),
        };
        let s = &services;
        let result = match path {
            "/v2/Attempts" => self.attempts(req, &q, s).await,
            "/v2/Attempts/Summary" => self.summary(req, &q, s).await,
            "/events" => self.list_events(req, &q, s).await,
            "/dashboard" => self.dashboard(&q, s).await,
            p => match p.strip_prefix("/v2/Attempts/") {
                Some(attempt_sid) => self.attempt(req, attempt_sid, s).await,
                None => Err(not_found(p)),
            },
        };
        result.unwrap_or_else(|e| error_response(&e))
    }

    fn base_url(&self, req: &Request<Bytes>) -> String {
        self.public_base_url.clone().unwrap_or_else(|| request_base_url(req))
    }

    /// The store failed: retryable. Only ever for the store, never for a
    /// parameter (those are refused before anything is read).
    fn unavailable(&self, e: String) -> ApiError {
        tracing::error!(cause = %e, "event store failed");
        ApiError::new(503, code::SERVICE_UNAVAILABLE, "Event store unavailable; please retry").retry_after(1)
    }

    /// The services a request that names none reports on: `services` (the
    /// configured and named ones), then those created over the API.
    async fn reported_services(&self) -> Result<Vec<String>, ApiError> {
        let mut all = self.services.clone();
        if let Some((catalog, store)) = &self.catalog {
            let current = catalog.current(store).await.map_err(|e| self.unavailable(format!("services: {e:?}")))?;
            for s in current.all().iter().filter(|s| catalog.seeded().get(&s.sid).is_none()) {
                if !all.contains(&s.sid) {
                    all.push(s.sid.clone());
                }
            }
        }
        Ok(all)
    }

    /// The common filters: services (`services` when the request names
    /// none), period, country, channel, number.
    fn query_from(&self, q: &Query, names: Names, services: &[String]) -> Result<EventQuery, ApiError> {
        let now = self.clock.now();
        let from = names.bound(q, names.after())?.map_or(now - DEFAULT_DAYS * 86_400, Bound::start);
        let to = names.bound(q, names.before())?.map_or(now + 1, Bound::end);
        // Nothing is kept past the retention, and nothing happens much later
        // than now (an expiry is dated when it fell due): scan no further.
        let from = from.max(now - self.events.retention_secs() - 86_400);
        let to = to.min(now + 2 * 86_400);
        let services = match q.typed(names.service(), params::sid_of(sid::SERVICE))? {
            Some(s) => vec![s],
            None => services.to_vec(),
        };
        let to_hashes = q
            .typed("ChannelData.To", verify_core::phone::e164_spelling)?
            .map(|n| services.iter().flat_map(|s| self.numbers.lookups(s, &n)).collect());
        Ok(EventQuery {
            services,
            from,
            to,
            types: None,
            verification_sid: q.typed("VerificationSid", params::sid_of(sid::VERIFICATION))?,
            to_hashes,
            to_prefix: q.typed("DestinationPrefix", params::destination_prefix)?,
            country: q.typed("Country", params::country)?,
            channel: q.typed("Channel", params::channel)?,
        })
    }

    async fn attempts(&self, req: &Request<Bytes>, q: &Query, services: &[String]) -> Result<HttpResponse, ApiError> {
        let mut query = self.query_from(q, Names::Twilio, services)?;
        query.types = Some(vec![EventType::Pending]);
        let status = q.typed("Status", |s| match s.to_ascii_lowercase().as_str() {
            "converted" => Some(true),
            "unconverted" => Some(false),
            _ => None,
        })?;
        let page_size = q.typed("PageSize", params::page_size)?.unwrap_or(DEFAULT_PAGE_SIZE);
        let page_no = q.typed("Page", params::count(0..=u64::MAX))?.unwrap_or(0);
        let token = q.typed("PageToken", params::cursor)?;
        let page = self.events.page(&query, token.as_ref(), page_size).await.map_err(|e| self.unavailable(e))?;
        let converted = self.converted_among(&page.events).await?;
        let base = self.base_url(req);
        let attempts: Vec<Value> = page
            .events
            .iter()
            .map(|e| (e, converted.contains(&(e.service_sid.clone(), e.verification_sid.clone()))))
            .filter(|(_, c)| status.is_none_or(|want| want == *c))
            .map(|(e, c)| self.attempt_json(e, c, &base))
            .collect();
        // Paging links carry the filters, the size and the position.
        let filters = q.pairs_except(&["PageSize", "Page", "PageToken"]);
        let link = |page: u64, token: Option<&str>| {
            let mut s = form_urlencoded::Serializer::new(String::new());
            for (k, v) in &filters {
                s.append_pair(k, v);
            }
            s.append_pair("PageSize", &page_size.to_string());
            s.append_pair("Page", &page.to_string());
            if let Some(t) = token {
                s.append_pair("PageToken", t);
            }
            format!("{base}/v2/Attempts?{}", s.finish())
        };
        let body = json!({
            "attempts": attempts,
            "meta": {
                "page": page_no,
                "page_size": page_size,
                "first_page_url": link(0, None),
                "previous_page_url": null,
                "url": link(page_no, token.as_ref().map(|t| t.as_str())),
                "next_page_url": page.next.as_ref().map(|t| link(page_no + 1, Some(t.as_str()))),
                "key": "attempts",
            }
        });
        Ok(json_response(StatusCode::OK, &body))
    }

    /// `GET /v2/Attempts/{Sid}`: the attempt's `pending` event, read by key
    /// (its id is made from the attempt sid), then whether it converted.
    /// Two reads, whatever the table holds; nothing is written per send.
    async fn attempt(&self, req: &Request<Bytes>, attempt_sid: &str, services: &[String]) -> Result<HttpResponse, ApiError> {
        let path = format!("/Attempts/{attempt_sid}");
        if !sid::is_sid(sid::ATTEMPT, attempt_sid) {
            return Err(not_found(&path));
        }
        let event = self.events.attempt(services, attempt_sid).await.map_err(|e| self.unavailable(e))?;
        let Some(event) = event else { return Err(not_found(&path)) };
        let converted = self.converted_among(std::slice::from_ref(&event)).await?;
        let body = self.attempt_json(&event, !converted.is_empty(), &self.base_url(req));
        Ok(json_response(StatusCode::OK, &body))
    }

    /// Which (service, verification) pairs among these events converted.
    async fn converted_among(&self, events: &[Event]) -> Result<HashSet<(String, String)>, ApiError> {
        let mut by_service: HashMap<&str, Vec<String>> = HashMap::new();
        for e in events {
            by_service.entry(&e.service_sid).or_default().push(e.verification_sid.clone());
        }
        let mut out = HashSet::new();
        for (service, sids) in by_service {
            let found = self.events.converted(service, &sids).await.map_err(|e| self.unavailable(e))?;
            out.extend(found.into_iter().map(|v| (service.to_owned(), v)));
        }
        Ok(out)
    }

    /// A test recipient's attempt is listed with `"test": true` (nothing was sent).
    fn attempt_json(&self, e: &Event, converted: bool, base: &str) -> Value {
        let sid = e.attempt_sid.clone().unwrap_or_default();
        let mut attempt = json!({
            "sid": sid,
            "account_sid": self.account_sid,
            "service_sid": e.service_sid,
            "verification_sid": e.verification_sid,
            "date_created": iso8601(e.time_secs()),
            "date_updated": iso8601(e.time_secs()),
            "conversion_status": if converted { "converted" } else { "unconverted" },
            "channel": e.channel,
            "price": null,
            "channel_data": {
                "verification_sid": e.verification_sid,
                "to": e.to_masked,
                "status": if converted { "confirmed" } else { "unconfirmed" },
                "country": e.country,
            },
            "url": format!("{base}/v2/Attempts/{sid}"),
        });
        if e.test {
            attempt["test"] = json!(true);
        }
        attempt
    }

    /// The counters of a query's services and hours (every hour that
    /// overlaps its period; its whole days from their roll-ups unless
    /// `hourly`), with its country and channel filters.
    async fn cells(&self, query: &EventQuery, hourly: bool) -> Result<Vec<(Cell, u64)>, ApiError> {
        let cells = self.counters.read(&query.services, query.from, query.to, !hourly).await.map_err(|e| self.unavailable(e))?;
        let wanted = |c: &Cell| {
            query.country.as_ref().is_none_or(|x| x.eq_ignore_ascii_case(&c.country))
                && query.channel.as_ref().is_none_or(|x| x.eq_ignore_ascii_case(&c.channel))
        };
        Ok(cells.into_iter().filter(|(c, _)| wanted(c)).collect())
    }

    /// Attempts (codes sent) and converted attempts over a period, from the
    /// counters: an approval converts its verification's sends, counted in
    /// the hour of the approval; the converted figure is capped at the
    /// attempts (a range can cut a verification's sends from its approval).
    pub async fn summary_counts(&self, query: &EventQuery) -> Result<(u64, u64), ApiError> {
        let mut figures = dashboard::Figures::default();
        for (cell, n) in self.cells(query, false).await? {
            figures.add(&cell.outcome, n);
        }
        Ok((figures.sent, figures.converted_attempts()))
    }

    async fn summary(&self, req: &Request<Bytes>, q: &Query, services: &[String]) -> Result<HttpResponse, ApiError> {
        let query = self.query_from(q, Names::Twilio, services)?;
        // Counters are kept per service, hour, country and channel: a number,
        // a prefix or a verification is not among them (list its attempts).
        for (name, set) in [
            ("ChannelData.To", query.to_hashes.is_some()),
            ("DestinationPrefix", query.to_prefix.is_some()),
            ("VerificationSid", query.verification_sid.is_some()),
        ] {
            if set {
                return Err(ApiError::invalid(format!(
                    "Invalid parameter: {name} (the Summary is counted per service, hour, country and channel; list the attempts with /v2/Attempts)"
                )));
            }
        }
        let (total, converted) = self.summary_counts(&query).await?;
        let body = json!({
            "total_attempts": total,
            "total_converted": converted,
            "total_unconverted": total - converted,
            "conversion_rate_percentage": rate(converted, total),
            "url": format!("{}/v2/Attempts/Summary", self.base_url(req)),
        });
        Ok(json_response(StatusCode::OK, &body))
    }

    async fn list_events(&self, req: &Request<Bytes>, q: &Query, services: &[String]) -> Result<HttpResponse, ApiError> {
        let mut query = self.query_from(q, Names::Own, services)?;
        query.types = params::event_types(q, "type")?;
        if let Some(v) = q.typed("verification_sid", params::sid_of(sid::VERIFICATION))? {
            query.verification_sid = Some(v);
        }
        let limit = q.typed("limit", params::page_size)?.unwrap_or(100);
        let token = q.typed("page_token", params::cursor)?;
        let format = q.typed("format", |f| matches!(f, "json" | "csv").then(|| f.to_owned()))?;
        let wants_csv = match format.as_deref() {
            Some(f) => f == "csv",
            None => req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/csv")),
        };
        let page = self.events.page(&query, token.as_ref(), limit).await.map_err(|e| self.unavailable(e))?;
        let next = page.next.as_ref().map(|c| c.as_str().to_owned());
        let mut resp = if wants_csv {
            let mut r = Response::new(events_csv(&page.events));
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
            r
        } else {
            let next_url = next.as_deref().map(|t| {
                let mut s = form_urlencoded::Serializer::new(String::new());
                for (k, v) in q.pairs_except(&["page_token"]) {
                    s.append_pair(&k, &v);
                }
                s.append_pair("page_token", t);
                format!("{}/events?{}", self.base_url(req), s.finish())
            });
            json_response(
                StatusCode::OK,
                &json!({
                    "events": page.events.iter().map(Event::payload).collect::<Vec<_>>(),
                    "next_page_token": next,
                    "next_page_url": next_url,
                }),
            )
        };
        if let Some(t) = &next
            && let Ok(v) = HeaderValue::from_str(t)
        {
            resp.headers_mut().insert("x-next-page-token", v);
        }
        Ok(resp)
    }

    async fn dashboard(&self, q: &Query, services: &[String]) -> Result<HttpResponse, ApiError> {
        let now = self.clock.now();
        let query = self.query_from(q, Names::Own, services)?;
        let query = EventQuery { from: if q.get("from").is_some() { query.from } else { now - 7 * 86_400 }, ..query };
        if query.to <= query.from || query.to - query.from > 366 * 86_400 {
            return Err(ApiError::invalid("Invalid period: from must be before to, at most a year apart"));
        }
        // Counters leave test recipients out.
        let cells: BTreeMap<Cell, u64> = self.cells(&query, dashboard::hourly(query.from, query.to)).await?.into_iter().collect();
        let data = dashboard::aggregate(&cells, query.from, query.to);
        Ok(dashboard::page(&data, query.from, query.to))
    }
}

/// Twilio's `conversion_rate_percentage`: a decimal string, `null` with no attempts.
pub fn rate(converted: u64, total: u64) -> Option<String> {
    (total > 0).then(|| {
        let s = format!("{:.9}", converted as f64 * 100.0 / total as f64);
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    })
}

/// RFC 4180 CSV. A cell that a spreadsheet would run as a formula (starting
/// with `=`, `+`, `-`, `@`) gets a leading `'`, as OWASP advises.
pub fn events_csv(events: &[Event]) -> String {
    let mut out = String::from(
        "id,type,timestamp,service_sid,verification_sid,channel,country,to,status,check_attempts,send_attempts,attempt_sid,reason,sequence\r\n",
    );
    for e in events {
        let cells = [
            e.id.clone(),
            e.event_type.as_str().to_owned(),
            iso8601_ms(e.time_ms),
            e.service_sid.clone(),
            e.verification_sid.clone(),
            e.channel.clone(),
            e.country.clone().unwrap_or_default(),
            e.to_masked.clone(),
            e.event_type.status().to_owned(),
            e.check_attempts.to_string(),
            e.send_attempts.to_string(),
            e.attempt_sid.clone().unwrap_or_default(),
            e.reason.clone().unwrap_or_default(),
            e.sequence.to_string(),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

fn csv_cell(c: &str) -> String {
    let c = if c.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{c}") } else { c.to_owned() };
    if c.contains([',', '"', '\n', '\r']) { format!("\"{}\"", c.replace('"', "\"\"")) } else { c }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_look_like_twilio() {
        assert_eq!(rate(9, 11).as_deref(), Some("81.818181818"));
        assert_eq!(rate(1, 1).as_deref(), Some("100"));
        assert_eq!(rate(0, 0), None);
    }

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        assert_eq!(csv_cell("+1415555****"), "'+1415555****");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=1+1"), "'=1+1");
    }
}
