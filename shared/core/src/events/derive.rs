//! From one change of a verification record (the record before and after
//! it, as the stream decoder hands them over) to the events it means. Pure,
//! and free of any database's item layout: the same pair always gives the
//! same events, with the same ids. Each event is numbered by the change it comes from (the
//! item's `version`, which every write bumps) and timed by it (`changed_ms`),
//! so no two changes share an id and events order within a second.
//!
//! | change | event |
//! | --- | --- |
//! | new item, or a new sid replacing the old, status pending | `pending` |
//! | same sid, a new send attempt | `pending` (resend) |
//! | `failed_checks` went up | `check_failed`, plus `max_attempts_reached` if that was the last attempt (by the record's own service's limit) |
//! | status became approved / canceled | `approved` / `canceled` |
//! | the expiry sweep noted a pending, unexhausted verification | `expired` |
//! | TTL removal of a pending, unexhausted verification not noted so | `expired` |
//! | a pending verification not noted so, replaced after its expiry | `expired` (for the old sid) |
//! | `refused_starts` went up | `send_rate_limited` |
//! | a blocked-starts item's count went up | `blocked` (no verification sid) |
//!
//! Items of other kinds (events, deliveries) share the table; the stream
//! decoder finds no record in them, and a change with no record gives nothing.

use super::number_key::NumberKeys;
use super::{Event, EventType, attempt_event_id, event_id};
use crate::clock::Millis;
use crate::config::Services;
use crate::recipient::mask_address;
use crate::record::{StoredStatus, VerificationRecord};
use crate::store::blocked::BlockedStarts;

/// One change of a record: what it was and what it became (`None`: no
/// record, before an insert or after a removal).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordChange {
    pub old: Option<VerificationRecord>,
    pub new: Option<VerificationRecord>,
    /// The removal was DynamoDB's TTL process (or another store's expiry
    /// sweep), not a request.
    pub ttl_removal: bool,
    /// Instead of a verification record, the blocked starts of a recipient
    /// (before and after).
    pub blocked: Option<(Option<BlockedStarts>, BlockedStarts)>,
}

/// What derivation needs besides the record.
#[derive(Clone, Debug)]
pub struct Deriver {
    /// The configured services: a record is judged by its own service's
    /// check limit (one that is not configured, e.g. only reported on, by
    /// the default service's).
    pub services: Services,
    /// Hashes the number for the `ChannelData.To` filter.
    pub numbers: NumberKeys,
}

impl Deriver {
    /// The check limit of a record's service.
    pub fn max_check_attempts(&self, service_sid: &str) -> u32 {
        max_check_attempts(&self.services, service_sid)
    }

    /// The events one change means, in the order they happened.
    pub fn derive(&self, change: &RecordChange) -> Vec<Event> {
        self.derive_with(&self.services, change)
    }

