//! The Safe List on DynamoDB: one item per listed number in the same table,
//! `pk = SAFE#{recipient key}`, `kind = safe_list`. Adding is a `PutItem`
//! conditioned on the item's absence, reading one strongly consistent
//! `GetItem`, removing one `DeleteItem` returning the old item (so a removal
//! of an unlisted number is told apart without a read). The stream decoder
//! ignores these items (they are not verification records).

use crate::conditional::unavailable;
use crate::item::{Item, attr};
use crate::store::DynamoStore;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue as AV, ReturnValue};
use verify_core::store::StoreError;
use verify_core::store::safe_list::{SafeListEntry, SafeListStore};

/// Items of the table that are Safe List entries carry this kind.
pub const KIND_SAFE_LIST: &str = "safe_list";

const PHONE_NUMBER: &str = "phone_number";

fn partition_key(key: &str) -> String {
    format!("SAFE#{key}")
}

fn key_item(key: &str) -> Item {
    Item::from([(attr::PK.to_owned(), AV::S(partition_key(key)))])
}

fn to_item(e: &SafeListEntry) -> Item {
    let mut item = key_item(&e.key);
    item.insert(attr::KIND.to_owned(), AV::S(KIND_SAFE_LIST.to_owned()));
    item.insert(attr::SID.to_owned(), AV::S(e.sid.clone()));
    item.insert(PHONE_NUMBER.to_owned(), AV::S(e.phone_number.clone()));
    item.insert(attr::CREATED_AT.to_owned(), AV::N(e.created_at.to_string()));
    item
}

fn from_item(key: &str, item: &Item) -> Option<SafeListEntry> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    if text(attr::KIND).as_deref() != Some(KIND_SAFE_LIST) {
        return None;
    }
    Some(SafeListEntry {
        sid: text(attr::SID)?,
        key: key.to_owned(),
        phone_number: text(PHONE_NUMBER)?,
        created_at: item.get(attr::CREATED_AT)?.as_n().ok()?.parse().ok()?,
    })
}

impl SafeListStore for DynamoStore {
    async fn add_safe_number(&self, entry: &SafeListEntry) -> Result<(), StoreError> {
        let out = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(to_item(entry)))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", attr::PK)
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.as_service_error(), Some(PutItemError::ConditionalCheckFailedException(_))) => {
                Err(StoreError::Conflict(None))
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn safe_number(&self, key: &str) -> Result<Option<SafeListEntry>, StoreError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(key_item(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item().and_then(|item| from_item(key, item)))
    }

    async fn remove_safe_number(&self, key: &str) -> Result<bool, StoreError> {
        let out = self
            .client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key_item(key)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.attributes().is_some_and(|old| !old.is_empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_other_items_are_not_entries() {
        let e =
            SafeListEntry { sid: "GN1".into(), key: "+14155550123".into(), phone_number: "+14155550123".into(), created_at: 1_700_000_000 };
        let item = to_item(&e);
        assert_eq!(item[attr::PK], AV::S("SAFE#+14155550123".into()));
        assert_eq!(from_item(&e.key, &item), Some(e.clone()));
        let mut other = item.clone();
        other.insert(attr::KIND.to_owned(), AV::S("verification".into()));
        assert_eq!(from_item(&e.key, &other), None);
    }
}
