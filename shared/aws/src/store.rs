//! The [`Store`] on DynamoDB: one item per (service, recipient key). A
//! [`Change`] becomes one conditional `PutItem` or `UpdateItem`, translated
//! mechanically: the guard by [`condition`], the update by
//! [`update_expression`]. No rule is written here; the conditional write
//! returns the old item when its condition fails, so a refusal costs no read.

use crate::batch_get;
use crate::conditional::unavailable;
use crate::events::store::{EVENTS_INDEX, ev};
use crate::item::{Item, attr, from_item, partition_key, to_item};
use crate::webhooks::store::{DUE_INDEX, dl};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue as AV, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ReturnValue, ReturnValuesOnConditionCheckFailure, ScalarAttributeType, StreamSpecification, StreamViewType, TableStatus,
    TimeToLiveSpecification,
};
use std::collections::HashMap;
use verify_core::change::{Assign, Change, Field, Guard, Value, Write};
use verify_core::record::VerificationRecord;
use verify_core::sid_seal::SidSeal;
use verify_core::store::{RecordKey, Store, StoreError};

/// The index from verification sid to its recipient's item.
pub const SID_INDEX: &str = "sid-index";

#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// Opens sealed verification sids: their records are stored without an
    /// index row and found by key.
    seal: Option<std::sync::Arc<SidSeal>>,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore { client, table: table.into(), seal: None }
    }

    /// This store, finding sids sealed by `seal` without the index.
    pub fn with_sid_seal(self, seal: SidSeal) -> Self {
        DynamoStore { seal: Some(std::sync::Arc::new(seal)), ..self }
    }

    /// This store, with the seal `keys` make sids with (if any): what every
    /// function that serves the API builds its store with.
    pub fn sealing_like(self, keys: &verify_core::otp::CodeKeys) -> Self {
        match keys.sid_seal() {
            Some(seal) => self.with_sid_seal(seal.clone()),
            None => self,
        }
    }

    /// Whether `record`'s sid names its record, so it is kept out of the
    /// `sid-index` (under [`attr::SEALED_SID`]).
    fn sealed(&self, record: &VerificationRecord) -> bool {
        self.seal.as_ref().and_then(|s| s.open(&record.sid)).is_some_and(|to| to == RecordKey::of(record).to)
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

    fn key(key: &RecordKey) -> HashMap<String, AV> {
        HashMap::from([(attr::PK.to_owned(), AV::S(partition_key(key)))])
    }

    async fn put(
        &self,
        record: &VerificationRecord,
        expr: Expression,
        condition: Option<String>,
    ) -> Result<VerificationRecord, StoreError> {
        let mut item = to_item(record);
        if self.sealed(record)
            && let Some(sid) = item.remove(attr::SID)
        {
            item.insert(attr::SEALED_SID.to_owned(), sid);
        }
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await
            .map_err(|e| {
                conflict_or_unavailable(e, |se| match se {
                    aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c) => Some(c.item()),
                    _ => None,
                })
            })?;
        Ok(record.clone())
    }

    async fn update(
        &self,
        key: &RecordKey,
        assigns: &[Assign],
        mut expr: Expression,
        condition: Option<String>,
    ) -> Result<VerificationRecord, StoreError> {
        let update = update_expression(assigns, &mut expr);
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(key)))
            .update_expression(update)
            .set_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await
            .map_err(|e| {
                conflict_or_unavailable(e, |se| match se {
                    aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c) => Some(c.item()),
                    _ => None,
                })
            })?;
        out.attributes().and_then(from_item).ok_or_else(|| StoreError::Unavailable("DynamoDB returned no record".into()))
    }
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

impl Store for DynamoStore {
    async fn read(&self, key: &RecordKey) -> Result<Option<VerificationRecord>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item().and_then(from_item))
    }

    async fn apply(&self, change: &Change) -> Result<VerificationRecord, StoreError> {
        let mut expr = Expression::default();
        let condition = condition(&change.guard, &mut expr);
        match &change.write {
            Write::Put(record) => self.put(record, expr, condition).await,
            Write::Update(assigns) => self.update(&change.key, assigns, expr, condition).await,
        }
    }

    async fn find_by_sid(&self, service_sid: &str, sid: &str) -> Result<Option<RecordKey>, StoreError> {
        // A sealed sid names its record; whoever reads it compares the sid.
        if let Some(to) = self.seal.as_ref().and_then(|s| s.open(sid)) {
            return Ok(Some(RecordKey { service_sid: service_sid.to_owned(), to }));
        }
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(SID_INDEX)
            .key_condition_expression("#sid = :sid")
            .expression_attribute_names("#sid", attr::SID)
            .expression_attribute_values(":sid", AV::S(sid.to_owned()))
            .limit(1)
            .send()
            .await
            .map_err(unavailable)?;
        let key = out.items().first().and_then(|i| i.get(attr::PK)).and_then(|pk| pk.as_s().ok()).and_then(|pk| parse_partition_key(pk));
        Ok(key.filter(|k| k.service_sid == service_sid))
    }
}

