//! Stored events, for reports, in the verification table.
//!
//! Layout (the table's key is `pk` alone):
//! - event: `pk = EV#{event id}`, `kind = event`, and for the `events-index`
//!   GSI `ev_bucket = {service sid}#{YYYYMMDD}#{shard}` (hash) and
//!   `ev_sort = {unix seconds, 10 digits}.{ms, 3}#{sequence, 12}.{rank}#{event id}`
//!   (range: time, then the verification's change counter and the event's
//!   place in its change, so events of one verification within one
//!   millisecond keep their order; items from before milliseconds were
//!   kept have `{seconds}#{event id}`, which sorts first in its second). The shard is
//!   the event id's hash modulo the shard count, so one service's day is
//!   spread over that many GSI partitions (no hot partition at millions of
//!   events a day); a time-range query asks every (day, shard) of the range
//!   in parallel and merges by `ev_sort`.
//!   A `pending` event's id is made from its attempt sid alone
//!   ([`super::attempt_event_id`]), so `GET /v2/Attempts/{sid}` reads it
//!   by key.
//! - conversion: an `approved` event is stored under
//!   `pk = CONV#{service sid}#{verification sid}` (a verification is
//!   approved at most once), so an Attempt can say whether it converted by
//!   reading that key, and the approval costs one item, not two. (Before,
//!   the approval was an `EV#` item plus a separate `kind = conversion`
//!   item at that key; both layouts read the same.)
//!
//! Every item carries `ttl` (retention). Writes are idempotent: a replayed
//! stream record writes the same event id and changes nothing.

use crate::batch_get::{self, Projection};
use crate::conditional::{applied, describe as ddb};
use crate::counters::Parts;
use crate::item::{Item, attr};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue as AV;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use verify_core::clock::Seconds;
use verify_core::events::{Event, EventType, attempt_event_id};
use verify_core::time_fmt::iso8601;

pub const EVENTS_INDEX: &str = "events-index";
pub const KIND_EVENT: &str = "event";
/// Default number of shards per service and day.
pub const DEFAULT_SHARDS: u32 = 8;
/// Default retention of events, in days.
pub const DEFAULT_RETENTION_DAYS: i64 = 90;

pub mod ev {
    pub const BUCKET: &str = "ev_bucket";
    pub const SORT: &str = "ev_sort";
    pub const TYPE: &str = "type";
    /// Unix seconds (what items from before `time_ms` have).
    pub const TIME: &str = "time";
    pub const TIME_MS: &str = "time_ms";
    pub const SEQUENCE: &str = "sequence";
    pub const VERIFICATION_SID: &str = "verification_sid";
    pub const TO_MASKED: &str = "to_masked";
    pub const TO_HASH: &str = "to_hash";
    pub const CHECK_ATTEMPTS: &str = "check_attempts";
    pub const SEND_ATTEMPTS: &str = "send_attempts";
    pub const ATTEMPT_SID: &str = "attempt_sid";
    pub const RESEND: &str = "resend";
    pub const REASON: &str = "reason";
    /// `true` on a test recipient's event; absent otherwise.
    pub const TEST: &str = "test";
    pub const EVENT_ID: &str = "event_id";
    /// Set on an event whose counters could not all be added (the parts
    /// that failed, [`Parts::label`]): the stream's retry stores it again
    /// and adds those.
    pub const UNCOUNTED: &str = "uncounted";
}

#[derive(Clone, Debug)]
pub struct EventStore {
    client: Client,
    table: String,
    shards: u32,
    retention_secs: i64,
}

/// Which events a query wants. `from` inclusive, `to` exclusive.
#[derive(Clone, Debug, Default)]
pub struct EventQuery {
    pub services: Vec<String>,
    pub from: Seconds,
    pub to: Seconds,
    pub types: Option<Vec<EventType>>,
    pub verification_sid: Option<String>,
    /// The hashes a number may be stored under (one per number key, per
    /// service): events of that number carry one of them.
    pub to_hashes: Option<Vec<String>>,
    /// Start of the E.164 number (Twilio's `DestinationPrefix`), matched
    /// against the masked number, so at most all but the last four digits.
    pub to_prefix: Option<String>,
    pub country: Option<String>,
    pub channel: Option<String>,
}

