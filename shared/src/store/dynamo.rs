//! The [`Store`] on DynamoDB: one item per (service, number), every change a
//! conditional write that returns the old item when its condition fails.

use super::item::{Item, attr, from_item, partition_key, to_item};
use super::{Approval, Closing, Expect, RecordKey, Store, StoreError};
use crate::events::store::{EVENTS_INDEX, ev};
use crate::webhooks::store::{DUE_INDEX, dl};
use crate::clock::{Millis, Seconds, secs_of};
use crate::config::Limits;
use crate::otp::CodeHash;
use crate::record::{StoredStatus, VerificationRecord};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue as AV, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    Projection, ProjectionType, ReturnValue, ReturnValuesOnConditionCheckFailure, ScalarAttributeType,
    StreamSpecification, StreamViewType, TableStatus, TimeToLiveSpecification,
};

/// The index from verification sid to its number's item.
pub const SID_INDEX: &str = "sid-index";

#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore { client, table: table.into() }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Opens the connection (DNS, TCP, TLS) with a cheap call allowed by the
    /// table-scoped policy, so the first real request does not pay for it.
    pub async fn warm_up(&self) -> Result<(), StoreError> {
        self.client.describe_table().table_name(&self.table).send().await.map(|_| ()).map_err(unavailable)
    }

    fn key(key: &RecordKey) -> (String, AV) {
        (attr::PK.to_owned(), AV::S(partition_key(key)))
    }
}

fn unavailable<E: std::error::Error + 'static, R: std::fmt::Debug>(e: SdkError<E, R>) -> StoreError {
    StoreError::Unavailable(format!("DynamoDB: {}", DisplayErrorContext(&e)))
}

/// Turns a failed conditional write into `Conflict` with the old item, any
/// other failure into `Unavailable`.
fn conflict_or_unavailable<E, R>(e: SdkError<E, R>, old_item: impl FnOnce(&E) -> Option<Option<&Item>>) -> StoreError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match e.as_service_error().and_then(old_item) {
        Some(old) => StoreError::Conflict(old.and_then(from_item).map(Box::new)),
        None => unavailable(e),
    }
}

fn num(v: impl ToString) -> AV {
    AV::N(v.to_string())
}

/// The part of every update's `SET` that numbers and times the change (a
/// full put carries both in the record): the event stream makes each
/// event's `sequence`, id and sub-second time from them.
const STAMP: &str = "#version = #version + :one, #changed_ms = :changed_ms";

/// The names and values [`STAMP`] uses.
fn stamped(update: UpdateItemFluentBuilder, now_ms: Millis) -> UpdateItemFluentBuilder {
    update
        .expression_attribute_names("#version", attr::VERSION)
        .expression_attribute_names("#changed_ms", attr::CHANGED_MS)
        .expression_attribute_values(":one", num(1))
        .expression_attribute_values(":changed_ms", num(now_ms))
}

fn text(v: &str) -> AV {
    AV::S(v.to_owned())
}

