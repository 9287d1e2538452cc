//! Pre-aggregated report counters, kept by webhook-report as it stores
//! events, so `GET /v2/Attempts/Summary` and the dashboard never read events:
//! their cost follows the hours (and countries) of their range, not traffic.
//!
//! Layout: one item per (service, UTC hour, shard),
//! `pk = CNT#{service sid}#{YYYYMMDDHH}#{shard}`, `kind = counter`, `hour`
//! (its start, Unix seconds), `ttl` (the hour plus the event retention), and
//! one number attribute per cell `c.{country}.{channel}.{outcome}`
//! ([`Outcome`]; country `-` when unknown). A stream batch's events are added
//! with one `UpdateItem … ADD` per item it touches, all its cells at once,
//! so at volume a batch of 100 records costs a handful of writes, not 100.
//!
//! Day roll-ups: every cell is added twice, to its hour's item and to its
//! UTC day's (`CNT#{service sid}#{YYYYMMDD}#{shard}`, `hour` the day's
//! start), in the same batch. A period reads the day items of the whole
//! days it covers and the hour items of its ragged ends only, so a 30-day
//! Summary reads about 30 × 4 + 46 × 4 items instead of 720 × 4: reads are
//! what a report pays for, at every request, where the roll-up's writes
//! are one more `ADD` per day and shard a batch touches.
//!
//! Sharding: an event's shard is drawn from its id (as the events index's
//! is), so one hour of one service is spread over [`DEFAULT_SHARDS`] items;
//! a burst above one item's 1,000 writes/s then spreads too. A report reads
//! every shard of every hour of its range (BatchGetItem, 100 keys a call).
//!
//! Item size: a cell is about 14 bytes, so an hour of one shard stays under
//! 1 KB (one write unit per ADD) up to about 70 (country, channel, outcome)
//! cells; beyond that each ADD costs a unit per further KB.
//!
//! Idempotence: counters are only ever added for an event whose own item
//! was just written for the first time (its conditional put, already needed
//! once per event, is the gate): a replayed stream record finds its events
//! stored and adds nothing. See [`crate::webhooks::Dispatcher`] for what
//! happens when an ADD fails after the events were stored.

use crate::batch_get;
use crate::conditional::describe as ddb;
use crate::item::{Item, attr};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue as AV;
use std::collections::BTreeMap;
use verify_core::clock::Seconds;
use verify_core::events::{Event, EventType};
use verify_core::time_fmt::iso8601;

pub const KIND_COUNTER: &str = "counter";
/// Default counter shards per service and hour.
pub const DEFAULT_SHARDS: u32 = 4;
const HOUR: Seconds = 3_600;
const DAY: Seconds = 86_400;
/// BatchGetItem calls a report keeps in flight.
const READS_IN_FLIGHT: usize = 8;
const CELL_PREFIX: &str = "c.";

/// What a cell counts. Test recipients' events count nowhere.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// Codes sent (`pending` events, resends included): Twilio's attempts.
    Sent,
    /// Verifications started (first sends).
    Started,
    /// Verifications approved.
    Approved,
    /// Attempts converted: an approval adds its verification's sends, in
    /// the hour of the approval.
    Converted,
    /// Wrong codes entered.
    FailedCheck,
    /// Verifications locked by their last wrong code.
    MaxAttempts,
    Canceled,
    Expired,
    /// Starts refused (`blocked` and `send_rate_limited`), by reason.
    Blocked(String),
    /// Starts the fraud guard refused, by the prefix it blocked (the
    /// number's digits but the last four, as the masked number shows
    /// them). Only for this reason: the guard blocks few prefixes, so an
    /// hour's item stays small, where a refusal by country or rate could
    /// name a new prefix with every number tried.
    BlockedPrefix(String),
}

impl Outcome {
    fn name(&self) -> String {
        match self {
            Outcome::Sent => "sent".into(),
            Outcome::Started => "started".into(),
            Outcome::Approved => "approved".into(),
            Outcome::Converted => "converted".into(),
            Outcome::FailedCheck => "failed".into(),
            Outcome::MaxAttempts => "max_attempts".into(),
            Outcome::Canceled => "canceled".into(),
            Outcome::Expired => "expired".into(),
            Outcome::Blocked(reason) => format!("blocked:{reason}"),
            Outcome::BlockedPrefix(prefix) => format!("prefix:{prefix}"),
        }
    }

