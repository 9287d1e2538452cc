//! start-verify: starts, fetches, cancels and approves verifications and
//! lists services (Twilio Verify v2 routes), plus the plain function-URL
//! start at `POST /`. It sends codes, so it registers the SMS sender, the
//! call sender (End User Messaging SMS and Voice v2, when configured) and the
//! e-mail sender (SES v2, when a sender address is configured).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    verify_lambda::http::serve(verify_core::api::routes::Function::StartVerify, verify_lambda::app::EVERY_CHANNEL).await
}