impl EventQuery {
    fn matches(&self, e: &Event) -> bool {
        self.types.as_ref().is_none_or(|t| t.contains(&e.event_type))
            && self.verification_sid.as_ref().is_none_or(|s| *s == e.verification_sid)
            && self.to_hashes.as_ref().is_none_or(|h| h.contains(&e.to_hash))
            && self.to_prefix.as_ref().is_none_or(|p| e.to_masked.trim_end_matches('*').starts_with(p.as_str()))
            && self.country.as_ref().is_none_or(|c| e.country.as_ref().is_some_and(|ec| ec.eq_ignore_ascii_case(c)))
            && self.channel.as_ref().is_none_or(|c| c.eq_ignore_ascii_case(&e.channel))
    }
}

/// One page of events in time order, and where the next one starts.
#[derive(Clone, Debug, Default)]
pub struct EventPage {
    pub events: Vec<Event>,
    pub next: Option<Cursor>,
}

/// Where a page ends: the `ev_sort` of its last event. Given out as an
/// opaque page token; one read back is checked to be a sort key before it
/// reaches a query, so a malformed token is the caller's error, not ours.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor(String);

impl Cursor {
    /// A sort key in either layout ([`sort_key`], or `{seconds}#{event id}`).
    pub fn parse(token: &str) -> Option<Cursor> {
        let (secs, rest) = token.split_at_checked(10)?;
        let well_formed = digits(secs, 10)
            && match rest.strip_prefix('#') {
                Some(old_layout) => is_event_id(old_layout),
                None => Self::is_order_and_id(rest).unwrap_or(false),
            };
        well_formed.then(|| Cursor(token.to_owned()))
    }

