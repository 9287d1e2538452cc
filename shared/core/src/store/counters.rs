//! Counters that limit (programmable rate limits' buckets, daily budgets):
//! one item per counter, several named totals on it, each optionally
//! capped. Taking adds to every total in one atomic conditional write, and
//! only if every capped total stays within its cap, so no burst of
//! concurrent requests can pass a cap. The item lives until `expires_at`
//! (its window's end; DynamoDB's TTL deletes it some time after).

use super::StoreError;
use crate::clock::Seconds;
use std::future::Future;

/// One total of a counter and what taking adds to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Add {
    /// The total's attribute name: short, fixed (`n`, `spend`).
    pub name: &'static str,
    pub amount: u64,
    /// The total may not exceed this once added to.
    pub cap: Option<u64>,
}

/// A counter to take from: its key, what to add, when it expires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counter {
    pub key: String,
    pub adds: Vec<Add>,
    pub expires_at: Seconds,
}

impl Counter {
    /// The highest value each capped total may have before this take
    /// (`cap - amount`), or `None` when one cap is below its amount (the
    /// take can never pass).
    pub fn limits_before(&self) -> Option<Vec<(&'static str, Option<u64>)>> {
        self.adds
            .iter()
            .map(|a| match a.cap {
                None => Some((a.name, None)),
                Some(cap) => cap.checked_sub(a.amount).map(|l| (a.name, Some(l))),
            })
            .collect()
    }
}

pub trait CounterStore: Send + Sync {
    /// Adds every amount if every capped total stays within its cap, in one
    /// atomic conditional write; `false` (nothing added) otherwise.
    fn take(&self, counter: &Counter) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Takes back what [`CounterStore::take`] added (a request refused
    /// later, or whose send failed). A counter already gone is left alone.
    fn give_back(&self, counter: &Counter) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Takes every counter in order, or none: at the first that refuses (its
/// index is the `Err`) or fails, the ones already taken are given back. A
/// give-back that fails leaves a total too high until the counter
/// expires: on the safe side.
pub async fn take_all(store: &impl CounterStore, counters: &[Counter]) -> Result<Result<(), usize>, StoreError> {
    for (i, counter) in counters.iter().enumerate() {
        match store.take(counter).await {
            Ok(true) => {}
            Ok(false) => {
                give_back_all(store, &counters[..i]).await;
                return Ok(Err(i));
            }
            Err(e) => {
                give_back_all(store, &counters[..i]).await;
                return Err(e);
            }
        }
    }
    Ok(Ok(()))
}

/// Gives back counters taken by [`take_all`]; a failure is logged.
pub async fn give_back_all(store: &impl CounterStore, counters: &[Counter]) {
    for counter in counters {
        if let Err(e) = store.give_back(counter).await {
            tracing::warn!(error = ?e, "a counter was not given back");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_before_a_take_leave_room_for_its_amount() {
        let c = Counter {
            key: "k".into(),
            adds: vec![Add { name: "n", amount: 1, cap: Some(5) }, Add { name: "spend", amount: 300, cap: None }],
            expires_at: 0,
        };
        assert_eq!(c.limits_before(), Some(vec![("n", Some(4)), ("spend", None)]));
        let never = Counter { adds: vec![Add { name: "spend", amount: 7, cap: Some(6) }], ..c };
        assert_eq!(never.limits_before(), None);
    }
}
