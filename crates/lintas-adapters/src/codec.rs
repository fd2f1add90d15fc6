//! Body and header decoding shared by the adapters: content types, JSON, forms and query strings.
//!
//! Decoding is strict: invalid UTF-8 is an error, never silently replaced, because a replaced
//! character would change the text we store (and, for form bodies, the bytes a signature covers).

use serde::de::DeserializeOwned;

use crate::AdapterError;

/// The media type of a `Content-Type` value, lowercased, without parameters:
/// `Application/JSON; charset=utf-8` -> `application/json`.
pub fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Whether `content_type` (absent counts as no) has the media type `expected` (lowercase).
pub fn is_media_type(content_type: Option<&str>, expected: &str) -> bool {
    content_type.is_some_and(|value| media_type(value) == expected)
}

/// Parses a JSON body into `T`. Failures become [`AdapterError::Malformed`] with category and
/// position only; serde_json's nesting limit (128) turns hostile nesting into an error, not a
/// stack overflow.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, AdapterError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(AdapterError::malformed("empty body"));
    }
    serde_json::from_slice(body).map_err(|error| AdapterError::malformed_json(&error))
}

/// Decodes an `application/x-www-form-urlencoded` body or a query string into name/value pairs
/// in their original order, duplicates kept. `+` is a space; invalid UTF-8 after percent
/// decoding is [`AdapterError::Malformed`].
pub fn decode_form(input: &[u8]) -> Result<Vec<(String, String)>, AdapterError> {
    let mut pairs = Vec::new();
    for segment in input.split(|byte| *byte == b'&') {
        if segment.is_empty() {
            continue;
        }
        let (name, value) = match segment.iter().position(|byte| *byte == b'=') {
            Some(at) => (&segment[..at], &segment[at + 1..]),
            None => (segment, &segment[segment.len()..]),
        };
        pairs.push((decode_component(name)?, decode_component(value)?));
    }
    Ok(pairs)
}

fn decode_component(raw: &[u8]) -> Result<String, AdapterError> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|byte| if *byte == b'+' { b' ' } else { *byte })
        .collect();
    percent_encoding::percent_decode(&spaced)
        .decode_utf8()
        .map(|text| text.into_owned())
        .map_err(|_| {
            AdapterError::malformed("form field is not valid UTF-8 after percent-decoding")
        })
}

/// The first value of `name` among decoded form pairs.
pub fn form_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// The string at `path` inside a JSON value, when present and non-empty after trimming.
pub fn json_str<'a>(value: &'a serde_json::Value, path: &[&str]) -> Option<&'a str> {
    let mut current = value;
    for key in path {
        current = current.get(key)?;
    }
    current
        .as_str()
        .map(str::trim)
        .filter(|text| !text.is_empty())
}

/// The scalar at `path` as text: strings as they are, numbers and booleans rendered. For ids and
/// coordinates that platforms send sometimes as numbers, sometimes as strings.
pub fn json_scalar(value: &serde_json::Value, path: &[&str]) -> Option<String> {
    let mut current = value;
    for key in path {
        current = current.get(key)?;
    }
    match current {
        serde_json::Value::String(text) => Some(text.trim().to_owned()).filter(|t| !t.is_empty()),
        serde_json::Value::Number(number) => Some(number.to_string()),
        serde_json::Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_ignore_case_and_parameters() {
        assert_eq!(
            media_type("Application/JSON; charset=utf-8"),
            "application/json"
        );
        assert!(is_media_type(Some("application/json"), "application/json"));
        assert!(!is_media_type(Some("text/plain"), "application/json"));
        assert!(!is_media_type(None, "application/json"));
        assert!(is_media_type(
            Some("application/x-www-form-urlencoded; charset=UTF-8"),
            "application/x-www-form-urlencoded"
        ));
    }

    #[test]
    fn forms_decode_plus_percent_and_keep_duplicates() {
        let pairs = decode_form(b"Body=Halo+kak%2C+%F0%9F%99%8F&To=%2B1555&empty=&flag&To=x")
            .expect("valid form");
        assert_eq!(
            pairs,
            vec![
                ("Body".to_owned(), "Halo kak, 🙏".to_owned()),
                ("To".to_owned(), "+1555".to_owned()),
                ("empty".to_owned(), String::new()),
                ("flag".to_owned(), String::new()),
                ("To".to_owned(), "x".to_owned()),
            ]
        );
        assert_eq!(form_value(&pairs, "To"), Some("+1555"));
    }

    #[test]
    fn invalid_utf8_in_a_form_is_malformed_not_replaced() {
        let refused = decode_form(b"Body=%FF%FE").expect_err("invalid UTF-8");
        assert_eq!(refused.code(), "malformed_body");
    }

    #[test]
    fn json_paths_read_strings_and_scalars() {
        let value = serde_json::json!({"a": {"b": " x ", "n": 12, "e": ""}});
        assert_eq!(json_str(&value, &["a", "b"]), Some("x"));
        assert_eq!(json_str(&value, &["a", "e"]), None);
        assert_eq!(json_str(&value, &["a", "n"]), None);
        assert_eq!(json_scalar(&value, &["a", "n"]).as_deref(), Some("12"));
        assert_eq!(json_scalar(&value, &["missing"]), None);
    }

    #[test]
    fn empty_and_deeply_nested_json_are_malformed() {
        assert!(parse_json::<serde_json::Value>(b"  ").is_err());
        let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse_json::<serde_json::Value>(nested.as_bytes()).is_err());
    }
}
