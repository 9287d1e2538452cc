//! webhook-report in verify-local: the embedded engine's stream records fed
//! to the same handler as on Lambda, the retry schedule on a timer.

use crate::stream_history;
use std::sync::Arc;
use std::time::Duration;
use verify_aws::webhooks::Dispatcher;

/// Records per read, as the template's event source mapping's `BatchSize`.
const BATCH: usize = 100;

/// Reads the table's stream and hands every batch to the dispatcher, as
/// Lambda's event source mapping does: from the reader's checkpoint (the
/// start of the stream the first time), batch after batch while full ones
/// come back, then again on the next tick. Records reported as failed are
/// read again on the next poll. After each batch the checkpoint moves, which
/// trims what has been read (crate::stream_history).
pub fn spawn_stream_poller(db: dynoxide::Database, table: String, dispatcher: Arc<Dispatcher>, every: Duration) {
    tokio::spawn(async move {
        let mut after = {
            let (db, table) = (db.clone(), table.clone());
            match tokio::task::spawn_blocking(move || stream_history::load_checkpoint(&db, &table)).await {
                Ok(Ok(checkpoint)) => checkpoint,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "reading the stream checkpoint failed; reading from the start");
                    None
                }
                Err(_) => None,
            }
        };
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            while let Some(full) = poll_once(&db, &table, &dispatcher, &mut after).await {
                if !full {
                    break;
                }
            }
        }
    });
}

/// One batch: read, handle, move the checkpoint. `Some(full)` when a batch
/// was handled (full: there may be more), `None` when there was nothing to
/// handle or it failed.
async fn poll_once(db: &dynoxide::Database, table: &str, dispatcher: &Arc<Dispatcher>, after: &mut Option<String>) -> Option<bool> {
    let (db2, table2, from) = (db.clone(), table.to_owned(), after.clone());
    let records = match tokio::task::spawn_blocking(move || read_records(&db2, &table2, from)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "reading the stream failed");
            return None;
        }
        Err(_) => return None,
    };
    if records.is_empty() {
        return None;
    }
    let outcome = dispatcher.handle_records(&records).await;
    let seq = |r: &serde_json::Value| verify_aws::events::embedded::sequence_number(r).map(str::to_owned);
    let handled = match outcome.failed.first() {
        None => records.last().and_then(seq),
        // Resume just after the last record before the first failed one.
        Some(first_failed) => {
            let idx = records.iter().position(|r| seq(r).as_deref() == Some(first_failed.as_str())).unwrap_or(0);
            idx.checked_sub(1).and_then(|i| seq(&records[i]))
        }
    };
    if let Some(position) = handled.filter(|h| Some(h) != after.as_ref()) {
        let (db2, table2, at) = (db.clone(), table.to_owned(), position.clone());
        match tokio::task::spawn_blocking(move || stream_history::save_checkpoint(&db2, &table2, &at)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "saving the stream checkpoint failed"),
            Err(_) => {}
        }
        *after = Some(position);
    }
    if !outcome.failed.is_empty() {
        tokio::time::sleep(Duration::from_secs(1)).await;
        return None;
    }
    Some(records.len() >= BATCH)
}

fn read_records(db: &dynoxide::Database, table: &str, after: Option<String>) -> Result<Vec<serde_json::Value>, String> {
    verify_aws::events::embedded::records_after(db, table, after.as_deref(), Some(BATCH))
}

/// The scheduled invocation of webhook-report, every `every`.
pub fn spawn_retries(dispatcher: Arc<Dispatcher>, every: Duration) {
    spawn_every(every, move || {
        let dispatcher = dispatcher.clone();
        async move {
            match dispatcher.run_due().await {
                Ok(o) if o.attempted > 0 => tracing::info!(attempted = o.attempted, delivered = o.delivered, "webhook retries"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "webhook retries failed"),
            }
        }
    });
}

/// The expiry sweep webhook-report runs on the same schedule, every `every`
/// here: a pending verification whose code expired is noted, and its
/// `verification.expired` follows through the stream within seconds.
pub fn spawn_expiry_sweeps(mut expiries: verify_aws::webhook_report::Expiries, every: Duration) {
    // The first sweep of a fresh table covers one period; later ones start
    // where the last one ended.
    expiries.first_span_secs = every.as_secs().max(1) as i64;
    spawn_every(every, move || {
        let expiries = expiries.clone();
        async move {
            match expiries.sweep_at(None).await {
                Ok(n) if n > 0 => tracing::info!(noted = n, "expiry sweep"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "expiry sweep failed"),
            }
        }
    });
}

/// Runs `run` every `every` (the first time one period after the start),
/// one run at a time.
fn spawn_every<F, Fut>(every: Duration, run: F)
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            run().await;
        }
    });
}
