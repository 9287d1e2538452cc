//! Conditional writes and DynamoDB errors, read the same way by every store
//! in the table (verifications, events, webhook deliveries).

use crate::item::{Item, attr};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// A DynamoDB failure as one line, with the SDK's whole error chain.
pub fn describe<E: std::error::Error + 'static, R: std::fmt::Debug>(e: SdkError<E, R>) -> String {
    format!("DynamoDB: {}", DisplayErrorContext(&e))
}

/// A DynamoDB failure as the stores answer it: unavailable, retryable.
pub fn unavailable<E: std::error::Error + 'static, R: std::fmt::Debug>(e: SdkError<E, R>) -> verify_core::store::StoreError {
    verify_core::store::StoreError::Unavailable(describe(e))
}

/// `Ok(true)` if a conditional write was applied, `Ok(false)` if its
/// condition did not hold (someone else got there first), `Err` otherwise.
pub fn applied<T, E, R>(result: Result<T, SdkError<E, R>>) -> Result<bool, String>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().and_then(ProvideErrorMetadata::code) == Some("ConditionalCheckFailedException") => Ok(false),
        Err(e) => Err(describe(e)),
    }
}

/// Writes `item` unless one with its key exists: `false` for a replay, whose
/// first write stands.
pub async fn put_new(client: &Client, table: &str, item: Item) -> Result<bool, String> {
    applied(
        client
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", attr::PK)
            .send()
            .await,
    )
}
