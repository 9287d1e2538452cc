//! What the fuzz targets share: cutting one input into fields, a runtime,
//! and a DynamoDB client whose "network" is a function, so request handlers
//! can be driven end to end without a server (thousands of runs a second).

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_http_client::test_util::infallible_client_fn;

/// Splits `data` into `n` fields at NUL bytes; the last field takes the rest
/// (NULs included), missing fields are empty. Seeds are written the same way.
pub fn fields(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out = Vec::with_capacity(n);
    let mut rest = data;
    while out.len() + 1 < n {
        match rest.iter().position(|&b| b == 0) {
            Some(i) => {
                out.push(&rest[..i]);
                rest = &rest[i + 1..];
            }
            None => {
                out.push(rest);
                rest = &[];
            }
        }
    }
    out.push(rest);
    out
}

/// Lossy text of a field: invalid UTF-8 cannot reach our parsers through
/// `&str` APIs, so it becomes U+FFFD as a web framework would refuse or map it.
pub fn text(field: &[u8]) -> String {
    String::from_utf8_lossy(field).into_owned()
}

/// A single-threaded runtime (time enabled: the SDK sleeps between retries).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

/// How the fake DynamoDB answers every call.
#[derive(Clone, Copy, Debug)]
pub enum Answer {
    /// An empty result: `{"Items": [], "Count": 0}` (and no item for a get).
    Empty,
    /// A non-retryable `ValidationException`, so a handler's error path
    /// runs; an update's condition fails instead (so a start's void of an
    /// unsent code ends at once rather than retrying for its budget).
    Refuse,
}

/// A DynamoDB client that never leaves the process: every request gets `answer`.
/// Retries are off, so an error returns at once.
pub fn fake_dynamodb(answer: Answer) -> aws_sdk_dynamodb::Client {
    let http = infallible_client_fn(move |req| {
        let update = req.headers().get("x-amz-target").and_then(|t| t.to_str().ok()).is_some_and(|t| t.ends_with("UpdateItem"));
        let (status, body) = match answer {
            Answer::Empty => (200, r#"{"Items":[],"Count":0,"ScannedCount":0}"#),
            Answer::Refuse if update => {
                (400, r#"{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"fuzz"}"#)
            }
            Answer::Refuse => (400, r#"{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException","message":"fuzz"}"#),
        };
        http::Response::builder()
            .status(status)
            .header("content-type", "application/x-amz-json-1.0")
            .body(body.to_owned())
            .expect("response")
    });
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("fuzz", "fuzz", None, None, "fuzz"))
        .endpoint_url("http://127.0.0.1:9")
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
        .http_client(http)
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// A request from fuzzed parts; `None` when `http` itself refuses them
/// (a URI or header value no server would have handed us).
pub fn request(method: &[u8], uri: &str, headers: &[(&str, &[u8])], body: &[u8]) -> Option<http::Request<bytes::Bytes>> {
    let method = http::Method::from_bytes(if method.is_empty() { b"POST" } else { method }).ok()?;
    let mut b = http::Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        if !value.is_empty() {
            b = b.header(*name, http::HeaderValue::from_bytes(value).ok()?);
        }
    }
    b.body(bytes::Bytes::copy_from_slice(body)).ok()
}
