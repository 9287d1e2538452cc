//! The embedded engine's stream history, kept bounded.
//!
//! dynoxide 3.2 keeps every stream record it ever wrote, and numbers each
//! new one with `MAX(CAST(sequence_number AS INTEGER))` over that history,
//! unindexed; its GetRecords and DescribeStream scan it too. So every write
//! got slower the longer verify-local ran (measured: a whole verification
//! 2.6 ms fresh, 42 ms after 20,000 records). DynamoDB itself keeps a
//! stream's records for 24 hours, and Lambda's event source mapping never
//! reads behind its own checkpoint. verify-local has exactly one reader of
//! its engine's stream (its poller, in this process), so here:
//!
//! - the reader's checkpoint is an item in a small table of the engine
//!   ([`CHECKPOINTS`]), written through dynoxide's own PutItem after each
//!   batch it has handled, and read back at start, so a restart resumes
//!   where it stopped, as the event source mapping does;
//! - a trigger on that table deletes, in the same SQLite transaction as the
//!   checkpoint, the records the reader has passed and those older than
//!   DynamoDB's 24 h retention, never the newest record (the engine numbers
//!   the next one from it);
//! - two indexes on the sequence number make numbering, reading and
//!   trimming logarithmic in whatever history is left.
//!
//! The trigger and indexes are made once at start, before anything is
//! served, through one SQLite connection of our own on the engine's
//! database (the file, or a named shared in-memory database with
//! `--memory`), closed straight after. From then on dynoxide's own
//! connection is the only one, and every trim runs inside its own writes.

use dynoxide::Database;
use serde_json::json;

/// The engine table holding each stream reader's checkpoint (one item per
/// streamed table). Not part of the service's table layout; it exists only
/// in the embedded engine.
pub const CHECKPOINTS: &str = "verify-local-stream-checkpoints";

/// DynamoDB keeps stream records for 24 hours.
const RETENTION_SECS: i64 = 24 * 3600;

/// dynoxide shows a stored sequence number n as 10^20 + n (21 digits).
const PUBLIC_OFFSET: u128 = 100_000_000_000_000_000_000;

/// A URI naming a fresh in-memory database that a second connection in
/// this process can open (SQLite's memdb VFS shares a database whose name
/// starts with `/` by that name; nothing is written to disk, see
/// [`crate::memory_engine`]). Unique per call.
pub fn memory_uri() -> String {
    use rand::TryRngCore;
    let mut bytes = [0u8; 8];
    let _ = rand::rngs::OsRng.try_fill_bytes(&mut bytes);
    format!("file:/verify-local-{}-{}?vfs=memdb", std::process::id(), hex::encode(bytes))
}

/// Makes the checkpoint table, the trigger and the indexes on the engine
/// opened at `sqlite_path` (a file path, or [`memory_uri`]). Idempotent: run
/// at every start, before the engine serves anything.
pub fn prepare(db: &Database, sqlite_path: &str) -> Result<(), String> {
    ensure_checkpoint_table(db)?;
    let conn = rusqlite::Connection::open(sqlite_path).map_err(|e| format!("{sqlite_path}: {e}"))?;
    conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(|e| e.to_string())?;
    conn.execute_batch(&schema_sql()).map_err(|e| format!("preparing the stream history: {e}"))?;
    Ok(())
}