    /// `.{ms}#{sequence}.{rank}#{event id}`.
    fn is_order_and_id(rest: &str) -> Option<bool> {
        let (ms, rest) = rest.strip_prefix('.')?.split_once('#')?;
        let (order, id) = rest.split_once('#')?;
        let (sequence, rank) = order.split_once('.')?;
        Some(digits(ms, 3) && digits(sequence, 12) && digits(rank, 1) && is_event_id(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The second the cursor's event happened in.
    fn secs(&self) -> Seconds {
        self.0[..10].parse().expect("checked by Cursor::parse")
    }
}

fn num(v: impl ToString) -> AV {
    AV::N(v.to_string())
}

fn text(v: &str) -> AV {
    AV::S(v.to_owned())
}

/// `YYYYMMDD` (UTC) of a time.
pub fn day_of(t: Seconds) -> String {
    iso8601(t)[..10].replace('-', "")
}

pub(crate) fn shard_of(event_id: &str, shards: u32) -> u32 {
    let d = Sha256::digest(event_id.as_bytes());
    u32::from_be_bytes([d[0], d[1], d[2], d[3]]) % shards.max(1)
}

pub fn bucket(service_sid: &str, day: &str, shard: u32) -> String {
    format!("{service_sid}#{day}#{shard:02}")
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// `evt_` and 32 hex digits, as [`super::event_id`] makes them.
fn is_event_id(s: &str) -> bool {
    s.strip_prefix("evt_").is_some_and(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The lowest sort key of a second: every event of it sorts at or above.
fn second_start(secs: Seconds) -> String {
    format!("{:010}", secs.max(0))
}

/// An event's `ev_sort`: time to the millisecond, then its verification's
/// change counter and its place among the events of that change (in
/// [`EventType`] order: a failed check before the exhaustion it caused).
pub fn sort_key(e: &Event) -> String {
    let ms = e.time_ms.max(0);
    format!("{:010}.{:03}#{:012}.{}#{}", ms / 1000, ms % 1000, e.sequence, e.event_type as u8, e.id)
}

impl EventStore {
    pub fn new(client: Client, table: impl Into<String>, shards: u32, retention_days: i64) -> Self {
        EventStore { client, table: table.into(), shards: shards.clamp(1, 99), retention_secs: retention_days.max(1) * 86_400 }
    }

    pub fn retention_secs(&self) -> i64 {
        self.retention_secs
    }

    pub fn shards(&self) -> u32 {
        self.shards
    }

    pub fn to_item(&self, e: &Event) -> Item {
        let mut item: Item = HashMap::from([
            (attr::PK.to_owned(), text(&Self::pk_of(e))),
            (attr::KIND.to_owned(), text(KIND_EVENT)),
            (ev::EVENT_ID.to_owned(), text(&e.id)),
            (ev::BUCKET.to_owned(), text(&bucket(&e.service_sid, &day_of(e.time_secs()), shard_of(&e.id, self.shards)))),
            (ev::SORT.to_owned(), text(&sort_key(e))),
            (ev::TYPE.to_owned(), text(e.event_type.as_str())),
            (ev::TIME.to_owned(), num(e.time_secs())),
            (ev::TIME_MS.to_owned(), num(e.time_ms)),
            (ev::SEQUENCE.to_owned(), num(e.sequence)),
            (attr::SERVICE_SID.to_owned(), text(&e.service_sid)),
            (ev::VERIFICATION_SID.to_owned(), text(&e.verification_sid)),
            (attr::CHANNEL.to_owned(), text(&e.channel)),
            (ev::TO_MASKED.to_owned(), text(&e.to_masked)),
            (ev::TO_HASH.to_owned(), text(&e.to_hash)),
            (ev::CHECK_ATTEMPTS.to_owned(), num(e.check_attempts)),
            (ev::SEND_ATTEMPTS.to_owned(), num(e.send_attempts)),
            (ev::RESEND.to_owned(), AV::Bool(e.resend)),
            (attr::TTL.to_owned(), num(e.time_secs() + self.retention_secs)),
        ]);
        if let Some(c) = &e.country {
            item.insert(attr::COUNTRY.to_owned(), text(c));
        }
        if let Some(a) = &e.attempt_sid {
            item.insert(ev::ATTEMPT_SID.to_owned(), text(a));
        }
        if let Some(r) = &e.reason {
            item.insert(ev::REASON.to_owned(), text(r));
        }
        if e.test {
            item.insert(ev::TEST.to_owned(), AV::Bool(true));
        }
        item
    }

    /// The item key an event is stored under.
    fn pk_of(e: &Event) -> String {
        match e.event_type {
            EventType::Approved => conversion_pk(&e.service_sid, &e.verification_sid),
            _ => format!("EV#{}", e.id),
        }
    }

    /// Stores an event: the counter parts to add for it when this call
    /// stored it (all of them for a new event), `None` when it was already
    /// there (a replay; nothing changes) ([`crate::counters`]). An event
    /// marked [`ev::UNCOUNTED`] is stored again (unmarked) and yields the
    /// parts its mark names.
    pub async fn put(&self, e: &Event) -> Result<Option<Parts>, String> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.to_item(e)))
            .condition_expression("attribute_not_exists(#pk) OR attribute_exists(#u)")
            .expression_attribute_names("#pk", attr::PK)
            .expression_attribute_names("#u", ev::UNCOUNTED)
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await;
        let old_mark = result.as_ref().ok().and_then(|out| out.attributes()).and_then(|old| old.get(ev::UNCOUNTED)).cloned();
        Ok(applied(result)?.then(|| match old_mark {
            Some(AV::S(label)) => Parts::from_label(&label),
            // A new event, or a mark from before the day roll-ups (`true`).
            _ => Parts::ALL,
        }))
    }

    /// Marks an event this process just stored whose counters could not all
    /// be added (`parts` failed), so that the stream's retry stores it
    /// afresh and adds those. (An update, not a delete: webhook-report links
    /// no DeleteItem.)
    pub async fn mark_uncounted(&self, e: &Event, parts: Parts) -> Result<(), String> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(attr::PK, text(&Self::pk_of(e)))
            .update_expression("SET #u = :t")
            .condition_expression("#id = :id")
            .expression_attribute_names("#u", ev::UNCOUNTED)
            .expression_attribute_names("#id", ev::EVENT_ID)
            .expression_attribute_values(":t", text(parts.label()))
            .expression_attribute_values(":id", text(&e.id))
            .send()
            .await
            .map_err(ddb)?;
        Ok(())
    }

    /// Events of the query in time order, at most `limit`, after `cursor`.
    /// Reads one day's buckets at a time, so a page reads little past its end.
    pub async fn page(&self, q: &EventQuery, cursor: Option<&Cursor>, limit: usize) -> Result<EventPage, String> {
        self.read(q, cursor, limit).await
    }

    async fn read(&self, q: &EventQuery, cursor: Option<&Cursor>, limit: usize) -> Result<EventPage, String> {
        let limit = limit.max(1);
        let mut out: Vec<(String, Event)> = Vec::new();
        let mut day_start = q.from - q.from.rem_euclid(86_400);
        if let Some(c) = cursor {
            let t = c.secs();
            day_start = day_start.max(t - t.rem_euclid(86_400));
        }
        // Just past the cursor's key (a space sorts below every character a
        // key uses), or the range's first second.
        let lo = match cursor {
            Some(c) if c.as_str() >= second_start(q.from).as_str() => format!("{} ", c.as_str()),
            _ => second_start(q.from),
        };
        let hi = second_start(q.to);
        while day_start < q.to && out.len() < limit {
            let mut tasks = tokio::task::JoinSet::new();
            {
                let day = day_of(day_start);
                for service in &q.services {
                    for shard in 0..self.shards {
                        let (client, table, q2) = (self.client.clone(), self.table.clone(), q.clone());
                        let (b, lo, hi, want) = (bucket(service, &day, shard), lo.clone(), hi.clone(), limit - out.len());
                        tasks.spawn(async move { query_bucket(&client, &table, &b, &lo, &hi, &q2, want).await });
                    }
                }
                day_start += 86_400;
            }
            // Sort keys begin with the time, so one sort orders the days too.
            let mut found = Vec::new();
            while let Some(r) = tasks.join_next().await {
                found.extend(r.map_err(|e| e.to_string())??);
            }
            found.sort_by(|a, b| a.0.cmp(&b.0));
            out.extend(found.into_iter().take(limit - out.len()));
        }
        let full = out.len() >= limit;
        let next = if full { out.last().map(|(k, _)| Cursor(k.clone())) } else { None };
        Ok(EventPage { events: out.into_iter().map(|(_, e)| e).collect(), next })
    }

    /// The `pending` event of one send, looked up by key in each of
    /// `services` (one BatchGetItem of one key per service): `None` when
    /// none of them sent it, or it is past the retention.
    pub async fn attempt(&self, services: &[String], attempt_sid: &str) -> Result<Option<Event>, String> {
        let keys: Vec<String> = services.iter().map(|s| format!("EV#{}", attempt_event_id(s, attempt_sid))).collect();
        Ok(self.get_all(&keys, None).await?.iter().filter_map(from_item).find(|e| e.attempt_sid.as_deref() == Some(attempt_sid)))
    }

    /// The verification sids of `service_sid`'s sends (`pending` events)
    /// at a whole second in `(after, until]`, for the expiry sweep: the
    /// reports' own read of a time range, every page of it.
    pub async fn sent_between(&self, service_sid: &str, after: Seconds, until: Seconds) -> Result<Vec<String>, String> {
        let sends = EventQuery {
            services: vec![service_sid.to_owned()],
            from: after + 1,
            to: until + 1,
            types: Some(vec![EventType::Pending]),
            ..EventQuery::default()
        };
        Ok(self.read(&sends, None, usize::MAX).await?.events.into_iter().map(|e| e.verification_sid).collect())
    }

    /// Which of these verifications were approved.
    pub async fn converted(&self, service_sid: &str, verification_sids: &[String]) -> Result<HashSet<String>, String> {
        let unique: HashSet<&String> = verification_sids.iter().collect();
        let keys: Vec<String> = unique.into_iter().map(|sid| conversion_pk(service_sid, sid)).collect();
        let found = self.get_all(&keys, Some(attr::PK)).await?;
        Ok(found
            .iter()
            .filter_map(|item| item.get(attr::PK).and_then(|v| v.as_s().ok()))
            .filter_map(|pk| pk.rsplit('#').next())
            .map(str::to_owned)
            .collect())
    }

    /// The items with these `pk`s that exist, with only `projection` if given.
    async fn get_all(&self, pks: &[String], projection: Option<&str>) -> Result<Vec<Item>, String> {
        let names = projection.map(|p| [("#p", p)]);
        let projection = names.as_ref().map(|names| Projection { expression: "#p", names });
        batch_get::get_items(&self.client, &self.table, &batch_get::by_pk(pks), projection).await
    }
}

/// Where a page token (the `ev_sort` of a page's last event,
/// `{seconds}#{event id}`) starts; `None` for a token no page handed out.
/// Reports check it first, so a bad token is the client's 400, not a 503.
pub fn cursor_time(cursor: &str) -> Option<Seconds> {
    cursor.split('#').next()?.parse::<Seconds>().ok().filter(|t| *t >= 0)
}

fn conversion_pk(service_sid: &str, verification_sid: &str) -> String {
    format!("CONV#{service_sid}#{verification_sid}")
}

/// Up to `want` matching events of one bucket with `lo <= ev_sort < hi`.
async fn query_bucket(
    client: &Client,
    table: &str,
    bucket: &str,
    lo: &str,
    hi: &str,
    q: &EventQuery,
    want: usize,
) -> Result<Vec<(String, Event)>, String> {
    let mut out = Vec::new();
    let mut start: Option<HashMap<String, AV>> = None;
    loop {
        let resp = client
            .query()
            .table_name(table)
            .index_name(EVENTS_INDEX)
            .key_condition_expression("#b = :b AND #s BETWEEN :lo AND :hi")
            .expression_attribute_names("#b", ev::BUCKET)
            .expression_attribute_names("#s", ev::SORT)
            .expression_attribute_values(":b", text(bucket))
            .expression_attribute_values(":lo", text(lo))
            .expression_attribute_values(":hi", text(hi))
            .limit(want.clamp(1, 1000) as i32)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(ddb)?;
        for item in resp.items() {
            if let (Some(e), Some(k)) = (from_item(item), item.get(ev::SORT).and_then(|v| v.as_s().ok()))
                && q.matches(&e)
            {
                out.push((k.clone(), e));
            }
        }
        match resp.last_evaluated_key() {
            Some(k) if out.len() < want && !k.is_empty() => start = Some(k.clone()),
            _ => break,
        }
    }
    out.truncate(want);
    Ok(out)
}

/// Reads a stored event back; `None` for other items.
pub fn from_item(item: &Item) -> Option<Event> {
    let s = |n: &str| item.get(n).and_then(|v| v.as_s().ok()).cloned();
    let n = |n: &str| item.get(n).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok());
    if s(attr::KIND).as_deref() != Some(KIND_EVENT) {
        return None;
    }
    Some(Event {
        id: s(ev::EVENT_ID)?,
        event_type: EventType::parse(&s(ev::TYPE)?)?,
        time_ms: n(ev::TIME_MS).or_else(|| n(ev::TIME).map(|t| t * 1000))?,
        sequence: n(ev::SEQUENCE).unwrap_or(0) as u64,
        service_sid: s(attr::SERVICE_SID)?,
        verification_sid: s(ev::VERIFICATION_SID)?,
        channel: s(attr::CHANNEL).unwrap_or_default(),
        country: s(attr::COUNTRY),
        to_masked: s(ev::TO_MASKED).unwrap_or_default(),
        to_hash: s(ev::TO_HASH).unwrap_or_default(),
        check_attempts: n(ev::CHECK_ATTEMPTS).unwrap_or(0) as u32,
        send_attempts: n(ev::SEND_ATTEMPTS).unwrap_or(0) as u32,
        attempt_sid: s(ev::ATTEMPT_SID),
        resend: item.get(ev::RESEND).and_then(|v| v.as_bool().ok()).copied().unwrap_or(false),
        reason: s(ev::REASON),
        test: item.get(ev::TEST).and_then(|v| v.as_bool().ok()).copied().unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use verify_core::clock::Millis;

    fn event(id: &str, event_type: EventType, time_ms: Millis, sequence: u64) -> Event {
        Event {
            id: id.into(),
            event_type,
            time_ms,
            sequence,
            service_sid: "VA1".into(),
            verification_sid: "VE1".into(),
            channel: "sms".into(),
            country: Some("US".into()),
            to_masked: "+1415555****".into(),
            to_hash: "abc".into(),
            check_attempts: 0,
            send_attempts: 1,
            attempt_sid: Some("VL1".into()),
            resend: false,
            reason: None,
            test: false,
        }
    }

    fn id(n: u8) -> String {
        format!("evt_{}", format!("{n:x}").repeat(32).chars().take(32).collect::<String>())
    }

    #[test]
    fn days_and_buckets() {
        assert_eq!(day_of(1_438_286_400), "20150730");
        assert_eq!(bucket("VA1", "20150730", 3), "VA1#20150730#03");
        // A day's events spread over every shard.
        let used: HashSet<u32> = (0..200).map(|i| shard_of(&format!("evt_{i}"), 8)).collect();
        assert_eq!(used.len(), 8);
    }

    /// Issue item 15: within a second, events sort by when they happened,
    /// then (one verification, one millisecond) by sequence and by their
    /// place in their change: never by id.
    #[test]
    fn sort_keys_order_by_time_then_change() {
        let e = event(&id(1), EventType::CheckFailed, 1_700_000_000_042, 7);
        assert_eq!(sort_key(&e), format!("1700000000.042#000000000007.2#{}", id(1)));
        let key = |id_n, t, ms, seq| sort_key(&event(&id(id_n), t, ms, seq));
        let ordered = [
            key(9, EventType::Pending, 1_700_000_000_001, 1),
            key(1, EventType::CheckFailed, 1_700_000_000_500, 2),
            key(5, EventType::CheckFailed, 1_700_000_000_900, 3),
            key(4, EventType::MaxAttemptsReached, 1_700_000_000_900, 3),
            key(3, EventType::CheckFailed, 1_700_000_000_900, 4),
            key(2, EventType::Approved, 1_700_000_001_000, 5),
        ];
        assert!(ordered.windows(2).all(|w| w[0] < w[1]), "{ordered:#?}");
        // Keys of the old layout sort at the start of their second, within
        // the bounds of a range query.
        let old = format!("1700000000#{}", id(3));
        assert!(second_start(1_700_000_000) <= old && old < ordered[0] && old < second_start(1_700_000_001));
    }

    #[test]
    fn only_sort_keys_are_cursors() {
        let e = event(&id(1), EventType::CheckFailed, 1_700_000_000_042, 7);
        assert_eq!(Cursor::parse(&sort_key(&e)).map(|c| c.secs()), Some(1_700_000_000));
        assert!(Cursor::parse(&format!("1700000000#{}", id(2))).is_some());
        for bad in [
            "",
            "x",
            "1700000000",
            "17000000000#evt_1",
            "garbage-token",
            &format!("1700000000.42#000000000007.2#{}", id(1)),
            &format!("1700000000.042#7.2#{}", id(1)),
            "1700000000.042#000000000007.2#evt_zz",
            "１７００００００００#evt_1",
        ] {
            assert_eq!(Cursor::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn events_survive_the_round_trip() {
        let client = crate::clients::dynamodb_at("http://127.0.0.1:9");
        let store = EventStore::new(client, "t", 8, 90);
        let e = event("evt_1", EventType::Pending, 1_700_000_000_250, 3);
        let mut item = store.to_item(&e);
        assert_eq!(*item[attr::TTL].as_n().unwrap(), (1_700_000_000 + 90 * 86_400).to_string());
        assert_eq!(from_item(&item), Some(e.clone()));
        // An event stored before milliseconds and sequences were kept.
        item.remove(ev::TIME_MS);
        item.remove(ev::SEQUENCE);
        assert_eq!(from_item(&item), Some(Event { time_ms: 1_700_000_000_000, sequence: 0, ..e }));
    }
}
