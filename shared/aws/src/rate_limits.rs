//! Programmable rate limits on DynamoDB, in the one table:
//!
//! - a service's definitions: one item `RLS#{service sid}` holding the
//!   document as JSON (`doc`) and its version (`ver`); saving is a `PutItem`
//!   conditioned on the version read (or on the item's absence for the
//!   first), one write unit for a small document;
//! - a counter: one item `RLC#{service}#{bucket}#{value tag}#{window start}`
//!   (see `verify_core::rate_limits::hits`), taken as every counter is
//!   (`crate::counters`).
//!
//! Neither is a verification record: the stream mapping's filter (VER#,
//! BLK#) keeps them from webhook-report, and the stream decoder skips them.

use crate::conditional::{applied, unavailable};
use crate::item::{Item, attr};
use crate::store::DynamoStore;
use aws_sdk_dynamodb::types::AttributeValue as AV;
use verify_core::rate_limits::RateLimits;
use verify_core::store::StoreError;
use verify_core::store::rate_limits::RateLimitStore;

/// Items of the table that are rate-limit definitions.
pub const KIND_RATE_LIMITS: &str = "rate_limits";

const DOC: &str = "doc";
const VERSION: &str = "ver";

fn key(pk: String) -> Item {
    Item::from([(attr::PK.to_owned(), AV::S(pk))])
}

fn definitions_key(service_sid: &str) -> Item {
    key(format!("RLS#{service_sid}"))
}

fn from_item(item: &Item) -> Result<RateLimits, StoreError> {
    let doc = item.get(DOC).and_then(|v| v.as_s().ok());
    match doc {
        Some(doc) => serde_json::from_str(doc)
            .map_err(|e| StoreError::Unavailable(format!("a stored rate-limit document is unreadable: {e}"))),
        None => Ok(RateLimits::default()),
    }
}

impl RateLimitStore for DynamoStore {
    async fn rate_limits(&self, service_sid: &str) -> Result<RateLimits, StoreError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(definitions_key(service_sid)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        out.item().map_or(Ok(RateLimits::default()), from_item)
    }

    async fn save_rate_limits(&self, service_sid: &str, limits: &RateLimits) -> Result<(), StoreError> {
        let doc = serde_json::to_string(limits).expect("the document serialises");
        let mut item = definitions_key(service_sid);
        item.insert(attr::KIND.to_owned(), AV::S(KIND_RATE_LIMITS.to_owned()));
        item.insert(DOC.to_owned(), AV::S(doc));
        item.insert(VERSION.to_owned(), AV::N(limits.version.to_string()));
        let put = self.client().put_item().table_name(self.table()).set_item(Some(item));
        let put = match limits.version.checked_sub(1) {
            Some(0) | None => put.condition_expression("attribute_not_exists(#pk)").expression_attribute_names("#pk", attr::PK),
            Some(read) => put
                .condition_expression("#ver = :read")
                .expression_attribute_names("#ver", VERSION)
                .expression_attribute_values(":read", AV::N(read.to_string())),
        };
        match applied(put.send().await).map_err(StoreError::Unavailable)? {
            true => Ok(()),
            false => Err(StoreError::Conflict(None)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_document_is_an_empty_set_and_a_stored_one_reads_back() {
        assert_eq!(from_item(&Item::new()).unwrap(), RateLimits::default());
        let set = RateLimits { version: 3, limits: vec![] };
        let item = Item::from([(DOC.to_owned(), AV::S(serde_json::to_string(&set).unwrap()))]);
        assert_eq!(from_item(&item).unwrap(), set);
        let broken = Item::from([(DOC.to_owned(), AV::S("{".into()))]);
        assert!(matches!(from_item(&broken), Err(StoreError::Unavailable(_))));
    }
}
