//! Report parameters. Each has one documented format; anything else answers
//! 400 naming the parameter, before anything is read. Parameters no route
//! knows are ignored, as Twilio ignores them.
//!
//! | parameter | format |
//! | --- | --- |
//! | `DateCreatedAfter`, `DateCreatedBefore` | `YYYY-MM-DDTHH:MM:SSZ` (UTC), as Twilio and its clients write it |
//! | `from`, `to` (`/events`, `/dashboard`) | the same date-time, or a day `YYYY-MM-DD` (UTC; as `to`, through the end of that day) |
//! | `VerifyServiceSid`, `service_sid` | `VA` + 32 hex digits |
//! | `VerificationSid`, `verification_sid` | `VE` + 32 hex digits |
//! | `ChannelData.To` | an E.164 number (`+` and up to 15 digits; spaces, dashes, dots, brackets allowed) |
//! | `DestinationPrefix` | `+` (optional) and 1 to 15 digits |
//! | `Country` | ISO 3166 alpha-2, two letters |
//! | `Channel` | `sms`, `call`, `email`, `whatsapp` or `rbm` (Twilio's; only `sms` has attempts here) |
//! | `Status` | `converted` or `unconverted` |
//! | `PageSize`, `limit` | 1 to 1000 |
//! | `Page` | 0 or more |
//! | `PageToken`, `page_token` | a token this service gave out |
//! | `type` | an event type, with or without `verification.`; repeatable or comma-separated |
//! | `format` | `json` or `csv` |

use crate::events::store::Cursor;
use std::collections::HashMap;
use std::time::UNIX_EPOCH;
use verify_core::api::ApiError;
use verify_core::clock::Seconds;
use verify_core::events::EventType;
use verify_core::sid;

pub const MAX_PAGE_SIZE: usize = 1000;
/// Twilio's Attempts channels.
pub const CHANNELS: &[&str] = &["sms", "call", "email", "whatsapp", "rbm"];

pub fn invalid(name: &str) -> ApiError {
    ApiError::invalid(format!("Invalid parameter: {name}"))
}

/// Query parameters, by name (last value wins, as most servers do).
pub struct Query(HashMap<String, Vec<String>>);

