//! The embedded engine's stream (dynoxide: verify-local, the tests, the
//! benchmarks), read as Lambda's event source mapping reads DynamoDB
//! Streams: the records in order after the last one handled, in the wire
//! JSON [`super::stream::parse_record`] decodes.

use dynoxide::actions::{describe_stream, get_records, get_shard_iterator, list_streams};

/// Up to `limit` (all with `None`) records of `table`'s stream after the
/// one numbered `after` (from the oldest kept with `None`).
pub fn records_after(
    db: &dynoxide::Database,
    table: &str,
    after: Option<&str>,
    limit: Option<usize>,
) -> Result<Vec<serde_json::Value>, String> {
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
                sequence_number: after.map(str::to_owned),
            })
            .map_err(|e| e.to_string())?;
        // A read returns at most 1,000 records (as GetRecords): page on
        // while pages come back full (a short one is the end, in this engine).
        let mut iterator = it.shard_iterator;
        while let Some(shard_iterator) = iterator.take() {
            let wanted = limit.map_or(1000, |l| l.saturating_sub(out.len()).min(1000));
            if wanted == 0 {
                break;
            }
            let page = db.get_records(get_records::GetRecordsRequest { shard_iterator, limit: Some(wanted) }).map_err(|e| e.to_string())?;
            for r in &page.records {
                out.push(serde_json::to_value(r).map_err(|e| e.to_string())?);
            }
            if page.records.len() == wanted {
                iterator = page.next_shard_iterator;
            }
        }
    }
    Ok(out)
}

/// The sequence number of a record in wire JSON.
pub fn sequence_number(record: &serde_json::Value) -> Option<&str> {
    record["dynamodb"]["SequenceNumber"].as_str()
}
