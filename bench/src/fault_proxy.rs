//! A DynamoDB-shaped HTTP proxy that injects faults: it sits between the
//! service's DynamoDB client and the engine (dynoxide on loopback) and, for
//! a chosen share of requests, answers as DynamoDB does when it is in
//! trouble, or not at all. Every decision is drawn from a seeded generator
//! and tallied, so a run can say exactly what it injected.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What happened to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// Forwarded, answer returned unchanged.
    None,
    /// 400 `ProvisionedThroughputExceededException`, not applied.
    ThroughputExceeded,
    /// 400 `ThrottlingException`, not applied.
    Throttling,
    /// 500 `InternalServerError`, not applied.
    InternalError,
    /// 503 `ServiceUnavailable`, not applied.
    Unavailable,
    /// No answer (held past the client's attempt timeout), not applied.
    Timeout,
    /// Applied by the engine, then the answer lost (held past the timeout):
    /// the client cannot tell it from [`Fault::Timeout`].
    AppliedThenTimeout,
    /// Applied by the engine, then answered 500: a write that "failed" but happened.
    AppliedThen500,
    /// Forwarded after [`SLOW`], answer returned unchanged (only by a rule:
    /// lets a test land another request first).
    Slow,
}

/// How late a [`Fault::Slow`] request reaches the engine (under the SDK's
/// attempt timeout, so the client still gets the answer).
pub const SLOW: Duration = Duration::from_millis(500);

impl Fault {
    pub const INJECTED: [Fault; 7] = [
        Fault::ThroughputExceeded,
        Fault::Throttling,
        Fault::InternalError,
        Fault::Unavailable,
        Fault::Timeout,
        Fault::AppliedThenTimeout,
        Fault::AppliedThen500,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Fault::None => "none",
            Fault::ThroughputExceeded => "400 ProvisionedThroughputExceededException",
            Fault::Throttling => "400 ThrottlingException",
            Fault::InternalError => "500 InternalServerError",
            Fault::Unavailable => "503 ServiceUnavailable",
            Fault::Timeout => "no answer (timeout), not applied",
            Fault::AppliedThenTimeout => "applied, answer lost (timeout)",
            Fault::AppliedThen500 => "applied, then 500",
            Fault::Slow => "forwarded late",
        }
    }
}

/// A small, seedable generator (SplitMix64): runs repeat from their seed.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A float in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// Picks requests for a given fault: `(operation, body) -> Some(fault)`.
pub type Rule = dyn Fn(&str, &[u8]) -> Option<Fault> + Send + Sync;

pub struct FaultProxy {
    upstream: String,
    http: reqwest::Client,
    /// Share of requests that get a fault (0.3: 30 %), spread evenly over the kinds.
    rate: f64,
    /// How long a "lost" answer is held before the connection is dropped;
    /// longer than the client's attempt timeout, so the client gives up first.
    hold: Duration,
    rng: Mutex<Rng>,
    /// A fault forced on requests it picks (by operation and body), before the draw.
    rule: Option<Box<Rule>>,
    /// (operation, fault) -> count.
    tally: Mutex<BTreeMap<(String, Fault), u64>>,
}

impl FaultProxy {
    /// A proxy faulting `rate` of requests; [`FaultProxy::upstream`] says where to.
    pub fn new(rate: f64, hold: Duration, seed: u64) -> FaultProxy {
        FaultProxy {
            upstream: String::new(),
            http: reqwest::Client::new(),
            rate,
            hold,
            rng: Mutex::new(Rng::new(seed)),
            rule: None,
            tally: Mutex::new(BTreeMap::new()),
        }
    }

    /// The engine the proxy forwards to.
    pub fn upstream(mut self, endpoint: &str) -> FaultProxy {
        self.upstream = endpoint.to_owned();
        self
    }

    /// Forces `rule`'s fault on the requests it picks (for tests of one case).
    pub fn with_rule(mut self, rule: impl Fn(&str, &[u8]) -> Option<Fault> + Send + Sync + 'static) -> FaultProxy {
        self.rule = Some(Box::new(rule));
        self
    }

