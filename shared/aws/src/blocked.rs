//! Blocked starts on DynamoDB: one item per (service, recipient),
//! `pk = BLK#{service}#{recipient key}`, `kind = blocked`; each refused
//! start is one `UpdateItem` (ADD 1 to the count, SET the reason and time),
//! which the table's stream carries to webhook-report as a
//! `verification.blocked` event. The item expires a day after the last
//! refusal (TTL), so an attack leaves nothing behind for long.

use crate::item::{Item, attr};
use crate::store::DynamoStore;
use aws_sdk_dynamodb::types::AttributeValue as AV;
use verify_core::store::StoreError;
use verify_core::store::blocked::{BlockedStarts, BlockedStore};

/// Items of the table that count blocked starts carry this kind.
pub const KIND_BLOCKED: &str = "blocked";
/// The stream's filter (template.yaml) passes items with this key prefix.
pub const KEY_PREFIX: &str = "BLK#";
const KEEP_SECONDS: i64 = 86_400;

mod a {
    pub const COUNT: &str = "blocked_count";
    pub const REASON: &str = "reason";
}

fn partition_key(service_sid: &str, key: &str) -> String {
    format!("{KEY_PREFIX}{service_sid}#{key}")
}

/// Reads an item back; `None` if it is not a blocked-starts item.
pub fn from_item(item: &Item) -> Option<BlockedStarts> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let num = |name: &str| item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok());
    if text(attr::KIND).as_deref() != Some(KIND_BLOCKED) {
        return None;
    }
    let pk = text(attr::PK)?;
    let service_sid = text(attr::SERVICE_SID)?;
    let key = pk.strip_prefix(KEY_PREFIX)?.strip_prefix(service_sid.as_str())?.strip_prefix('#')?.to_owned();
    Some(BlockedStarts {
        service_sid,
        key,
        to: text(attr::TO)?,
        channel: text(attr::CHANNEL)?,
        country: text(attr::COUNTRY),
        count: u64::try_from(num(a::COUNT)?).ok()?,
        reason: text(a::REASON)?,
        changed_ms: num(attr::CHANGED_MS)?,
    })
}

impl BlockedStore for DynamoStore {
    async fn note_blocked(&self, note: &BlockedStarts) -> Result<(), StoreError> {
        let s = |v: &str| AV::S(v.to_owned());
        let n = |v: i64| AV::N(v.to_string());
        let mut set = vec![
            "#kind = :kind",
            "#service_sid = :service_sid",
            "#to = :to",
            "#channel = :channel",
            "#reason = :reason",
            "#changed_ms = :changed_ms",
            "#ttl = :ttl",
        ];
        let mut req = self
            .client()
            .update_item()
            .table_name(self.table())
            .key(attr::PK, s(&partition_key(&note.service_sid, &note.key)))
            .expression_attribute_names("#kind", attr::KIND)
            .expression_attribute_names("#service_sid", attr::SERVICE_SID)
            .expression_attribute_names("#to", attr::TO)
            .expression_attribute_names("#channel", attr::CHANNEL)
            .expression_attribute_names("#reason", a::REASON)
            .expression_attribute_names("#changed_ms", attr::CHANGED_MS)
            .expression_attribute_names("#ttl", attr::TTL)
            .expression_attribute_names("#count", a::COUNT)
            .expression_attribute_values(":kind", s(KIND_BLOCKED))
            .expression_attribute_values(":service_sid", s(&note.service_sid))
            .expression_attribute_values(":to", s(&note.to))
            .expression_attribute_values(":channel", s(&note.channel))
            .expression_attribute_values(":reason", s(&note.reason))
            .expression_attribute_values(":changed_ms", n(note.changed_ms))
            .expression_attribute_values(":ttl", n(note.changed_ms / 1000 + KEEP_SECONDS))
            .expression_attribute_values(":one", n(1));
        if let Some(country) = &note.country {
            set.push("#country = :country");
            req = req.expression_attribute_names("#country", attr::COUNTRY).expression_attribute_values(":country", s(country));
        }
        req.update_expression(format!("SET {} ADD #count :one", set.join(", ")))
            .send()
            .await
            .map(|_| ())
            .map_err(crate::conditional::unavailable)
    }
}
