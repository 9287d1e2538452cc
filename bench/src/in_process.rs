//! Our own code per request, in process: a function-URL event decoded by
//! lambda_http, the handler (parameters, E.164 parsing, code generation and
//! keyed hashing, the DynamoDB and SNS calls as the SDK builds, signs and
//! parses them) and the response encoded by lambda_http — with the HTTP
//! exchanges answered instantly from memory, so no network, no other process
//! and no store or SMS time is in the measurement.
//!
//! The canned DynamoDB answers are real: the item is one the real code wrote
//! into embedded dynoxide, read back raw.

use crate::{Numbers, Summary, code_in, ms};
use aws_smithy_runtime_api::client::http::{HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use bytes::Bytes;
use lambda_http::IntoResponse;
use std::sync::Arc;
use std::time::Instant;
use verify_aws::store::DynamoStore;
use verify_core::sender::outbox::Outbox;

type Answer = dyn Fn(&str, &str) -> String + Send + Sync;

/// An SDK HTTP client that answers from a function of (X-Amz-Target, body).
#[derive(Clone)]
struct Canned(Arc<Answer>);

impl std::fmt::Debug for Canned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Canned")
    }
}

impl HttpConnector for Canned {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let target = request.headers().get("x-amz-target").unwrap_or("").to_owned();
        let body = request.body().bytes().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
        let answer = (self.0)(&target, &body);
        let status = 200u16.try_into().expect("valid status");
        HttpConnectorFuture::ready(Ok(HttpResponse::new(status, SdkBody::from(answer))))
    }
}

impl HttpClient for Canned {
    fn http_connector(&self, _: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

const PUBLISHED: &str = "<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><PublishResult>\
    <MessageId>00000000-0000-0000-0000-000000000000</MessageId></PublishResult><ResponseMetadata>\
    <RequestId>00000000-0000-0000-0000-000000000001</RequestId></ResponseMetadata></PublishResponse>";

fn settings(table: &str) -> verify_core::config::Settings {
    settings_with(table, &[])
}

/// The benchmark's settings and `more` variables (a services document, …).
pub(crate) fn settings_with(table: &str, more: &[(&str, &str)]) -> verify_core::config::Settings {
    let vars = [
        ("VERIFY_TABLE", table),
        ("VERIFY_CODE_KEY", "bench-code-key-0123456789abcdef0123456789"),
        // After the merge of the API-key work the handlers authenticate; the
        // events carry this key (tests/python/deploy_support.py).
        (
            "VERIFY_API_KEYS",
            r#"[{"key_id":"SK0123456789abcdef0123456789abcdef","secret_sha256":"41e51b5dd09f9d906b96809eca05360889579cfb3bba52b476ef73272c3ec8e9"}]"#,
        ),
    ];
    let vars = vars.iter().chain(more).map(|(k, v)| (k.to_string(), v.to_string())).collect();
    verify_core::config::Settings::from_vars(&vars).expect("bench settings")
}

/// One request as the function's main runs it, minus the runtime's I/O:
/// its status and the size of the encoded response.
pub(crate) async fn through_lambda_http<F, Fut>(event: &str, handler: F) -> (u16, usize)
where
    F: FnOnce(http::Request<Bytes>) -> Fut,
    Fut: std::future::Future<Output = http::Response<String>>,
{
    let req = lambda_http::request::from_str(event).expect("event decodes");
    let (parts, body) = req.into_parts();
    let req = http::Request::from_parts(parts, Bytes::copy_from_slice(body.as_ref()));
    let resp = handler(req).await.map(lambda_http::Body::from);
    let resp = resp.into_response().await;
    // What lambda_http then serialises for a function URL (API Gateway v2).
    let (parts, body) = resp.into_parts();
    let body = match body {
        lambda_http::Body::Text(t) => t,
        _ => String::new(),
    };
    let headers: serde_json::Map<String, serde_json::Value> =
        parts.headers.iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").into())).collect();
    serde_json::to_vec(&serde_json::json!({
        "statusCode": parts.status.as_u16(), "headers": headers, "body": body, "isBase64Encoded": false,
    }))
    .map(|v| (parts.status.as_u16(), v.len()))
    .unwrap()
}

pub(crate) fn event(template: &serde_json::Value, body: serde_json::Value) -> String {
    let mut ev = template.clone();
    ev["body"] = body.to_string().into();
    ev["isBase64Encoded"] = false.into();
    ev.to_string()
}

/// Returns the JSON report of the in-process measurement.
pub async fn measure(dynamo_endpoint: &str, table: &str, events_dir: &std::path::Path, n: usize) -> serde_json::Value {
    let read = |f: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(events_dir.join(f)).expect("event file")).expect("event json")
    };
    let (start_tpl, check_tpl) = (read("start-verify-json.json"), read("check-verify-by-sid.json"));