    fn parse(s: &str) -> Option<Outcome> {
        Some(match s {
            "sent" => Outcome::Sent,
            "started" => Outcome::Started,
            "approved" => Outcome::Approved,
            "converted" => Outcome::Converted,
            "failed" => Outcome::FailedCheck,
            "max_attempts" => Outcome::MaxAttempts,
            "canceled" => Outcome::Canceled,
            "expired" => Outcome::Expired,
            other => match other.strip_prefix("prefix:") {
                Some(prefix) => Outcome::BlockedPrefix(prefix.to_owned()),
                None => Outcome::Blocked(other.strip_prefix("blocked:")?.to_owned()),
            },
        })
    }
}

/// One counter of one hour.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cell {
    pub hour: Seconds,
    pub service: String,
    /// ISO alpha-2, or `-` when the number's country is unknown.
    pub country: String,
    pub channel: String,
    pub outcome: Outcome,
}

impl Cell {
    fn attribute(&self) -> String {
        format!("{CELL_PREFIX}{}.{}.{}", self.country, self.channel, self.outcome.name())
    }
}

/// Keeps names to letters, digits, `_`, `-` and `:` (a cell's name is
/// split on `.`).
fn clean(s: &str) -> String {
    let s: String = s.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':')).take(40).collect();
    if s.is_empty() { "-".into() } else { s }
}

/// The cells an event adds to, and by how much. One rule, used by the
/// writer and by the tests' full count of events.
pub fn cells_of(e: &Event) -> Vec<(Cell, i64)> {
    if e.test {
        return Vec::new();
    }
    let outcomes: Vec<(Outcome, i64)> = match e.event_type {
        EventType::Pending if e.resend => vec![(Outcome::Sent, 1)],
        EventType::Pending => vec![(Outcome::Sent, 1), (Outcome::Started, 1)],
        EventType::Approved => vec![(Outcome::Approved, 1), (Outcome::Converted, i64::from(e.send_attempts.max(1)))],
        EventType::CheckFailed => vec![(Outcome::FailedCheck, 1)],
        EventType::MaxAttemptsReached => vec![(Outcome::MaxAttempts, 1)],
        EventType::Canceled => vec![(Outcome::Canceled, 1)],
        EventType::Expired => vec![(Outcome::Expired, 1)],
        EventType::Blocked | EventType::SendRateLimited => {
            let reason = e.reason.as_deref().unwrap_or("unknown");
            let mut out = vec![(Outcome::Blocked(clean(reason)), 1)];
            if reason == verify_core::store::blocked::reason::FRAUD_GUARD
                && let Some(prefix) = masked_prefix(&e.to_masked)
            {
                out.push((Outcome::BlockedPrefix(prefix), 1));
            }
            out
        }
    };
    let t = e.time_secs();
    outcomes
        .into_iter()
        .map(|(outcome, n)| {
            let cell = Cell {
                hour: t - t.rem_euclid(HOUR),
                service: e.service_sid.clone(),
                country: clean(e.country.as_deref().unwrap_or("-")).to_ascii_uppercase(),
                channel: clean(&e.channel.to_ascii_lowercase()),
                outcome,
            };
            (cell, n)
        })
        .collect()
}

/// The digits a masked number shows (`+1415555****` → `1415555`): the
/// fraud guard's prefix of it ([`verify_core::fraud_guard::prefix_of`]).
fn masked_prefix(masked: &str) -> Option<String> {
    let digits = masked.strip_prefix('+')?.strip_suffix("****")?;
    (digits.len() >= 3 && digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit())).then(|| digits.to_owned())
}

/// `YYYYMMDDHH` (UTC).
fn hour_label(hour: Seconds) -> String {
    let iso = iso8601(hour);
    format!("{}{}{}{}", &iso[0..4], &iso[5..7], &iso[8..10], &iso[11..13])
}

fn counter_pk(service: &str, hour: Seconds, shard: u32) -> String {
    format!("CNT#{service}#{}#{shard:02}", hour_label(hour))
}

/// The day roll-up's key: the hour's label without its hour.
fn day_pk(service: &str, day: Seconds, shard: u32) -> String {
    format!("CNT#{service}#{}#{shard:02}", &hour_label(day)[..8])
}