/// The indexes and the trim trigger. Position expressions are spelled
/// exactly as dynoxide's own queries spell them, so its queries use the
/// indexes.
fn schema_sql() -> String {
    let seq = "CAST(sequence_number AS INTEGER)";
    let table = "json_extract(NEW.item_json, '$.table.S')";
    let position = "CAST(json_extract(NEW.item_json, '$.position.N') AS INTEGER)";
    let newest = format!("(SELECT MAX({seq}) FROM _stream_records WHERE table_name = {table})");
    let cutoff = format!("(CAST(strftime('%s', 'now') AS INTEGER) - {RETENTION_SECS})");
    format!(
        "BEGIN;
         CREATE INDEX IF NOT EXISTS verify_local_stream_by_table ON _stream_records (table_name, {seq});
         CREATE INDEX IF NOT EXISTS verify_local_stream_by_shard ON _stream_records (table_name, shard_id, {seq});
         DROP TRIGGER IF EXISTS verify_local_trim_stream;
         CREATE TRIGGER verify_local_trim_stream AFTER INSERT ON \"{CHECKPOINTS}\"
         BEGIN
           -- what the reader has passed
           DELETE FROM _stream_records
            WHERE table_name = {table} AND {seq} <= {position} AND {seq} < {newest};
           -- what DynamoDB would have dropped by now, read or not. A record's
           -- stored number is at least the microseconds of its writing
           -- (dynoxide's floor), so the first clause bounds the index range
           -- and the second decides.
           DELETE FROM _stream_records
            WHERE table_name = {table} AND {seq} < {cutoff} * 1000000
              AND created_at < {cutoff} AND {seq} < {newest};
         END;
         COMMIT;"
    )
}

fn ensure_checkpoint_table(db: &Database) -> Result<(), String> {
    let exists = db.list_tables(Default::default()).map_err(|e| e.to_string())?.table_names.iter().any(|t| t == CHECKPOINTS);
    if exists {
        return Ok(());
    }
    let request = serde_json::from_value(json!({
        "TableName": CHECKPOINTS,
        "KeySchema": [{"AttributeName": "table", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "table", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }))
    .map_err(|e| e.to_string())?;
    db.create_table(request).map_err(|e| format!("creating {CHECKPOINTS}: {e}"))?;
    Ok(())
}

/// The public sequence number the reader of `table`'s stream last handled.
pub fn load_checkpoint(db: &Database, table: &str) -> Result<Option<String>, String> {
    let request = serde_json::from_value(json!({
        "TableName": CHECKPOINTS,
        "Key": {"table": {"S": table}},
        "ConsistentRead": true,
    }))
    .map_err(|e| e.to_string())?;
    let got = db.get_item(request).map_err(|e| e.to_string())?;
    let item = serde_json::to_value(&got.item).map_err(|e| e.to_string())?;
    Ok(item["sequence_number"]["S"].as_str().map(str::to_owned))
}

/// Records that the reader of `table`'s stream has handled everything up to
/// and including `sequence_number`; the trigger trims behind it.
pub fn save_checkpoint(db: &Database, table: &str, sequence_number: &str) -> Result<(), String> {
    let position = engine_position(sequence_number).ok_or_else(|| format!("not a stream sequence number: {sequence_number:?}"))?;
    let request = serde_json::from_value(json!({
        "TableName": CHECKPOINTS,
        "Item": {
            "table": {"S": table},
            "sequence_number": {"S": sequence_number},
            "position": {"N": position.to_string()},
        },
    }))
    .map_err(|e| e.to_string())?;
    db.put_item(request).map_err(|e| e.to_string())?;
    Ok(())
}

/// The engine's stored number for a public sequence number (what dynoxide's
/// `streams::parse_sequence_number`, crate-private, computes).
fn engine_position(public: &str) -> Option<i64> {
    let value: u128 = public.parse().ok()?;
    i64::try_from(value.checked_sub(PUBLIC_OFFSET)?).ok().filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dynoxide::actions::{describe_stream, get_records, get_shard_iterator, list_streams};

    const TABLE: &str = "streamed";

    fn engine() -> (Database, String) {
        let uri = memory_uri();
        let db = Database::new(&uri).unwrap();
        prepare(&db, &uri).unwrap();
        let request = serde_json::from_value(json!({
            "TableName": TABLE,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        }))
        .unwrap();
        db.create_table(request).unwrap();
        (db, uri)
    }

    fn write(db: &Database, n: usize) {
        for i in 0..n {
            let request = serde_json::from_value(json!({"TableName": TABLE, "Item": {"pk": {"S": format!("item-{i}")}}})).unwrap();
            db.put_item(request).unwrap();
        }
    }

    /// Every record a reader starting at the trim horizon sees, through the
    /// DynamoDB Streams API: (public sequence number, the item's key).
    fn readable(db: &Database) -> Vec<(String, String)> {
        let streams = db.list_streams(list_streams::ListStreamsRequest { table_name: Some(TABLE.into()), ..Default::default() }).unwrap();
        let arn = streams.streams[0].stream_arn.clone();
        let desc = db.describe_stream(describe_stream::DescribeStreamRequest { stream_arn: arn.clone(), ..Default::default() }).unwrap();
        let shard_id = desc.stream_description.shards[0].shard_id.clone();
        let mut after: Option<String> = None;
        let mut out = Vec::new();
        loop {
            let it = db
                .get_shard_iterator(get_shard_iterator::GetShardIteratorRequest {
                    stream_arn: arn.clone(),
                    shard_id: shard_id.clone(),
                    shard_iterator_type: if after.is_some() { "AFTER_SEQUENCE_NUMBER" } else { "TRIM_HORIZON" }.into(),
                    sequence_number: after.clone(),
                })
                .unwrap();
            let page =
                db.get_records(get_records::GetRecordsRequest { shard_iterator: it.shard_iterator.unwrap(), limit: Some(1000) }).unwrap();
            if page.records.is_empty() {
                return out;
            }
            for r in &page.records {
                let v = serde_json::to_value(r).unwrap();
                let seq = v["dynamodb"]["SequenceNumber"].as_str().unwrap().to_owned();
                out.push((seq.clone(), v["dynamodb"]["Keys"]["pk"]["S"].as_str().unwrap().to_owned()));
                after = Some(seq);
            }
        }
    }

    #[test]
    fn a_checkpoint_trims_what_was_read_and_keeps_what_was_not() {
        let (db, _) = engine();
        write(&db, 50);
        let all = readable(&db);
        assert_eq!(all.len(), 50);
        save_checkpoint(&db, TABLE, &all[29].0).unwrap();
        assert_eq!(readable(&db), all[30..].to_vec(), "records after the checkpoint stay, in order");
        assert_eq!(load_checkpoint(&db, TABLE).unwrap().as_deref(), Some(all[29].0.as_str()));
    }

    #[test]
    fn the_newest_record_stays_so_numbering_continues_from_it() {
        let (db, _) = engine();
        write(&db, 10);
        let all = readable(&db);
        save_checkpoint(&db, TABLE, &all[9].0).unwrap();
        assert_eq!(readable(&db), all[9..].to_vec());
        write(&db, 1);
        let after = readable(&db);
        assert_eq!(after.len(), 2);
        assert!(after[1].0 > all[9].0, "{} after {}", after[1].0, all[9].0);
    }

    #[test]
    fn history_stays_bounded_while_a_reader_keeps_up() {
        let (db, uri) = engine();
        for _ in 0..20 {
            write(&db, 100);
            let last = readable(&db).last().unwrap().0.clone();
            save_checkpoint(&db, TABLE, &last).unwrap();
        }
        let conn = rusqlite::Connection::open(&uri).unwrap();
        let rows: i64 = conn.query_row("SELECT COUNT(*) FROM _stream_records", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 1, "2,000 records written and read; only the newest is kept");
    }

    #[test]
    fn records_past_retention_go_even_unread() {
        let (db, uri) = engine();
        write(&db, 5);
        let all = readable(&db);
        // Age the first three by two days, as if written then (their stored
        // numbers too: dynoxide's floor is the clock in microseconds).
        let conn = rusqlite::Connection::open(&uri).unwrap();
        let two_days = 2 * 86_400i64;
        conn.execute(
            "UPDATE _stream_records SET created_at = created_at - ?1,
                 sequence_number = CAST(CAST(sequence_number AS INTEGER) - ?1 * 1000000 AS TEXT)
             WHERE id IN (SELECT id FROM _stream_records ORDER BY id LIMIT 3)",
            [two_days],
        )
        .unwrap();
        drop(conn);
        // A checkpoint that has read nothing yet (before every record).
        save_checkpoint(&db, TABLE, "100000000000000000001").unwrap();
        let keys: Vec<String> = readable(&db).into_iter().map(|(_, k)| k).collect();
        assert_eq!(keys, all[3..].iter().map(|(_, k)| k.clone()).collect::<Vec<_>>());
    }

    #[test]
    fn dynoxides_own_stream_queries_use_the_indexes() {
        let (_db, uri) = engine();
        let conn = rusqlite::Connection::open(&uri).unwrap();
        // The statements dynoxide 3.2 runs (storage.rs): numbering a record,
        // reading after a position, the shard's range for DescribeStream.
        let plans = [
            (
                "SELECT COALESCE(MAX(CAST(sequence_number AS INTEGER)), 0) + 1 FROM _stream_records WHERE table_name = ?1",
                "verify_local_stream_by_table",
            ),
            (
                "SELECT event_name FROM _stream_records WHERE table_name = ?1 AND shard_id = ?2 AND CAST(sequence_number AS INTEGER) > ?3 ORDER BY CAST(sequence_number AS INTEGER) ASC LIMIT ?4",
                "verify_local_stream_by_shard",
            ),
            (
                "SELECT MIN(CAST(sequence_number AS INTEGER)), MAX(CAST(sequence_number AS INTEGER)) FROM _stream_records WHERE table_name = ?1 AND shard_id = ?2",
                "verify_local_stream_by_shard",
            ),
        ];
        for (sql, index) in plans {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let n = stmt.parameter_count();
            let params: Vec<i64> = vec![1; n];
            let plan: Vec<String> =
                stmt.query_map(rusqlite::params_from_iter(params), |r| r.get::<_, String>(3)).unwrap().map(Result::unwrap).collect();
            assert!(plan.iter().any(|p| p.contains(index)), "{sql}: {plan:?}");
        }
    }

    #[test]
    fn preparing_twice_is_harmless() {
        let (db, uri) = engine();
        prepare(&db, &uri).unwrap();
        write(&db, 3);
        let all = readable(&db);
        save_checkpoint(&db, TABLE, &all[0].0).unwrap();
        assert_eq!(readable(&db), all[1..].to_vec());
    }

    #[test]
    fn engine_positions_are_dynoxides_stored_numbers() {
        assert_eq!(engine_position("100000000000000000042"), Some(42));
        assert_eq!(engine_position("100000000000000000000"), None);
        assert_eq!(engine_position("42"), None);
        assert_eq!(engine_position("x"), None);
    }
}