impl Query {
    pub fn parse(uri: &http::Uri) -> Query {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
            map.entry(k.into_owned()).or_default().push(v.into_owned());
        }
        Query(map)
    }

    /// The last value, trimmed; an empty value counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|v| v.last()).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    /// Every value, comma-separated ones split.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.get(name).map(|v| v.iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()).collect()).unwrap_or_default()
    }

    /// Every (name, value) but those named in `except`, sorted: what a
    /// paging link carries over.
    pub fn pairs_except(&self, except: &[&str]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .0
            .iter()
            .filter(|(k, _)| !except.contains(&k.as_str()))
            .flat_map(|(k, vs)| vs.iter().map(move |v| (k.clone(), v.clone())))
            .collect();
        out.sort();
        out
    }

    /// `name` read by `parse`, `None` when absent, 400 when `parse` refuses it.
    pub fn typed<T>(&self, name: &str, parse: impl FnOnce(&str) -> Option<T>) -> Result<Option<T>, ApiError> {
        self.get(name).map(|v| parse(v).ok_or_else(|| invalid(name))).transpose()
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ`, UTC.
pub fn date_time(s: &str) -> Option<Seconds> {
    let shape = s.len() == 20
        && s.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            19 => b == b'Z',
            _ => b.is_ascii_digit(),
        });
    if !shape {
        return None;
    }
    // humantime checks the ranges (month 13, February 30 …).
    let t = humantime::parse_rfc3339(s).ok()?;
    Some(t.duration_since(UNIX_EPOCH).ok()?.as_secs() as Seconds)
}

/// `YYYY-MM-DD`, UTC: the start of that day.
pub fn date(s: &str) -> Option<Seconds> {
    if s.len() != 10 {
        return None;
    }
    date_time(&format!("{s}T00:00:00Z"))
}

/// One end of a `from`/`to` period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    At(Seconds),
    /// A whole day, by its start.
    Day(Seconds),
}

impl Bound {
    pub fn parse(s: &str) -> Option<Bound> {
        date_time(s).map(Bound::At).or_else(|| date(s).map(Bound::Day))
    }

    /// As a period's start.
    pub fn start(self) -> Seconds {
        match self {
            Bound::At(t) | Bound::Day(t) => t,
        }
    }

    /// As a period's (exclusive) end: a day is included whole.
    pub fn end(self) -> Seconds {
        match self {
            Bound::At(t) => t,
            Bound::Day(t) => t + 86_400,
        }
    }
}

pub fn sid_of(prefix: &'static str) -> impl Fn(&str) -> Option<String> {
    move |s| sid::is_sid(prefix, s).then(|| s.to_owned())
}

/// Two letters, upper-cased.
pub fn country(s: &str) -> Option<String> {
    (s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic())).then(|| s.to_ascii_uppercase())
}

pub fn channel(s: &str) -> Option<String> {
    let s = s.to_ascii_lowercase();
    CHANNELS.contains(&s.as_str()).then_some(s)
}

/// `+` (added when missing) and 1 to 15 digits.
pub fn destination_prefix(s: &str) -> Option<String> {
    let digits = s.strip_prefix('+').unwrap_or(s);
    ((1..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())).then(|| format!("+{digits}"))
}

/// A whole number in `range`.
pub fn count(range: std::ops::RangeInclusive<u64>) -> impl Fn(&str) -> Option<u64> {
    move |s| s.bytes().all(|b| b.is_ascii_digit()).then(|| s.parse().ok()).flatten().filter(|n| range.contains(n))
}

pub fn page_size(s: &str) -> Option<usize> {
    count(1..=MAX_PAGE_SIZE as u64)(s).map(|n| n as usize)
}

pub fn cursor(s: &str) -> Option<Cursor> {
    Cursor::parse(s)
}

pub fn event_types(q: &Query, name: &str) -> Result<Option<Vec<EventType>>, ApiError> {
    let types = q.all(name);
    if types.is_empty() {
        return Ok(None);
    }
    types.iter().map(|t| EventType::parse(t).ok_or_else(|| invalid(name))).collect::<Result<_, _>>().map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times_are_twilios_and_nothing_else() {
        assert_eq!(date_time("2015-07-30T20:00:00Z"), Some(1_438_286_400));
        for bad in [
            "1438286400",
            "2015-07-30",
            "2015-07-30T20:00:00",
            "2015-07-30T20:00:00+00:00",
            "2015-07-30T20:00:00.5Z",
            "2015-13-30T20:00:00Z",
            "2015-02-30T20:00:00Z",
            "2015-07-30 20:00:00Z",
            "yesterday",
            "２０１５-07-30T20:00:00Z",
        ] {
            assert_eq!(date_time(bad), None, "{bad:?}");
        }
    }

    /// Issue item 13: Unix seconds are ten characters long, as a date is; a
    /// bound is read by its shape, never by its length.
    #[test]
    fn bounds_are_a_date_time_or_a_day() {
        assert_eq!(Bound::parse("2015-07-30"), Some(Bound::Day(1_438_214_400)));
        assert_eq!(Bound::parse("2015-07-30").unwrap().end(), 1_438_214_400 + 86_400);
        assert_eq!(Bound::parse("2015-07-30T20:00:00Z").unwrap().end(), 1_438_286_400);
        assert_eq!(Bound::parse("1438286400"), None);
        assert_eq!(Bound::parse("2015-7-30"), None);
    }

    #[test]
    fn filters_have_one_shape_each() {
        assert_eq!(country("gb").as_deref(), Some("GB"));
        assert_eq!(country("GBR"), None);
        assert_eq!(channel("SMS").as_deref(), Some("sms"));
        assert_eq!(channel("pigeon"), None);
        assert_eq!(destination_prefix("44").as_deref(), Some("+44"));
        assert_eq!(destination_prefix("+1 415"), None);
        assert_eq!(page_size("1000"), Some(1000));
        for bad in ["0", "1001", "-1", "+5", "1e3", "ten"] {
            assert_eq!(page_size(bad), None, "{bad:?}");
        }
        assert_eq!(count(0..=u64::MAX)("99999999999999999999"), None);
        assert_eq!(sid_of(sid::VERIFICATION)("VE123"), None);
    }
}
