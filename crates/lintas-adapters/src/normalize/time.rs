//! `occurred_at`: every time a platform sends, read the same way and converted to UTC.
//!
//! - Unix epochs: the unit is decided by magnitude, whatever the platform documents: `>= 1e17`
//!   nanoseconds, `>= 1e14` microseconds, `>= 1e11` milliseconds, otherwise seconds (the corpus
//!   rule, extended upwards so a microsecond value is not read as a date in the year 50000). When
//!   the magnitude disagrees with the documented unit, `TIMESTAMP_UNIT_CORRECTED` is set.
//! - Strings with a zone (ISO 8601 / RFC 3339 with `Z` or an offset, RFC 2822) are converted to
//!   UTC; the wall-clock time is never taken as UTC.
//! - Strings without a zone are read as UTC and flagged `TZ_ASSUMED`.
//! - Precision is kept down to microseconds; nanoseconds are truncated, never rounded, so a time
//!   never moves into the next second.
//! - No usable time in the payload: the adapter leaves `occurred_at` unset and the event gets the
//!   receive time with `OCCURRED_AT_INFERRED` (see [`Draft`](super::Draft)).

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use lintas_schema::v1::NormalizationFlag;

/// The range of `occurred_at` Lintas stores, for messages: ClickHouse `DateTime` (the partition
/// and sort key of `interactions`) counts seconds since the Unix epoch in a `UInt32`.
pub const STORABLE_RANGE: &str = "between 1970-01-01T00:00:00Z and 2106-02-07T06:28:15Z";

/// Whether ClickHouse can store `at` as it is: outside [`STORABLE_RANGE`] a `DateTime` wraps
/// into a wrong date without an error, so such a time must be refused or replaced first.
pub fn is_storable(at: DateTime<Utc>) -> bool {
    (0..=i64::from(u32::MAX)).contains(&at.timestamp())
}

/// A normalized instant and what normalizing it had to assume or correct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurred {
    /// The instant in UTC, truncated to microseconds.
    pub at: DateTime<Utc>,
    /// `TIMESTAMP_UNIT_CORRECTED` or `TZ_ASSUMED` when either applied.
    pub flag: Option<NormalizationFlag>,
}

impl Occurred {
    fn exact(at: DateTime<Utc>) -> Self {
        Self {
            at: truncate_to_micros(at),
            flag: None,
        }
    }
}

/// The unit a platform documents for its epoch values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochUnit {
    /// Seconds (WhatsApp, Telegram, Stripe, Slack).
    Seconds,
    /// Milliseconds (Messenger, Instagram, HubSpot).
    Milliseconds,
    /// Microseconds.
    Microseconds,
    /// Nanoseconds.
    Nanoseconds,
}

impl EpochUnit {
    /// The unit the magnitude rule assigns to `value`.
    pub fn by_magnitude(value: i64) -> Self {
        match value.unsigned_abs() {
            magnitude if magnitude >= 100_000_000_000_000_000 => Self::Nanoseconds,
            magnitude if magnitude >= 100_000_000_000_000 => Self::Microseconds,
            magnitude if magnitude >= 100_000_000_000 => Self::Milliseconds,
            _ => Self::Seconds,
        }
    }

    fn nanos_per_unit(self) -> i128 {
        match self {
            Self::Seconds => 1_000_000_000,
            Self::Milliseconds => 1_000_000,
            Self::Microseconds => 1_000,
            Self::Nanoseconds => 1,
        }
    }
}

/// An integer epoch value in the unit its magnitude implies, flagged when that differs from
/// `documented`. `None` when out of range.
pub fn from_epoch(value: i64, documented: EpochUnit) -> Option<Occurred> {
    from_epoch_parts(value, 0, 0, documented)
}

/// An epoch given as text: `"1741921541"`, `"1741921541.123456"` (Slack `ts`), `"1741921541123"`.
/// The fraction is read exactly (no floating point) and belongs to the unit of the integer part.
pub fn from_epoch_str(text: &str, documented: EpochUnit) -> Option<Occurred> {
    let text = text.trim();
    let (integer, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits_only = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    let unsigned = integer.strip_prefix('-').unwrap_or(integer);
    if unsigned.is_empty() || !digits_only(unsigned) || !digits_only(fraction) {
        return None;
    }
    let value: i64 = integer.parse().ok()?;
    // Keep at most nine fractional digits: below a nanosecond of the largest unit is noise.
    let fraction = &fraction[..fraction.len().min(9)];
    let fraction_value: i64 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().ok()?
    };
    let fraction_digits = u32::try_from(fraction.len()).ok()?;
    from_epoch_parts(value, fraction_value, fraction_digits, documented)
}

