//! ISO-8601 timestamps as Twilio writes them: `2015-07-30T20:00:00Z`, and
//! with milliseconds where events need them: `2015-07-30T20:00:00.250Z`.

use crate::clock::{Millis, Seconds};
use std::time::{Duration, UNIX_EPOCH};

pub fn iso8601(secs: Seconds) -> String {
    let t = UNIX_EPOCH + Duration::from_secs(secs.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// Always three digits of milliseconds, so the text sorts as the time does.
pub fn iso8601_ms(ms: Millis) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(t).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_like_twilio() {
        assert_eq!(super::iso8601(1_438_286_400), "2015-07-30T20:00:00Z");
        assert_eq!(super::iso8601_ms(1_438_286_400_250), "2015-07-30T20:00:00.250Z");
        assert_eq!(super::iso8601_ms(1_438_286_400_000), "2015-07-30T20:00:00.000Z");
    }
}
