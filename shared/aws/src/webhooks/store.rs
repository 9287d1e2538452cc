//! Deliveries and endpoint state, in the verification table.
//!
//! - delivery: `pk = DLV#{endpoint id}#{event id}`, `kind = delivery`, the
//!   signed body, status, attempts, `next_attempt_at`; while pending it also
//!   has `due_shard = DUE#{0..3}`, the hash key of the sparse `due-index` GSI
//!   (range key `next_attempt_at`), which the scheduled run queries for due
//!   retries. A settled delivery drops `due_shard` and leaves the index.
//! - endpoint: `pk = WHEP#{endpoint id}`, `status = disabled` after a 410.
//!
//! Every change is conditional on the attempt count the writer read, so two
//! runs never both record an attempt, and a replayed stream record never
//! resets a delivery.

use crate::conditional::{applied, describe as ddb, put_new};
use crate::item::{Item, attr};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue as AV;
use std::collections::HashMap;
use verify_core::clock::Seconds;
use verify_core::webhooks::delivery::{Delivery, DeliveryStatus};

pub const DUE_INDEX: &str = "due-index";
pub const DUE_SHARDS: u32 = 4;
pub const KIND_DELIVERY: &str = "delivery";
pub const KIND_ENDPOINT: &str = "webhook_endpoint";

pub mod dl {
    pub const DUE_SHARD: &str = "due_shard";
    pub const NEXT_ATTEMPT_AT: &str = "next_attempt_at";
    pub const ENDPOINT_ID: &str = "endpoint_id";
    pub const EVENT_ID: &str = "event_id";
    pub const EVENT_TYPE: &str = "event_type";
    pub const BODY: &str = "body";
    pub const LAST_STATUS: &str = "last_status";
    pub const LAST_ERROR: &str = "last_error";
    pub const DELIVERED_AT: &str = "delivered_at";
    pub const REASON: &str = "reason";
}

#[derive(Clone, Debug)]
pub struct DeliveryStore {
    client: Client,
    table: String,
    retention_secs: i64,
}

fn num(v: impl ToString) -> AV {
    AV::N(v.to_string())
}

fn text(v: &str) -> AV {
    AV::S(v.to_owned())
}

pub fn delivery_pk(endpoint_id: &str, event_id: &str) -> String {
    format!("DLV#{endpoint_id}#{event_id}")
}

fn due_shard(pk: &str) -> String {
    format!("DUE#{}", crate::item::shard_of(pk, DUE_SHARDS))
}

impl DeliveryStore {
    pub fn new(client: Client, table: impl Into<String>, retention_days: i64) -> Self {
        DeliveryStore { client, table: table.into(), retention_secs: retention_days.max(1) * 86_400 }
    }

    fn to_item(&self, d: &Delivery) -> Item {
        let pk = delivery_pk(&d.endpoint_id, &d.event_id);
        let mut item: Item = HashMap::from([
            (attr::KIND.to_owned(), text(KIND_DELIVERY)),
            (dl::ENDPOINT_ID.to_owned(), text(&d.endpoint_id)),
            (dl::EVENT_ID.to_owned(), text(&d.event_id)),
            (dl::EVENT_TYPE.to_owned(), text(&d.event_type)),
            (dl::BODY.to_owned(), text(&d.body)),
            (attr::STATUS.to_owned(), text(d.status.as_str())),
            (attr::ATTEMPTS.to_owned(), num(d.attempts)),
            (attr::CREATED_AT.to_owned(), num(d.created_at)),
            (dl::NEXT_ATTEMPT_AT.to_owned(), num(d.next_attempt_at)),
            (attr::TTL.to_owned(), num(d.created_at + self.retention_secs)),
        ]);
        if d.status == DeliveryStatus::Pending {
            item.insert(dl::DUE_SHARD.to_owned(), text(&due_shard(&pk)));
        }
        if let Some(s) = d.last_status {
            item.insert(dl::LAST_STATUS.to_owned(), num(s));
        }
        if let Some(e) = &d.last_error {
            item.insert(dl::LAST_ERROR.to_owned(), text(e));
        }
        if let Some(t) = d.delivered_at {
            item.insert(dl::DELIVERED_AT.to_owned(), num(t));
        }
        item.insert(attr::PK.to_owned(), text(&pk));
        item
    }

    /// Records a new delivery. `false` if it already exists (a replay): the
    /// existing one, with its own progress, stands.
    pub async fn create(&self, d: &Delivery) -> Result<bool, String> {
        put_new(&self.client, &self.table, self.to_item(d)).await
    }

    /// Takes a due delivery for one attempt: pushes `next_attempt_at` to
    /// `lease_until`, if nobody else did since it was read. `false` if lost.
    pub async fn claim(&self, d: &Delivery, lease_until: Seconds) -> Result<bool, String> {
        let r = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(attr::PK, text(&delivery_pk(&d.endpoint_id, &d.event_id)))
            .update_expression("SET #next = :lease")
            .condition_expression("#status = :pending AND #attempts = :attempts AND #next = :seen")
            .expression_attribute_names("#next", dl::NEXT_ATTEMPT_AT)
            .expression_attribute_names("#status", attr::STATUS)
            .expression_attribute_names("#attempts", attr::ATTEMPTS)
            .expression_attribute_values(":lease", num(lease_until))
            .expression_attribute_values(":pending", text(DeliveryStatus::Pending.as_str()))
            .expression_attribute_values(":attempts", num(d.attempts))
            .expression_attribute_values(":seen", num(d.next_attempt_at))
            .send()
            .await;
        applied(r)
    }

