//! The DynamoDB item layout of a verification record, both directions.

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue as AV;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use verify_core::otp::CodeHash;
use verify_core::record::{Activity, SendAttempt, StoredStatus, VerificationRecord};
use verify_core::store::RecordKey;

pub type Item = HashMap<String, AV>;

/// Attribute names, shared by the writer, the reader and the conditions.
pub mod attr {
    pub const PK: &str = "pk";
    pub const KIND: &str = "kind";
    /// The verification sid, and the `sid-index` key: only for sids that
    /// do not name their record (random ones: e-mail's, and those made
    /// without a seal).
    pub const SID: &str = "sid";
    /// Where a sealed sid ([`verify_core::sid_seal`]) is kept instead: it
    /// is found by opening it, so it needs no index row.
    pub const SEALED_SID: &str = "vsid";
    pub const SERVICE_SID: &str = "service_sid";
    pub const TO: &str = "to";
    pub const COUNTRY: &str = "country";
    pub const CHANNEL: &str = "channel";
    pub const LOCALE: &str = "locale";
    pub const STATUS: &str = "status";
    pub const CODE_HASH: &str = "code_hash";
    pub const KEY_ID: &str = "key_id";
    pub const ATTEMPTS: &str = "attempts";
    pub const CREATED_AT: &str = "created_at";
    pub const UPDATED_AT: &str = "updated_at";
    pub const EXPIRES_AT: &str = "expires_at";
    pub const SEND_ATTEMPTS: &str = "send_attempts";
    pub const SENDS: &str = "sends";
    pub const SEND_WINDOW_START: &str = "send_window_start";
    pub const FAILURES: &str = "failures";
    pub const FAILURE_WINDOW_START: &str = "failure_window_start";
    pub const VERSION: &str = "version";
    /// Milliseconds of the last write (items written before it existed are
    /// read as `updated_at` seconds).
    pub const CHANGED_MS: &str = "changed_ms";
    pub const CHECKED_BY: &str = "checked_by";
    pub const TTL: &str = "ttl";
    /// Wrong codes entered for the current verification; written after the
    /// comparison, so the stream shows a failed check apart from a counted one.
    pub const FAILED_CHECKS: &str = "failed_checks";
    /// Starts refused by a limit since the last full write, when the last one
    /// was refused, and why (`max_sends` or `locked`). Only the stream reads them.
    pub const REFUSED_STARTS: &str = "refused_starts";
    pub const REFUSED_AT: &str = "refused_at";
    pub const REFUSED_REASON: &str = "refused_reason";
    /// `true` on a test recipient's record (test mode); absent otherwise, so
    /// every other item keeps its layout.
    pub const TEST: &str = "test";
    /// 1 once the expiry sweep noted the verification expired (absent before).
    pub const EXPIRY_NOTED: &str = "expiry_noted";
}

/// A stable shard in `0..shards` for an item key.
pub fn shard_of(pk: &str, shards: u32) -> u32 {
    let d = Sha256::digest(pk.as_bytes());
    u32::from_be_bytes([d[0], d[1], d[2], d[3]]) % shards
}

/// Items of this table that are verification records carry this kind.
pub const KIND_VERIFICATION: &str = "verification";

pub fn partition_key(key: &RecordKey) -> String {
    format!("VER#{}#{}", key.service_sid, key.to)
}

fn n(v: impl ToString) -> AV {
    AV::N(v.to_string())
}

fn s(v: &str) -> AV {
    AV::S(v.to_owned())
}

pub fn to_item(r: &VerificationRecord) -> Item {
    let key = RecordKey::of(r);
    let sends = r
        .send_attempts
        .iter()
        .map(|a| {
            AV::M(HashMap::from([
                ("attempt_sid".to_owned(), s(&a.attempt_sid)),
                ("time".to_owned(), n(a.time)),
                ("channel".to_owned(), s(&a.channel)),
            ]))
        })
        .collect();
    let mut item = HashMap::from([
        (attr::PK.to_owned(), s(&partition_key(&key))),
        (attr::KIND.to_owned(), s(KIND_VERIFICATION)),
        (attr::SID.to_owned(), s(&r.sid)),
        (attr::SERVICE_SID.to_owned(), s(&r.service_sid)),
        (attr::TO.to_owned(), s(&r.to)),
        (attr::CHANNEL.to_owned(), s(&r.channel)),
        (attr::LOCALE.to_owned(), s(&r.locale)),
        (attr::STATUS.to_owned(), s(r.status.as_str())),
        (attr::CODE_HASH.to_owned(), AV::B(Blob::new(r.code_hash.digest.clone()))),
        (attr::KEY_ID.to_owned(), s(&r.code_hash.key_id)),
        (attr::ATTEMPTS.to_owned(), n(r.attempts)),
        (attr::CREATED_AT.to_owned(), n(r.created_at)),
        (attr::UPDATED_AT.to_owned(), n(r.updated_at)),
        (attr::EXPIRES_AT.to_owned(), n(r.expires_at)),
        (attr::SEND_ATTEMPTS.to_owned(), AV::L(sends)),
        (attr::SENDS.to_owned(), n(r.sends)),
        (attr::SEND_WINDOW_START.to_owned(), n(r.send_window_start)),
        (attr::FAILURES.to_owned(), n(r.failures)),
        (attr::FAILURE_WINDOW_START.to_owned(), n(r.failure_window_start)),
        (attr::VERSION.to_owned(), n(r.version)),
        (attr::CHANGED_MS.to_owned(), n(r.changed_ms)),
        (attr::TTL.to_owned(), n(r.ttl)),
    ]);
    if let Some(c) = &r.country {
        item.insert(attr::COUNTRY.to_owned(), s(c));
    }
    if let Some(by) = &r.checked_by {
        item.insert(attr::CHECKED_BY.to_owned(), s(by));
    }
    // Activity is written only once something happened, as the updates that
    // note it do; a fresh record carries none.
    let a = &r.activity;
    for (name, value) in
        [(attr::FAILED_CHECKS, a.failed_checks as i64), (attr::REFUSED_STARTS, a.refused_starts as i64), (attr::REFUSED_AT, a.refused_at)]
    {
        if value != 0 {
            item.insert(name.to_owned(), n(value));
        }
    }
    if let Some(reason) = &a.refused_reason {
        item.insert(attr::REFUSED_REASON.to_owned(), s(reason));
    }
    if r.test {
        item.insert(attr::TEST.to_owned(), AV::Bool(true));
    }
    if a.expiry_noted {
        item.insert(attr::EXPIRY_NOTED.to_owned(), n(1));
    }
    item
}