/// What a report reads for `[from, to)`: the start of each whole UTC day
/// it covers (`days`, read from the roll-ups) and of each other hour that
/// overlaps it (`hours`). With `whole_days` false, only hours.
fn period_parts(from: Seconds, to: Seconds, whole_days: bool) -> (Vec<Seconds>, Vec<Seconds>) {
    let (mut days, mut hours) = (Vec::new(), Vec::new());
    let mut t = from - from.rem_euclid(HOUR);
    while t < to {
        if whole_days && t.rem_euclid(DAY) == 0 && t + DAY <= to {
            days.push(t);
            t += DAY;
        } else {
            hours.push(t);
            t += HOUR;
        }
    }
    (days, hours)
}

#[derive(Clone, Debug)]
pub struct CounterStore {
    client: Client,
    table: String,
    shards: u32,
    retention_secs: i64,
}

/// Which of an event's two counter items to add to: its hour's and its
/// day's roll-up. An event is counted in both; after a failed update, a
/// retry adds only to the one that failed (each UpdateItem is atomic, the
/// pair is not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parts {
    pub hour: bool,
    pub day: bool,
}

impl Parts {
    pub const ALL: Parts = Parts { hour: true, day: true };
    pub const NONE: Parts = Parts { hour: false, day: false };

    /// As stored on an uncounted event: `h`, `d` or `hd`.
    pub fn label(self) -> &'static str {
        match (self.hour, self.day) {
            (true, true) => "hd",
            (true, false) => "h",
            (false, true) => "d",
            (false, false) => "",
        }
    }

    pub fn from_label(s: &str) -> Parts {
        Parts { hour: s.contains('h'), day: s.contains('d') }
    }

    fn wants(self, span: Seconds) -> bool {
        if span == DAY { self.day } else { self.hour }
    }
}

/// A counter item's additions from one batch, and which events they carry.
#[derive(Default)]
struct Additions {
    /// The item's hour or day, and its length.
    hour: Seconds,
    span: Seconds,
    cells: BTreeMap<String, i64>,
    events: Vec<usize>,
}

impl CounterStore {
    pub fn new(client: Client, table: impl Into<String>, shards: u32, retention_days: i64) -> Self {
        CounterStore { client, table: table.into(), shards: shards.clamp(1, 99), retention_secs: retention_days.max(1) * 86_400 }
    }

    pub fn shards(&self) -> u32 {
        self.shards
    }

    /// Adds these events' cells to the items of the parts asked: one
    /// UpdateItem per counter item touched, all at once. Returns, for each
    /// event some of whose additions were not applied, its index and the
    /// parts that failed (nothing of a failed item's update was applied,
    /// since one UpdateItem is atomic).
    pub async fn add(&self, events: &[(&Event, Parts)]) -> Vec<(usize, Parts)> {
        let mut items: BTreeMap<String, Additions> = BTreeMap::new();
        for (i, (e, parts)) in events.iter().enumerate() {
            let shard = crate::events::store::shard_of(&e.id, self.shards);
            for (cell, n) in cells_of(e) {
                let day = cell.hour - cell.hour.rem_euclid(DAY);
                for (pk, start, span) in
                    [(counter_pk(&cell.service, cell.hour, shard), cell.hour, HOUR), (day_pk(&cell.service, day, shard), day, DAY)]
                {
                    if !parts.wants(span) {
                        continue;
                    }
                    let a = items.entry(pk).or_default();
                    (a.hour, a.span) = (start, span);
                    *a.cells.entry(cell.attribute()).or_default() += n;
                    if a.events.last() != Some(&i) {
                        a.events.push(i);
                    }
                }
            }
        }
        let mut tasks = tokio::task::JoinSet::new();
        for (pk, a) in items {
            let me = self.clone();
            tasks.spawn(async move { me.update(&pk, &a).await.map_err(|e| (pk, e, a.events, a.span)) });
        }
        let mut failed: BTreeMap<usize, Parts> = BTreeMap::new();
        while let Some(r) = tasks.join_next().await {
            match r {
                Ok(Ok(())) => {}
                Ok(Err((pk, e, events, span))) => {
                    tracing::error!(counter = %pk, error = %e, "counter update failed");
                    for i in events {
                        let p = failed.entry(i).or_insert(Parts::NONE);
                        if span == DAY { p.day = true } else { p.hour = true }
                    }
                }
                // A task that panicked: which items it had applied is unknown.
                Err(e) => tracing::error!(error = %e, "counter task failed"),
            }
        }
        failed.into_iter().collect()
    }

