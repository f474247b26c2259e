//! RFC 3339 §5.6 date-times (`2027-01-01T00:00:00Z`), read and written for the
//! `expires_at` of an API key: UTC or a numeric offset, fractions of a second ignored.
//! The calendar is the `time` crate's (already in the graph through actix-web).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// `s` as an RFC 3339 date-time (`full-date "T" full-time`), to the second, or `None`.
/// A time before 1970 is `None`.
pub(crate) fn parse(s: &str) -> Option<SystemTime> {
    let at = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    let secs = u64::try_from(at.unix_timestamp()).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

/// `t` as an RFC 3339 date-time in UTC, to the second (`2027-01-01T00:00:00Z`).
pub(crate) fn format(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let at = i64::try_from(secs)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    at.format(&Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn utc_offsets_and_fractions_are_read() {
        assert_eq!(parse("1970-01-01T00:00:00Z"), Some(at(0)));
        assert_eq!(parse("2027-01-01T00:00:00Z"), Some(at(1_798_761_600)));
        assert_eq!(parse("2027-01-01t01:00:00+01:00"), Some(at(1_798_761_600)));
        assert_eq!(
            parse("2026-12-31T23:00:00.123-01:00"),
            Some(at(1_798_761_600))
        );
        assert_eq!(parse("2024-02-29T12:00:00z"), Some(at(1_709_208_000)));
        // RFC 3339 §5.6 NOTE: a space in place of `T` may be read.
        assert_eq!(parse("2027-01-01 00:00:00Z"), Some(at(1_798_761_600)));
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "2027-01-01",
            "2027-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2027-01-01T24:00:00Z",
            "2027-01-01T00:00:00",
            "2027-01-01T00:00:00.Z",
            "2027-01-01T00:00:00+0100",
            "1969-12-31T23:59:59Z",
            "２０２７-01-01T00:00:00Z",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn what_is_written_reads_back() {
        for secs in [0, 951_782_400, 1_798_761_600, 4_102_444_799] {
            assert_eq!(parse(&format(at(secs))), Some(at(secs)));
        }
        assert_eq!(format(at(1_798_761_600)), "2027-01-01T00:00:00Z");
    }
}
