//! DynamoDB write (and read) units per completed verification, measured:
//! see `verify_bench::write_units`. The fraud guard at its default
//! (`standard`) and `off`, each at a trickle (every stream record handed to
//! webhook-report alone, as below about 100 records a second) and at volume
//! (full batches of 100), on new numbers; then at volume numbers verified
//! before, their item still in the table: a minute later (within the send
//! window) and ten minutes later (nothing in it counts any more).
//!
//! `bench-write-units [--trickle 50] [--volume 500] [--out FILE.json] [--md FILE.md]`
//!
//! (The embedded engine numbers each stream record by scanning the stream
//! history it keeps, so a run slows with its size; 500 verifications are
//! five full batches of starts and five of approvals, enough for the
//! counters' share.)

use verify_bench::Flags;
use verify_bench::write_units::{FULL_BATCH, measure};

#[tokio::main]
async fn main() {
    let flags = Flags::parse();
    let trickle: usize = flags.number("trickle", 50);
    let volume: usize = flags.number("volume", 500);
    let mut runs = serde_json::Map::new();
    let mut rows = Vec::new();
    for guard in ["standard", "off"] {
        for (name, n, batch, returning) in [
            ("trickle", trickle, 1, None),
            ("volume", volume, FULL_BATCH, None),
            ("volume, numbers returning after 1 minute", volume, FULL_BATCH, Some(60)),
            ("volume, numbers returning after 10 minutes", volume, FULL_BATCH, Some(600)),
        ] {
            eprintln!("bench-write-units: fraud guard {guard}, {name}: {n} verifications, stream batches of up to {batch}");
            let bill = measure(n, batch, guard, returning).await;
            eprintln!("  {:.3} write units per completed verification", bill.total_write_units() / n as f64);
            rows.push(row(&format!("guard `{guard}`, {name} ({n}; {} records in {} batches)", bill.records, bill.batches), &bill));
            runs.insert(format!("guard {guard}, {name}"), bill.json());
        }
    }
    let out = serde_json::json!({
        "what": "DynamoDB capacity per completed SMS verification (start, right code), as DynamoDB bills it (ReturnConsumedCapacity=INDEXES), summed per phase",
        "dynamodb": "embedded dynoxide on loopback (ensure_table); its capacity accounting follows DynamoDB's, index replication included",
        "runs": runs,
    });
    if let Some(path) = flags.get("md") {
        let md = format!(
            "{}\n\nwrite units per completed SMS verification (start, right code), as DynamoDB bills them \
             (`ReturnConsumedCapacity=INDEXES` on embedded dynoxide); `table + indexes` by phase\n\n\
             | run | total | start | check | webhook-report (stream) | read units |\n|---|---|---|---|---|---|\n{}\n",
            flags.get("title").unwrap_or_else(|| "# bench-write-units".into()),
            rows.join("\n")
        );
        std::fs::write(&path, md).unwrap_or_else(|e| panic!("{path}: {e}"));
    }
    let text = serde_json::to_string_pretty(&out).unwrap();
    match flags.get("out") {
        Some(path) => std::fs::write(&path, text + "\n").unwrap_or_else(|e| panic!("{path}: {e}")),
        None => println!("{text}"),
    }
}

/// One markdown row: each phase's units per verification, table and indexes.
fn row(name: &str, bill: &verify_bench::write_units::Bill) -> String {
    let n = bill.verifications as f64;
    let phase = |t: &verify_bench::write_units::Tally| {
        let mut parts: Vec<String> = t.writes.iter().map(|(k, v)| format!("{k} {}", verify_bench::round3(v / n))).collect();
        if t.refused_writes > 0 {
            parts.push(format!("refused by its condition {}", verify_bench::round3(t.refused_writes as f64 / n)));
        }
        format!("{} ({})", verify_bench::round3(t.write_units() / n), parts.join(", "))
    };
    let reads = (bill.start.reads + bill.check.reads + bill.stream.reads) / n;
    format!(
        "| {name} | **{}** | {} | {} | {} | {} |",
        verify_bench::round3(bill.total_write_units() / n),
        phase(&bill.start),
        phase(&bill.check),
        phase(&bill.stream),
        verify_bench::round3(reads)
    )
}
