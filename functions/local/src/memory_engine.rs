//! The `--memory` engine's database, laid out so a write's cost does not
//! grow with everything written before it.
//!
//! With `--memory` the engine's SQLite database lives in SQLite's page
//! cache: every page of it is a cache entry, so the cache's hash table has
//! as many slots as the database has pages. Measured (perf, gdb on a
//! running verify-local, SQLite 3.49.2 as bundled): when a B-tree
//! rebalance swaps two pages' numbers, SQLite parks one of them at a
//! temporary number, the lock page (1 GiB / page size + 1, page 262,145
//! with the default 4 KiB pages), which leaves that number as the cache's
//! highest key; the commit then trims the cache back to the database's
//! size and, the gap being wider than the hash table, walks every slot of
//! it. Deletes and rewrites (stream trimming, index entries replaced on
//! each update) make those swaps common, so a commit walked a slot per
//! page of the whole database: `pcache1TruncateUnsafe` went from 0.3 % of
//! verify-local's CPU in its first 5,000 verifications to 8.5 % after
//! 30,000, and the rate fell by up to half until the database passed
//! 1 GiB (the lock page inside it, no gap) and partly recovered.
//!
//! SQLite keeps that behaviour for in-memory databases; what we choose is
//! the page size, and it cuts both ways. Larger pages mean fewer of them,
//! so a shorter walk; but every write transaction first copies each page
//! it touches, whole, into the in-memory rollback journal
//! (`pagerAddPageToRollbackJournal`: 13.7 % of verify-local's CPU with
//! 64 KiB pages). Measured as verify-local CPU per complete verification
//! over its first 3,000 (release build, one client): 9.2 ms with 4 KiB
//! pages, 9.4 with 8, 9.6–9.8 with 16, 10.6 with 32, 11.9–13.2 with 64.
//! [`PAGE_SIZE`] is 16 KiB: within a few per cent of the smallest pages'
//! cost per write, and a quarter as many pages as 4 KiB, so the walk stays
//! a quarter as long (measured flat over 100,000 verifications with
//! `bench/endurance.sh`, see README). A file database (no `--memory`)
//! caches a bounded number of pages and is not affected.

use rusqlite::Connection;

/// Bytes per page of the in-memory database (see the module's note).
pub const PAGE_SIZE: u32 = 16_384;

/// Opens the engine on a fresh named in-memory database (see
/// [`crate::stream_history::memory_uri`]) whose page size is [`PAGE_SIZE`].
/// The page size of a database is fixed by its first write, so a connection
/// of our own sets it and writes first, and stays open until the engine's
/// connection holds the database (a named in-memory database ends with its
/// last connection).
pub fn open(uri: &str) -> Result<dynoxide::Database, String> {
    let first = Connection::open(uri).map_err(|e| format!("{uri}: {e}"))?;
    first
        .execute_batch(&format!(
            "PRAGMA page_size = {PAGE_SIZE};
             CREATE TABLE verify_local_page_size (x);
             DROP TABLE verify_local_page_size;"
        ))
        .map_err(|e| format!("setting the in-memory engine's page size: {e}"))?;
    let db = dynoxide::Database::new(uri).map_err(|e| e.to_string())?;
    drop(first);
    Ok(db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_keeps_the_page_size_set_before_it_opened() {
        let uri = crate::stream_history::memory_uri();
        let db = open(&uri).unwrap();
        let request = serde_json::from_value(serde_json::json!({
            "TableName": "paged",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        }))
        .unwrap();
        db.create_table(request).unwrap();
        // A second connection sees the same database (the engine's tables)
        // and its page size.
        let conn = Connection::open(&uri).unwrap();
        let tables: i64 = conn.query_row("SELECT COUNT(*) FROM _tables", [], |r| r.get(0)).unwrap();
        assert_eq!(tables, 1);
        let size: u32 = conn.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
        assert_eq!(size, PAGE_SIZE);
    }
}
