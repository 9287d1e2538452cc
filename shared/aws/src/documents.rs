//! Small versioned documents, one item each: the JSON in `doc`, the
//! version in `ver`. Reading is one strongly consistent `GetItem`; saving a
//! `PutItem` conditioned on the version read (or on the item's absence for
//! the first), one write unit for a small document; deleting one a
//! `DeleteItem` on the same condition. Rate-limit definitions
//! (`crate::rate_limits`) and the services managed over the API
//! (`crate::services`) are kept this way.

use crate::conditional::{applied, unavailable};
use crate::item::{Item, attr};
use crate::store::DynamoStore;
use aws_sdk_dynamodb::types::AttributeValue as AV;
use serde::Serialize;
use serde::de::DeserializeOwned;
use verify_core::store::StoreError;

const DOC: &str = "doc";
const VERSION: &str = "ver";

fn key(pk: &str) -> Item {
    Item::from([(attr::PK.to_owned(), AV::S(pk.to_owned()))])
}

/// The document in an item; the default (version 0) when there is none.
pub(crate) fn from_item<T: DeserializeOwned + Default>(item: &Item) -> Result<T, StoreError> {
    match item.get(DOC).and_then(|v| v.as_s().ok()) {
        Some(doc) => serde_json::from_str(doc).map_err(|e| StoreError::Unavailable(format!("a stored document is unreadable: {e}"))),
        None => Ok(T::default()),
    }
}

/// A write conditioned on the version read: not applied means another
/// writer came first (`Conflict`), a failure that it could not be made.
fn versioned(applied: Result<bool, String>) -> Result<(), StoreError> {
    match applied.map_err(StoreError::Unavailable)? {
        true => Ok(()),
        false => Err(StoreError::Conflict(None)),
    }
}

impl DynamoStore {
    /// The document at `pk`, strongly consistent.
    pub(crate) async fn document<T: DeserializeOwned + Default>(&self, pk: &str) -> Result<T, StoreError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(key(pk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        out.item().map_or(Ok(T::default()), from_item)
    }

    /// Writes `doc` at `version` if the stored one is still `version - 1`;
    /// otherwise `Err(Conflict(None))` and nothing changes.
    pub(crate) async fn save_document<T: Serialize>(&self, pk: &str, kind: &str, doc: &T, version: u64) -> Result<(), StoreError> {
        let mut item = key(pk);
        item.insert(attr::KIND.to_owned(), AV::S(kind.to_owned()));
        item.insert(DOC.to_owned(), AV::S(serde_json::to_string(doc).expect("the document serialises")));
        item.insert(VERSION.to_owned(), AV::N(version.to_string()));
        let put = self.client().put_item().table_name(self.table()).set_item(Some(item));
        let put = match version.checked_sub(1) {
            Some(0) | None => put.condition_expression("attribute_not_exists(#pk)").expression_attribute_names("#pk", attr::PK),
            Some(read) => put
                .condition_expression("#ver = :read")
                .expression_attribute_names("#ver", VERSION)
                .expression_attribute_values(":read", AV::N(read.to_string())),
        };
        versioned(applied(put.send().await))
    }

    /// Deletes the document if the stored one is still at `version` (the
    /// one read); otherwise `Err(Conflict(None))` and nothing changes.
    /// Version 0 is no document: nothing to delete. A writer that read the
    /// deleted version then fails its condition and reads again (version 0).
    pub(crate) async fn delete_document(&self, pk: &str, version: u64) -> Result<(), StoreError> {
        if version == 0 {
            return Ok(());
        }
        let delete = self
            .client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key(pk)))
            .condition_expression("#ver = :read")
            .expression_attribute_names("#ver", VERSION)
            .expression_attribute_values(":read", AV::N(version.to_string()));
        versioned(applied(delete.send().await))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use verify_core::rate_limits::RateLimits;

    #[test]
    fn a_missing_document_is_the_default_and_a_stored_one_reads_back() {
        assert_eq!(from_item::<RateLimits>(&Item::new()).unwrap(), RateLimits::default());
        let set = RateLimits { version: 3, limits: vec![] };
        let item = Item::from([(DOC.to_owned(), AV::S(serde_json::to_string(&set).unwrap()))]);
        assert_eq!(from_item::<RateLimits>(&item).unwrap(), set);
        let broken = Item::from([(DOC.to_owned(), AV::S("{".into()))]);
        assert!(matches!(from_item::<RateLimits>(&broken), Err(StoreError::Unavailable(_))));
    }
}