    async fn update(&self, pk: &str, a: &Additions) -> Result<(), String> {
        let mut adds = Vec::new();
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(attr::PK, AV::S(pk.to_owned()))
            .expression_attribute_names("#k", attr::KIND)
            .expression_attribute_names("#h", "hour")
            .expression_attribute_names("#ttl", attr::TTL)
            .expression_attribute_values(":k", AV::S(KIND_COUNTER.into()))
            .expression_attribute_values(":h", AV::N(a.hour.to_string()))
            .expression_attribute_values(":ttl", AV::N((a.hour + a.span + self.retention_secs).to_string()));
        for (i, (name, n)) in a.cells.iter().enumerate() {
            adds.push(format!("#c{i} :c{i}"));
            req =
                req.expression_attribute_names(format!("#c{i}"), name).expression_attribute_values(format!(":c{i}"), AV::N(n.to_string()));
        }
        req.update_expression(format!("SET #k = :k, #h = :h, #ttl = :ttl ADD {}", adds.join(", "))).send().await.map_err(ddb)?;
        Ok(())
    }

    /// Every non-zero cell of these services in the hours that overlap
    /// `[from, to)`, summed over shards. With `whole_days`, the whole UTC
    /// days of the period come from their roll-ups, each as one cell at the
    /// day's start (fine for totals and daily series, not for hourly ones).
    /// Reads (days + ragged hours) × services × shards items by key,
    /// whatever the traffic was.
    pub async fn read(&self, services: &[String], from: Seconds, to: Seconds, whole_days: bool) -> Result<BTreeMap<Cell, u64>, String> {
        let (days, hours) = period_parts(from, to, whole_days);
        let mut keys = Vec::new();
        for s in services {
            for shard in 0..self.shards {
                keys.extend(days.iter().map(|&d| day_pk(s, d, shard)));
                keys.extend(hours.iter().map(|&h| counter_pk(s, h, shard)));
            }
        }
        let mut out: BTreeMap<Cell, u64> = BTreeMap::new();
        let mut chunks = keys.chunks(100);
        loop {
            let mut tasks = tokio::task::JoinSet::new();
            for chunk in chunks.by_ref().take(READS_IN_FLIGHT) {
                let (me, chunk) = (self.clone(), chunk.to_vec());
                tasks.spawn(async move { me.get_all(&chunk).await });
            }
            if tasks.is_empty() {
                break;
            }
            while let Some(r) = tasks.join_next().await {
                for item in r.map_err(|e| e.to_string())?? {
                    add_item(&mut out, &item);
                }
            }
        }
        Ok(out)
    }

    /// The items with these keys that exist.
    async fn get_all(&self, pks: &[String]) -> Result<Vec<Item>, String> {
        batch_get::get_items(&self.client, &self.table, &batch_get::by_pk(pks), None).await
    }
}

