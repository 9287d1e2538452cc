//! The reporting routes of webhook-report, over plain `http` types:
//!
//! - `GET /v2/Attempts` and `GET /v2/Attempts/Summary`: Twilio's
//!   Verification Attempts API, so the official clients can read them. An
//!   attempt is one code sent (a `verification.pending` event); it is
//!   converted when its verification was approved.
//! - `GET /events`: stored events as JSON, or CSV with `Accept: text/csv`.
//! - `GET /dashboard`: a self-contained HTML page charting verifications
//!   started vs approved over time and the conversion rate per country.

pub mod dashboard;

use crate::api::ApiError;
use crate::api::error::code;
use crate::api::handlers::{HttpResponse, error_response, json_response, request_base_url};
use crate::clock::{Clock, Seconds};
use crate::events::store::{EventQuery, EventStore};
use crate::events::{Event, EventType};
use crate::sid;
use crate::time_fmt::iso8601;
use crate::api::auth::Credentials;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 1000;
/// Without `DateCreatedAfter` / `from`, reports cover this many days back.
pub const DEFAULT_DAYS: i64 = 30;

pub struct Reports {
    pub events: EventStore,
    /// The services reported on when a request names none.
    pub services: Vec<String>,
    pub account_sid: String,
    /// `None` only where no key is configured in verify-local.
    /// Empty only in an open verify-local; the Lambda refuses to start so.
    pub auth: Credentials,
    pub clock: Arc<dyn Clock>,
    pub public_base_url: Option<String>,
}

/// Query parameters, by name (last value wins, as most servers do).
struct Query(HashMap<String, Vec<String>>);

impl Query {
    fn parse(uri: &http::Uri) -> Query {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
            map.entry(k.into_owned()).or_default().push(v.into_owned());
        }
        Query(map)
    }
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|v| v.last()).map(|s| s.trim()).filter(|s| !s.is_empty())
    }
    fn all(&self, name: &str) -> Vec<&str> {
        self.0.get(name).map(|v| v.iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()).collect()).unwrap_or_default()
    }
}

/// ISO 8601 (`2024-01-01T00:00:00Z`, or a bare date) or Unix seconds.
pub fn parse_time(s: &str) -> Option<Seconds> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    let full = if s.len() == 10 { format!("{s}T00:00:00Z") } else { s.to_owned() };
    let t = humantime::parse_rfc3339_weak(full.trim_end_matches('Z')).ok()?;
    let t = t.duration_since(std::time::UNIX_EPOCH).ok()?;
    // parse_rfc3339_weak reads the time as UTC; an explicit offset is refused.
    Some(t.as_secs() as Seconds)
}

fn invalid(name: &str) -> ApiError {
    ApiError::invalid(format!("Invalid parameter: {name}"))
}