/// An epoch carried as a JSON number or a numeric string (WhatsApp sends strings).
pub fn from_epoch_json(value: &serde_json::Value, documented: EpochUnit) -> Option<Occurred> {
    match value {
        serde_json::Value::Number(number) => match number.as_i64() {
            Some(integer) => from_epoch(integer, documented),
            // Floats (`1741921541.25`): their decimal rendering keeps what the sender wrote.
            None => from_epoch_str(&number.to_string(), documented),
        },
        serde_json::Value::String(text) => from_epoch_str(text, documented),
        _ => None,
    }
}

fn from_epoch_parts(
    value: i64,
    fraction: i64,
    fraction_digits: u32,
    documented: EpochUnit,
) -> Option<Occurred> {
    let unit = EpochUnit::by_magnitude(value);
    let per_unit = unit.nanos_per_unit();
    let mut nanos = i128::from(value) * per_unit;
    if fraction_digits > 0 {
        let scale = 10_i128.checked_pow(fraction_digits)?;
        let fraction_nanos = i128::from(fraction) * per_unit / scale;
        nanos += if value < 0 {
            -fraction_nanos
        } else {
            fraction_nanos
        };
    }
    let seconds = i64::try_from(nanos.div_euclid(1_000_000_000)).ok()?;
    let subsec = u32::try_from(nanos.rem_euclid(1_000_000_000)).ok()?;
    let at = Utc.timestamp_opt(seconds, subsec).single()?;
    let mut occurred = Occurred::exact(at);
    if unit != documented {
        occurred.flag = Some(NormalizationFlag::TimestampUnitCorrected);
    }
    Some(occurred)
}

/// A time string with or without a zone: RFC 3339 / ISO 8601 (`2025-03-14T22:07:33+07:00`,
/// `...Z`, `+0700`, space instead of `T`), RFC 2822 (`Fri, 14 Mar 2025 18:45:10 +0700`, trailing
/// `(UTC)` comments allowed), or zoneless ISO (`2025-03-14 10:00:00`, read as UTC, `TZ_ASSUMED`).
pub fn parse_datetime(text: &str) -> Option<Occurred> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Some(zoned) = parse_zoned(text) {
        return Some(Occurred::exact(zoned.with_timezone(&Utc)));
    }
    let naive = parse_zoneless(text)?;
    Some(Occurred {
        at: truncate_to_micros(Utc.from_utc_datetime(&naive)),
        flag: Some(NormalizationFlag::TzAssumed),
    })
}

fn parse_zoned(text: &str) -> Option<DateTime<FixedOffset>> {
    if let Ok(parsed) = DateTime::parse_from_rfc3339(text) {
        return Some(parsed);
    }
    // A trailing ` UTC` / ` GMT` names the zone as clearly as `Z` does.
    for suffix in [" UTC", " GMT", " utc", " gmt"] {
        if let Some(stripped) = text.strip_suffix(suffix)
            && let Some(naive) = parse_zoneless(stripped)
        {
            return Some(Utc.from_utc_datetime(&naive).fixed_offset());
        }
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f %z",
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f %:z",
    ] {
        if let Ok(parsed) = DateTime::parse_from_str(text, format) {
            return Some(parsed);
        }
    }
    parse_rfc2822(text)
}

fn parse_rfc2822(text: &str) -> Option<DateTime<FixedOffset>> {
    if let Ok(parsed) = DateTime::parse_from_rfc2822(text) {
        return Some(parsed);
    }
    // `Fri, 14 Mar 2025 18:45:10 +0700 (WIB)`: drop a trailing comment and try again.
    let without_comment = match text.rfind('(') {
        Some(open) if text.ends_with(')') => text[..open].trim_end(),
        _ => return None,
    };
    DateTime::parse_from_rfc2822(without_comment).ok()
}

