//! The HTTP functions (start-verify, check-verify): Lambda's request in,
//! `verify_core::api::Api::handle` as this function routes, response out.

use crate::app::{self, DeliverySetup};
use lambda_http::{Body, Error, Request, Response, service_fn};
use verify_core::api::routes::Function;

/// Serves `function` until Lambda stops the process: logging set up, the
/// app built once at init from the environment (refusing to start without
/// credentials), then every request handled by the shared router.
pub async fn serve(function: Function, delivery: DeliverySetup) -> Result<(), Error> {
    verify_core::logging::init_for_lambda();
    let app = app::from_env(delivery).await?;
    let app = &app;
    lambda_http::run(service_fn(move |req: Request| async move {
        let resp = app.handle(function, &into_bytes(req)).await;
        Ok::<Response<Body>, Error>(resp.map(Body::from))
    }))
    .await
}

/// lambda_http's request, with its body as the plain bytes the API reads.
pub fn into_bytes(req: Request) -> http::Request<bytes::Bytes> {
    let (parts, body) = req.into_parts();
    http::Request::from_parts(parts, bytes::Bytes::copy_from_slice(body.as_ref()))
}