/// Reads an item back; `None` if it is not a well-formed verification record
/// (another kind of item, or damaged), which callers treat as absent.
pub fn from_item(item: &Item) -> Option<VerificationRecord> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let num = |name: &str| item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok());
    let send_attempts = item
        .get(attr::SEND_ATTEMPTS)
        .and_then(|v| v.as_l().ok())
        .map(|list| {
            list.iter()
                .filter_map(|a| {
                    let m = a.as_m().ok()?;
                    Some(SendAttempt {
                        attempt_sid: m.get("attempt_sid")?.as_s().ok()?.clone(),
                        time: m.get("time")?.as_n().ok()?.parse().ok()?,
                        channel: m.get("channel")?.as_s().ok()?.clone(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let updated_at = num(attr::UPDATED_AT)?;
    Some(VerificationRecord {
        service_sid: text(attr::SERVICE_SID)?,
        to: text(attr::TO)?,
        country: text(attr::COUNTRY),
        sid: text(attr::SID).or_else(|| text(attr::SEALED_SID))?,
        channel: text(attr::CHANNEL)?,
        locale: text(attr::LOCALE).unwrap_or_else(|| "en".into()),
        status: StoredStatus::parse(&text(attr::STATUS)?)?,
        code_hash: CodeHash { key_id: text(attr::KEY_ID)?, digest: item.get(attr::CODE_HASH)?.as_b().ok()?.as_ref().to_vec() },
        attempts: num(attr::ATTEMPTS)? as u32,
        created_at: num(attr::CREATED_AT)?,
        updated_at,
        expires_at: num(attr::EXPIRES_AT)?,
        send_attempts,
        sends: num(attr::SENDS)? as u32,
        send_window_start: num(attr::SEND_WINDOW_START)?,
        failures: num(attr::FAILURES)? as u32,
        failure_window_start: num(attr::FAILURE_WINDOW_START)?,
        version: num(attr::VERSION)? as u64,
        changed_ms: num(attr::CHANGED_MS).unwrap_or(updated_at * 1000),
        checked_by: text(attr::CHECKED_BY),
        ttl: num(attr::TTL).unwrap_or(0),
        activity: Activity {
            failed_checks: num(attr::FAILED_CHECKS).unwrap_or(0).max(0) as u32,
            refused_starts: num(attr::REFUSED_STARTS).unwrap_or(0).max(0) as u32,
            refused_at: num(attr::REFUSED_AT).unwrap_or(0),
            refused_reason: text(attr::REFUSED_REASON),
            expiry_noted: num(attr::EXPIRY_NOTED).unwrap_or(0) != 0,
        },
        test: item.get(attr::TEST).and_then(|v| v.as_bool().ok()).copied().unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_the_round_trip() {
        let r = VerificationRecord {
            service_sid: "VA1".into(),
            to: "+14155550123".into(),
            country: Some("US".into()),
            sid: "VE1".into(),
            channel: "sms".into(),
            locale: "en".into(),
            status: StoredStatus::Pending,
            code_hash: CodeHash { key_id: "abcd".into(), digest: vec![1, 2, 3] },
            attempts: 2,
            created_at: 10,
            updated_at: 11,
            expires_at: 610,
            send_attempts: vec![SendAttempt { attempt_sid: "VL1".into(), time: 10, channel: "sms".into() }],
            sends: 1,
            send_window_start: 10,
            failures: 3,
            failure_window_start: 5,
            version: 4,
            changed_ms: 11_250,
            checked_by: Some("req".into()),
            ttl: 999,
            activity: Activity {
                failed_checks: 2,
                refused_starts: 1,
                refused_at: 12,
                refused_reason: Some("max_sends".into()),
                expiry_noted: false,
            },
            test: false,
        };
        assert!(!to_item(&r).contains_key(attr::TEST), "a real recipient's item has no test attribute");
        let test = VerificationRecord { test: true, ..r.clone() };
        assert_eq!(to_item(&test)[attr::TEST], AV::Bool(true));
        assert_eq!(from_item(&to_item(&test)), Some(test));
        let mut item = to_item(&r);
        assert_eq!(item[attr::PK].as_s().unwrap(), "VER#VA1#+14155550123");
        assert_eq!(item[attr::TTL].as_n().unwrap(), "999");
        assert_eq!(from_item(&item), Some(r.clone()));
        let noted = VerificationRecord { activity: Activity { expiry_noted: true, ..r.activity.clone() }, ..r.clone() };
        assert_eq!(from_item(&to_item(&noted)), Some(noted));
        // An item from before `changed_ms` existed: its last second.
        item.remove(attr::CHANGED_MS);
        assert_eq!(from_item(&item).unwrap().changed_ms, 11_000);
    }
}