fn parse_zoneless(text: &str) -> Option<NaiveDateTime> {
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(parsed) = NaiveDateTime::parse_from_str(text, format) {
            return Some(parsed);
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
}

/// `at` with its sub-microsecond part cut off.
pub fn truncate_to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    let micros_as_nanos = at.nanosecond() / 1_000 * 1_000;
    at.with_nanosecond(micros_as_nanos).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("test instant")
            .with_timezone(&Utc)
    }

    #[test]
    fn epoch_seconds_as_documented_are_not_flagged() {
        let occurred = from_epoch_str("1741921541", EpochUnit::Seconds).expect("valid");
        assert_eq!(occurred.at, utc("2025-03-14T03:05:41Z"));
        assert_eq!(occurred.flag, None);
    }

    #[test]
    fn epoch_milliseconds_where_seconds_are_documented_are_corrected_and_flagged() {
        let occurred = from_epoch(1_741_921_541_250, EpochUnit::Seconds).expect("valid");
        assert_eq!(occurred.at, utc("2025-03-14T03:05:41.250Z"));
        assert_eq!(
            occurred.flag,
            Some(NormalizationFlag::TimestampUnitCorrected)
        );
    }

    #[test]
    fn epoch_seconds_where_milliseconds_are_documented_are_corrected_and_flagged() {
        let occurred = from_epoch(1_741_930_200, EpochUnit::Milliseconds).expect("valid");
        assert_eq!(occurred.at, utc("2025-03-14T05:30:00Z"));
        assert_eq!(
            occurred.flag,
            Some(NormalizationFlag::TimestampUnitCorrected)
        );
    }

    #[test]
    fn the_magnitude_boundary_is_1e11() {
        assert_eq!(EpochUnit::by_magnitude(99_999_999_999), EpochUnit::Seconds);
        assert_eq!(
            EpochUnit::by_magnitude(100_000_000_000),
            EpochUnit::Milliseconds
        );
        assert_eq!(
            EpochUnit::by_magnitude(1_741_921_541_000_000),
            EpochUnit::Microseconds
        );
        assert_eq!(
            EpochUnit::by_magnitude(1_741_921_541_000_000_000),
            EpochUnit::Nanoseconds
        );
    }

    #[test]
    fn nanosecond_epochs_are_truncated_to_microseconds() {
        let occurred =
            from_epoch(1_741_921_541_123_456_789, EpochUnit::Nanoseconds).expect("valid");
        assert_eq!(occurred.at, utc("2025-03-14T03:05:41.123456Z"));
        assert_eq!(occurred.flag, None);
    }

    #[test]
    fn fractional_epoch_strings_are_read_exactly() {
        let occurred = from_epoch_str("1741921541.000200", EpochUnit::Seconds).expect("valid");
        assert_eq!(occurred.at, utc("2025-03-14T03:05:41.000200Z"));
        let json = serde_json::json!(1741921541.5);
        let from_float = from_epoch_json(&json, EpochUnit::Seconds).expect("valid");
        assert_eq!(from_float.at, utc("2025-03-14T03:05:41.5Z"));
    }

    #[test]
    fn garbage_epochs_are_none() {
        for text in ["", "abc", "12a", "1.2.3", "-", "99999999999999999999999"] {
            assert_eq!(from_epoch_str(text, EpochUnit::Seconds), None, "{text:?}");
        }
        assert_eq!(
            from_epoch_json(&serde_json::json!(true), EpochUnit::Seconds),
            None
        );
    }

    #[test]
    fn rfc_2822_with_offset_converts_to_utc() {
        let occurred = parse_datetime("Fri, 14 Mar 2025 18:45:10 +0700").expect("valid");
        assert_eq!(occurred.at, utc("2025-03-14T11:45:10Z"));
        assert_eq!(occurred.flag, None);
        let commented = parse_datetime("Fri, 14 Mar 2025 14:02:10 +0000 (UTC)").expect("valid");
        assert_eq!(commented.at, utc("2025-03-14T14:02:10Z"));
    }

    #[test]
    fn iso_offsets_convert_to_utc_and_never_keep_the_wall_clock() {
        for text in [
            "2025-03-14T22:07:33+07:00",
            "2025-03-14T22:07:33+0700",
            "2025-03-14 22:07:33+07:00",
            "2025-03-14T15:07:33Z",
            "2025-03-14T15:07:33.000Z",
            "2025-03-14 15:07:33 UTC",
        ] {
            let occurred = parse_datetime(text).expect(text);
            assert_eq!(occurred.at, utc("2025-03-14T15:07:33Z"), "{text}");
            assert_eq!(occurred.flag, None, "{text}");
        }
    }

    #[test]
    fn iso_fractions_keep_microseconds_and_truncate_nanoseconds() {
        let occurred = parse_datetime("2025-03-10T12:30:05.599123789Z").expect("valid");
        assert_eq!(occurred.at, utc("2025-03-10T12:30:05.599123Z"));
    }

    #[test]
    fn zoneless_strings_are_read_as_utc_and_flagged() {
        for text in [
            "2025-03-14 10:00:00",
            "2025-03-14T10:00:00",
            "2025-03-14T10:00:00.000",
        ] {
            let occurred = parse_datetime(text).expect(text);
            assert_eq!(occurred.at, utc("2025-03-14T10:00:00Z"), "{text}");
            assert_eq!(occurred.flag, Some(NormalizationFlag::TzAssumed), "{text}");
        }
    }

    #[test]
    fn unparseable_strings_are_none() {
        for text in ["", "yesterday", "14/03/2025", "2025-13-40T99:00:00Z"] {
            assert_eq!(parse_datetime(text), None, "{text:?}");
        }
    }
}
