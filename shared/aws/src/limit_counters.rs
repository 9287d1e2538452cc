//! Limiting counters on DynamoDB (`verify_core::store::counters`): one item
//! per counter, `pk` its key, `kind = limit_counter`, one number attribute per
//! total, `ttl` its end. Taking is one `UpdateItem` that `ADD`s every
//! amount, conditioned on each capped total being at most `cap - amount`
//! (or absent), so concurrent takes can never pass a cap; one write unit.
//! Giving back `ADD`s the negated amounts, only to an item that exists.

use crate::conditional::applied;
use crate::item::{Item, attr};
use crate::store::DynamoStore;
use aws_sdk_dynamodb::types::AttributeValue as AV;
use verify_core::store::StoreError;
use verify_core::store::counters::{Counter, CounterStore};

/// Items of the table that are counters.
pub const KIND_LIMIT_COUNTER: &str = "limit_counter";

fn key(counter: &Counter) -> Item {
    Item::from([(attr::PK.to_owned(), AV::S(counter.key.clone()))])
}

/// An update expression with its attribute names and values.
type Expression = (String, Vec<(String, String)>, Vec<(String, AV)>);

/// `ADD #a0 :a0, #a1 :a1` with the amounts signed by `sign`.
fn adds(counter: &Counter, sign: i64) -> Expression {
    let mut parts = Vec::new();
    let (mut names, mut values) = (Vec::new(), Vec::new());
    for (i, add) in counter.adds.iter().enumerate() {
        parts.push(format!("#a{i} :a{i}"));
        names.push((format!("#a{i}"), add.name.to_owned()));
        values.push((format!(":a{i}"), AV::N((sign * add.amount as i64).to_string())));
    }
    (format!("ADD {}", parts.join(", ")), names, values)
}

impl CounterStore for DynamoStore {
    async fn take(&self, counter: &Counter) -> Result<bool, StoreError> {
        let Some(limits) = counter.limits_before() else { return Ok(false) };
        let (add, mut names, mut values) = adds(counter, 1);
        let mut conditions = Vec::new();
        for (i, (_, limit)) in limits.iter().enumerate() {
            if let Some(limit) = limit {
                conditions.push(format!("(attribute_not_exists(#a{i}) OR #a{i} <= :l{i})"));
                values.push((format!(":l{i}"), AV::N(limit.to_string())));
            }
        }
        names.push(("#kind".into(), attr::KIND.into()));
        names.push(("#ttl".into(), attr::TTL.into()));
        values.push((":kind".into(), AV::S(KIND_LIMIT_COUNTER.into())));
        values.push((":ttl".into(), AV::N(counter.expires_at.to_string())));
        let mut update = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(counter)))
            .update_expression(format!("{add} SET #kind = :kind, #ttl = :ttl"))
            .set_expression_attribute_names(Some(names.into_iter().collect()))
            .set_expression_attribute_values(Some(values.into_iter().collect()));
        if !conditions.is_empty() {
            update = update.condition_expression(conditions.join(" AND "));
        }
        applied(update.send().await).map_err(StoreError::Unavailable)
    }

    async fn give_back(&self, counter: &Counter) -> Result<(), StoreError> {
        let (add, mut names, values) = adds(counter, -1);
        names.push(("#pk".into(), attr::PK.into()));
        let out = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(counter)))
            .update_expression(add)
            .condition_expression("attribute_exists(#pk)")
            .set_expression_attribute_names(Some(names.into_iter().collect()))
            .set_expression_attribute_values(Some(values.into_iter().collect()))
            .send()
            .await;
        // Not applied: nothing to give back to (the counter expired and is gone).
        applied(out).map(|_| ()).map_err(StoreError::Unavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use verify_core::store::counters::Add;

    #[test]
    fn every_total_is_added_signed() {
        let c = Counter {
            key: "BUD#x".into(),
            adds: vec![Add { name: "n", amount: 1, cap: Some(3) }, Add { name: "spend", amount: 250, cap: None }],
            expires_at: 9,
        };
        let (expr, names, values) = adds(&c, -1);
        assert_eq!(expr, "ADD #a0 :a0, #a1 :a1");
        assert_eq!(names, vec![("#a0".to_owned(), "n".to_owned()), ("#a1".to_owned(), "spend".to_owned())]);
        assert_eq!(values[1], (":a1".to_owned(), AV::N("-250".into())));
    }
}
