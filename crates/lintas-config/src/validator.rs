//! Typed readers over raw values that record a [`FieldError`] instead of failing fast.
//!
//! Raw values arrive as JSON-like trees: files give strings, numbers, booleans, arrays and tables;
//! the environment gives only strings. Every reader therefore accepts a scalar in either form and
//! parses its text, so `LINTAS__GATEWAY__RATE_LIMIT_PER_SEC=500` and `rate_limit_per_sec = 500`
//! behave the same. A reader returns `None` after recording exactly one error for its key, so
//! validation can carry on and report every problem at once.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde_json::Value;

use crate::error::{ConfigErrors, FieldError};
use crate::sensitive::{MASK, Sensitive};

/// How durations are described in error messages.
pub(crate) const DURATION: &str = "a duration such as 500ms, 5s or 1m";

/// A closed set of spellings for an enum-valued key, matched ASCII case-insensitively.
pub(crate) trait Choice: Sized + Copy + 'static {
    /// Every variant, in documentation order.
    const ALL: &'static [Self];
    /// The canonical spelling of a variant.
    fn as_str(self) -> &'static str;
}

/// Defines a public enum read from a closed set of strings, with `as_str`, `Display`, `Serialize`
/// (as the canonical string) and [`Choice`].
macro_rules! choice_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )+
        }

        impl $name {
            /// The spelling used in configuration (and by librdkafka where it applies).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $text, )+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl $crate::validator::Choice for $name {
            const ALL: &'static [Self] = &[ $( Self::$variant, )+ ];
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
        }
    };
}
pub(crate) use choice_enum;