    // A real item: one start through the real store on embedded dynoxide.
    let outbox = Outbox::new();
    let real = verify_core::api::Api::new(
        settings(table),
        DynamoStore::new(verify_aws::clients::dynamodb_at(dynamo_endpoint), table),
        verify_core::sender::Senders::sms(outbox.clone()),
    );
    let to = "+4915199999999";
    let started = through_lambda_http(&event(&start_tpl, serde_json::json!({"To": to})), |r| async move {
        real.handle(verify_core::api::routes::Function::StartVerify, &r).await
    })
    .await;
    assert_eq!(started.0, 201, "the real start");
    let code = outbox.messages(Some(to)).last().and_then(|m| code_in(&m.body)).expect("code texted");
    let raw: serde_json::Value = reqwest::Client::new()
        .post(dynamo_endpoint)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", "DynamoDB_20120810.Scan")
        .header("x-amz-date", "20260101T000000Z")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
        )
        .body(serde_json::json!({"TableName": table}).to_string())
        .send()
        .await
        .expect("dynoxide")
        .json()
        .await
        .expect("Scan json");
    let raw = raw["Items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["to"]["S"] == to))
        .map(|i| serde_json::json!({"Item": i}))
        .unwrap_or(raw);
    let item = raw["Item"].clone();
    assert!(item.is_object(), "no item read back: {raw}");
    let mut approved = item.clone();
    approved["status"] = serde_json::json!({"S": "approved"});
    let (item, approved) = (item.to_string(), approved.to_string());

    let table_name = table.to_owned();
    let canned = Canned(Arc::new(move |target: &str, body: &str| match target {
        "DynamoDB_20120810.PutItem" => "{}".to_owned(),
        "DynamoDB_20120810.UpdateItem" if body.contains("\"approved\"") => format!("{{\"Attributes\":{approved}}}"),
        "DynamoDB_20120810.UpdateItem" => format!("{{\"Attributes\":{item}}}"),
        // A check reads the verification before its one write.
        "DynamoDB_20120810.GetItem" if body.contains("\"VER#") => format!("{{\"Item\":{item}}}"),
        // Reads of what a fresh deployment does not have yet: no services
        // document (the configured service only), no Safe List entry, no
        // fraud-guard history.
        "DynamoDB_20120810.GetItem" => "{}".to_owned(),
        "DynamoDB_20120810.BatchGetItem" => format!("{{\"Responses\":{{\"{table_name}\":[]}},\"UnprocessedKeys\":{{}}}}"),
        "" => PUBLISHED.to_owned(),
        other => panic!("unexpected call {other}"),
    }));
    let dynamo = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("a", "b", None, None, "bench"))
            .http_client(canned.clone())
            .build(),
    );
    let sns = aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::Config::builder()
            .behavior_version(aws_sdk_sns::config::BehaviorVersion::latest())
            .region(aws_sdk_sns::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_sns::config::Credentials::new("a", "b", None, None, "bench"))
            .http_client(canned)
            .build(),
    );
    let s = settings(table);
    let sms = s.sms.clone();
    let api = verify_core::api::Api::new(
        s,
        DynamoStore::new(dynamo, table),
        verify_core::sender::Senders::sms(verify_aws::sns::SnsSender::new(sns, sms)),
    );
    let api = &api;

    let numbers = Numbers::starting_at(42);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let mut results = serde_json::Map::new();
    for name in ["start-verify", "check-verify (wrong code)", "check-verify (right code)"] {
        let mut samples = Vec::with_capacity(n);
        for i in 0..n + n / 10 {
            let ev = match name {
                "start-verify" => event(&start_tpl, serde_json::json!({"To": numbers.next(), "Channel": "sms"})),
                _ => {
                    let c = if name.contains("wrong") { wrong } else { code.as_str() };
                    event(&check_tpl, serde_json::json!({"To": to, "Code": c}))
                }
            };
            let t = Instant::now();
            let (status, _) = if name == "start-verify" {
                through_lambda_http(&ev, |r| async move { api.handle(verify_core::api::routes::Function::StartVerify, &r).await }).await
            } else {
                through_lambda_http(&ev, |r| async move { api.handle(verify_core::api::routes::Function::CheckVerify, &r).await }).await
            };
            // A refused request would time the refusal, not the work.
            assert_eq!(status, if name == "start-verify" { 201 } else { 200 }, "{name}");
            if i >= n / 10 {
                samples.push(ms(t.elapsed())); // the first tenth warms caches
            }
        }
        results.insert(name.to_owned(), Summary::of(&samples).json());
    }
    serde_json::Value::Object(results)
}
