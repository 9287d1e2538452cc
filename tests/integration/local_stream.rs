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

/// The embedded stream reader (verify-local's poller, the tests', the
/// benchmarks') pages past the engine's 1,000 records a read, stops at a
/// limit, and resumes after a sequence number.
#[tokio::test]
async fn the_embedded_stream_reader_pages_limits_and_resumes() {
    use verify_aws::events::embedded::{records_after, sequence_number};
    let db = dynoxide::Database::memory().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(dynoxide::server::serve_on(listener, db.clone()));
    let client = verify_aws::clients::dynamodb_at(&endpoint);
    verify_aws::store::ensure_table(&client, "verify").await.unwrap();
    for i in 0..2_500 {
        let item = [("pk".to_owned(), aws_sdk_dynamodb::types::AttributeValue::S(format!("X#{i}")))];
        client.put_item().table_name("verify").set_item(Some(item.into())).send().await.unwrap();
    }
    let pk = |r: &Value| r["dynamodb"]["Keys"]["pk"]["S"].as_str().unwrap().to_owned();
    let all = records_after(&db, "verify", None, None).unwrap();
    assert_eq!(all.len(), 2_500);
    assert_eq!((pk(&all[0]), pk(&all[2_499])), ("X#0".to_owned(), "X#2499".to_owned()));
    let some = records_after(&db, "verify", sequence_number(&all[999]), Some(1_200)).unwrap();
    assert_eq!(some.len(), 1_200);
    assert_eq!((pk(&some[0]), pk(&some[1_199])), ("X#1000".to_owned(), "X#2199".to_owned()));
    assert!(records_after(&db, "verify", sequence_number(&all[2_499]), Some(10)).unwrap().is_empty());
}
