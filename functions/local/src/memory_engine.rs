//! The `--memory` engine's database, laid out so a write's cost does not
//! grow with everything written before it.
//!
//! It lives in SQLite's `memdb` VFS: the database's bytes in one growable
//! buffer, shared by name with the other connections of this process (the
//! stream history's, [`crate::stream_history`]), its rollback journal in
//! another, nothing on disk. The pager in front of it keeps an ordinary
//! bounded page cache, as for a file.
//!
//! Why not SQLite's older in-memory database (`mode=memory`), which this
//! used until 2026-12-04: there the page cache *is* the storage, so its
//! hash table has a slot per page of the database. Measured (perf, gdb on a
//! running verify-local, SQLite 3.49.2 as bundled): when a B-tree rebalance
//! swaps two pages' numbers, SQLite parks one of them at a temporary
//! number, the lock page (1 GiB / page size + 1), which leaves that number
//! as the cache's highest key; the commit then trims the cache back to the
//! database's size and, the gap being wider than the hash table, walks
//! every slot of it. Deletes and rewrites (stream trimming, index entries
//! replaced on each update) make those swaps common, so a commit walked a
//! slot per page of the whole database: `pcache1TruncateUnsafe` went from
//! 0.3 % of verify-local's CPU in its first 5,000 verifications to 8.5 %
//! after 30,000 (with 4 KiB pages), and the rate fell until the
//! database passed 1 GiB. 16 KiB pages made the walk a quarter as long
//! (0.25–0.44 % of the CPU early and late in 100,000 verifications, a
//! profile of 2026-12-04); a bounded cache removes it.
//!
//! A memdb database stops growing at 1 GiB unless told otherwise; the
//! limit is lifted (an in-memory engine is bounded by the TTL sweep and
//! the machine's memory, as before).
//!
//! [`PAGE_SIZE`] is 4 KiB, SQLite's default. Every write transaction copies
//! each page it touches, whole, into the rollback journal, so large pages
//! cost per write (`pagerAddPageToRollbackJournal`: 13.7 % of
//! verify-local's CPU with 64 KiB pages); measured as CPU per complete
//! verification on the older in-memory database (release build, one
//! client, first 3,000): 9.2 ms with 4 KiB pages, 9.4 with 8, 9.6–9.8 with
//! 16, 10.6 with 32, 11.9–13.2 with 64. 16 KiB was chosen there only
//! because larger pages shortened the cache walk that database did on every
//! commit; memdb has no such walk. On memdb 4 KiB used about 4 % less CPU
//! than 16 KiB in six alternating pairs; over 100,000 verifications its two
//! runs averaged 182.0 and 200.1/s (last 10,000 at 83.9 and 95.3 % of the
//! first), 16 KiB's four 160.9–178.9/s (89.9–102.0 %)
//! (`bench/results/local-memdb-ab.md`).

use rusqlite::Connection;

/// Bytes per page of the in-memory database (see the module's note).
pub const PAGE_SIZE: u32 = 4_096;

/// Opens the engine on a fresh named in-memory database (see
/// [`crate::stream_history::memory_uri`]) whose page size is [`PAGE_SIZE`]
/// and whose size is not capped. The page size of a database is fixed by
/// its first write, so a connection of our own sets it and writes first,
/// and stays open until the engine's connection holds the database (a
/// named memdb database ends with its last connection).
pub fn open(uri: &str) -> Result<dynoxide::Database, String> {
    let first = Connection::open(uri).map_err(|e| format!("{uri}: {e}"))?;
    first
        .execute_batch(&format!(
            "PRAGMA page_size = {PAGE_SIZE};
             CREATE TABLE verify_local_page_size (x);
             DROP TABLE verify_local_page_size;"
        ))
        .map_err(|e| format!("setting the in-memory engine's page size: {e}"))?;
    size_limit(&first, i64::MAX)?;
    let db = dynoxide::Database::new(uri).map_err(|e| e.to_string())?;
    drop(first);
    Ok(db)
}

/// Sets the most bytes the memdb database behind `conn` may grow to (1 GiB
/// by default) and returns the limit now in force; a negative `bytes` only
/// reads it.
fn size_limit(conn: &Connection, bytes: i64) -> Result<i64, String> {
    let mut limit = bytes;
    // SAFETY: the handle is live for the call, and SQLITE_FCNTL_SIZE_LIMIT
    // reads and writes the one i64 it is given.
    let rc = unsafe {
        rusqlite::ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            rusqlite::ffi::SQLITE_FCNTL_SIZE_LIMIT,
            (&mut limit as *mut i64).cast(),
        )
    };
    if rc != rusqlite::ffi::SQLITE_OK {
        return Err(format!("the in-memory engine's size limit: SQLite error {rc} (not a memdb database?)"));
    }
    Ok(limit)
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
        // It is a memdb database (only those answer the size limit), no
        // longer capped at 1 GiB.
        assert_eq!(size_limit(&conn, -1).unwrap(), i64::MAX);
    }
}
