//! From one stream record (old and new image of a verification item) to the
//! events it means. Pure: the same record always gives the same events, with
//! the same ids.
//!
//! | change | event |
//! | --- | --- |
//! | new item, or a new sid replacing the old, status pending | `pending` |
//! | same sid, a new send attempt | `pending` (resend) |
//! | `failed_checks` went up | `check_failed`, plus `max_attempts_reached` if that was the last attempt |
//! | status became approved / canceled | `approved` / `canceled` |
//! | TTL removal of a pending, unexhausted verification | `expired` |
//! | a pending verification replaced after its expiry | `expired` (for the old sid) |
//! | `refused_starts` went up | `send_rate_limited` |
//!
//! Items of other kinds (events, deliveries) share the table and give nothing.

use super::stream::StreamRecord;
use super::{Event, EventType, event_id, number_hash};
use crate::clock::Seconds;
use crate::phone::PhoneNumber;
use crate::record::{StoredStatus, VerificationRecord};
use crate::store::item::{activity, from_item};

/// The events one stream record means, in the order they happened.
/// `max_check_attempts` is the service's limit (to tell the last failed check).
pub fn derive(record: &StreamRecord, max_check_attempts: u32) -> Vec<Event> {
    let old = record.old_image.as_ref().and_then(|i| from_item(i).map(|r| (r, activity(i))));
    let new = record.new_image.as_ref().and_then(|i| from_item(i).map(|r| (r, activity(i))));
    let mut out = Vec::new();
    let exhausted = |r: &VerificationRecord| r.attempts >= max_check_attempts;
    match (old, new) {
        (Some((o, _)), None) => {
            if record.ttl_removal && o.status == StoredStatus::Pending && !exhausted(&o) {
                out.push(make(&o, EventType::Expired, o.expires_at, ""));
            }
        }
        (old, Some((n, na))) => {
            let same = old.as_ref().filter(|(o, _)| o.sid == n.sid);
            match same {
                None => {
                    if let Some((o, _)) = &old {
                        // Replaced after it ran out of time: it expired, even if
                        // TTL never got to delete it.
                        if o.status == StoredStatus::Pending && !exhausted(o) && n.updated_at >= o.expires_at {
                            out.push(make(o, EventType::Expired, o.expires_at, ""));
                        }
                    }
                    if n.status == StoredStatus::Pending {
                        out.push(pending(&n, false));
                    }
                }
                Some((o, oa)) => {
                    let last = |r: &VerificationRecord| r.send_attempts.last().map(|a| a.attempt_sid.clone());
                    if n.status == StoredStatus::Pending && last(&n) != last(o) {
                        out.push(pending(&n, true));
                    }
                    if na.failed_checks > oa.failed_checks {
                        // The version and the count identify one note: only a full
                        // write (a resend) resets failed_checks, and it bumps the
                        // version. (The attempt count did not: a resend between
                        // two notes gave both "attempts#1", one event lost.)
                        let disc = format!("{}#{}", n.version, na.failed_checks);
                        out.push(make(&n, EventType::CheckFailed, n.updated_at, &disc));
                        // One id per verification: a second sighting is the same event.
                        if exhausted(&n) {
                            out.push(make(&n, EventType::MaxAttemptsReached, n.updated_at, ""));
                        }
                    }
                    if o.status != StoredStatus::Approved && n.status == StoredStatus::Approved {
                        out.push(make(&n, EventType::Approved, n.updated_at, ""));
                    }
                    if o.status != StoredStatus::Canceled && n.status == StoredStatus::Canceled {
                        out.push(make(&n, EventType::Canceled, n.updated_at, ""));
                    }
                }
            }
            let refused_before = same.map_or(0, |(_, oa)| oa.refused_starts);
            if na.refused_starts > refused_before {
                let disc = format!("{}#{}", na.refused_at, na.refused_starts);
                let mut e = make(&n, EventType::SendRateLimited, na.refused_at, &disc);
                e.reason = na.refused_reason.clone();
                out.push(e);
            }
        }
        (None, None) => {}
    }
    out
}

