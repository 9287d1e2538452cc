//! ISO-8601 timestamps as Twilio writes them: `2015-07-30T20:00:00Z`.

use crate::clock::Seconds;
use std::time::{Duration, UNIX_EPOCH};

pub fn iso8601(secs: Seconds) -> String {
    let t = UNIX_EPOCH + Duration::from_secs(secs.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_like_twilio() {
        assert_eq!(super::iso8601(1_438_286_400), "2015-07-30T20:00:00Z");
    }
}
