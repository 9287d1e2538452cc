//! webhook-report on Lambda: one function, three triggers, each decoded
//! into its own type before anything runs (an invocation that is none of
//! them is an error, not a guess):
//!
//! - [`Trigger::Stream`]: a DynamoDB stream batch of the verification table
//!   (`Records[]`): events stored, webhooks recorded and tried; answers
//!   `batchItemFailures` for records to hand back;
//! - [`Trigger::Schedule`]: the EventBridge schedule (`source = aws.events`):
//!   due webhook retries, and the expiry sweep (pending verifications whose
//!   code expired are noted, so `verification.expired` follows within a
//!   minute instead of at TTL deletion);
//! - [`Trigger::Url`]: a function URL request (payload 2.0): the reporting
//!   routes, authenticated by `VERIFY_API_KEYS`.

use aws_lambda_events::event::lambda_function_urls::{LambdaFunctionUrlRequest, LambdaFunctionUrlResponse};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use verify_aws::secrets;
use verify_aws::store::DynamoStore;
use verify_aws::webhook_report::{ReportSettings, WebhookReport, build};
use verify_core::config::env;
use verify_core::metrics::{self, MetricSet, MetricsSink};

/// A DynamoDB stream batch. Records stay as sent: each is decoded on its
/// own ([`verify_aws::events::stream::parse_record`]), so one unreadable
/// record is skipped and logged instead of failing the whole batch.
#[derive(Debug, Deserialize)]
pub struct StreamBatch {
    #[serde(rename = "Records")]
    pub records: Vec<Value>,
}

/// The EventBridge scheduled event: its origin, and the tick it is for
/// (the expiry sweep covers the span that ends there).
#[derive(Debug, Deserialize)]
pub struct ScheduledEvent {
    pub source: String,
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    #[serde(default)]
    pub time: Option<String>,
}

/// What invoked the function.
#[derive(Debug)]
pub enum Trigger {
    Stream(StreamBatch),
    Schedule(ScheduledEvent),
    Url(Box<LambdaFunctionUrlRequest>),
}

impl Trigger {
    /// Decodes an invocation by its shape: `Records` is a stream batch,
    /// `requestContext.http` a function URL request, `source` of
    /// `aws.events` (or a `Scheduled Event`) the schedule.
    pub fn decode(payload: Value) -> Result<Trigger, Error> {
        if payload.get("Records").is_some() {
            return Ok(Trigger::Stream(serde_json::from_value(payload)?));
        }
        if payload.get("requestContext").and_then(|c| c.get("http")).is_some() {
            return Ok(Trigger::Url(Box::new(serde_json::from_value(payload)?)));
        }
        let scheduled: Result<ScheduledEvent, _> = serde_json::from_value(payload);
        match scheduled {
            Ok(e) if e.source == "aws.events" || e.detail_type == "Scheduled Event" => Ok(Trigger::Schedule(e)),
            _ => Err(Error::from("unrecognised event: expected a DynamoDB stream batch, a scheduled event or a function URL request")),
        }
    }
}

/// Runs webhook-report until Lambda stops the process.
pub async fn run() -> Result<(), Error> {
    verify_core::logging::init_for_lambda();
    let app = from_env().await?;
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move { handle(app, Trigger::decode(event.payload)?).await }))
        .await
}

/// The deployed function: requires `VERIFY_API_KEYS`, since its URL serves
/// reports, and the number key; reads the secrets template.yaml names from
/// Secrets Manager while it opens the DynamoDB connection (unless
/// `VERIFY_WARM_UP` is off, as for the other functions).
pub async fn from_env() -> Result<WebhookReport, String> {
    let aws = verify_aws::clients::LambdaEnv::from_env()?;
    let mut vars: HashMap<String, String> = std::env::vars().collect();
    let dynamodb = aws.dynamodb();
    let warm = verify_core::config::warm_up(&vars);
    let named = secrets::named(&vars, secrets::REPORT_SECRETS)?;
    let store = DynamoStore::new(dynamodb.clone(), verify_core::config::table(&vars));
    let store_warm_up = async {
        if warm {
            crate::app::warm_up_store(&store).await
        }
    };
    let read = async { if named.is_empty() { Ok(Vec::new()) } else { crate::app::read_secrets(&aws, named).await } };
    let (values, ()) = tokio::join!(read, store_warm_up);
    vars.extend(values?);
    let settings = ReportSettings::from_vars(&vars)?;
    if settings.credentials.is_empty() {
        return Err(format!("{} is required: the reporting routes must be authenticated", env::API_KEYS));
    }
    Ok(build(settings, dynamodb, Arc::new(verify_core::clock::SystemClock)))
}

