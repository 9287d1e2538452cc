//! The fraud guard's counters and blocks on DynamoDB, in the same table
//! (the stream's filter passes neither: no events come of them).
//!
//! - Counter items, `pk = FG#{service}#{prefix}#{bucket}#{shard}` (prefix
//!   `*` for the whole service), `kind = fraud_count`, numbers `sends` and
//!   `approvals`: each count is one `UpdateItem` `ADD` on one of [`SHARDS`]
//!   items, chosen round-robin, so no single item takes a prefix's (or the
//!   service's) whole write rate: DynamoDB allows about 1,000 writes a
//!   second on one item, four shards about 4,000, beyond the send rate of
//!   any one service we expect (the counter of the whole service takes
//!   every send). An item expires (TTL) an hour after its window ends.
//! - Block items, `pk = FGB#{service}#{prefix}`, `kind = fraud_block`,
//!   `until_ms`, `strikes`: one conditional `PutItem` when a prefix is
//!   blocked (conditioned on the block the start read, so concurrent starts
//!   store it once); it expires when its strikes would be forgotten.
//!
//! A start reads its window with one `BatchGetItem` of a fixed
//! 2 × [`SHARDS`] × `WINDOW_BUCKETS` + 1 = 33 keys (eventually consistent,
//! projected to the counters), whatever the traffic. A delivered send
//! costs two `UpdateItem`s (the prefix's shard, the service's shard; sent
//! together), an approval the same two.

use crate::batch_get::{self, Projection};
use crate::conditional::unavailable;
use crate::item::{Item, attr};
use crate::store::DynamoStore;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue as AV;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use verify_core::clock::Millis;
use verify_core::fraud_guard::{self, BUCKET_MS, Block, BucketCounts, Counts, STRIKE_MEMORY_MS, Window};
use verify_core::store::StoreError;
use verify_core::store::fraud_guard::{FraudGuardStore, Tally};

/// Items per counter (see the module's documentation).
pub const SHARDS: usize = 4;
pub const KIND_COUNT: &str = "fraud_count";
pub const KIND_BLOCK: &str = "fraud_block";
const SERVICE_WIDE: &str = "*";
/// A counter outlives its window by this much, then expires.
const COUNT_KEEP_MS: Millis = 3600 * 1000;

mod a {
    pub const SENDS: &str = "sends";
    pub const APPROVALS: &str = "approvals";
    pub const UNTIL_MS: &str = "until_ms";
    pub const STRIKES: &str = "strikes";
}

/// The next shard this process writes to: round-robin spreads one
/// instance's writes evenly, and instances start at different places.
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

fn count_pk(service_sid: &str, prefix: &str, bucket: i64, shard: usize) -> String {
    format!("FG#{service_sid}#{prefix}#{bucket}#{shard}")
}

fn block_pk(service_sid: &str, prefix: &str) -> String {
    format!("FGB#{service_sid}#{prefix}")
}

fn num(item: &Item, name: &str) -> u64 {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0)
}

impl DynamoStore {
    async fn add_one(&self, pk: String, counter: &str, ttl_secs: i64) -> Result<(), StoreError> {
        self.client()
            .update_item()
            .table_name(self.table())
            .key(attr::PK, AV::S(pk))
            .update_expression("SET #kind = :kind, #ttl = :ttl ADD #n :one")
            .expression_attribute_names("#kind", attr::KIND)
            .expression_attribute_names("#ttl", attr::TTL)
            .expression_attribute_names("#n", counter)
            .expression_attribute_values(":kind", AV::S(KIND_COUNT.into()))
            .expression_attribute_values(":ttl", AV::N(ttl_secs.to_string()))
            .expression_attribute_values(":one", AV::N("1".into()))
            .send()
            .await
            .map(|_| ())
            .map_err(unavailable)
    }
}

