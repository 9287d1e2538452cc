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
    lambda_runtime::tracing::init_default_subscriber();
    let app = webhook_report::from_env().await?;
    let app = &app;
    run(service_fn(move |event: LambdaEvent<Value>| async move { dispatch(app, event.payload).await })).await
}

async fn dispatch(app: &WebhookReport, payload: Value) -> Result<Value, Error> {
    if let Some(records) = payload.get("Records").and_then(Value::as_array) {
        let outcome = app.dispatcher.handle_records(records).await;
        let mut resp = DynamoDbEventResponse::default();
        for seq in outcome.failed {
            let mut f = DynamoDbBatchItemFailure::default();
            f.item_identifier = Some(seq);
            resp.batch_item_failures.push(f);
        }
        return Ok(serde_json::to_value(resp)?);
    }
    if payload.get("requestContext").and_then(|c| c.get("http")).is_some() {
        let req: LambdaFunctionUrlRequest = serde_json::from_value(payload)?;
        let resp = app.reports.handle(&into_http(req)?).await;
        return Ok(serde_json::to_value(from_http(resp))?);
    }
    if payload.get("source").and_then(Value::as_str) == Some("aws.events")
        || payload.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event")
    {
        let outcome = app.dispatcher.run_due().await.map_err(Error::from)?;
        return Ok(json!({"attempted": outcome.attempted, "delivered": outcome.delivered, "errors": outcome.errors}));
    }
    Err(Error::from("unrecognised event: expected a DynamoDB stream batch, a scheduled event or a function URL request"))
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
