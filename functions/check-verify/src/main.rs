//! check-verify: checks codes (`POST /v2/Services/{sid}/VerificationCheck`),
//! plus the plain function-URL check at `POST /`. It never sends a code, so
//! it registers no sender and links no sender's SDK.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    verify_lambda::http::serve(verify_core::api::routes::Function::CheckVerify, verify_lambda::app::NO_DELIVERY).await
}
