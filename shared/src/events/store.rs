//! Stored events, for reports, in the verification table.
//!
//! Layout (the table's key is `pk` alone):
//! - event: `pk = EV#{event id}`, `kind = event`, and for the `events-index`
//!   GSI `ev_bucket = {service sid}#{YYYYMMDD}#{shard}` (hash) and
//!   `ev_sort = {unix seconds, 10 digits}#{event id}` (range). The shard is
//!   the event id's hash modulo the shard count, so one service's day is
//!   spread over that many GSI partitions (no hot partition at millions of
//!   events a day); a time-range query asks every (day, shard) of the range
//!   in parallel and merges by `ev_sort`.
//! - conversion: `pk = CONV#{service sid}#{verification sid}` once a
//!   verification was approved, so an Attempt can say whether it converted.
//!
//! Every item carries `ttl` (retention). Writes are idempotent: a replayed
//! stream record writes the same event id and changes nothing.

use super::{Event, EventType};
use crate::clock::Seconds;
use crate::store::conditional::{describe as ddb, put_new};
use crate::store::item::{Item, attr};
use crate::time_fmt::iso8601;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue as AV, KeysAndAttributes};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};

pub const EVENTS_INDEX: &str = "events-index";
pub const KIND_EVENT: &str = "event";
pub const KIND_CONVERSION: &str = "conversion";
/// Default number of shards per service and day.
pub const DEFAULT_SHARDS: u32 = 8;
/// Default retention of events, in days.
pub const DEFAULT_RETENTION_DAYS: i64 = 90;
/// A range scan for a summary or the dashboard stops after this many events.
pub const MAX_SCAN: usize = 1_000_000;
/// About how many bucket queries [`EventStore::all`] keeps in flight.
pub const QUERIES_IN_FLIGHT: usize = 32;

pub mod ev {
    pub const BUCKET: &str = "ev_bucket";
    pub const SORT: &str = "ev_sort";
    pub const TYPE: &str = "type";
    pub const TIME: &str = "time";
    pub const VERIFICATION_SID: &str = "verification_sid";
    pub const TO_MASKED: &str = "to_masked";
    pub const TO_HASH: &str = "to_hash";
    pub const CHECK_ATTEMPTS: &str = "check_attempts";
    pub const SEND_ATTEMPTS: &str = "send_attempts";
    pub const ATTEMPT_SID: &str = "attempt_sid";
    pub const RESEND: &str = "resend";
    pub const REASON: &str = "reason";
    pub const EVENT_ID: &str = "event_id";
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
    /// E.164 number; matched through each event's salted hash.
    pub to_number: Option<String>,
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
            && self.to_number.as_ref().is_none_or(|n| super::number_hash(&e.service_sid, n) == e.to_hash)
            && self.to_prefix.as_ref().is_none_or(|p| e.to_masked.trim_end_matches('*').starts_with(p.as_str()))
            && self.country.as_ref().is_none_or(|c| e.country.as_ref().is_some_and(|ec| ec.eq_ignore_ascii_case(c)))
            && self.channel.as_ref().is_none_or(|c| c.eq_ignore_ascii_case(&e.channel))
    }
}

/// One page of events in time order, and where the next one starts.
#[derive(Clone, Debug, Default)]
pub struct EventPage {
    pub events: Vec<Event>,
    /// Opaque: the `ev_sort` of the last event returned.
    pub next: Option<String>,
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

fn shard_of(event_id: &str, shards: u32) -> u32 {
    let d = Sha256::digest(event_id.as_bytes());
    u32::from_be_bytes([d[0], d[1], d[2], d[3]]) % shards.max(1)
}

pub fn bucket(service_sid: &str, day: &str, shard: u32) -> String {
    format!("{service_sid}#{day}#{shard:02}")
}

pub fn sort_key(time: Seconds, event_id: &str) -> String {
    format!("{:010}#{event_id}", time.max(0))
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
            (attr::PK.to_owned(), text(&format!("EV#{}", e.id))),
            (attr::KIND.to_owned(), text(KIND_EVENT)),
            (ev::EVENT_ID.to_owned(), text(&e.id)),
            (ev::BUCKET.to_owned(), text(&bucket(&e.service_sid, &day_of(e.time), shard_of(&e.id, self.shards)))),
            (ev::SORT.to_owned(), text(&sort_key(e.time, &e.id))),
            (ev::TYPE.to_owned(), text(e.event_type.as_str())),
            (ev::TIME.to_owned(), num(e.time)),
            (attr::SERVICE_SID.to_owned(), text(&e.service_sid)),
            (ev::VERIFICATION_SID.to_owned(), text(&e.verification_sid)),
            (attr::CHANNEL.to_owned(), text(&e.channel)),
            (ev::TO_MASKED.to_owned(), text(&e.to_masked)),
            (ev::TO_HASH.to_owned(), text(&e.to_hash)),
            (ev::CHECK_ATTEMPTS.to_owned(), num(e.check_attempts)),
            (ev::SEND_ATTEMPTS.to_owned(), num(e.send_attempts)),
            (ev::RESEND.to_owned(), AV::Bool(e.resend)),
            (attr::TTL.to_owned(), num(e.time + self.retention_secs)),
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
        item
    }