impl DynamoStore {
    /// The records stored under these keys (eventually consistent reads),
    /// in no particular order; keys with no record are left out. For the
    /// expiry sweep, whose note's guard decides on the item as it stands.
    pub async fn read_many(&self, keys: &[RecordKey]) -> Result<Vec<(RecordKey, VerificationRecord)>, StoreError> {
        let keys: Vec<Item> = keys.iter().map(Self::key).collect();
        let items = batch_get::get_items(&self.client, &self.table, &keys, None).await.map_err(StoreError::Unavailable)?;
        Ok(items.iter().filter_map(|i| Some((parse_partition_key(i.get(attr::PK)?.as_s().ok()?)?, from_item(i)?))).collect())
    }

    /// [`verify_core::record::note_expired`], the update arm of
    /// [`Store::apply`] alone: webhook-report links no put.
    pub async fn note_expired(&self, key: &RecordKey, now_ms: i64) -> Result<VerificationRecord, StoreError> {
        let change = verify_core::record::note_expired(key, now_ms);
        let Write::Update(assigns) = &change.write else { unreachable!("a note is an update") };
        let mut expr = Expression::default();
        let condition = condition(&change.guard, &mut expr);
        self.update(key, assigns, expr, condition).await
    }
}

/// The attribute names and values one request's expressions use.
#[derive(Default)]
pub struct Expression {
    names: HashMap<String, String>,
    values: HashMap<String, AV>,
}

impl Expression {
    fn name(&mut self, attribute: &str) -> String {
        let placeholder = format!("#{attribute}");
        self.names.insert(placeholder.clone(), attribute.to_owned());
        placeholder
    }