/// Adds a counter item's cells to `out`.
fn add_item(out: &mut BTreeMap<Cell, u64>, item: &Item) {
    let Some(pk) = item.get(attr::PK).and_then(|v| v.as_s().ok()) else { return };
    let mut parts = pk.split('#');
    let (Some("CNT"), Some(service)) = (parts.next(), parts.next()) else { return };
    let Some(hour) = item.get("hour").and_then(|v| v.as_n().ok()).and_then(|n| n.parse::<Seconds>().ok()) else { return };
    for (name, v) in item {
        let Some(rest) = name.strip_prefix(CELL_PREFIX) else { continue };
        let mut p = rest.splitn(3, '.');
        let (Some(country), Some(channel), Some(outcome)) = (p.next(), p.next(), p.next().and_then(Outcome::parse)) else { continue };
        let n = v.as_n().ok().and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
        if n > 0 {
            let cell = Cell { hour, service: service.to_owned(), country: country.to_owned(), channel: channel.to_owned(), outcome };
            *out.entry(cell).or_default() += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn event(t: EventType, time: Seconds) -> Event {
        Event {
            id: format!("evt_{time}"),
            event_type: t,
            time_ms: time * 1000,
            sequence: 1,
            service_sid: "VA1".into(),
            verification_sid: "VE1".into(),
            channel: "sms".into(),
            country: Some("us".into()),
            to_masked: "+1415555****".into(),
            to_hash: String::new(),
            check_attempts: 0,
            send_attempts: 2,
            attempt_sid: None,
            resend: false,
            reason: None,
            test: false,
        }
    }

    #[test]
    fn cells_name_hour_country_channel_and_outcome() {
        let hour = 1_700_000_000 - 1_700_000_000 % 3600;
        let cells = cells_of(&event(EventType::Pending, hour + 59));
        assert_eq!(
            cells.iter().map(|(c, n)| (c.attribute(), *n)).collect::<Vec<_>>(),
            [("c.US.sms.sent".into(), 1), ("c.US.sms.started".into(), 1)]
        );
        assert!(cells.iter().all(|(c, _)| c.hour == hour));
        let approved = cells_of(&event(EventType::Approved, hour));
        assert_eq!(approved[1], (Cell { outcome: Outcome::Converted, ..approved[0].0.clone() }, 2), "an approval converts every send");
        let mut blocked = event(EventType::Blocked, hour);
        blocked.reason = Some("geo.permissions#x".into());
        assert_eq!(cells_of(&blocked)[0].0.attribute(), "c.US.sms.blocked:geopermissionsx");
        assert_eq!(cells_of(&blocked).len(), 1, "only the fraud guard's refusals are counted by prefix");
        blocked.reason = Some("fraud_guard".into());
        let names: Vec<String> = cells_of(&blocked).iter().map(|(c, _)| c.attribute()).collect();
        assert_eq!(names, ["c.US.sms.blocked:fraud_guard", "c.US.sms.prefix:1415555"]);
        blocked.to_masked = "qa@****.com".into();
        assert_eq!(cells_of(&blocked).len(), 1, "an address has no prefix");
        let mut test = event(EventType::Pending, hour);
        test.test = true;
        assert!(cells_of(&test).is_empty(), "test recipients count nowhere");
        assert_eq!(counter_pk("VA1", hour, 3), "CNT#VA1#2023111422#03");
        assert_eq!(day_pk("VA1", hour - hour % DAY, 3), "CNT#VA1#20231114#03");
    }

    #[test]
    fn a_period_reads_whole_days_from_roll_ups_and_its_ends_by_hour() {
        let day = 1_700_006_400; // 2023-11-15T00:00Z
        assert_eq!(day % DAY, 0);
        let (days, hours) = period_parts(day - 2 * HOUR + 5, day + 2 * DAY + 3 * HOUR, true);
        assert_eq!(days, [day, day + DAY]);
        assert_eq!(hours, [day - 2 * HOUR, day - HOUR, day + 2 * DAY, day + 2 * DAY + HOUR, day + 2 * DAY + 2 * HOUR]);
        let (days, hours) = period_parts(day, day + DAY, false);
        assert!(days.is_empty(), "hourly series read hours only");
        assert_eq!(hours.len(), 24);
        let (days, hours) = period_parts(day + HOUR, day + DAY + HOUR, true);
        assert!(days.is_empty(), "a day cut by the period is read by the hour");
        assert_eq!(hours.len(), 24);
        let (days, hours) = period_parts(day - 30 * DAY, day, true);
        assert_eq!((days.len(), hours.len()), (30, 0));
    }

    #[test]
    fn outcomes_read_back_as_written() {
        for o in [
            Outcome::Sent,
            Outcome::Started,
            Outcome::Approved,
            Outcome::Converted,
            Outcome::FailedCheck,
            Outcome::MaxAttempts,
            Outcome::Canceled,
            Outcome::Expired,
            Outcome::Blocked("max_sends".into()),
            Outcome::BlockedPrefix("1415555".into()),
        ] {
            assert_eq!(Outcome::parse(&o.name()), Some(o));
        }
        assert_eq!(Outcome::parse("nonsense"), None);
    }

    #[test]
    fn items_add_up_over_shards() {
        let item = |shard: u32, n: &str| -> Item {
            HashMap::from([
                (attr::PK.to_owned(), AV::S(counter_pk("VA1", 7200, shard))),
                ("hour".to_owned(), AV::N("7200".into())),
                ("c.GB.sms.sent".to_owned(), AV::N(n.into())),
                ("ttl".to_owned(), AV::N("1".into())),
            ])
        };
        let mut out = BTreeMap::new();
        add_item(&mut out, &item(0, "2"));
        add_item(&mut out, &item(1, "3"));
        assert_eq!(out.into_iter().map(|(c, n)| (c.country, c.outcome, n)).collect::<Vec<_>>(), [("GB".into(), Outcome::Sent, 5)]);
    }
}
