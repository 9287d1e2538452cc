//! The HTTP server in front of verify-local's routes: HTTP/1 connections
//! served by hyper with a deadline for each request's header block and one
//! for its body, so a slow or stalled client cannot hold a connection (or
//! a request) open; and the checks made on every request before any route
//! runs: its framing is unambiguous and its `Host` names this server.
//! (`axum::serve` sets no read deadline at all.)

use crate::framing::{Framing, Framings, Sniffed};
use crate::host::AllowedHosts;
use axum::Router;
use axum::body::Body;
use axum::response::Response;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower_service::Service;
use verify_core::api::ApiError;
use verify_core::api::error::code;
use verify_core::api::handlers::error_response;
use verify_core::api::params::MAX_BODY_BYTES;

/// How long in-flight requests may finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What every connection is served with.
pub struct Edge {
    pub router: Router,
    pub hosts: AllowedHosts,
    /// From a connection's first byte (or the end of its previous request)
    /// to the end of a request's header block.
    pub header_timeout: Duration,
    /// From the header block to the end of the body.
    pub body_timeout: Duration,
}

/// Serves connections from `listener` until `shutdown` completes, then
/// lets open requests finish (idle connections close at once).
pub async fn serve(listener: TcpListener, edge: Edge, shutdown: impl Future<Output = ()>) {
    let edge = Arc::new(edge);
    let (stop, stopping) = watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(connection(stream, edge.clone(), stopping.clone()));
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            () = &mut shutdown => break,
        }
    }
    let _ = stop.send(true);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, async { while connections.join_next().await.is_some() {} }).await;
}

async fn connection(stream: TcpStream, edge: Arc<Edge>, mut stopping: watch::Receiver<bool>) {
    let framings = Framings::default();
    let io = TokioIo::new(Sniffed::new(stream, framings.clone()));
    let header_timeout = edge.header_timeout;
    let service = hyper::service::service_fn(move |req| {
        let (edge, framings) = (edge.clone(), framings.clone());
        async move { Ok::<_, Infallible>(handle(&edge, framings.next(), req).await) }
    });
    let conn = http1::Builder::new().timer(TokioTimer::new()).header_read_timeout(header_timeout).serve_connection(io, service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = stopping.wait_for(|s| *s) => conn.as_mut().graceful_shutdown(),
    }
    let _ = conn.await;
}

/// One request: its framing, then its `Host`, then its body (bounded in
/// size and time), then the routes.
async fn handle(edge: &Edge, framing: Framing, req: hyper::Request<Incoming>) -> Response {
    match framing {
        Framing::Ambiguous => {
            return refuse(&ApiError::invalid(
                "Request has both Content-Length and Transfer-Encoding, or a Transfer-Encoding other than chunked",
            ));
        }
        Framing::Unreadable => return refuse(&ApiError::invalid("Request headers could not be read")),
        Framing::Length | Framing::Chunked => {}
    }
    let host = req.headers().get(http::header::HOST).and_then(|h| h.to_str().ok());
    if !edge.hosts.allows(host) {
        tracing::warn!(path = req.uri().path(), "request refused: Host is not this server's");
        return refuse(&ApiError::new(403, code::FORBIDDEN, "Host not allowed"));
    }
    let (parts, body) = req.into_parts();
    let bytes = match tokio::time::timeout(edge.body_timeout, Limited::new(body, MAX_BODY_BYTES + 1).collect()).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return refuse(&ApiError::new(413, code::INVALID_PARAMETER, "Request body too large"));
        }
        Ok(Err(_)) => return refuse(&ApiError::invalid("Request body could not be read")),
        Err(_) => {
            return refuse(&ApiError::new(408, code::INVALID_PARAMETER, "Request body not received in time"));
        }
    };
    let mut router = edge.router.clone();
    let Ok(mut resp) = router.call(http::Request::from_parts(parts, Body::from(bytes))).await;
    if framing == Framing::Chunked {
        // The bytes after a chunked body are not followed (see framing).
        resp.headers_mut().insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
    }
    resp
}

/// A Twilio-shaped refusal that also ends the connection: what remains of
/// the request on it cannot be trusted to start where the next one does.
fn refuse(e: &ApiError) -> Response {
    let (mut parts, body) = error_response(e).into_parts();
    parts.headers.insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
    Response::from_parts(parts, Body::from(body))
}
