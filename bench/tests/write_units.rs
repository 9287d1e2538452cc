//! The README's write units per completed verification are what DynamoDB
//! bills (as dynoxide accounts for it), for new and returning numbers: a
//! write added to the request path or to webhook-report fails here until
//! the README says what it costs.
//! `bench-write-units` is the full run.

use verify_bench::write_units::{FULL_BATCH, measure, stream_filter};

/// The README table's total row: (trickle, volume) for the guard on, then off.
fn readme_totals() -> [(f64, f64); 2] {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let row = readme.lines().find(|l| l.starts_with("| **total** | **9** |")).expect("the write-unit table's total row");
    let cells: Vec<&str> = row.split('|').map(|c| c.trim().trim_matches('*')).collect();
    // "14 at a trickle, 10.16 at volume"
    let pair = |cell: &str| -> (f64, f64) {
        let (trickle, volume) = cell.split_once(" at a trickle, ").expect("trickle, then volume");
        (trickle.parse().unwrap(), volume.trim_end_matches(" at volume").parse().unwrap())
    };
    [pair(cells[3]), pair(cells[4])]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_verification_costs_what_the_readme_says() {
    let [on, off] = readme_totals();
    for (guard, (trickle, volume)) in [("standard", on), ("off", off)] {
        let alone = measure(4, 1, guard, None).await;
        assert_eq!(alone.total_write_units() / 4.0, trickle, "guard {guard}, a trickle: {:#}", alone.json());
        assert_eq!((alone.records, alone.batches), (8, 8), "the start's record and the check's, each alone");
        // 100 starts, then 100 approvals: two full batches.
        let full = measure(100, FULL_BATCH, guard, None).await;
        let per = full.total_write_units() / 100.0;
        assert!((per - volume).abs() < 0.005, "guard {guard}, at volume: {per} against the README's {volume}: {:#}", full.json());
        assert_eq!(full.batches, 2);
        // Refused conditions are billed too, and none is expected here.
        assert_eq!(alone.start.refused_writes + alone.check.refused_writes + alone.stream.refused_writes, 0);
        // A returning number (README: "A returning number costs nothing
        // more after its send window, 1 more within it"): its sealed sid
        // moves no index row; within the send window the first put is
        // refused.
        for (gap, refused, more) in [(60, 100, 1.0), (600, 0, 0.0)] {
            let again = measure(100, FULL_BATCH, guard, Some(gap)).await;
            assert_eq!(again.start.refused_writes, refused, "guard {guard}, after {gap} s");
            let by = again.total_write_units() / 100.0 - per;
            assert!((by - more).abs() < 1e-9, "guard {guard}, after {gap} s: {by} more: {:#}", again.json());
        }
    }
}

#[test]
fn the_stream_filter_is_the_templates() {
    assert_eq!(stream_filter(), ["VER#", "BLK#"]);
}
