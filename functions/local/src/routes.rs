//! HTTP routes of verify-local: everything goes to the shared router
//! (`verify_core::api::routes`, as the Lambda functions use it) with every
//! route mounted, plus `/_local/messages` to read what would have been texted.

use crate::backend::Local;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use std::sync::Arc;
use verify_core::api::ApiError;
use verify_core::api::handlers::{HttpResponse, error_response};
use verify_core::api::params::{MAX_BODY_BYTES, Params};
use verify_core::api::routes::{Function, Operation};

type Shared = Arc<Local>;

pub fn router(local: Local) -> Router {
    Router::new()
        .route("/_local/messages", any(messages))
        .route("/v2/Attempts", any(report))
        .route("/v2/Attempts/Summary", any(report))
        .route("/v2/Attempts/{sid}", any(report))
        .route("/events", any(report))
        .route("/dashboard", any(report))
        .fallback(api)
        .with_state(Arc::new(local))
}

/// Every API route: CORS, authentication, routing and handling as on Lambda.
async fn api(State(local): State<Shared>, req: Request) -> Response {
    match buffered(req).await {
        Ok(req) => into_axum(local.api.handle(Function::Local, &req).await),
        Err(e) => into_axum(error_response(&e)),
    }
}

/// The reporting routes, as webhook-report serves them (GET only, behind
/// the same credentials).
async fn report(State(local): State<Shared>, req: Request) -> Response {
    let started = std::time::Instant::now();
    let resp = match buffered(req).await {
        Ok(req) => local.report.reports.handle(&req).await,
        Err(e) => error_response(&e),
    };
    verify_core::logging::served("report", resp.status().as_u16(), None, started);
    into_axum(resp)
}

/// What would have been texted (only with the console outbox). It shows
/// codes, so it takes the same credentials as every other route.
async fn messages(State(local): State<Shared>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let req = http::Request::from_parts(parts, bytes::Bytes::new());
    let started = std::time::Instant::now();
    let resp = match listed(&local, &req) {
        Ok(resp) => resp,
        Err(e) => {
            verify_core::logging::served("local_messages", e.status, Some(e.code), started);
            return into_axum(error_response(&e));
        }
    };
    verify_core::logging::served("local_messages", 200, None, started);
    resp
}

fn listed(local: &Local, req: &http::Request<bytes::Bytes>) -> Result<Response, ApiError> {
    let api = &local.api;
    let caller = verify_core::api::auth::authenticate(&api.credentials, req, api.public_base_url.as_deref())?;
    verify_core::api::auth::authorize(api.credentials.permissions_of(&caller), Operation::ReadLocalMessages)?;
    if req.method() != http::Method::GET && req.method() != http::Method::HEAD {
        return Err(ApiError::new(405, 20004, format!("Method {} not allowed; use GET", req.method())));
    }
    let Some(messages) = &local.messages else {
        return Err(ApiError::new(404, 20404, "Messages are listed only when they are not sent through SNS"));
    };
    let query = Params::from_form(req.uri().query().unwrap_or("").as_bytes());
    let to = query.text(&["to", "To"])?.map(str::trim);
    // A `+` in a query string decodes to a space; accept the number either
    // way. An e-mail address is taken as it is.
    let to = to.map(|t| if t.starts_with('+') || t.contains('@') { t.to_owned() } else { format!("+{t}") });
    Ok(axum::Json(messages.list(to.as_deref())).into_response())
}

/// The body (already read, bounded in size and time, by the server: see
/// `serve`) as the plain request the handlers take.
async fn buffered(req: Request) -> Result<http::Request<bytes::Bytes>, ApiError> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES + 1).await.map_err(|_| ApiError::new(413, 60200, "Request body too large"))?;
    Ok(http::Request::from_parts(parts, bytes))
}

fn into_axum(resp: HttpResponse) -> Response {
    let (parts, body) = resp.into_parts();
    Response::from_parts(parts, Body::from(body))
}