impl Reports {
    /// Routes one request: authentication first, then the path.
    pub async fn handle(&self, req: &Request<Bytes>) -> HttpResponse {
        if let Err(e) = self.auth.authenticate(req, self.public_base_url.as_deref()) {
            let mut resp = error_response(&e);
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"verify\""));
            return resp;
        }
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return error_response(&ApiError::new(405, code::METHOD_NOT_ALLOWED, format!("Method {} not allowed; use GET", req.method())));
        }
        let q = Query::parse(req.uri());
        let result = match req.uri().path().trim_end_matches('/') {
            "/v2/Attempts" => self.attempts(req, &q).await,
            "/v2/Attempts/Summary" => self.summary(req, &q).await,
            "/events" => self.list_events(req, &q).await,
            "/dashboard" => self.dashboard(&q).await,
            p => Err(ApiError::new(404, code::NOT_FOUND, format!("The requested resource {p} was not found"))),
        };
        result.unwrap_or_else(|e| error_response(&e))
    }

    fn base_url(&self, req: &Request<Bytes>) -> String {
        self.public_base_url.clone().unwrap_or_else(|| request_base_url(req))
    }

    fn unavailable(&self, e: String) -> ApiError {
        tracing::error!(cause = %e, "event store failed");
        ApiError::new(503, code::SERVICE_UNAVAILABLE, "Event store unavailable; please retry").retry_after(1)
    }

    /// The common filters: services, period, country, channel, number.
    fn query_from(&self, q: &Query, after: &str, before: &str, service: &str) -> Result<EventQuery, ApiError> {
        let now = self.clock.now();
        let from = q.get(after).map(|v| parse_time(v).ok_or_else(|| invalid(after))).transpose()?.unwrap_or(now - DEFAULT_DAYS * 86_400);
        let to = q.get(before).map(|v| parse_time(v).ok_or_else(|| invalid(before))).transpose()?.unwrap_or(now + 1);
        // The page's own `to` is a date meaning "through that day".
        let to = match q.get(before) {
            Some(v) if before == "to" && v.len() == 10 => to + 86_400,
            _ => to,
        };
        // Nothing is kept past the retention, and nothing happens much later
        // than now (an expiry is dated when it fell due): scan no further.
        let from = from.max(now - self.events.retention_secs() - 86_400);
        let to = to.min(now + 2 * 86_400);
        let services = match q.get(service) {
            Some(s) if sid::is_sid(sid::SERVICE, s) => vec![s.to_owned()],
            Some(_) => return Err(invalid(service)),
            None => self.services.clone(),
        };
        let to_number = q
            .get("ChannelData.To")
            .map(|n| crate::phone::e164_spelling(n).ok_or_else(|| invalid("ChannelData.To")))
            .transpose()?;
        Ok(EventQuery {
            services,
            from,
            to,
            types: None,
            verification_sid: q.get("VerificationSid").map(str::to_owned),
            to_number,
            to_prefix: q.get("DestinationPrefix").map(|p| if p.starts_with('+') { p.to_owned() } else { format!("+{p}") }),
            country: q.get("Country").map(str::to_ascii_uppercase),
            channel: q.get("Channel").map(str::to_ascii_lowercase),
        })
    }

    async fn attempts(&self, req: &Request<Bytes>, q: &Query) -> Result<HttpResponse, ApiError> {
        let mut query = self.query_from(q, "DateCreatedAfter", "DateCreatedBefore", "VerifyServiceSid")?;
        query.types = Some(vec![EventType::Pending]);
        let status = match q.get("Status").map(str::to_ascii_lowercase).as_deref() {
            None => None,
            Some(s @ ("converted" | "unconverted")) => Some(s == "converted"),
            Some(_) => return Err(invalid("Status")),
        };
        let page_size = page_size(q)?;
        let page_no: u64 = q.get("Page").and_then(|p| p.parse().ok()).unwrap_or(0);
        let token = page_token(q, "PageToken")?;
        let page = self.events.page(&query, token, page_size).await.map_err(|e| self.unavailable(e))?;
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
        let filters: Vec<(String, String)> = q
            .0
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "PageSize" | "Page" | "PageToken"))
            .flat_map(|(k, vs)| vs.iter().map(move |v| (k.clone(), v.clone())))
            .collect();
        let link = |page: u64, token: Option<&str>| {
            let mut s = form_urlencoded::Serializer::new(String::new());
            let mut sorted = filters.clone();
            sorted.sort();
            for (k, v) in &sorted {
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
                "url": link(page_no, token),
                "next_page_url": page.next.as_deref().map(|t| link(page_no + 1, Some(t))),
                "key": "attempts",
            }
        });
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

    fn attempt_json(&self, e: &Event, converted: bool, base: &str) -> Value {
        let sid = e.attempt_sid.clone().unwrap_or_default();
        json!({
            "sid": sid,
            "account_sid": self.account_sid,
            "service_sid": e.service_sid,
            "verification_sid": e.verification_sid,
            "date_created": iso8601(e.time),
            "date_updated": iso8601(e.time),
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
        })
    }

    /// Attempts and conversions over a period: pending events joined with
    /// the approvals of their verifications (an approval comes at most a
    /// day after its send, the longest validity).
    pub async fn summary_counts(&self, query: &EventQuery) -> Result<(u64, u64), String> {
        let mut sends = query.clone();
        sends.types = Some(vec![EventType::Pending]);
        let attempts = self.events.all(&sends).await?;
        let mut approvals = query.clone();
        approvals.types = Some(vec![EventType::Approved]);
        approvals.to = query.to.saturating_add(86_400);
        let approved: HashSet<(String, String)> =
            self.events.all(&approvals).await?.into_iter().map(|e| (e.service_sid, e.verification_sid)).collect();
        let converted = attempts.iter().filter(|e| approved.contains(&(e.service_sid.clone(), e.verification_sid.clone()))).count();
        Ok((attempts.len() as u64, converted as u64))
    }

    async fn summary(&self, req: &Request<Bytes>, q: &Query) -> Result<HttpResponse, ApiError> {
        let query = self.query_from(q, "DateCreatedAfter", "DateCreatedBefore", "VerifyServiceSid")?;
        let (total, converted) = self.summary_counts(&query).await.map_err(|e| self.unavailable(e))?;
        let body = json!({
            "total_attempts": total,
            "total_converted": converted,
            "total_unconverted": total - converted,
            "conversion_rate_percentage": rate(converted, total),
            "url": format!("{}/v2/Attempts/Summary", self.base_url(req)),
        });
        Ok(json_response(StatusCode::OK, &body))
    }

    async fn list_events(&self, req: &Request<Bytes>, q: &Query) -> Result<HttpResponse, ApiError> {
        let mut query = self.query_from(q, "from", "to", "service_sid")?;
        let types = q.all("type");
        if !types.is_empty() {
            query.types = Some(types.iter().map(|t| EventType::parse(t).ok_or_else(|| invalid("type"))).collect::<Result<_, _>>()?);
        }
        if let Some(v) = q.get("verification_sid") {
            query.verification_sid = Some(v.to_owned());
        }
        let limit = match q.get("limit") {
            Some(l) => l.parse::<usize>().ok().filter(|n| (1..=MAX_PAGE_SIZE).contains(n)).ok_or_else(|| invalid("limit"))?,
            None => 100,
        };
        let page = self.events.page(&query, page_token(q, "page_token")?, limit).await.map_err(|e| self.unavailable(e))?;
        let wants_csv = q.get("format") == Some("csv")
            || req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/csv"));
        let mut resp = if wants_csv {
            let mut r = Response::new(events_csv(&page.events));
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
            r
        } else {
            let next_url = page.next.as_deref().map(|t| {
                let mut s = form_urlencoded::Serializer::new(String::new());
                for (k, vs) in q.0.iter().filter(|(k, _)| k.as_str() != "page_token") {
                    for v in vs {
                        s.append_pair(k, v);
                    }
                }
                s.append_pair("page_token", t);
                format!("{}/events?{}", self.base_url(req), s.finish())
            });
            json_response(
                StatusCode::OK,
                &json!({
                    "events": page.events.iter().map(Event::payload).collect::<Vec<_>>(),
                    "next_page_token": page.next,
                    "next_page_url": next_url,
                }),
            )
        };
        if let Some(t) = &page.next
            && let Ok(v) = HeaderValue::from_str(t)
        {
            resp.headers_mut().insert("x-next-page-token", v);
        }
        Ok(resp)
    }

    async fn dashboard(&self, q: &Query) -> Result<HttpResponse, ApiError> {
        let now = self.clock.now();
        let query = self.query_from(q, "from", "to", "service_sid")?;
        let query = EventQuery {
            from: if q.get("from").is_some() { query.from } else { now - 7 * 86_400 },
            types: Some(vec![EventType::Pending, EventType::Approved]),
            ..query
        };
        if query.to <= query.from || query.to - query.from > 366 * 86_400 {
            return Err(ApiError::invalid("Invalid period: from must be before to, at most a year apart"));
        }
        let events = self.events.all(&query).await.map_err(|e| self.unavailable(e))?;
        let data = dashboard::aggregate(&events, query.from, query.to);
        let mut resp = Response::new(dashboard::page(&data, query.from, query.to));
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        // Everything is inline; nothing may be loaded from elsewhere.
        resp.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; form-action 'self'"),
        );
        Ok(resp)
    }
}