/// Handles one decoded invocation; the answer is what Lambda expects back
/// for that trigger.
pub async fn handle(app: &WebhookReport, trigger: Trigger) -> Result<Value, Error> {
    let started = std::time::Instant::now();
    match trigger {
        Trigger::Stream(batch) => {
            let outcome = app.dispatcher.handle_records(&batch.records).await;
            // 207: some records handed back for a retry.
            verify_core::logging::served("stream_batch", if outcome.failed.is_empty() { 200 } else { 207 }, None, started);
            let mut set = MetricSet::new();
            set.add(&metrics::EVENTS_STORED, outcome.events as f64).add(&metrics::STREAM_RECORDS_FAILED, outcome.failed.len() as f64);
            emit(app, set, "stream_batch", started);
            let mut resp = DynamoDbEventResponse::default();
            for seq in outcome.failed {
                let mut f = DynamoDbBatchItemFailure::default();
                f.item_identifier = Some(seq);
                resp.batch_item_failures.push(f);
            }
            Ok(serde_json::to_value(resp)?)
        }
        Trigger::Url(req) => {
            let resp = app.reports.handle(&into_http(*req)?).await;
            verify_core::logging::served("report", resp.status().as_u16(), None, started);
            emit(app, MetricSet::new(), "report", started);
            Ok(serde_json::to_value(from_http(resp))?)
        }
        Trigger::Schedule(e) => {
            let tick = e.time.as_deref().and_then(verify_aws::reports::params::date_time);
            // Both run even if one fails; the invocation fails if either did.
            let (retries, expired) = tokio::join!(app.dispatcher.run_due(), app.expiries.sweep_at(tick));
            let status = if retries.is_ok() && expired.is_ok() { 200 } else { 500 };
            verify_core::logging::served("retry_schedule", status, None, started);
            emit(app, MetricSet::new(), "retry_schedule", started);
            let (outcome, expired) = (retries.map_err(Error::from)?, expired.map_err(Error::from)?);
            Ok(json!({"attempted": outcome.attempted, "delivered": outcome.delivered, "errors": outcome.errors, "expired": expired}))
        }
    }
}

/// One EMF line per invocation: `set`, the latency, and the deliveries'
/// outcomes since the last line (first attempts made by a stream batch and
/// retries alike).
fn emit(app: &WebhookReport, mut set: MetricSet, route: &'static str, started: std::time::Instant) {
    let (delivered, given_up) = app.dispatcher.take_tally();
    set.dimension(metrics::dim::ROUTE, route)
        .add(&metrics::LATENCY, started.elapsed().as_secs_f64() * 1000.0)
        .add(&metrics::WEBHOOKS_DELIVERED, delivered as f64)
        .add(&metrics::WEBHOOKS_GIVEN_UP, given_up as f64);
    METRICS.emit(&set);
}

/// webhook-report's metrics go to stdout as EMF, like the API functions'.
static METRICS: verify_core::metrics::StdoutEmf = verify_core::metrics::StdoutEmf;

fn into_http(req: LambdaFunctionUrlRequest) -> Result<http::Request<bytes::Bytes>, Error> {
    let path = req.raw_path.as_deref().unwrap_or("/");
    let uri = match req.raw_query_string.as_deref().filter(|q| !q.is_empty()) {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    };
    let body = match req.body {
        Some(b) if req.is_base64_encoded => STANDARD.decode(b)?,
        Some(b) => b.into_bytes(),
        None => Vec::new(),
    };
    let method = req.request_context.http.method.as_deref().unwrap_or("GET");
    let mut out = http::Request::builder().method(method).uri(uri).body(bytes::Bytes::from(body))?;
    *out.headers_mut() = req.headers;
    Ok(out)
}

fn from_http(resp: http::Response<String>) -> LambdaFunctionUrlResponse {
    let (parts, body) = resp.into_parts();
    let mut out = LambdaFunctionUrlResponse::default();
    out.status_code = parts.status.as_u16() as i64;
    out.headers = parts.headers;
    out.body = Some(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        let path = format!("{}/../../events/webhook-report/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn each_fixture_decodes_to_its_trigger() {
        for name in ["stream-batch.json", "stream-ttl-remove.json"] {
            match Trigger::decode(fixture(name)).unwrap() {
                Trigger::Stream(batch) => assert!(!batch.records.is_empty(), "{name}"),
                other => panic!("{name}: {other:?}"),
            }
        }
        assert!(matches!(Trigger::decode(fixture("scheduled-retry.json")).unwrap(), Trigger::Schedule(_)));
        match Trigger::decode(fixture("function-url-summary.json")).unwrap() {
            Trigger::Url(req) => assert_eq!(req.raw_path.as_deref(), Some("/v2/Attempts/Summary")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn anything_else_is_an_error_not_a_guess() {
        for bad in
            [json!({"hello": 1}), json!({"source": "aws.s3", "detail-type": "Object Created"}), json!({"Records": "nope"}), json!(null)]
        {
            assert!(Trigger::decode(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn function_url_requests_become_plain_http() {
        let req: LambdaFunctionUrlRequest = serde_json::from_value(fixture("function-url-summary.json")).unwrap();
        let req = into_http(req).unwrap();
        assert_eq!(req.method(), "GET");
        assert_eq!(req.uri().path(), "/v2/Attempts/Summary");
        assert_eq!(req.uri().query(), Some("DateCreatedAfter=2023-11-01T00%3A00%3A00Z"));
        assert!(req.headers()["authorization"].to_str().unwrap().starts_with("Basic "));
        let resp = from_http(http::Response::builder().status(401).header("www-authenticate", "Basic").body("{}".into()).unwrap());
        let v = serde_json::to_value(resp).unwrap();
        assert_eq!(v["statusCode"], 401);
        assert_eq!(v["headers"]["www-authenticate"], "Basic");
    }
}