fn pending(r: &VerificationRecord, resend: bool) -> Event {
    let attempt = r.send_attempts.last();
    let attempt_sid = attempt.map(|a| a.attempt_sid.clone());
    let mut e = make(r, EventType::Pending, attempt.map_or(r.updated_at, |a| a.time), attempt_sid.as_deref().unwrap_or(""));
    e.attempt_sid = attempt_sid;
    e.resend = resend;
    e
}

fn make(r: &VerificationRecord, event_type: EventType, time: Seconds, discriminator: &str) -> Event {
    Event {
        id: event_id(&r.service_sid, &r.sid, event_type, discriminator),
        event_type,
        time,
        service_sid: r.service_sid.clone(),
        verification_sid: r.sid.clone(),
        channel: r.channel.clone(),
        country: r.country.clone(),
        to_masked: PhoneNumber::from_stored(r.to.clone(), None).masked(),
        to_hash: number_hash(&r.service_sid, &r.to),
        check_attempts: r.attempts,
        send_attempts: r.send_attempts.len() as u32,
        attempt_sid: None,
        resend: false,
        reason: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::store::item::{Item, attr, to_item};
    use aws_sdk_dynamodb::types::AttributeValue as AV;

    const T0: Seconds = 1_700_000_000;
    const MAX: u32 = 5;

    fn start(old: Option<&VerificationRecord>, now: Seconds, new_sid: &str, attempt_sid: &str) -> VerificationRecord {
        crate::record::example::start(old, "+14155550123", new_sid, attempt_sid, now).unwrap()
    }

    fn item(r: &VerificationRecord) -> Item {
        to_item(r, r.expires_at)
    }

    fn rec(name: &str, old: Option<Item>, new: Option<Item>) -> StreamRecord {
        StreamRecord {
            event_name: name.into(),
            sequence_number: "1".into(),
            approximate_time: T0,
            ttl_removal: false,
            old_image: old,
            new_image: new,
        }
    }

    fn types(events: &[Event]) -> Vec<&'static str> {
        events.iter().map(|e| e.event_type.as_str()).collect()
    }

    #[test]
    fn a_new_verification_is_pending_and_carries_no_secret() {
        let r = start(None, T0, "VEa", "VL1");
        let events = derive(&rec("INSERT", None, Some(item(&r))), MAX);
        assert_eq!(types(&events), ["verification.pending"]);
        let e = &events[0];
        assert_eq!((e.to_masked.as_str(), e.attempt_sid.as_deref(), e.resend), ("+1415555****", Some("VL1"), false));
        assert_eq!((e.country.as_deref(), e.channel.as_str(), e.send_attempts, e.check_attempts), (Some("US"), "sms", 1, 0));
        let body = e.payload().to_string();
        assert!(!body.contains("+14155550123") && !body.contains("code_hash"), "{body}");
    }

    #[test]
    fn a_resend_is_pending_again_with_its_own_id() {
        let first = start(None, T0, "VEa", "VL1");
        let second = start(Some(&first), T0 + 30, "VEb", "VL2");
        let events = derive(&rec("MODIFY", Some(item(&first)), Some(item(&second))), MAX);
        assert_eq!(types(&events), ["verification.pending"]);
        assert!(events[0].resend);
        let created = derive(&rec("INSERT", None, Some(item(&first))), MAX);
        assert_ne!(events[0].id, created[0].id);
    }

    #[test]
    fn a_counted_check_alone_says_nothing_until_its_outcome_is_written() {
        let r = start(None, T0, "VEa", "VL1");
        let mut counted = r.clone();
        counted.attempts = 1;
        counted.version += 1;
        assert!(derive(&rec("MODIFY", Some(item(&r)), Some(item(&counted))), MAX).is_empty());
        // The wrong code is noted after the comparison.
        let mut failed = item(&counted);
        failed.insert(attr::FAILED_CHECKS.into(), AV::N("1".into()));
        let events = derive(&rec("MODIFY", Some(item(&counted)), Some(failed.clone())), MAX);
        assert_eq!(types(&events), ["verification.check_failed"]);
        // The right code approves.
        let mut approved = counted.clone();
        approved.status = StoredStatus::Approved;
        let events = derive(&rec("MODIFY", Some(item(&counted)), Some(item(&approved))), MAX);
        assert_eq!(types(&events), ["verification.approved"]);
    }

    // Regression (found by bench/src/faults.rs): two wrong codes counted,
    // noted one before and one after a resend (which rewrites the item and
    // so resets failed_checks) came out with one id: one event lost.
    #[test]
    fn wrong_codes_noted_around_a_resend_are_two_events() {
        let mut counted = start(None, T0, "VEa", "VL1");
        counted.attempts = 2;
        counted.version += 2;
        let noted = |r: &VerificationRecord| {
            let mut i = item(r);
            i.insert(attr::FAILED_CHECKS.into(), AV::N("1".into()));
            i
        };
        let first = derive(&rec("MODIFY", Some(item(&counted)), Some(noted(&counted))), MAX);
        let resent = start(Some(&counted), T0 + 1, "VEx", "VL2");
        assert_eq!((resent.sid.as_str(), resent.attempts), ("VEa", 2));
        let second = derive(&rec("MODIFY", Some(item(&resent)), Some(noted(&resent))), MAX);
        assert_eq!((types(&first), types(&second)), (vec!["verification.check_failed"], vec!["verification.check_failed"]));
        assert_ne!(first[0].id, second[0].id, "two failed checks, two events");
    }

    #[test]
    fn the_last_wrong_code_reaches_max_attempts() {
        let mut r = start(None, T0, "VEa", "VL1");
        r.attempts = MAX;
        let mut before = item(&r);
        before.insert(attr::FAILED_CHECKS.into(), AV::N("4".into()));
        let mut after = before.clone();
        after.insert(attr::FAILED_CHECKS.into(), AV::N("5".into()));
        let events = derive(&rec("MODIFY", Some(before), Some(after)), MAX);
        assert_eq!(types(&events), ["verification.check_failed", "verification.max_attempts_reached"]);
    }

    #[test]
    fn a_ttl_removal_of_a_pending_verification_is_expired() {
        let r = start(None, T0, "VEa", "VL1");
        let mut removal = rec("REMOVE", Some(item(&r)), None);
        removal.ttl_removal = true;
        let events = derive(&removal, MAX);
        assert_eq!(types(&events), ["verification.expired"]);
        assert_eq!(events[0].time, r.expires_at);
        // Not by TTL, or not pending: nothing.
        removal.ttl_removal = false;
        assert!(derive(&removal, MAX).is_empty());
        let mut approved = r.clone();
        approved.status = StoredStatus::Approved;
        let removal = StreamRecord { ttl_removal: true, ..rec("REMOVE", Some(item(&approved)), None) };
        assert!(derive(&removal, MAX).is_empty());
    }

    #[test]
    fn replacing_an_expired_verification_reports_its_expiry() {
        let first = start(None, T0, "VEa", "VL1");
        let second = start(Some(&first), T0 + 3600, "VEb", "VL2");
        let events = derive(&rec("MODIFY", Some(item(&first)), Some(item(&second))), MAX);
        assert_eq!(types(&events), ["verification.expired", "verification.pending"]);
        assert_eq!(events[0].verification_sid, "VEa");
        assert_eq!(events[1].verification_sid, "VEb");
    }

    #[test]
    fn refused_starts_are_rate_limited_events() {
        let r = start(None, T0, "VEa", "VL1");
        let mut after = item(&r);
        after.insert(attr::REFUSED_STARTS.into(), AV::N("1".into()));
        after.insert(attr::REFUSED_AT.into(), AV::N((T0 + 5).to_string()));
        after.insert(attr::REFUSED_REASON.into(), AV::S("max_sends".into()));
        let events = derive(&rec("MODIFY", Some(item(&r)), Some(after)), MAX);
        assert_eq!(types(&events), ["verification.send_rate_limited"]);
        assert_eq!((events[0].time, events[0].reason.as_deref()), (T0 + 5, Some("max_sends")));
    }

    #[test]
    fn the_same_record_twice_gives_the_same_ids() {
        let r = start(None, T0, "VEa", "VL1");
        let record = rec("INSERT", None, Some(item(&r)));
        assert_eq!(derive(&record, MAX), derive(&record.clone(), MAX));
    }

    #[test]
    fn other_items_give_nothing() {
        let other: Item = [("pk".to_owned(), AV::S("EV#evt_1".into())), ("kind".to_owned(), AV::S("event".into()))].into();
        assert!(derive(&rec("INSERT", None, Some(other)), MAX).is_empty());
    }
}
