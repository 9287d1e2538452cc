//! webhook-report: events from the table's stream, signed webhooks with
//! retries on a schedule, and the reporting routes on its function URL.
//! A thin main: everything is in `verify_lambda::webhook_report`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    verify_lambda::webhook_report::run().await
}