impl Store for DynamoStore {
    async fn put(&self, record: &VerificationRecord, ttl: Seconds, expect: Expect) -> Result<(), StoreError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(record, ttl)))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        put = match expect {
            Expect::Absent => put.condition_expression("attribute_not_exists(#pk)").expression_attribute_names("#pk", attr::PK),
            Expect::Version(v) => put
                .condition_expression("#version = :version")
                .expression_attribute_names("#version", attr::VERSION)
                .expression_attribute_values(":version", num(v)),
        };
        put.send().await.map(|_| ()).map_err(|e| {
            conflict_or_unavailable(e, |se| match se {
                aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c) => Some(c.item()),
                _ => None,
            })
        })
    }

    async fn count_check(
        &self,
        key: &RecordKey,
        sid: Option<&str>,
        now_ms: Millis,
        limits: &Limits,
    ) -> Result<VerificationRecord, StoreError> {
        let now = secs_of(now_ms);
        let mut condition = "attribute_exists(#pk) AND #status = :pending AND #expires_at > :now \
                             AND #attempts < :max_attempts AND #failures < :max_failures"
            .to_owned();
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(Self::key(key).0, Self::key(key).1)
            // Counted before the code is compared, so parallel guesses cannot
            // exceed the limit; the failure count is per number and spans
            // verifications. Keep the item at least as long as any window.
            .update_expression(format!(
                "SET #attempts = #attempts + :one, #failures = #failures + :one, \
                 {STAMP}, #updated_at = :now, #ttl = :ttl"
            ))
            .expression_attribute_names("#pk", attr::PK)
            .expression_attribute_names("#status", attr::STATUS)
            .expression_attribute_names("#expires_at", attr::EXPIRES_AT)
            .expression_attribute_names("#attempts", attr::ATTEMPTS)
            .expression_attribute_names("#failures", attr::FAILURES)
            .expression_attribute_names("#updated_at", attr::UPDATED_AT)
            .expression_attribute_names("#ttl", attr::TTL)
            .expression_attribute_values(":pending", text(StoredStatus::Pending.as_str()))
            .expression_attribute_values(":now", num(now))
            .expression_attribute_values(":max_attempts", num(limits.max_check_attempts))
            .expression_attribute_values(":max_failures", num(limits.max_failures))
            .expression_attribute_values(":ttl", num(now + longest_window(limits)))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let mut update = stamped(update, now_ms);
        if let Some(sid) = sid {
            condition.push_str(" AND #sid = :sid");
            update = update.expression_attribute_names("#sid", attr::SID).expression_attribute_values(":sid", text(sid));
        }
        let out = update.condition_expression(condition).send().await.map_err(update_conflict)?;
        out.attributes().and_then(from_item).ok_or_else(|| StoreError::Unavailable("DynamoDB returned no record".into()))
    }

    async fn approve(&self, key: &RecordKey, a: &Approval<'_>) -> Result<VerificationRecord, StoreError> {
        let (k, v) = Self::key(key);
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(k, v)
            .update_expression(format!(
                "SET #status = :approved, #failures = :zero, #approved_by = :request, \
                 {STAMP}, #updated_at = :now, #ttl = :ttl"
            ))
            // The hash must still be the one that matched: a resend in between
            // replaced the code, and the old one must not approve.
            .condition_expression(
                "#status = :pending AND #sid = :sid AND #code_hash = :hash AND #key_id = :key_id AND #expires_at > :now",
            )
            .expression_attribute_names("#status", attr::STATUS)
            .expression_attribute_names("#failures", attr::FAILURES)
            .expression_attribute_names("#approved_by", attr::APPROVED_BY)
            .expression_attribute_names("#updated_at", attr::UPDATED_AT)
            .expression_attribute_names("#ttl", attr::TTL)
            .expression_attribute_names("#sid", attr::SID)
            .expression_attribute_names("#code_hash", attr::CODE_HASH)
            .expression_attribute_names("#key_id", attr::KEY_ID)
            .expression_attribute_names("#expires_at", attr::EXPIRES_AT)
            .expression_attribute_values(":approved", text(StoredStatus::Approved.as_str()))
            .expression_attribute_values(":pending", text(StoredStatus::Pending.as_str()))
            .expression_attribute_values(":zero", num(0))
            .expression_attribute_values(":request", text(a.request_id))
            .expression_attribute_values(":now", num(secs_of(a.now_ms)))
            .expression_attribute_values(":ttl", num(a.ttl))
            .expression_attribute_values(":sid", text(a.sid))
            .expression_attribute_values(":hash", AV::B(Blob::new(a.code_hash.digest.clone())))
            .expression_attribute_values(":key_id", text(&a.code_hash.key_id))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let out = stamped(update, a.now_ms).send().await.map_err(update_conflict)?;
        out.attributes().and_then(from_item).ok_or_else(|| StoreError::Unavailable("DynamoDB returned no record".into()))
    }

    async fn void_unsent(&self, key: &RecordKey, sid: &str, code_hash: &CodeHash, now_ms: Millis) -> Result<(), StoreError> {
        let (k, v) = Self::key(key);
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(k, v)
            .update_expression(format!("SET #status = :failed, #sends = #sends - :one, {STAMP}, #updated_at = :now"))
            .condition_expression("#status = :pending AND #sid = :sid AND #code_hash = :hash AND #sends > :zero")
            .expression_attribute_names("#status", attr::STATUS)
            .expression_attribute_names("#sends", attr::SENDS)
            .expression_attribute_names("#updated_at", attr::UPDATED_AT)
            .expression_attribute_names("#sid", attr::SID)
            .expression_attribute_names("#code_hash", attr::CODE_HASH)
            .expression_attribute_values(":failed", text(StoredStatus::Failed.as_str()))
            .expression_attribute_values(":pending", text(StoredStatus::Pending.as_str()))
            .expression_attribute_values(":zero", num(0))
            .expression_attribute_values(":now", num(secs_of(now_ms)))
            .expression_attribute_values(":sid", text(sid))
            .expression_attribute_values(":hash", AV::B(Blob::new(code_hash.digest.clone())))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        stamped(update, now_ms).send().await.map(|_| ()).map_err(update_conflict)
    }

    async fn close(&self, key: &RecordKey, c: &Closing<'_>) -> Result<VerificationRecord, StoreError> {
        debug_assert!(matches!(c.status, StoredStatus::Canceled | StoredStatus::Approved));
        let (k, v) = Self::key(key);
        // The item's TTL already outlives every window (each counting write
        // set it so); ending the verification extends none, so it stays.
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(k, v)
            .condition_expression(
                "#status = :pending AND #sid = :sid AND #expires_at > :now AND #attempts < :max_attempts",
            )
            .expression_attribute_names("#status", attr::STATUS)
            .expression_attribute_names("#sid", attr::SID)
            .expression_attribute_names("#expires_at", attr::EXPIRES_AT)
            .expression_attribute_names("#attempts", attr::ATTEMPTS)
            .expression_attribute_names("#updated_at", attr::UPDATED_AT)
            .expression_attribute_values(":new_status", text(c.status.as_str()))
            .expression_attribute_values(":pending", text(StoredStatus::Pending.as_str()))
            .expression_attribute_values(":sid", text(c.sid))
            .expression_attribute_values(":now", num(secs_of(c.now_ms)))
            .expression_attribute_values(":max_attempts", num(c.max_check_attempts))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        update = stamped(update, c.now_ms);
        update = if c.status == StoredStatus::Approved {
            update
                .update_expression(format!("SET #status = :new_status, #approved_by = :request, {STAMP}, #updated_at = :now"))
                .expression_attribute_names("#approved_by", attr::APPROVED_BY)
                .expression_attribute_values(":request", text(c.request_id))
        } else {
            update.update_expression(format!("SET #status = :new_status, {STAMP}, #updated_at = :now"))
        };
        let out = update.send().await.map_err(update_conflict)?;
        out.attributes().and_then(from_item).ok_or_else(|| StoreError::Unavailable("DynamoDB returned no record".into()))
    }

    async fn find_by_sid(&self, service_sid: &str, sid: &str) -> Result<Option<RecordKey>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(SID_INDEX)
            .key_condition_expression("#sid = :sid")
            .expression_attribute_names("#sid", attr::SID)
            .expression_attribute_values(":sid", text(sid))
            .limit(1)
            .send()
            .await
            .map_err(unavailable)?;
        let key = out
            .items()
            .first()
            .and_then(|i| i.get(attr::PK))
            .and_then(|pk| pk.as_s().ok())
            .and_then(|pk| parse_partition_key(pk));
        Ok(key.filter(|k| k.service_sid == service_sid))
    }

    async fn note_check_failed(&self, key: &RecordKey, sid: &str, now_ms: Millis) -> Result<(), StoreError> {
        let (k, v) = Self::key(key);
        // A change like any other (version bumped), so a start that read the
        // item before it re-plans rather than overwriting the note.
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(k, v)
            .update_expression(format!("ADD #failed_checks :one SET {STAMP}"))
            .condition_expression("#sid = :sid")
            .expression_attribute_names("#failed_checks", attr::FAILED_CHECKS)
            .expression_attribute_names("#sid", attr::SID)
            .expression_attribute_values(":sid", text(sid));
        stamped(update, now_ms).send().await.map(|_| ()).map_err(update_conflict)
    }

    async fn note_start_refused(&self, key: &RecordKey, reason: &str, now_ms: Millis) -> Result<(), StoreError> {
        let (k, v) = Self::key(key);
        // Once a second per number at most, so a flood of refused starts
        // cannot turn into a flood of writes.
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(k, v)
            .update_expression(format!("ADD #refused :one SET #refused_at = :now, #reason = :reason, {STAMP}"))
            .condition_expression("attribute_exists(#pk) AND (attribute_not_exists(#refused_at) OR #refused_at < :now)")
            .expression_attribute_names("#pk", attr::PK)
            .expression_attribute_names("#refused", attr::REFUSED_STARTS)
            .expression_attribute_names("#refused_at", attr::REFUSED_AT)
            .expression_attribute_names("#reason", attr::REFUSED_REASON)
            .expression_attribute_values(":now", num(secs_of(now_ms)))
            .expression_attribute_values(":reason", text(reason));
        stamped(update, now_ms).send().await.map(|_| ()).map_err(update_conflict)
    }

    async fn get(&self, key: &RecordKey) -> Result<Option<VerificationRecord>, StoreError> {
        let (k, v) = Self::key(key);
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(k, v)
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item().and_then(from_item))
    }
}

