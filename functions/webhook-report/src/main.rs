//! webhook-report: one function, three triggers, a thin edge around
//! `verify_core::webhook_report`.
//!
//! - DynamoDB stream batch of the verification table (`Records[]` with
//!   `eventSource = aws:dynamodb`): events stored, webhooks recorded and
//!   tried; answers `batchItemFailures` for records to hand back.
//! - Scheduled event (EventBridge, `source = aws.events`): due webhook
//!   retries.
//! - Function URL request (payload 2.0, `requestContext.http`): the
//!   reporting routes, authenticated by `VERIFY_API_KEYS`.

use aws_lambda_events::event::lambda_function_urls::{LambdaFunctionUrlRequest, LambdaFunctionUrlResponse};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::{Value, json};
use verify_core::webhook_report::{self, WebhookReport};

#[tokio::main]
async fn main() -> Result<(), Error> {
    verify_core::logging::init_for_lambda();
    let app = webhook_report::from_env().await?;
    let app = &app;
    run(service_fn(move |event: LambdaEvent<Value>| async move { dispatch(app, event.payload).await })).await
}

/// Which trigger an invocation came from.
#[derive(Debug, PartialEq, Eq)]
enum Trigger {
    Stream,
    Schedule,
    Url,
}

fn trigger(payload: &Value) -> Option<Trigger> {
    if payload.get("Records").and_then(Value::as_array).is_some() {
        Some(Trigger::Stream)
    } else if payload.get("requestContext").and_then(|c| c.get("http")).is_some() {
        Some(Trigger::Url)
    } else if payload.get("source").and_then(Value::as_str) == Some("aws.events")
        || payload.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event")
    {
        Some(Trigger::Schedule)
    } else {
        None
    }
}

async fn dispatch(app: &WebhookReport, payload: Value) -> Result<Value, Error> {
    let started = std::time::Instant::now();
    match trigger(&payload) {
        Some(Trigger::Stream) => {
            let records = payload["Records"].as_array().map(Vec::as_slice).unwrap_or_default();
            let outcome = app.dispatcher.handle_records(records).await;
            // 207: some records handed back for a retry.
            verify_core::logging::served("stream_batch", if outcome.failed.is_empty() { 200 } else { 207 }, None, started);
            let mut resp = DynamoDbEventResponse::default();
            for seq in outcome.failed {
                let mut f = DynamoDbBatchItemFailure::default();
                f.item_identifier = Some(seq);
                resp.batch_item_failures.push(f);
            }
            Ok(serde_json::to_value(resp)?)
        }
        Some(Trigger::Url) => {
            let req: LambdaFunctionUrlRequest = serde_json::from_value(payload)?;
            let resp = app.reports.handle(&into_http(req)?).await;
            verify_core::logging::served("report", resp.status().as_u16(), None, started);
            Ok(serde_json::to_value(from_http(resp))?)
        }
        Some(Trigger::Schedule) => {
            let outcome = app.dispatcher.run_due().await.map_err(Error::from)?;
            verify_core::logging::served("retry_schedule", 200, None, started);
            Ok(json!({"attempted": outcome.attempted, "delivered": outcome.delivered, "errors": outcome.errors}))
        }
        None => Err(Error::from(
            "unrecognised event: expected a DynamoDB stream batch, a scheduled event or a function URL request",
        )),
    }
}

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
    fn each_fixture_reaches_its_handler() {
        assert_eq!(trigger(&fixture("stream-batch.json")), Some(Trigger::Stream));
        assert_eq!(trigger(&fixture("stream-ttl-remove.json")), Some(Trigger::Stream));
        assert_eq!(trigger(&fixture("scheduled-retry.json")), Some(Trigger::Schedule));
        assert_eq!(trigger(&fixture("function-url-summary.json")), Some(Trigger::Url));
        assert_eq!(trigger(&json!({"hello": 1})), None);
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