    /// Stores an event (and, for an approval, the conversion). Storing an
    /// event that is already there is a success that changes nothing.
    pub async fn put(&self, e: &Event) -> Result<(), String> {
        put_new(&self.client, &self.table, self.to_item(e)).await?;
        if e.event_type == EventType::Approved {
            let item = HashMap::from([
                (attr::PK.to_owned(), text(&conversion_pk(&e.service_sid, &e.verification_sid))),
                (attr::KIND.to_owned(), text(KIND_CONVERSION)),
                (ev::TIME.to_owned(), num(e.time)),
                (attr::TTL.to_owned(), num(e.time + self.retention_secs)),
            ]);
            put_new(&self.client, &self.table, item).await?;
        }
        Ok(())
    }

    /// Events of the query in time order, at most `limit`, after `cursor`.
    /// Reads one day's buckets at a time, so a page reads little past its end.
    pub async fn page(&self, q: &EventQuery, cursor: Option<&str>, limit: usize) -> Result<EventPage, String> {
        self.read(q, cursor, limit, 1).await
    }

    /// Every event of the query (up to [`MAX_SCAN`]), in time order. Reads
    /// several days' buckets at once (about [`QUERIES_IN_FLIGHT`] queries),
    /// since it reads them all anyway: a summary over the whole retention is
    /// then a few dozen round trips, not one per day.
    pub async fn all(&self, q: &EventQuery) -> Result<Vec<Event>, String> {
        let buckets_per_day = (q.services.len() * self.shards as usize).max(1);
        let days_at_once = (QUERIES_IN_FLIGHT / buckets_per_day).max(1);
        Ok(self.read(q, None, MAX_SCAN, days_at_once).await?.events)
    }

    async fn read(&self, q: &EventQuery, cursor: Option<&str>, limit: usize, days_at_once: usize) -> Result<EventPage, String> {
        let limit = limit.max(1);
        let mut out: Vec<(String, Event)> = Vec::new();
        let mut day_start = q.from - q.from.rem_euclid(86_400);
        if let Some(c) = cursor {
            let t = cursor_time(c).ok_or("bad page token")?;
            day_start = day_start.max(t - t.rem_euclid(86_400));
        }
        let lo = match cursor {
            Some(c) if c >= sort_key(q.from, "").as_str() => format!("{c} "),
            _ => sort_key(q.from, ""),
        };
        let hi = format!("{:010}", q.to.max(0));
        while day_start < q.to && out.len() < limit {
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..days_at_once {
                if day_start >= q.to {
                    break;
                }
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
        let next = if full { out.last().map(|(k, _)| k.clone()) } else { None };
        Ok(EventPage { events: out.into_iter().map(|(_, e)| e).collect(), next })
    }


    /// Which of these verifications were approved.
    pub async fn converted(&self, service_sid: &str, verification_sids: &[String]) -> Result<HashSet<String>, String> {
        let mut found = HashSet::new();
        let unique: Vec<&String> = verification_sids.iter().collect::<HashSet<_>>().into_iter().collect();
        for chunk in unique.chunks(100) {
            let mut keys = KeysAndAttributes::builder().projection_expression("#pk").expression_attribute_names("#pk", attr::PK);
            for sid in chunk {
                keys = keys.keys(HashMap::from([(attr::PK.to_owned(), text(&conversion_pk(service_sid, sid)))]));
            }
            let mut request = HashMap::from([(self.table.clone(), keys.build().map_err(|e| e.to_string())?)]);
            for _ in 0..10 {
                let out = self
                    .client
                    .batch_get_item()
                    .set_request_items(Some(request.clone()))
                    .send()
                    .await
                    .map_err(ddb)?;
                for item in out.responses().and_then(|r| r.get(&self.table)).into_iter().flatten() {
                    if let Some(pk) = item.get(attr::PK).and_then(|v| v.as_s().ok())
                        && let Some(sid) = pk.rsplit('#').next()
                    {
                        found.insert(sid.to_owned());
                    }
                }
                match out.unprocessed_keys().filter(|u| !u.is_empty()) {
                    Some(u) => request = u.clone(),
                    None => break,
                }
            }
        }
        Ok(found)
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
        time: n(ev::TIME)?,
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_buckets() {
        assert_eq!(day_of(1_438_286_400), "20150730");
        assert_eq!(bucket("VA1", "20150730", 3), "VA1#20150730#03");
        assert_eq!(sort_key(5, "evt_x"), "0000000005#evt_x");
        assert!(sort_key(99, "evt_a") < sort_key(100, "evt_a"));
        // A day's events spread over every shard.
        let used: HashSet<u32> = (0..200).map(|i| shard_of(&format!("evt_{i}"), 8)).collect();
        assert_eq!(used.len(), 8);
    }

    #[test]
    fn events_survive_the_round_trip() {
        let client = crate::aws::dynamodb_at("http://127.0.0.1:9");
        let store = EventStore::new(client, "t", 8, 90);
        let e = Event {
            id: "evt_1".into(),
            event_type: EventType::Pending,
            time: 1_700_000_000,
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
        };
        let item = store.to_item(&e);
        assert_eq!(*item[attr::TTL].as_n().unwrap(), (1_700_000_000 + 90 * 86_400).to_string());
        assert_eq!(from_item(&item), Some(e));
    }
}