    /// As [`Deriver::derive`], judged by `services` instead of this
    /// deriver's own (webhook-report's current snapshot: the configured
    /// services and those created or changed over the API).
    pub fn derive_with(&self, services: &Services, change: &RecordChange) -> Vec<Event> {
        let mut out = Vec::new();
        if let Some((old, new)) = &change.blocked
            && new.count > old.as_ref().map_or(0, |o| o.count)
        {
            out.push(self.blocked(new));
        }
        let exhausted = |r: &VerificationRecord| r.attempts_used_up(max_check_attempts(services, &r.service_sid));
        match (&change.old, &change.new) {
            (Some(o), None) => {
                // A verification the sweep noted already had its event.
                if change.ttl_removal && o.status == StoredStatus::Pending && !exhausted(o) && !o.activity.expiry_noted {
                    // The removal is one more change of the item.
                    out.push(self.once(o, EventType::Expired, o.expires_at * 1000, o.version + 1));
                }
            }
            (old, Some(n)) => {
                let same = old.as_ref().filter(|o| o.sid == n.sid);
                match same {
                    None => {
                        if let Some(o) = old {
                            // Replaced after it ran out of time: it expired, even if
                            // TTL never got to delete it.
                            if o.status == StoredStatus::Pending
                                && !exhausted(o)
                                && !o.activity.expiry_noted
                                && n.updated_at >= o.expires_at
                            {
                                // After every change of the old one, even when the
                                // new record's version started again (Idle).
                                out.push(self.once(o, EventType::Expired, o.expires_at * 1000, n.version.max(o.version + 1)));
                            }
                        }
                        if n.status == StoredStatus::Pending {
                            out.push(self.pending(n, false));
                        }
                    }
                    Some(o) => {
                        let last = |r: &VerificationRecord| r.send_attempts.last().map(|a| a.attempt_sid.clone());
                        if n.status == StoredStatus::Pending && last(n) != last(o) {
                            out.push(self.pending(n, true));
                        }
                        if n.activity.failed_checks > o.activity.failed_checks {
                            out.push(self.change(n, EventType::CheckFailed));
                            // Once per verification: a later sighting is the same event.
                            if n.status == StoredStatus::Pending && exhausted(n) {
                                out.push(self.once(n, EventType::MaxAttemptsReached, n.changed_ms, n.version));
                            }
                        }
                        // Noted by the sweep, at (or soon after) the expiry itself.
                        if n.activity.expiry_noted && !o.activity.expiry_noted && n.status == StoredStatus::Pending && !exhausted(n) {
                            out.push(self.once(n, EventType::Expired, n.expires_at * 1000, n.version));
                        }
                        if o.status != StoredStatus::Approved && n.status == StoredStatus::Approved {
                            out.push(self.change(n, EventType::Approved));
                        }
                        if o.status != StoredStatus::Canceled && n.status == StoredStatus::Canceled {
                            out.push(self.change(n, EventType::Canceled));
                        }
                    }
                }
                let refused_before = same.map_or(0, |o| o.activity.refused_starts);
                if n.activity.refused_starts > refused_before {
                    let mut e = self.change(n, EventType::SendRateLimited);
                    e.reason = n.activity.refused_reason.clone();
                    out.push(e);
                }
            }
            (None, None) => {}
        }
        out
    }

    /// A blocked start: numbered by the recipient's count of them, so each
    /// refusal is its own event and a replayed stream record the same one.
    fn blocked(&self, b: &BlockedStarts) -> Event {
        let subject = format!("blocked:{}", self.numbers.hash(&b.service_sid, &b.to));
        Event {
            id: event_id(&b.service_sid, &subject, EventType::Blocked, &b.count.to_string()),
            event_type: EventType::Blocked,
            time_ms: b.changed_ms,
            sequence: b.count,
            service_sid: b.service_sid.clone(),
            verification_sid: String::new(),
            channel: b.channel.clone(),
            country: b.country.clone(),
            to_masked: mask_address(&b.to),
            to_hash: self.numbers.hash(&b.service_sid, &b.to),
            check_attempts: 0,
            send_attempts: 0,
            attempt_sid: None,
            resend: false,
            reason: Some(b.reason.clone()),
            // A refusal is counted whoever the recipient is: a block note
            // carries no test flag, and a rule that refuses a test
            // recipient refuses it as it would anyone.
            test: false,
        }
    }

    /// The `pending` event of the record's newest send, keyed by its attempt sid.
    fn pending(&self, r: &VerificationRecord, resend: bool) -> Event {
        let attempt_sid = r.send_attempts.last().map(|a| a.attempt_sid.clone());
        let id = match &attempt_sid {
            Some(a) => attempt_event_id(&r.service_sid, a),
            None => event_id(&r.service_sid, &r.sid, EventType::Pending, &r.version.to_string()),
        };
        let mut e = self.make(r, EventType::Pending, id, r.changed_ms, r.version);
        e.attempt_sid = attempt_sid;
        e.resend = resend;
        e
    }

    /// An event of the change that wrote `r`: numbered and timed by it.
    fn change(&self, r: &VerificationRecord, event_type: EventType) -> Event {
        let id = event_id(&r.service_sid, &r.sid, event_type, &r.version.to_string());
        self.make(r, event_type, id, r.changed_ms, r.version)
    }

    /// An event that happens at most once per verification.
    fn once(&self, r: &VerificationRecord, event_type: EventType, time_ms: Millis, sequence: u64) -> Event {
        self.make(r, event_type, event_id(&r.service_sid, &r.sid, event_type, ""), time_ms, sequence)
    }

