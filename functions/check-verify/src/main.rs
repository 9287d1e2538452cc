//! check-verify: checks codes (`POST /v2/Services/{sid}/VerificationCheck`),
//! plus the plain function-URL check at `POST /`.
//! A thin edge around `verify_core::api::Api::handle`; clients are built
//! once at init, and the function refuses to start without credentials.

use lambda_http::{Body, Error, Request, Response, run, service_fn};
use verify_core::api::routes::Function;
use verify_core::app;

#[tokio::main]
async fn main() -> Result<(), Error> {
    verify_core::logging::init_for_lambda();
    // check-verify never sends an SMS: only the DynamoDB connection is warmed.
    let app = app::from_env(app::no_delivery).await?;
    let app = &app;
    run(service_fn(move |req: Request| async move {
        let resp = app.handle(Function::CheckVerify, &into_bytes(req)).await;
        Ok::<Response<Body>, Error>(resp.map(Body::from))
    }))
    .await
}

fn into_bytes(req: Request) -> http::Request<bytes::Bytes> {
    let (parts, body) = req.into_parts();
    http::Request::from_parts(parts, bytes::Bytes::copy_from_slice(body.as_ref()))
}
