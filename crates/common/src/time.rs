//! Timestamps as OpenStack writes them.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// Microseconds since the epoch, the unit stored in databases.
pub fn now_micros() -> i64 {
    Utc::now().timestamp_micros()
}

/// `2026-11-23T10:00:00.000000Z`, Keystone's token timestamps.
pub fn iso_micros(micros: i64) -> String {
    to_datetime(micros).format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// `2026-11-23T10:00:00Z`, the seconds-precision form most APIs use.
pub fn iso_seconds(micros: i64) -> String {
    to_datetime(micros).to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn to_datetime(micros: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(micros).single().unwrap_or_default()
}

/// Parses the ISO 8601 forms clients send (with or without fraction, `Z` or offset, or none).
pub fn parse_iso(text: &str) -> Option<i64> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt.with_timezone(&Utc).timestamp_micros());
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"] {
        if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(text.trim_end_matches('Z'), fmt) {
            return Some(naive.and_utc().timestamp_micros());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn round_trips() {
        let t = parse_iso("2026-11-23T10:00:00.123456Z").unwrap();
        assert_eq!(iso_micros(t), "2026-11-23T10:00:00.123456Z");
        assert_eq!(iso_seconds(t), "2026-11-23T10:00:00Z");
        assert_eq!(parse_iso("2026-11-23T10:00:00"), parse_iso("2026-11-23T10:00:00+00:00"));
        assert!(parse_iso("tomorrow").is_none());
    }
}