    fn make(&self, r: &VerificationRecord, event_type: EventType, id: String, time_ms: Millis, sequence: u64) -> Event {
        Event {
            id,
            event_type,
            time_ms,
            sequence,
            service_sid: r.service_sid.clone(),
            verification_sid: r.sid.clone(),
            channel: r.channel.clone(),
            country: r.country.clone(),
            to_masked: mask_address(&r.to),
            to_hash: self.numbers.hash(&r.service_sid, &r.to),
            check_attempts: r.attempts,
            send_attempts: r.send_attempts.len() as u32,
            attempt_sid: None,
            resend: false,
            reason: None,
            test: r.test,
        }
    }
}

/// The check limit of a service (one `services` does not have, e.g. only
/// reported on, by the default service's).
fn max_check_attempts(services: &Services, service_sid: &str) -> u32 {
    services.get(service_sid).unwrap_or_else(|| services.default_service()).limits.max_check_attempts
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::clock::Seconds;
    use crate::config::{Limits, Service};
    use crate::events::number_key::NumberKey;

    const T0: Seconds = 1_700_000_000;
    const MAX: u32 = 5;

    /// VA1 with the default limits (5 checks), the records' service.
    fn deriver() -> Deriver {
        let services = Services::single(Service::new("VA1".into(), "Acme".into(), Limits::default()));
        Deriver { services, numbers: NumberKeys::new(NumberKey::new(&[7; 32]).unwrap(), None) }
    }

    fn derive(change: &RecordChange) -> Vec<Event> {
        deriver().derive(change)
    }

    fn start(old: Option<&VerificationRecord>, now: Seconds, new_sid: &str, attempt_sid: &str) -> VerificationRecord {
        crate::record::example::start(old, "+14155550123", new_sid, attempt_sid, now).unwrap()
    }

    fn item(r: &VerificationRecord) -> VerificationRecord {
        r.clone()
    }

    /// What a store write does to every record: one more change, at `ms`.
    fn changed(r: &VerificationRecord, ms: Millis) -> VerificationRecord {
        VerificationRecord { version: r.version + 1, changed_ms: ms, ..r.clone() }
    }

    fn with_failed_checks(r: &VerificationRecord, n: u32) -> VerificationRecord {
        let mut r = r.clone();
        r.activity.failed_checks = n;
        r
    }

    /// A change as the stream shows it (`_kind` is the stream's name for it).
    fn rec(_kind: &str, old: Option<VerificationRecord>, new: Option<VerificationRecord>) -> RecordChange {
        RecordChange { old, new, ttl_removal: false, blocked: None }
    }

    fn types(events: &[Event]) -> Vec<&'static str> {
        events.iter().map(|e| e.event_type.as_str()).collect()
    }

    #[test]
    fn a_test_recipients_events_say_so_and_others_do_not() {
        let real = start(None, T0, "VEa", "VL1");
        let test = VerificationRecord { test: true, ..real.clone() };
        let approved = VerificationRecord { status: StoredStatus::Approved, ..changed(&test, T0 * 1000 + 5) };
        for e in derive(&rec("INSERT", None, Some(test.clone()))).iter().chain(&derive(&rec("MODIFY", Some(test), Some(approved)))) {
            assert!(e.test && e.payload()["data"]["test"] == true, "{e:?}");
        }
        let e = &derive(&rec("INSERT", None, Some(real)))[0];
        assert!(!e.test && e.payload()["data"].get("test").is_none(), "{e:?}");
    }

    #[test]
    fn a_new_verification_is_pending_and_carries_no_secret() {
        let r = start(None, T0, "VEa", "VL1");
        let events = derive(&rec("INSERT", None, Some(item(&r))));
        assert_eq!(types(&events), ["verification.pending"]);
        let e = &events[0];
        assert_eq!((e.to_masked.as_str(), e.attempt_sid.as_deref(), e.resend), ("+1415555****", Some("VL1"), false));
        assert_eq!((e.country.as_deref(), e.channel.as_str(), e.send_attempts, e.check_attempts), (Some("US"), "sms", 1, 0));
        assert_eq!((e.time_ms, e.sequence), (T0 * 1000, 1));
        assert_eq!(e.id, attempt_event_id("VA1", "VL1"), "found from the attempt sid alone");
        let body = e.payload().to_string();
        assert!(!body.contains("+14155550123") && !body.contains("code_hash"), "{body}");
    }

    #[test]
    fn the_number_is_stored_only_as_a_keyed_hash() {
        let r = start(None, T0, "VEa", "VL1");
        let record = rec("INSERT", None, Some(item(&r)));
        let e = &derive(&record)[0];
        assert_eq!(e.to_hash, deriver().numbers.hash("VA1", "+14155550123"));
        // Without the key, the hash cannot be recomputed from a guess: the
        // old unkeyed construction gives something else, as does another key.
        use sha2::{Digest, Sha256};
        let unkeyed = hex::encode(&Sha256::new_with_prefix(b"verify-number:").chain_update("VA1|+14155550123").finalize()[..16]);
        assert_ne!(e.to_hash, unkeyed);
        let other = Deriver { numbers: NumberKeys::new(NumberKey::new(&[8; 32]).unwrap(), None), ..deriver() };
        assert_ne!(other.derive(&record)[0].to_hash, e.to_hash);
    }

    #[test]
    fn a_resend_is_pending_again_with_its_own_id() {
        let first = start(None, T0, "VEa", "VL1");
        let second = start(Some(&first), T0 + 30, "VEb", "VL2");
        let events = derive(&rec("MODIFY", Some(item(&first)), Some(item(&second))));
        assert_eq!(types(&events), ["verification.pending"]);
        assert!(events[0].resend);
        assert_eq!((events[0].sequence, events[0].time_ms), (2, (T0 + 30) * 1000));
        let created = derive(&rec("INSERT", None, Some(item(&first))));
        assert_ne!(events[0].id, created[0].id);
    }

    #[test]
    fn a_counted_check_alone_says_nothing_until_its_outcome_is_written() {
        let r = start(None, T0, "VEa", "VL1");
        let mut counted = changed(&r, T0 * 1000 + 5);
        counted.attempts = 1;
        assert!(derive(&rec("MODIFY", Some(item(&r)), Some(item(&counted)))).is_empty());
        // The wrong code is noted after the comparison: a change of its own.
        let noted = changed(&counted, T0 * 1000 + 7);
        let events = derive(&rec("MODIFY", Some(item(&counted)), Some(with_failed_checks(&noted, 1))));
        assert_eq!(types(&events), ["verification.check_failed"]);
        assert_eq!((events[0].sequence, events[0].time_ms), (noted.version, T0 * 1000 + 7));
        assert_eq!(events[0].payload()["timestamp"], "2023-11-14T22:13:20.007Z");
        // The right code approves.
        let mut approved = changed(&counted, T0 * 1000 + 9);
        approved.status = StoredStatus::Approved;
        let events = derive(&rec("MODIFY", Some(item(&counted)), Some(item(&approved))));
        assert_eq!(types(&events), ["verification.approved"]);
        assert_eq!(events[0].sequence, approved.version);
    }

    /// Issue item 9: the marker's count restarts with every resend, so ids
    /// made from the counters repeated (two wrong codes counted, one noted,
    /// a resend, the other noted: both "2 attempts, 1 failure") and the
    /// second failure was dropped as a replay. Made from the change
    /// counter, every failure has its own id.
    #[test]
    fn a_failure_noted_after_a_resend_gets_its_own_id() {
        let r = start(None, T0, "VEa", "VL1");
        let mut a = changed(&r, 0);
        a.attempts = 1;
        let mut b = changed(&a, 0);
        b.attempts = 2;
        let noted_a = changed(&b, 0);
        let first = derive(&rec("MODIFY", Some(item(&b)), Some(with_failed_checks(&noted_a, 1))));
        let resent = start(Some(&noted_a), T0 + 1, "VEx", "VL2");
        assert_eq!((resent.sid.as_str(), resent.attempts), ("VEa", 2), "a resend keeps the sid and the attempts");
        let noted_b = changed(&resent, 0);
        let second = derive(&rec("MODIFY", Some(item(&resent)), Some(with_failed_checks(&noted_b, 1))));
        assert_eq!(types(&first), ["verification.check_failed"]);
        assert_eq!(types(&second), ["verification.check_failed"]);
        assert_ne!(first[0].id, second[0].id);
        assert!(first[0].sequence < second[0].sequence);
    }

    #[test]
    fn the_last_wrong_code_reaches_max_attempts() {
        let mut r = start(None, T0, "VEa", "VL1");
        r.attempts = MAX;
        let before = with_failed_checks(&r, 4);
        let after = with_failed_checks(&changed(&r, T0 * 1000 + 1), 5);
        let events = derive(&rec("MODIFY", Some(before), Some(after)));
        assert_eq!(types(&events), ["verification.check_failed", "verification.max_attempts_reached"]);
        assert_eq!(events[0].sequence, events[1].sequence, "one change, in the order derived");
    }

    /// Issue item 10: the limit is the record's own service's, not the
    /// default service's.
    #[test]
    fn each_service_is_judged_by_its_own_check_limit() {
        let (default, strict) = ("VA".to_owned() + &"1".repeat(32), "VA".to_owned() + &"2".repeat(32));
        let doc = serde_json::json!({"default_service_sid": default, "services": [
            {"sid": default, "friendly_name": "Acme"},
            {"sid": strict, "friendly_name": "Strict", "max_check_attempts": 3},
        ]});
        let d = Deriver { services: Services::from_json(&doc.to_string(), &Limits::default()).unwrap(), ..deriver() };
        let third_failure = |service: &str| {
            let mut r = start(None, T0, "VEa", "VL1");
            r.service_sid = service.to_owned();
            r.attempts = 3;
            types(&d.derive(&rec("MODIFY", Some(with_failed_checks(&r, 2)), Some(with_failed_checks(&changed(&r, 0), 3)))))
        };
        assert_eq!(third_failure(&strict), ["verification.check_failed", "verification.max_attempts_reached"]);
        assert_eq!(third_failure(&default), ["verification.check_failed"]);
        // A service only reported on, not configured: the default's limit.
        assert_eq!(d.max_check_attempts("VA9"), 5);
    }

    #[test]
    fn an_approved_verification_never_reaches_max_attempts() {
        // Late failure notes of an approved verification are failures, not exhaustion.
        let mut r = start(None, T0, "VEa", "VL1");
        r.attempts = MAX;
        r.status = StoredStatus::Approved;
        let events = derive(&rec("MODIFY", Some(with_failed_checks(&r, 0)), Some(with_failed_checks(&changed(&r, 0), 1))));
        assert_eq!(types(&events), ["verification.check_failed"]);
    }

    #[test]
    fn a_ttl_removal_of_a_pending_verification_is_expired() {
        let r = start(None, T0, "VEa", "VL1");
        let mut removal = rec("REMOVE", Some(item(&r)), None);
        removal.ttl_removal = true;
        let events = derive(&removal);
        assert_eq!(types(&events), ["verification.expired"]);
        assert_eq!((events[0].time_ms, events[0].sequence), (r.expires_at * 1000, r.version + 1));
        // Not by TTL, or not pending: nothing.
        removal.ttl_removal = false;
        assert!(derive(&removal).is_empty());
        let mut approved = r.clone();
        approved.status = StoredStatus::Approved;
        let removal = RecordChange { ttl_removal: true, ..rec("REMOVE", Some(item(&approved)), None) };
        assert!(derive(&removal).is_empty());
    }

    /// The sweep's note is the expiry, as it happens; the TTL removal or a
    /// replacement that follows says nothing more, and a replayed note
    /// gives the same event (the event store keeps one per id).
    #[test]
    fn a_noted_expiry_is_the_one_expired_event() {
        let r = start(None, T0, "VEa", "VL1");
        let key = crate::store::RecordKey::of(&r);
        let note = crate::record::note_expired(&key, (r.expires_at + 20) * 1000);
        let noted = note.write.applied_to(Some(&r)).unwrap();
        let events = derive(&rec("MODIFY", Some(item(&r)), Some(item(&noted))));
        assert_eq!(types(&events), ["verification.expired"]);
        assert_eq!((events[0].time_ms, events[0].sequence), (r.expires_at * 1000, noted.version));
        assert_eq!(events[0].verification_sid, "VEa");
        let by_ttl = derive(&RecordChange { ttl_removal: true, ..rec("REMOVE", Some(item(&r)), None) });
        assert_eq!(events[0].id, by_ttl[0].id, "once per verification, however it is seen");
        assert_eq!(derive(&rec("MODIFY", Some(item(&r)), Some(item(&noted)))), events, "a replay is the same event");
        // Afterwards: TTL removal, a later write of the noted record, a replacement.
        assert!(derive(&RecordChange { ttl_removal: true, ..rec("REMOVE", Some(item(&noted)), None) }).is_empty());
        assert!(derive(&rec("MODIFY", Some(item(&noted)), Some(changed(&noted, 0)))).is_empty());
        let next = start(Some(&noted), r.expires_at + 3600, "VEb", "VL2");
        assert_eq!(types(&derive(&rec("MODIFY", Some(item(&noted)), Some(item(&next))))), ["verification.pending"]);
    }

    #[test]
    fn an_exhausted_verification_noted_by_the_sweep_is_not_expired() {
        let mut r = start(None, T0, "VEa", "VL1");
        r.attempts = MAX;
        let mut noted = changed(&r, 0);
        noted.activity.expiry_noted = true;
        assert!(derive(&rec("MODIFY", Some(item(&r)), Some(noted))).is_empty());
    }

    #[test]
    fn replacing_an_expired_verification_reports_its_expiry() {
        let first = start(None, T0, "VEa", "VL1");
        let second = start(Some(&first), T0 + 3600, "VEb", "VL2");
        let events = derive(&rec("MODIFY", Some(item(&first)), Some(item(&second))));
        assert_eq!(types(&events), ["verification.expired", "verification.pending"]);
        assert_eq!(events[0].verification_sid, "VEa");
        assert_eq!(events[1].verification_sid, "VEb");
        assert!(events[0].sequence > first.version, "after every earlier change of VEa");
    }

    #[test]
    fn refused_starts_are_rate_limited_events() {
        let r = start(None, T0, "VEa", "VL1");
        let mut after = changed(&r, (T0 + 5) * 1000 + 120);
        after.activity.refused_starts = 1;
        after.activity.refused_at = T0 + 5;
        after.activity.refused_reason = Some("max_sends".into());
        let events = derive(&rec("MODIFY", Some(item(&r)), Some(after)));
        assert_eq!(types(&events), ["verification.send_rate_limited"]);
        assert_eq!((events[0].time_ms, events[0].reason.as_deref()), ((T0 + 5) * 1000 + 120, Some("max_sends")));
    }

    #[test]
    fn the_same_record_twice_gives_the_same_ids() {
        let r = start(None, T0, "VEa", "VL1");
        let record = rec("INSERT", None, Some(item(&r)));
        assert_eq!(derive(&record), derive(&record.clone()));
    }

    #[test]
    fn no_record_gives_nothing() {
        assert!(derive(&RecordChange::default()).is_empty());
    }

    #[test]
    fn each_blocked_start_is_one_event_with_its_reason() {
        let b = BlockedStarts {
            service_sid: "VA1".into(),
            key: "+442079460958".into(),
            to: "+442079460958".into(),
            channel: "sms".into(),
            country: Some("GB".into()),
            count: 1,
            reason: "geo_permissions".into(),
            changed_ms: T0 * 1000,
        };
        let first = derive(&RecordChange { blocked: Some((None, b.clone())), ..RecordChange::default() });
        assert_eq!(first.len(), 1);
        let e = &first[0];
        assert_eq!((e.event_type, e.reason.as_deref(), e.verification_sid.as_str()), (EventType::Blocked, Some("geo_permissions"), ""));
        assert_eq!((e.to_masked.as_str(), e.country.as_deref()), ("+44207946****", Some("GB")));
        let second = BlockedStarts { count: 2, changed_ms: T0 * 1000 + 5, ..b.clone() };
        let next = derive(&RecordChange { blocked: Some((Some(b.clone()), second.clone())), ..RecordChange::default() });
        assert_eq!(next.len(), 1);
        assert_ne!(next[0].id, e.id, "each refusal its own event");
        assert_eq!(
            derive(&RecordChange { blocked: Some((None, b.clone())), ..RecordChange::default() })[0].id,
            e.id,
            "a replay is the same event"
        );
        assert!(derive(&RecordChange { blocked: Some((Some(second.clone()), second)), ..RecordChange::default() }).is_empty());
    }
}