    /// Serves the proxy on an ephemeral loopback port; returns its endpoint.
    pub async fn serve(self: Arc<Self>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let endpoint = format!("http://{}", listener.local_addr().expect("proxy address"));
        let app = Router::new().fallback(handle).with_state(self);
        tokio::spawn(async move { axum::serve(listener, app).await.expect("proxy server") });
        endpoint
    }

    /// Counts by (DynamoDB operation, fault), e.g. ("UpdateItem", Throttling).
    pub fn tally(&self) -> BTreeMap<(String, Fault), u64> {
        self.tally.lock().expect("tally").clone()
    }

    fn decide(&self, operation: &str, body: &[u8]) -> Fault {
        let forced = self.rule.as_ref().and_then(|rule| rule(operation, body));
        let fault = if let Some(f) = forced {
            f
        } else {
            let mut rng = self.rng.lock().expect("rng");
            if rng.unit() < self.rate { Fault::INJECTED[rng.below(Fault::INJECTED.len())] } else { Fault::None }
        };
        *self.tally.lock().expect("tally").entry((operation.to_owned(), fault)).or_default() += 1;
        fault
    }

    async fn forward(&self, headers: &HeaderMap, body: Bytes) -> Response {
        let mut req = self.http.post(&self.upstream).body(body);
        for (name, value) in headers {
            if name != "host" && name != "content-length" {
                req = req.header(name.as_str(), value.as_bytes());
            }
        }
        match req.send().await {
            Ok(resp) => {
                let status = StatusCode::from_u16(resp.status().as_u16()).expect("status");
                let content_type = resp.headers().get("content-type").cloned();
                let body = resp.bytes().await.unwrap_or_default();
                let mut out = (status, body).into_response();
                if let Some(ct) = content_type {
                    out.headers_mut().insert("content-type", ct);
                }
                out
            }
            Err(e) => dynamo_error(500, "InternalServerError", &format!("proxy: engine unreachable: {e}")),
        }
    }
}

async fn handle(State(p): State<Arc<FaultProxy>>, headers: HeaderMap, body: Bytes) -> Response {
    let operation = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).and_then(|t| t.rsplit('.').next()).unwrap_or("?").to_owned();
    match p.decide(&operation, &body) {
        Fault::None => p.forward(&headers, body).await,
        Fault::Slow => {
            tokio::time::sleep(SLOW).await;
            p.forward(&headers, body).await
        }
        Fault::ThroughputExceeded => dynamo_error(
            400,
            "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
            "The level of configured provisioned throughput for the table was exceeded.",
        ),
        Fault::Throttling => {
            dynamo_error(400, "com.amazon.coral.availability#ThrottlingException", "Rate of requests exceeds the allowed throughput.")
        }
        Fault::InternalError => dynamo_error(500, "com.amazonaws.dynamodb.v20120810#InternalServerError", "Internal server error"),
        Fault::Unavailable => dynamo_error(503, "com.amazon.coral.availability#ServiceUnavailableException", "Service unavailable"),
        Fault::Timeout => {
            tokio::time::sleep(p.hold).await;
            dynamo_error(500, "com.amazonaws.dynamodb.v20120810#InternalServerError", "held")
        }
        Fault::AppliedThenTimeout => {
            let _applied = p.forward(&headers, body).await;
            tokio::time::sleep(p.hold).await;
            dynamo_error(500, "com.amazonaws.dynamodb.v20120810#InternalServerError", "held")
        }
        Fault::AppliedThen500 => {
            let _applied = p.forward(&headers, body).await;
            dynamo_error(500, "com.amazonaws.dynamodb.v20120810#InternalServerError", "Internal server error")
        }
    }
}

fn dynamo_error(status: u16, error_type: &str, message: &str) -> Response {
    let body = serde_json::json!({ "__type": error_type, "message": message }).to_string();
    let mut resp = (StatusCode::from_u16(status).expect("status"), body).into_response();
    resp.headers_mut().insert("content-type", "application/x-amz-json-1.0".parse().expect("header"));
    resp
}