    /// Writes the state after an attempt, if the delivery still stands where
    /// `before` left it. `false` if someone else recorded an attempt first.
    pub async fn record(&self, before: &Delivery, after: &Delivery) -> Result<bool, String> {
        let r = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.to_item(after)))
            .condition_expression("#status = :pending AND #attempts = :attempts")
            .expression_attribute_names("#status", attr::STATUS)
            .expression_attribute_names("#attempts", attr::ATTEMPTS)
            .expression_attribute_values(":pending", text(DeliveryStatus::Pending.as_str()))
            .expression_attribute_values(":attempts", num(before.attempts))
            .send()
            .await;
        applied(r)
    }

    pub async fn get(&self, endpoint_id: &str, event_id: &str) -> Result<Option<Delivery>, String> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(attr::PK, text(&delivery_pk(endpoint_id, event_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(ddb)?;
        Ok(out.item().and_then(from_item))
    }

    /// Pending deliveries whose next attempt is due at `now`, oldest first,
    /// at most `limit`.
    pub async fn due(&self, now: Seconds, limit: usize) -> Result<Vec<Delivery>, String> {
        let mut out = Vec::new();
        for shard in 0..DUE_SHARDS {
            let mut start = None;
            loop {
                let resp = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .index_name(DUE_INDEX)
                    .key_condition_expression("#shard = :shard AND #next <= :now")
                    .expression_attribute_names("#shard", dl::DUE_SHARD)
                    .expression_attribute_names("#next", dl::NEXT_ATTEMPT_AT)
                    .expression_attribute_values(":shard", text(&format!("DUE#{shard}")))
                    .expression_attribute_values(":now", num(now))
                    .limit(limit.clamp(1, 1000) as i32)
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(ddb)?;
                out.extend(resp.items().iter().filter_map(from_item).filter(|d| d.status == DeliveryStatus::Pending));
                match resp.last_evaluated_key() {
                    Some(k) if !k.is_empty() && out.len() < limit * (shard as usize + 1) => start = Some(k.clone()),
                    _ => break,
                }
            }
        }
        out.sort_by_key(|d| d.next_attempt_at);
        out.truncate(limit);
        Ok(out)
    }

    /// Whether an endpoint was disabled (by a 410).
    pub async fn endpoint_disabled(&self, endpoint_id: &str) -> Result<bool, String> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(attr::PK, text(&format!("WHEP#{endpoint_id}")))
            .consistent_read(true)
            .send()
            .await
            .map_err(ddb)?;
        Ok(out.item().and_then(|i| i.get(attr::STATUS)).and_then(|v| v.as_s().ok()).is_some_and(|s| s == "disabled"))
    }

    /// Disables an endpoint. To enable it again, delete its `WHEP#` item
    /// (or give the endpoint a new id in the configuration).
    pub async fn disable_endpoint(&self, endpoint_id: &str, now: Seconds, reason: &str) -> Result<(), String> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item(attr::PK, text(&format!("WHEP#{endpoint_id}")))
            .item(attr::KIND, text(KIND_ENDPOINT))
            .item(dl::ENDPOINT_ID, text(endpoint_id))
            .item(attr::STATUS, text("disabled"))
            .item(attr::UPDATED_AT, num(now))
            .item(dl::REASON, text(reason))
            .send()
            .await
            .map(|_| ())
            .map_err(ddb)
    }
}

pub fn from_item(item: &Item) -> Option<Delivery> {
    let s = |n: &str| item.get(n).and_then(|v| v.as_s().ok()).cloned();
    let n = |n: &str| item.get(n).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok());
    if s(attr::KIND).as_deref() != Some(KIND_DELIVERY) {
        return None;
    }
    Some(Delivery {
        endpoint_id: s(dl::ENDPOINT_ID)?,
        event_id: s(dl::EVENT_ID)?,
        event_type: s(dl::EVENT_TYPE).unwrap_or_default(),
        body: s(dl::BODY)?,
        status: DeliveryStatus::parse(&s(attr::STATUS)?)?,
        attempts: n(attr::ATTEMPTS)? as u32,
        created_at: n(attr::CREATED_AT)?,
        next_attempt_at: n(dl::NEXT_ATTEMPT_AT)?,
        last_status: n(dl::LAST_STATUS).map(|v| v as u16),
        last_error: s(dl::LAST_ERROR),
        delivered_at: n(dl::DELIVERED_AT),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_survive_the_round_trip_and_leave_the_index_when_settled() {
        let store = DeliveryStore::new(crate::clients::dynamodb_at("http://127.0.0.1:9"), "t", 90);
        let mut d = Delivery {
            endpoint_id: "we_1".into(),
            event_id: "evt_1".into(),
            event_type: "verification.approved".into(),
            body: "{\"a\":1}".into(),
            status: DeliveryStatus::Pending,
            attempts: 2,
            created_at: 10,
            next_attempt_at: 20,
            last_status: Some(500),
            last_error: Some("HTTP 500".into()),
            delivered_at: None,
        };
        let item = store.to_item(&d);
        assert!(item[dl::DUE_SHARD].as_s().unwrap().starts_with("DUE#"));
        assert_eq!(from_item(&item), Some(d.clone()));
        d.status = DeliveryStatus::Delivered;
        assert!(!store.to_item(&d).contains_key(dl::DUE_SHARD));
    }
}
