//! DynamoDB stream records in their wire JSON, as Lambda delivers them in a
//! `DynamoDBEvent` and as DynamoDB Streams' GetRecords (and the embedded
//! engine) returns them. Images become the same attribute maps the store
//! reads, so there is one item layout ([`verify_core::store::item`]).

use crate::item::{Item, from_item};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue as AV;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use verify_core::clock::Seconds;
use verify_core::events::derive::RecordChange;

/// The principal of deletions made by DynamoDB's TTL process.
pub const TTL_PRINCIPAL: &str = "dynamodb.amazonaws.com";

#[derive(Clone, Debug, PartialEq)]
pub struct StreamRecord {
    /// `INSERT`, `MODIFY` or `REMOVE`.
    pub event_name: String,
    /// Identifies the record in a batch (Lambda's `itemIdentifier`).
    pub sequence_number: String,
    pub approximate_time: Seconds,
    /// A deletion by TTL: `userIdentity.principalId = dynamodb.amazonaws.com`.
    pub ttl_removal: bool,
    pub old_image: Option<Item>,
    pub new_image: Option<Item>,
}

impl StreamRecord {
    /// The change of a verification record this stream record shows, decoded
    /// here at the edge: derivation sees records, never items. Images that
    /// are not verification records (events, deliveries) decode to none;
    /// blocked-starts items to their own part of the change.
    pub fn change(&self) -> RecordChange {
        let record = |image: &Option<Item>| image.as_ref().and_then(from_item);
        let blocked = |image: &Option<Item>| image.as_ref().and_then(crate::blocked::from_item);
        RecordChange {
            old: record(&self.old_image),
            new: record(&self.new_image),
            ttl_removal: self.ttl_removal,
            blocked: blocked(&self.new_image).map(|new| (blocked(&self.old_image), new)),
        }
    }
}

/// Parses one record of `Records[]`.
pub fn parse_record(v: &Value) -> Result<StreamRecord, String> {
    let ddb = v.get("dynamodb").ok_or("stream record without `dynamodb`")?;
    let image = |name: &str| ddb.get(name).filter(|i| !i.is_null()).map(attribute_map).transpose();
    let identity = v.get("userIdentity");
    let ttl_removal = identity.and_then(|u| u.get("principalId")).and_then(Value::as_str).is_some_and(|p| p == TTL_PRINCIPAL)
        && identity.and_then(|u| u.get("type")).and_then(Value::as_str).is_none_or(|t| t == "Service");
    Ok(StreamRecord {
        event_name: v.get("eventName").and_then(Value::as_str).unwrap_or_default().to_owned(),
        sequence_number: ddb.get("SequenceNumber").and_then(Value::as_str).unwrap_or_default().to_owned(),
        approximate_time: ddb.get("ApproximateCreationDateTime").and_then(Value::as_f64).unwrap_or(0.0) as Seconds,
        ttl_removal,
        old_image: image("OldImage")?,
        new_image: image("NewImage")?,
    })
}

/// `{"name": {"S": "..."}, ...}` to the SDK's attribute map.
pub fn attribute_map(v: &Value) -> Result<Item, String> {
    let obj = v.as_object().ok_or("an image is not an object")?;
    obj.iter().map(|(k, v)| Ok((k.clone(), attribute_value(v)?))).collect()
}

fn attribute_value(v: &Value) -> Result<AV, String> {
    let obj = v.as_object().filter(|o| o.len() == 1).ok_or_else(|| format!("not an attribute value: {v}"))?;
    let (tag, inner) = obj.iter().next().expect("one entry");
    let text = |x: &Value| x.as_str().map(str::to_owned).ok_or_else(|| format!("{tag}: not a string"));
    let list = |x: &Value| x.as_array().cloned().ok_or_else(|| format!("{tag}: not a list"));
    let blob = |x: &Value| -> Result<Blob, String> {
        STANDARD.decode(x.as_str().ok_or("B: not a string")?).map(Blob::new).map_err(|e| format!("B: {e}"))
    };
    Ok(match tag.as_str() {
        "S" => AV::S(text(inner)?),
        "N" => AV::N(match inner {
            Value::Number(n) => n.to_string(),
            other => text(other)?,
        }),
        "B" => AV::B(blob(inner)?),
        "BOOL" => AV::Bool(inner.as_bool().ok_or("BOOL: not a boolean")?),
        "NULL" => AV::Null(true),
        "SS" => AV::Ss(list(inner)?.iter().map(text).collect::<Result<_, _>>()?),
        "NS" => AV::Ns(list(inner)?.iter().map(text).collect::<Result<_, _>>()?),
        "BS" => AV::Bs(list(inner)?.iter().map(blob).collect::<Result<_, _>>()?),
        "L" => AV::L(list(inner)?.iter().map(attribute_value).collect::<Result<_, _>>()?),
        "M" => AV::M(attribute_map(inner)?),
        other => return Err(format!("unknown attribute type {other}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wire_images_become_attribute_maps() {
        let rec = json!({
            "eventName": "REMOVE",
            "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"},
            "dynamodb": {
                "ApproximateCreationDateTime": 1700000000.5,
                "SequenceNumber": "111",
                "OldImage": {
                    "pk": {"S": "VER#VA1#+1"}, "n": {"N": "5"}, "b": {"B": "AQID"}, "t": {"BOOL": true},
                    "l": {"L": [{"M": {"x": {"S": "y"}}}]}, "z": {"NULL": true}
                }
            }
        });
        let r = parse_record(&rec).unwrap();
        assert!(r.ttl_removal);
        assert_eq!(r.approximate_time, 1_700_000_000);
        assert!(r.new_image.is_none());
        let old = r.old_image.unwrap();
        assert_eq!(old["n"], AV::N("5".into()));
        assert_eq!(old["b"], AV::B(Blob::new(vec![1, 2, 3])));
        assert_eq!(old["l"].as_l().unwrap()[0].as_m().unwrap()["x"], AV::S("y".into()));
    }

    #[test]
    fn only_verification_items_are_records() {
        let rec = json!({"eventName": "INSERT", "dynamodb": {"SequenceNumber": "1",
            "NewImage": {"pk": {"S": "EV#evt_1"}, "kind": {"S": "event"}}}});
        assert_eq!(parse_record(&rec).unwrap().change(), RecordChange::default());
    }

    #[test]
    fn a_user_delete_is_not_a_ttl_removal() {
        let rec = json!({"eventName": "REMOVE", "dynamodb": {"SequenceNumber": "1", "OldImage": {}}});
        assert!(!parse_record(&rec).unwrap().ttl_removal);
        let rec = json!({"eventName": "REMOVE", "userIdentity": {"type": "Service", "principalId": "someone"}, "dynamodb": {}});
        assert!(!parse_record(&rec).unwrap().ttl_removal);
    }
}