/// A page token as handed out in `next_page_url`; anything else is the
/// client's error (found by fuzz/: it was a retryable 503).
fn page_token<'q>(q: &'q Query, name: &str) -> Result<Option<&'q str>, ApiError> {
    match q.get(name) {
        Some(t) if crate::events::store::cursor_time(t).is_none() => Err(invalid(name)),
        token => Ok(token),
    }
}

fn page_size(q: &Query) -> Result<usize, ApiError> {
    match q.get("PageSize") {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(s) => s.parse::<usize>().ok().filter(|n| (1..=MAX_PAGE_SIZE).contains(n)).ok_or_else(|| invalid("PageSize")),
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
        "id,type,timestamp,service_sid,verification_sid,channel,country,to,status,check_attempts,send_attempts,attempt_sid,reason\r\n",
    );
    for e in events {
        let cells = [
            e.id.clone(),
            e.event_type.as_str().to_owned(),
            iso8601(e.time),
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
    fn times_parse_as_twilio_sends_them() {
        assert_eq!(parse_time("2015-07-30T20:00:00Z"), Some(1_438_286_400));
        assert_eq!(parse_time("2015-07-30"), Some(1_438_214_400));
        assert_eq!(parse_time("1438286400"), Some(1_438_286_400));
        assert_eq!(parse_time("yesterday"), None);
    }

    // Regression (found by fuzz/): a page token no page handed out was
    // answered 503 "Event store unavailable; please retry", forever.
    #[tokio::test]
    async fn a_bad_page_token_is_the_clients_error() {
        let reports = Reports {
            // Never reached: the token is refused first.
            events: EventStore::new(crate::aws::dynamodb_at("http://127.0.0.1:9"), "t", 1, 1),
            services: vec!["VA1".into()],
            account_sid: "AC1".into(),
            auth: Credentials::default(),
            clock: Arc::new(crate::clock::ManualClock::at(1_700_000_000)),
            public_base_url: None,
        };
        for uri in ["/v2/Attempts?PageToken=v%00", "/events?page_token=x%23y", "/events?page_token=-5%23evt_1"] {
            let req = Request::builder().uri(uri).body(Bytes::new()).unwrap();
            let resp = reports.handle(&req).await;
            assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{uri}: {}", resp.body());
            assert!(resp.body().contains("Invalid parameter"), "{}", resp.body());
        }
        assert_eq!(crate::events::store::cursor_time("1700000000#evt_1"), Some(1_700_000_000));
    }

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
