//! The HTTP client that delivers webhooks: hyper 1 with rustls (the stack
//! the AWS SDK already links), no redirects followed, a timeout per attempt,
//! and the SSRF rules applied to every address a name resolves to, right
//! before connecting (so a DNS answer cannot swap in a private address after
//! a check).

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::{GaiResolver, Name};
use hyper_util::rt::TokioExecutor;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;
use verify_core::clock::Seconds;
use verify_core::webhooks::delivery::{Outcome, parse_retry_after};
use verify_core::webhooks::signing::{Secret, headers};
use verify_core::webhooks::ssrf::Allow;

/// Resolves like the system resolver, then drops refused addresses.
#[derive(Clone)]
pub struct GuardedResolver {
    inner: GaiResolver,
    allow: Allow,
}

/// The error a refused destination surfaces as.
#[derive(Debug)]
struct Blocked(String);

impl std::fmt::Display for Blocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Blocked {}

impl tower_service::Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let (fut, allow, host) = (self.inner.call(name.clone()), self.allow, name.to_string());
        Box::pin(async move {
            let resolved: Vec<SocketAddr> = fut.await?.collect();
            let mut refused = None;
            let ok: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|a| match allow.permits(a.ip()) {
                    Ok(()) => true,
                    Err(r) => {
                        refused = Some(r);
                        false
                    }
                })
                .collect();
            match (ok.is_empty(), refused) {
                (true, Some(r)) => Err(std::io::Error::other(Blocked(format!("{host} resolves to a {} address", r.as_str())))),
                _ => Ok(ok.into_iter()),
            }
        })
    }
}

type Connector = hyper_rustls::HttpsConnector<HttpConnector<GuardedResolver>>;

/// Cheap to make and to clone: the connection pool (and the TLS roots it
/// needs) is built on the first delivery and shared by the clones.
#[derive(Clone)]
pub struct WebhookClient {
    client: Arc<OnceLock<Client<Connector, Full<Bytes>>>>,
    allow: Allow,
    timeout: Duration,
}

impl WebhookClient {
    pub fn new(allow: Allow, timeout: Duration) -> WebhookClient {
        WebhookClient { client: Arc::default(), allow, timeout }
    }

    /// The pool, built on first use. Webhooks go to any public host, so
    /// they trust the system's roots; reading and parsing them takes a few
    /// ms of CPU (3.5 ms for Debian's 145 roots, measured), which a cold
    /// start paid whether or not it delivered anything. Now the first
    /// delivery of an instance pays it, once.
    fn client(&self) -> &Client<Connector, Full<Bytes>> {
        self.client.get_or_init(|| {
            let mut http = HttpConnector::new_with_resolver(GuardedResolver { inner: GaiResolver::new(), allow: self.allow });
            http.enforce_http(false);
            http.set_connect_timeout(Some(self.timeout));
            http.set_nodelay(true);
            let builder = match hyper_rustls::HttpsConnectorBuilder::new().with_native_roots() {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "no TLS root certificates found; https webhooks will fail");
                    hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(empty_tls_config())
                }
            };
            let https = builder.https_or_http().enable_http1().wrap_connector(http);
            Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).pool_max_idle_per_host(4).build(https)
        })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// One signed attempt: POST `body` to `url`. `now` is the signature's
    /// timestamp; `event_id` the `webhook-id`.
    pub async fn send(&self, url: &str, secrets: &[Secret], event_id: &str, body: &str, now: Seconds) -> Outcome {
        if let Err(reason) = verify_core::webhooks::config::check_url(url, self.allow) {
            return Outcome::Refused { reason: format!("destination refused: {reason}") };
        }
        let mut req = http::Request::post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::USER_AGENT, concat!("verify-webhooks/", env!("CARGO_PKG_VERSION")));
        for (name, value) in headers(secrets, event_id, now, body.as_bytes()) {
            req = req.header(name, value);
        }
        let req = match req.body(Full::new(Bytes::copy_from_slice(body.as_bytes()))) {
            Ok(r) => r,
            Err(e) => return Outcome::Refused { reason: format!("bad request: {e}") },
        };
        match tokio::time::timeout(self.timeout, self.client().request(req)).await {
            Err(_) => {
                Outcome::Failed { status: None, error: format!("timed out after {} s", self.timeout.as_secs_f32()), retry_after: None }
            }
            Ok(Err(e)) => match blocked(&e) {
                Some(reason) => Outcome::Refused { reason: format!("destination refused: {reason}") },
                None => Outcome::Failed { status: None, error: format!("request failed: {}", chain(&e)), retry_after: None },
            },
            Ok(Ok(resp)) => {
                let retry_after =
                    resp.headers().get(http::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| parse_retry_after(v, now));
                // The body is not read: the status says everything.
                Outcome::from_status(resp.status().as_u16(), retry_after)
            }
        }
    }
}

fn empty_tls_config() -> rustls::ClientConfig {
    rustls::ClientConfig::builder().with_root_certificates(rustls::RootCertStore::empty()).with_no_client_auth()
}

fn blocked(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(b) = err.downcast_ref::<Blocked>() {
            return Some(b.0.clone());
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && let Some(b) = io.get_ref().and_then(|i| i.downcast_ref::<Blocked>())
        {
            return Some(b.0.clone());
        }
        cur = err.source();
    }
    None
}

fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(err) = cur {
        parts.push(err.to_string());
        cur = err.source();
    }
    parts.dedup();
    parts.join(": ")
}
