//! Reading many items by key (`BatchGetItem`), by one rule for every store
//! in the table: at most [`MAX_KEYS`] keys a request; keys DynamoDB leaves
//! unprocessed (throttling, its 16 MB answer cap) asked again after a
//! growing pause, as AWS advises; and keys still unprocessed after
//! [`RETRIES`] retries an error (retryable), never silently fewer items.
//! A caller that would take "fewer" for "absent" (the expiry sweep, the
//! reports, the fraud guard's window) must not be handed a partial answer.

use crate::conditional::describe;
use crate::item::{Item, attr};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
use aws_sdk_dynamodb::types::{AttributeValue as AV, KeysAndAttributes};
use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

/// DynamoDB's limit on keys per `BatchGetItem`.
pub const MAX_KEYS: usize = 100;
/// Requests for unprocessed keys after the first, before giving up.
pub const RETRIES: u32 = 10;
/// The first pause; each further one doubles, up to 32 × this.
const FIRST_PAUSE: Duration = Duration::from_millis(20);

/// Which attributes to bring back: a projection expression and the `#name`
/// placeholders it uses.
#[derive(Clone, Copy, Debug)]
pub struct Projection<'a> {
    pub expression: &'a str,
    pub names: &'a [(&'a str, &'a str)],
}

/// The keys of a table keyed by `pk` alone, for [`get_items`].
pub fn by_pk(pks: &[String]) -> Vec<Item> {
    pks.iter().map(|pk| Item::from([(attr::PK.to_owned(), AV::S(pk.clone()))])).collect()
}

/// The items of `table` with these keys that exist, in no particular
/// order (eventually consistent reads).
pub async fn get_items(client: &Client, table: &str, keys: &[Item], projection: Option<Projection<'_>>) -> Result<Vec<Item>, String> {
    let mut found = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(MAX_KEYS) {
        let mut wanted = KeysAndAttributes::builder().set_keys(Some(chunk.to_vec()));
        if let Some(p) = projection {
            wanted = wanted.projection_expression(p.expression);
            for (placeholder, name) in p.names {
                wanted = wanted.expression_attribute_names(*placeholder, *name);
            }
        }
        let request = HashMap::from([(table.to_owned(), wanted.build().map_err(|e| e.to_string())?)]);
        let send = |r| async { client.batch_get_item().set_request_items(Some(r)).send().await.map_err(describe) };
        found.extend(until_processed(request, table, FIRST_PAUSE, send).await?);
    }
    Ok(found)
}

type Request = HashMap<String, KeysAndAttributes>;

/// Sends `request`, then what each answer left unprocessed after a pause
/// (`first_pause`, doubling), and collects `table`'s items.
async fn until_processed<F, Fut>(mut request: Request, table: &str, first_pause: Duration, mut send: F) -> Result<Vec<Item>, String>
where
    F: FnMut(Request) -> Fut,
    Fut: Future<Output = Result<BatchGetItemOutput, String>>,
{
    let mut found = Vec::new();
    for retry in 0..=RETRIES {
        if retry > 0 {
            tokio::time::sleep(first_pause * (1 << (retry - 1).min(5))).await;
        }
        let out = send(request).await?;
        found.extend(out.responses().and_then(|r| r.get(table)).into_iter().flatten().cloned());
        match out.unprocessed_keys().filter(|u| u.values().any(|k| !k.keys().is_empty())) {
            Some(left) => request = left.clone(),
            None => return Ok(found),
        }
    }
    Err(format!("DynamoDB: BatchGetItem left keys unprocessed after {RETRIES} retries"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(pk: &str) -> Item {
        Item::from([("pk".to_owned(), AV::S(pk.to_owned()))])
    }

    fn request(pks: &[&str]) -> Request {
        let keys = KeysAndAttributes::builder().set_keys(Some(pks.iter().map(|p| key(p)).collect())).build().unwrap();
        HashMap::from([("t".to_owned(), keys)])
    }

    /// An answer holding the first `n` keys asked and leaving the rest.
    fn answer(asked: &Request, n: usize) -> BatchGetItemOutput {
        let keys = asked["t"].keys();
        let (done, left) = keys.split_at(n.min(keys.len()));
        let mut out = BatchGetItemOutput::builder().responses("t", done.to_vec());
        if !left.is_empty() {
            let left: Vec<&str> = left.iter().map(|k| k["pk"].as_s().unwrap().as_str()).collect();
            out = out.unprocessed_keys("t", request(&left)["t"].clone());
        }
        out.build()
    }

    #[tokio::test]
    async fn asks_again_for_what_was_left_until_all_is_read() {
        let mut asked = Vec::new();
        let items = until_processed(request(&["a", "b", "c", "d", "e"]), "t", Duration::ZERO, |r| {
            asked.push(r["t"].keys().len());
            std::future::ready(Ok(answer(&r, 2)))
        })
        .await
        .unwrap();
        assert_eq!(asked, vec![5, 3, 1]);
        let mut pks: Vec<&str> = items.iter().map(|i| i["pk"].as_s().unwrap().as_str()).collect();
        pks.sort();
        assert_eq!(pks, vec!["a", "b", "c", "d", "e"]);
    }

    #[tokio::test]
    async fn keys_never_processed_are_an_error_not_fewer_items() {
        let mut sends = 0;
        let result = until_processed(request(&["a", "b"]), "t", Duration::ZERO, |r| {
            sends += 1;
            std::future::ready(Ok(answer(&r, 0)))
        })
        .await;
        assert_eq!(sends, RETRIES + 1);
        assert!(result.unwrap_err().contains("unprocessed"));
    }

    #[tokio::test]
    async fn a_failed_request_is_an_error() {
        let result =
            until_processed(request(&["a"]), "t", Duration::ZERO, |_| std::future::ready(Err("DynamoDB: throttled".to_owned()))).await;
        assert_eq!(result.unwrap_err(), "DynamoDB: throttled");
    }
}