/// Renders a raw value the way an operator wrote it: strings without quotes, tables and arrays
/// as compact JSON, a missing value as the empty string.
pub(crate) fn render(raw: &Value) -> String {
    match raw {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The text of a scalar (string, number or boolean); `None` for tables, arrays and missing values.
pub(crate) fn scalar_text(raw: &Value) -> Option<String> {
    match raw {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// Collects [`FieldError`]s while typed values are read from raw ones.
#[derive(Debug, Default)]
pub(crate) struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    /// Records that `key` holds `value`, which is not `expected`.
    pub(crate) fn invalid(
        &mut self,
        key: impl Into<String>,
        value: impl Into<String>,
        expected: impl Into<String>,
    ) {
        self.errors.push(FieldError::invalid(key, value, expected));
    }

    /// Records an error built elsewhere (unknown keys found while reading the layers).
    pub(crate) fn push(&mut self, error: FieldError) {
        self.errors.push(error);
    }

    /// The validated value, or every recorded error.
    pub(crate) fn finish<T>(self, value: Option<T>) -> Result<T, ConfigErrors> {
        match value {
            Some(value) if self.errors.is_empty() => Ok(value),
            _ => Err(ConfigErrors(self.errors)),
        }
    }

    /// Parses the text of a scalar with `parse`; records `expected` when it is not a scalar or
    /// `parse` rejects it.
    pub(crate) fn parse_with<T>(
        &mut self,
        key: &str,
        raw: &Value,
        expected: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Option<T> {
        let parsed = scalar_text(raw).and_then(|text| parse(&text));
        if parsed.is_none() {
            self.invalid(key, render(raw), expected);
        }
        parsed
    }

    /// A string without surrounding whitespace that is not empty.
    pub(crate) fn non_empty_string(&mut self, key: &str, raw: &Value) -> Option<String> {
        self.parse_with(
            key,
            raw,
            "a non-empty string without surrounding spaces",
            |text| (!text.is_empty() && text.trim() == text).then(|| text.to_owned()),
        )
    }

    /// A string whose characters all satisfy `allowed`, with a length in `1..=max_len`.
    pub(crate) fn restricted_string(
        &mut self,
        key: &str,
        raw: &Value,
        expected: &str,
        max_len: usize,
        allowed: impl Fn(usize, char) -> bool,
    ) -> Option<String> {
        self.parse_with(key, raw, expected, |text| {
            let fits = (1..=max_len).contains(&text.len())
                && text.chars().enumerate().all(|(index, c)| allowed(index, c));
            fits.then(|| text.to_owned())
        })
    }

    /// An optional string: a missing value or the empty string (how an environment variable
    /// unsets a key) is `None`. Returns `None` only after recording an error.
    pub(crate) fn optional_string(&mut self, key: &str, raw: &Value) -> Option<Option<String>> {
        if raw.is_null() {
            return Some(None);
        }
        self.parse_with(key, raw, "a string, or empty for none", |text| {
            Some((!text.is_empty()).then(|| text.to_owned()))
        })
    }

    /// An optional filesystem path; empty means none. Existence is checked by the role that
    /// opens it, not here: validation does no I/O.
    pub(crate) fn optional_path(&mut self, key: &str, raw: &Value) -> Option<Option<PathBuf>> {
        self.optional_string(key, raw)
            .map(|text| text.map(PathBuf::from))
    }

    /// A secret string; error messages print the mask, never the value.
    pub(crate) fn secret(&mut self, key: &str, raw: &Value) -> Option<Sensitive<String>> {
        let text = scalar_text(raw);
        if text.is_none() {
            self.invalid(key, MASK, "a string");
        }
        text.map(Sensitive::new)
    }

    /// A humantime duration (`500ms`, `5s`, `1m 30s`) of at most `max`, zero allowed.
    pub(crate) fn duration(&mut self, key: &str, raw: &Value, max: Duration) -> Option<Duration> {
        let expected = format!("{DURATION}, at most {}", humantime::format_duration(max));
        self.parse_with(key, raw, &expected, |text| {
            humantime::parse_duration(text.trim())
                .ok()
                .filter(|duration| *duration <= max)
        })
    }

    /// A humantime duration greater than zero and at most `max`.
    pub(crate) fn positive_duration(
        &mut self,
        key: &str,
        raw: &Value,
        max: Duration,
    ) -> Option<Duration> {
        let expected = format!(
            "{DURATION}, greater than zero and at most {}",
            humantime::format_duration(max)
        );
        self.parse_with(key, raw, &expected, |text| {
            humantime::parse_duration(text.trim())
                .ok()
                .filter(|duration| !duration.is_zero() && *duration <= max)
        })
    }

    /// A whole number in `min..=max`, parsed into `T` (use `NonZero*` types with `min = 1`).
    pub(crate) fn integer<T: FromStr>(
        &mut self,
        key: &str,
        raw: &Value,
        min: u64,
        max: u64,
    ) -> Option<T> {
        let expected = format!("a whole number from {min} to {max}");
        self.parse_with(key, raw, &expected, |text| {
            let number = text.trim().parse::<u64>().ok()?;
            if !(min..=max).contains(&number) {
                return None;
            }
            number.to_string().parse::<T>().ok()
        })
    }

    /// An IP socket address such as `127.0.0.1:8080` or `[::]:8080`.
    pub(crate) fn socket_addr(&mut self, key: &str, raw: &Value) -> Option<SocketAddr> {
        self.parse_with(
            key,
            raw,
            "an IP address and port such as 127.0.0.1:8080 or [::]:8080",
            |text| text.trim().parse().ok(),
        )
    }

    /// One of the spellings of `T`, ASCII case-insensitively.
    pub(crate) fn choice<T: Choice>(&mut self, key: &str, raw: &Value) -> Option<T> {
        let names: Vec<&str> = T::ALL.iter().map(|variant| variant.as_str()).collect();
        let expected = format!("one of {}", names.join(", "));
        self.parse_with(key, raw, &expected, |text| {
            T::ALL
                .iter()
                .copied()
                .find(|variant| variant.as_str().eq_ignore_ascii_case(text.trim()))
        })
    }

    /// A list given either as a comma-separated string (the only form an environment variable
    /// can take) or as an array of scalars. Entries are trimmed; the empty string is the empty
    /// list. Entries are not validated here: callers check each one. With `secret`, errors show
    /// the mask instead of the value.
    pub(crate) fn list(
        &mut self,
        key: &str,
        raw: &Value,
        expected: &str,
        secret: bool,
    ) -> Option<Vec<String>> {
        let entries = match raw {
            Value::Null => Some(Vec::new()),
            Value::String(text) if text.trim().is_empty() => Some(Vec::new()),
            Value::String(text) => {
                Some(text.split(',').map(|item| item.trim().to_owned()).collect())
            }
            Value::Array(items) => items
                .iter()
                .map(|item| scalar_text(item).map(|text| text.trim().to_owned()))
                .collect(),
            Value::Number(_) | Value::Bool(_) | Value::Object(_) => None,
        };
        if entries.is_none() {
            let shown = if secret { MASK.to_owned() } else { render(raw) };
            self.invalid(key, shown, expected);
        }
        entries
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use serde_json::json;

    use super::*;

    #[test]
    fn numbers_are_read_from_strings_and_from_numbers_alike() {
        let mut validator = Validator::default();
        let from_env: Option<NonZeroU32> =
            validator.integer("a", &json!("500"), 1, u64::from(u32::MAX));
        let from_file: Option<NonZeroU32> =
            validator.integer("b", &json!(500), 1, u64::from(u32::MAX));
        assert_eq!(from_env, NonZeroU32::new(500));
        assert_eq!(from_file, NonZeroU32::new(500));
    }

    #[test]
    fn a_number_out_of_range_names_the_range() {
        let mut validator = Validator::default();
        let parsed: Option<NonZeroU32> = validator.integer("gateway.x", &json!("0"), 1, 10);
        assert!(parsed.is_none());
        let errors = validator.finish(Some(())).err().unwrap_or_default();
        assert_eq!(
            errors.to_string(),
            "  gateway.x: invalid value \"0\": expected a whole number from 1 to 10"
        );
    }

    #[test]
    fn a_secret_of_the_wrong_type_is_reported_masked() {
        let mut validator = Validator::default();
        let secret = validator.secret("clickhouse.password", &json!(["hunter2"]));
        assert!(secret.is_none());
        let errors = validator.finish(Some(())).err().unwrap_or_default();
        assert!(!errors.to_string().contains("hunter2"));
    }
}
