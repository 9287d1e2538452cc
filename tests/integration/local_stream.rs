//! verify-local's embedded stream history stays bounded: its reader's
//! checkpoint trims what has been read (functions/local/src/stream_history.rs),
//! so the engine's stream table does not grow with every verification (it
//! did: dynoxide keeps every record and numbers each new one by scanning
//! them all). Counted in the engine's own database file, read-only, while
//! verify-local runs; no timing is asserted.

use crate::local_server::LocalServer;
use reqwest::{Client, StatusCode};
use serde_json::Value;
use std::time::Duration;

const VERIFICATIONS: u64 = 200;

/// (records in the stream table now, records ever written to it).
fn stream_rows(db: &std::path::Path) -> (i64, i64) {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    let now: i64 = conn.query_row("SELECT COUNT(*) FROM _stream_records", [], |r| r.get(0)).unwrap();
    // AUTOINCREMENT's high-water mark: every record ever inserted.
    let ever: i64 = conn.query_row("SELECT seq FROM sqlite_sequence WHERE name = '_stream_records'", [], |r| r.get(0)).unwrap_or(0);
    (now, ever)
}

async fn complete_verification(client: &Client, server: &LocalServer, to: &str) {
    let resp = client.post(server.url("/start-verify")).form(&[("To", to)]).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED, "{}", resp.text().await.unwrap());
    let code = server.last_code(to).await;
    let resp = client.post(server.url("/check-verify")).form(&[("To", to), ("Code", code.as_str())]).send().await.unwrap();
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["status"], "approved", "{v}");
}

#[tokio::test]
async fn the_engine_stream_history_stays_bounded_as_verifications_go_by() {
    let dir = std::env::temp_dir().join(format!("verify-local-stream-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let dir_arg = dir.to_str().unwrap().to_owned();
    let server = LocalServer::start(&["--data-dir", &dir_arg, "--stream-poll-ms", "50"]).await;
    let client = Client::new();
    let first = (std::process::id() as u64 % 1000) * 10_000;
    let mut peak = 0;
    for i in 0..VERIFICATIONS {
        complete_verification(&client, &server, &format!("+49151{:08}", first + i)).await;
        if i % 20 == 19 {
            peak = peak.max(stream_rows(&dir.join("verify.db")).0);
        }
    }
    // Wait (up to a deadline, not a timing claim) for the reader to pass
    // the last records: then only the newest stays.
    let mut rows = stream_rows(&dir.join("verify.db"));
    for _ in 0..300 {
        if rows.0 <= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        rows = stream_rows(&dir.join("verify.db"));
    }
    let logs = server.logs();
    server.stop().await;
    let (now, ever) = rows;
    assert!(ever >= 3 * VERIFICATIONS as i64, "a start, a count and an approval each, at least: {ever} records written");
    assert_eq!(now, 1, "all read: only the newest record is kept ({ever} written); logs:\n{logs}");
    assert!(peak < ever / 4, "the history stayed bounded while verifications went on: at most {peak} of {ever} records kept");
    assert!(!logs.contains("stream checkpoint"), "no checkpoint failures: {logs}");
    let _ = std::fs::remove_dir_all(&dir);
}