    fn value(&mut self, value: AV) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<HashMap<String, AV>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

fn num(v: impl ToString) -> AV {
    AV::N(v.to_string())
}

/// A [`Guard`] as a `ConditionExpression`, clause for clause, with the
/// meaning of [`Guard::holds`]. DynamoDB holds a comparison on a missing item
/// false but `attribute_not_exists` true, so any condition on a field also
/// asks for the item to exist, as `holds` does.
pub fn condition(guard: &Guard, e: &mut Expression) -> Option<String> {
    let mut clauses: Vec<String> = Vec::new();
    let mut compare = |e: &mut Expression, attribute: &str, op: &str, value: AV| {
        let (n, v) = (e.name(attribute), e.value(value));
        clauses.push(format!("{n} {op} {v}"));
    };
    if let Some(v) = guard.version {
        compare(e, attr::VERSION, "=", num(v));
    }
    if let Some(s) = guard.status {
        compare(e, attr::STATUS, "=", AV::S(s.as_str().to_owned()));
    }
    if let Some(t) = guard.unexpired_at {
        compare(e, attr::EXPIRES_AT, ">", num(t));
    }
    if let Some(t) = guard.expired_at {
        compare(e, attr::EXPIRES_AT, "<=", num(t));
    }
    if let Some(n) = guard.attempts_below {
        compare(e, attr::ATTEMPTS, "<", num(n));
    }
    if let Some(n) = guard.failures_below {
        compare(e, attr::FAILURES, "<", num(n));
    }
    if let Some(n) = guard.sends_at_least {
        compare(e, attr::SENDS, ">=", num(n));
    }
    if let Some(h) = &guard.code_hash {
        compare(e, attr::CODE_HASH, "=", AV::B(Blob::new(h.digest.clone())));
        compare(e, attr::KEY_ID, "=", AV::S(h.key_id.clone()));
    }
    match guard.expiry_noted {
        Some(true) => compare(e, attr::EXPIRY_NOTED, "=", num(1)),
        Some(false) => {
            let (n, v) = (e.name(attr::EXPIRY_NOTED), e.value(num(0)));
            clauses.push(format!("(attribute_not_exists({n}) OR {n} = {v})"));
        }
        None => {}
    }
    if let Some(sid) = &guard.sid {
        // Kept under one of two names (see `attr::SEALED_SID`).
        let (n, sealed, v) = (e.name(attr::SID), e.name(attr::SEALED_SID), e.value(AV::S(sid.clone())));
        clauses.push(format!("({n} = {v} OR {sealed} = {v})"));
    }
    if let Some(t) = guard.no_refusal_noted_since {
        let (n, v) = (e.name(attr::REFUSED_AT), e.value(num(t)));
        clauses.push(format!("(attribute_not_exists({n}) OR {n} < {v})"));
    }
    let on_fields = !clauses.is_empty();
    let pk = e.name(attr::PK);
    // Holds on a missing item too, so it does not ask for one.
    if let Some(idle) = &guard.absent_or_idle {
        let (x, xv) = (e.name(attr::EXPIRES_AT), e.value(num(idle.expired_by)));
        let (s, sv) = (e.name(attr::SEND_WINDOW_START), e.value(num(idle.send_window_started_by)));
        let (f, zero) = (e.name(attr::FAILURES), e.value(num(0)));
        let (w, wv) = (e.name(attr::FAILURE_WINDOW_START), e.value(num(idle.failure_window_started_by)));
        clauses.push(format!("(attribute_not_exists({pk}) OR ({x} <= {xv} AND {s} <= {sv} AND ({f} = {zero} OR {w} <= {wv})))"));
    }
    match guard.exists {
        Some(false) => clauses.insert(0, format!("attribute_not_exists({pk})")),
        Some(true) => clauses.insert(0, format!("attribute_exists({pk})")),
        None if on_fields => clauses.insert(0, format!("attribute_exists({pk})")),
        None if guard.absent_or_idle.is_some() => {}
        None => {
            e.names.remove(&pk);
        }
    }
    (!clauses.is_empty()).then(|| clauses.join(" AND "))
}

/// An update as an `UpdateExpression`: `SET` for values, `ADD` for
/// increments (which, like [`Assign::Add`], count a missing number as 0).
pub fn update_expression(assigns: &[Assign], e: &mut Expression) -> String {
    let (mut set, mut add) = (Vec::new(), Vec::new());
    for a in assigns {
        match a {
            Assign::Set(field, value) => {
                let (n, v) = (e.name(attribute_of(*field)), e.value(attribute_value(value)));
                set.push(format!("{n} = {v}"));
            }
            Assign::Add(field, delta) => {
                let (n, v) = (e.name(attribute_of(*field)), e.value(num(delta)));
                add.push(format!("{n} {v}"));
            }
        }
    }
    let mut out = Vec::new();
    if !set.is_empty() {
        out.push(format!("SET {}", set.join(", ")));
    }
    if !add.is_empty() {
        out.push(format!("ADD {}", add.join(", ")));
    }
    out.join(" ")
}

/// The item attribute a record field is stored in.
fn attribute_of(field: Field) -> &'static str {
    match field {
        Field::Status => attr::STATUS,
        Field::Attempts => attr::ATTEMPTS,
        Field::Failures => attr::FAILURES,
        Field::Sends => attr::SENDS,
        Field::Version => attr::VERSION,
        Field::ChangedMs => attr::CHANGED_MS,
        Field::UpdatedAt => attr::UPDATED_AT,
        Field::Ttl => attr::TTL,
        Field::CheckedBy => attr::CHECKED_BY,
        Field::FailedChecks => attr::FAILED_CHECKS,
        Field::RefusedStarts => attr::REFUSED_STARTS,
        Field::RefusedAt => attr::REFUSED_AT,
        Field::RefusedReason => attr::REFUSED_REASON,
        Field::ExpiryNoted => attr::EXPIRY_NOTED,
    }
}

fn attribute_value(value: &Value) -> AV {
    match value {
        Value::Int(n) => num(n),
        Value::Text(s) => AV::S(s.clone()),
        Value::Status(s) => AV::S(s.as_str().to_owned()),
    }
}

fn parse_partition_key(pk: &str) -> Option<RecordKey> {
    let (service_sid, to) = pk.strip_prefix("VER#")?.split_once('#')?;
    Some(RecordKey { service_sid: service_sid.to_owned(), to: to.to_owned() })
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
        .attribute_definitions(number_attribute(dl::NEXT_ATTEMPT_AT))
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
    AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build().expect("name and type are set")
}

