//! Conversions between protobuf `Timestamp` and `chrono`, at microsecond precision.
//!
//! Lintas stores times with microseconds (ClickHouse `DateTime64(6)`); nanoseconds a source may
//! carry are truncated, never rounded, so a time never moves into the next second.

use chrono::{DateTime, TimeZone, Utc};
use prost_types::Timestamp;

/// The protobuf timestamp of a UTC instant, truncated to microseconds.
pub fn to_timestamp(at: DateTime<Utc>) -> Timestamp {
    let micros = at.timestamp_subsec_micros();
    Timestamp {
        seconds: at.timestamp(),
        // At most 999_999_000, which fits an i32.
        nanos: i32::try_from(micros * 1_000).unwrap_or(0),
    }
}

/// The UTC instant of a protobuf timestamp, or `None` when it is out of chrono's range or its
/// nanos are outside `0..1e9`.
pub fn from_timestamp(ts: &Timestamp) -> Option<DateTime<Utc>> {
    let nanos = u32::try_from(ts.nanos).ok()?;
    Utc.timestamp_opt(ts.seconds, nanos).single()
}

/// Microseconds since the Unix epoch, the unit of ClickHouse `DateTime64(6)`.
pub fn to_unix_micros(ts: &Timestamp) -> i64 {
    ts.seconds
        .saturating_mul(1_000_000)
        .saturating_add(i64::from(ts.nanos / 1_000))
}

/// The current time as a protobuf timestamp at microsecond precision.
pub fn now() -> Timestamp {
    to_timestamp(Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn nanoseconds_are_truncated_to_microseconds() {
        let at = Utc.timestamp_opt(1_741_947_910, 123_456_789).single();
        let ts = to_timestamp(at.expect("valid instant"));
        assert_eq!(ts.nanos, 123_456_000);
        assert_eq!(to_unix_micros(&ts), 1_741_947_910_123_456);
    }

    #[test]
    fn invalid_nanos_are_rejected() {
        let ts = Timestamp {
            seconds: 0,
            nanos: -1,
        };
        assert!(from_timestamp(&ts).is_none());
    }

    proptest! {
        #[test]
        fn timestamps_round_trip_at_microsecond_precision(
            seconds in 0i64..4_102_444_800, micros in 0u32..1_000_000
        ) {
            let at = Utc.timestamp_opt(seconds, micros * 1_000).single().expect("in range");
            let back = from_timestamp(&to_timestamp(at));
            prop_assert_eq!(back, Some(at));
        }
    }
}
