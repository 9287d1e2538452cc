//! HTTP routes of verify-local: everything goes to the shared router
//! (`verify_core::api::routes`, as the Lambda functions use it) with every
//! route mounted, plus `/_local/messages` to read what would have been texted.

use crate::backend::Local;
use axum::Router;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use std::collections::HashMap;
use std::sync::Arc;
use verify_core::api::ApiError;
use verify_core::api::handlers::{HttpResponse, error_response};
use verify_core::api::params::MAX_BODY_BYTES;
use verify_core::api::routes::Function;

type Shared = Arc<Local>;

pub fn router(local: Local) -> Router {
    Router::new()
        .route("/_local/messages", get(messages))
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

async fn report(State(local): State<Shared>, req: Request) -> Response {
    match buffered(req).await {
        Ok(req) => into_axum(local.report.reports.handle(&req).await),
        Err(e) => into_axum(error_response(&e)),
    }
}

/// What would have been texted (only with the console outbox). A local
/// development aid: it shows codes, so verify-local binds to loopback.
async fn messages(State(local): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let Some(outbox) = local.outbox() else {
        return into_axum(error_response(&ApiError::new(404, 20404, "Messages are listed only when they are not sent through SNS")));
    };
    let to = q.get("to").or_else(|| q.get("To")).map(|t| t.trim());
    // A `+` in a query string decodes to a space; accept the number either way.
    let to = to.map(|t| if t.starts_with('+') { t.to_owned() } else { format!("+{t}") });
    axum::Json(outbox.messages(to.as_deref())).into_response()
}

/// Reads the whole body (bounded) into the plain request the handlers take.
async fn buffered(req: Request) -> Result<http::Request<bytes::Bytes>, ApiError> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES + 1)
        .await
        .map_err(|_| ApiError::new(413, 60200, "Request body too large"))?;
    Ok(http::Request::from_parts(parts, bytes))
}

fn into_axum(resp: HttpResponse) -> Response {
    let (parts, body) = resp.into_parts();
    Response::from_parts(parts, Body::from(body))
}