impl FraudGuardStore for DynamoStore {
    async fn fraud_window(&self, service_sid: &str, prefix: &str, now_ms: Millis) -> Result<Window, StoreError> {
        let buckets: Vec<i64> = fraud_guard::window_buckets(now_ms).collect();
        let block_key = block_pk(service_sid, prefix);
        let mut pks = vec![block_key.clone()];
        for &b in &buckets {
            for shard in 0..SHARDS {
                pks.push(count_pk(service_sid, prefix, b, shard));
                pks.push(count_pk(service_sid, SERVICE_WIDE, b, shard));
            }
        }
        let projection = Projection {
            expression: "#pk, #s, #a, #u, #k",
            names: &[("#pk", attr::PK), ("#s", a::SENDS), ("#a", a::APPROVALS), ("#u", a::UNTIL_MS), ("#k", a::STRIKES)],
        };
        let items = batch_get::get_items(self.client(), self.table(), &batch_get::by_pk(&pks), Some(projection))
            .await
            .map_err(StoreError::Unavailable)?;
        let found: HashMap<String, Item> =
            items.into_iter().filter_map(|item| Some((item.get(attr::PK)?.as_s().ok()?.clone(), item))).collect();
        let sum = |p: &str, b: i64| {
            (0..SHARDS).filter_map(|shard| found.get(&count_pk(service_sid, p, b, shard))).fold(Counts::default(), |c, item| Counts {
                sends: c.sends + num(item, a::SENDS),
                approvals: c.approvals + num(item, a::APPROVALS),
            })
        };
        let buckets = buckets
            .into_iter()
            .map(|bucket| BucketCounts { bucket, prefix: sum(prefix, bucket), service: sum(SERVICE_WIDE, bucket) })
            .collect();
        let block = found.get(&block_key).map(|item| Block {
            until_ms: num(item, a::UNTIL_MS) as i64,
            strikes: u32::try_from(num(item, a::STRIKES)).unwrap_or(u32::MAX),
        });
        Ok(Window { buckets, block })
    }

    async fn fraud_tally(&self, service_sid: &str, prefix: &str, tally: Tally, now_ms: Millis) -> Result<(), StoreError> {
        let bucket = fraud_guard::bucket_of(now_ms);
        let shard = NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS;
        let counter = match tally {
            Tally::Send => a::SENDS,
            Tally::Approval => a::APPROVALS,
        };
        let window_end_ms = (bucket + fraud_guard::WINDOW_BUCKETS) * BUCKET_MS;
        let ttl = (window_end_ms + COUNT_KEEP_MS) / 1000;
        tokio::try_join!(
            self.add_one(count_pk(service_sid, prefix, bucket, shard), counter, ttl),
            self.add_one(count_pk(service_sid, SERVICE_WIDE, bucket, shard), counter, ttl),
        )
        .map(|_| ())
    }

    async fn fraud_block(&self, service_sid: &str, prefix: &str, block: &Block, previous: Option<&Block>) -> Result<(), StoreError> {
        let n = |v: i64| AV::N(v.to_string());
        let item = Item::from([
            (attr::PK.to_owned(), AV::S(block_pk(service_sid, prefix))),
            (attr::KIND.to_owned(), AV::S(KIND_BLOCK.into())),
            (attr::SERVICE_SID.to_owned(), AV::S(service_sid.to_owned())),
            (a::UNTIL_MS.to_owned(), n(block.until_ms)),
            (a::STRIKES.to_owned(), n(i64::from(block.strikes))),
            (attr::TTL.to_owned(), n((block.until_ms + STRIKE_MEMORY_MS) / 1000)),
        ]);
        let req = self.client().put_item().table_name(self.table()).set_item(Some(item));
        let req = match previous {
            None => req.condition_expression("attribute_not_exists(#pk)").expression_attribute_names("#pk", attr::PK),
            Some(p) => req
                .condition_expression("#u = :u AND #k = :k")
                .expression_attribute_names("#u", a::UNTIL_MS)
                .expression_attribute_names("#k", a::STRIKES)
                .expression_attribute_values(":u", n(p.until_ms))
                .expression_attribute_values(":k", n(i64::from(p.strikes))),
        };
        match req.send().await {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if matches!(e.err(), PutItemError::ConditionalCheckFailedException(_)) => {
                Err(StoreError::Conflict(None))
            }
            Err(e) => Err(unavailable(e)),
        }
    }
}