fn number_attribute(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::N).build().expect("name and type are set")
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

    use verify_core::config::Limits;
    use verify_core::record::{self, StoredStatus};

    fn translated(change: &Change) -> (Option<String>, String, Expression) {
        let mut e = Expression::default();
        let condition = condition(&change.guard, &mut e);
        let update = match &change.write {
            Write::Update(assigns) => update_expression(assigns, &mut e),
            Write::Put(_) => String::new(),
        };
        (condition, update, e)
    }

    #[test]
    fn a_wrong_code_is_one_guarded_increment_of_the_version_read() {
        let r = record::example::start(None, "+14155550123", "VEa", "VL1", 1_700_000_000).unwrap();
        let change = record::check(&r, false, "RQ", 1_700_000_000_250, &Limits::default());
        let (condition, update, e) = translated(&change);
        assert_eq!(
            condition.as_deref(),
            Some(
                "attribute_exists(#pk) AND #version = :v0 AND #status = :v1 AND #expires_at > :v2 AND #attempts < :v3 AND #failures < :v4 AND (#sid = :v5 OR #vsid = :v5)"
            )
        );
        assert_eq!(
            update,
            "SET #updated_at = :v7, #checked_by = :v8, #ttl = :v11, #changed_ms = :v13 ADD #attempts :v6, #failures :v9, #failed_checks :v10, #version :v12"
        );
        assert_eq!(e.values[":v8"], AV::S("RQ".into()), "the request, so a retry that lands on it recognises its own write");
        assert_eq!(e.values[":v0"], AV::N("1".into()));
        assert_eq!(e.values[":v1"], AV::S("pending".into()));
        assert_eq!(e.values[":v2"], AV::N("1700000000".into()), "rules compare whole seconds");
        assert_eq!(e.values[":v3"], AV::N("5".into()));
        assert_eq!(e.names["#pk"], attr::PK);
    }

    #[test]
    fn every_guard_condition_has_its_clause() {
        let r = record::example::start(None, "+14155550123", "VEa", "VL1", 1_700_000_000).unwrap();
        let full = Guard {
            exists: Some(true),
            version: Some(1),
            status: Some(StoredStatus::Pending),
            sid: Some("VEa".into()),
            unexpired_at: Some(1),
            expired_at: Some(1),
            expiry_noted: Some(false),
            attempts_below: Some(5),
            failures_below: Some(20),
            sends_at_least: Some(1),
            code_hash: Some(r.code_hash.clone()),
            no_refusal_noted_since: Some(1),
            absent_or_idle: Some(verify_core::change::Idle::at(1_700_000_000, 600, 86_400)),
        };
        let mut e = Expression::default();
        let c = condition(&full, &mut e).unwrap();
        for clause in [
            "attribute_exists(#pk)",
            "#version =",
            "#status =",
            "(#sid = :v10 OR #vsid = :v10)",
            "#expires_at >",
            "#attempts <",
            "#failures <",
            "#sends >=",
            "#expires_at <=",
            "attribute_not_exists(#expiry_noted) OR #expiry_noted =",
            "#code_hash =",
            "#key_id =",
            "attribute_not_exists(#refused_at) OR #refused_at <",
            "(attribute_not_exists(#pk) OR (#expires_at <= ",
            " AND #send_window_start <= ",
            " AND (#failures = ",
            " OR #failure_window_start <= ",
        ] {
            assert!(c.contains(clause), "{clause} missing from {c}");
        }
        // Alone, it holds on a missing item: no attribute_exists.
        let mut e = Expression::default();
        let idle = Guard { absent_or_idle: Some(verify_core::change::Idle::at(1_700_000_000, 600, 86_400)), ..Guard::default() };
        let c = condition(&idle, &mut e).unwrap();
        assert!(c.starts_with("(attribute_not_exists(#pk) OR (") && !c.contains("attribute_exists"), "{c}");
        assert_eq!(e.values[":v1"], AV::N("1699999400".into()), "the send window started 600 s before");
        assert_eq!(e.values[":v3"], AV::N("1699913600".into()), "the failure window 24 h before");
        let mut e = Expression::default();
        assert_eq!(condition(&Guard { exists: Some(false), ..Guard::default() }, &mut e).as_deref(), Some("attribute_not_exists(#pk)"));
        let mut e = Expression::default();
        assert_eq!(condition(&Guard::default(), &mut e), None);
        assert!(e.names().is_none(), "no names for no condition");
    }

    /// What keeps a check, a close or a note at one write unit: no update
    /// touches the key of an index (`sid-index`'s `sid`), so none moves a row.
    #[test]
    fn updates_leave_every_index_key_alone() {
        let key = RecordKey { service_sid: "VA1".into(), to: "+14155550123".into() };
        let r = record::example::start(None, "+14155550123", "VEa", "VL1", 1_700_000_000).unwrap();
        for change in [
            record::note_expired(&key, 1_700_000_000_000),
            record::close(&key, "VEa", StoredStatus::Canceled, "RQ", 0, &Limits::default()),
            record::check(&r, false, "RQ", 0, &Limits::default()),
            record::check(&r, true, "RQ", 0, &Limits::default()),
            record::note_start_refused(&key, "max_sends", 0),
        ] {
            let (_, update, _) = translated(&change);
            assert!(!update.contains("REMOVE"), "{update}");
            for index_key in [attr::SID, attr::SEALED_SID, ev::BUCKET, ev::SORT] {
                assert!(!update.contains(&format!("#{index_key} ")), "{update}");
            }
        }
    }

    #[test]
    fn partition_keys_parse_back() {
        let key = RecordKey { service_sid: "VAabc".into(), to: "+14155550123".into() };
        assert_eq!(parse_partition_key(&partition_key(&key)), Some(key));
        assert_eq!(parse_partition_key("EV#x"), None);
    }
}
