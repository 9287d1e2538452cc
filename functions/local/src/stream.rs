//! webhook-report in verify-local: the embedded engine's stream records fed
//! to the same handler as on Lambda, the retry schedule on a timer.

use std::sync::Arc;
use std::time::Duration;
use verify_aws::webhooks::Dispatcher;

/// Reads the table's stream from the start and hands every batch to the
/// dispatcher, as Lambda's event source mapping does. Records reported as
/// failed are read again on the next poll.
pub fn spawn_stream_poller(db: dynoxide::Database, table: String, dispatcher: Arc<Dispatcher>, every: Duration) {
    tokio::spawn(async move {
        let mut after: Option<String> = None;
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let (db2, table2, from) = (db.clone(), table.clone(), after.clone());
            let read = tokio::task::spawn_blocking(move || read_records(&db2, &table2, from)).await;
            let records = match read {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "reading the stream failed");
                    continue;
                }
                Err(_) => continue,
            };
            if records.is_empty() {
                continue;
            }
            let outcome = dispatcher.handle_records(&records).await;
            let seq = |r: &serde_json::Value| r["dynamodb"]["SequenceNumber"].as_str().map(str::to_owned);
            match outcome.failed.first() {
                None => after = records.last().and_then(seq).or(after),
                Some(first_failed) => {
                    // Resume just before the first failed record.
                    let idx = records.iter().position(|r| seq(r).as_deref() == Some(first_failed.as_str())).unwrap_or(0);
                    if idx > 0 {
                        after = seq(&records[idx - 1]);
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    });
}

fn read_records(db: &dynoxide::Database, table: &str, after: Option<String>) -> Result<Vec<serde_json::Value>, String> {
    use dynoxide::actions::{describe_stream, get_records, get_shard_iterator, list_streams};
    let streams = db
        .list_streams(list_streams::ListStreamsRequest { table_name: Some(table.to_owned()), ..Default::default() })
        .map_err(|e| e.to_string())?;
    let Some(stream) = streams.streams.first() else { return Ok(Vec::new()) };
    let desc = db
        .describe_stream(describe_stream::DescribeStreamRequest { stream_arn: stream.stream_arn.clone(), ..Default::default() })
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for shard in &desc.stream_description.shards {
        let it = db
            .get_shard_iterator(get_shard_iterator::GetShardIteratorRequest {
                stream_arn: stream.stream_arn.clone(),
                shard_id: shard.shard_id.clone(),
                shard_iterator_type: if after.is_some() { "AFTER_SEQUENCE_NUMBER" } else { "TRIM_HORIZON" }.into(),
                sequence_number: after.clone(),
            })
            .map_err(|e| e.to_string())?;
        let Some(iterator) = it.shard_iterator else { continue };
        let records = db
            .get_records(get_records::GetRecordsRequest { shard_iterator: iterator, limit: Some(100) })
            .map_err(|e| e.to_string())?;
        for r in &records.records {
            out.push(serde_json::to_value(r).map_err(|e| e.to_string())?);
        }
    }
    Ok(out)
}

/// The scheduled invocation of webhook-report, every `every`.
pub fn spawn_retries(dispatcher: Arc<Dispatcher>, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            match dispatcher.run_due().await {
                Ok(o) if o.attempted > 0 => tracing::info!(attempted = o.attempted, delivered = o.delivered, "webhook retries"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "webhook retries failed"),
            }
        }
    });
}