fn update_conflict<R: std::fmt::Debug>(
    e: SdkError<aws_sdk_dynamodb::operation::update_item::UpdateItemError, R>,
) -> StoreError {
    conflict_or_unavailable(e, |se| match se {
        aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c) => Some(c.item()),
        _ => None,
    })
}

fn parse_partition_key(pk: &str) -> Option<RecordKey> {
    let (service_sid, to) = pk.strip_prefix("VER#")?.split_once('#')?;
    Some(RecordKey { service_sid: service_sid.to_owned(), to: to.to_owned() })
}

/// The longest any record must be kept after a write that counts something.
pub fn longest_window(limits: &Limits) -> Seconds {
    limits.failure_window_secs.max(limits.validity_secs).max(limits.send_window_secs)
}

/// Creates the table as `template.yaml` declares it (key, sid index, the
/// events and due-deliveries indexes of webhook-report, TTL, stream), for
/// verify-local and tests; an existing table is left alone.
pub async fn ensure_table(client: &Client, table: &str) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("creating table {table}: {e}");
    let created = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(attr::PK))
        .attribute_definitions(attribute(attr::SID))
        .attribute_definitions(attribute(ev::BUCKET))
        .attribute_definitions(attribute(ev::SORT))
        .attribute_definitions(attribute(dl::DUE_SHARD))
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(dl::NEXT_ATTEMPT_AT)
                .attribute_type(ScalarAttributeType::N)
                .build()
                .map_err(|e| err(&e))?,
        )
        .key_schema(key_element(attr::PK))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(SID_INDEX)
                .key_schema(key_element(attr::SID))
                .projection(Projection::builder().projection_type(ProjectionType::KeysOnly).build())
                .build()
                .map_err(|e| err(&e))?,
        )
        // Stored events by (service, day, shard) and time, for reports.
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(EVENTS_INDEX)
                .key_schema(key_element(ev::BUCKET))
                .key_schema(range_element(ev::SORT))
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .map_err(|e| err(&e))?,
        )
        // Pending webhook deliveries by shard and next attempt (sparse).
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(DUE_INDEX)
                .key_schema(key_element(dl::DUE_SHARD))
                .key_schema(range_element(dl::NEXT_ATTEMPT_AT))
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .map_err(|e| err(&e))?,
        )
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .map_err(|e| err(&e))?,
        )
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => return Ok(()),
        Err(e) => return Err(err(&DisplayErrorContext(&e))),
    }
    for _ in 0..100 {
        let described = client.describe_table().table_name(table).send().await.map_err(|e| err(&DisplayErrorContext(&e)))?;
        if described.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder().attribute_name(attr::TTL).enabled(true).build().map_err(|e| err(&e))?,
        )
        .send()
        .await
        .map_err(|e| err(&DisplayErrorContext(&e)))?;
    Ok(())
}

fn attribute(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("name and type are set")
}

fn range_element(name: &str) -> KeySchemaElement {
    KeySchemaElement::builder().attribute_name(name).key_type(KeyType::Range).build().expect("name and type are set")
}

fn key_element(name: &str) -> KeySchemaElement {
    KeySchemaElement::builder().attribute_name(name).key_type(KeyType::Hash).build().expect("name and type are set")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_keys_parse_back() {
        let key = RecordKey { service_sid: "VAabc".into(), to: "+14155550123".into() };
        assert_eq!(parse_partition_key(&partition_key(&key)), Some(key));
        assert_eq!(parse_partition_key("EV#x"), None);
    }
}
