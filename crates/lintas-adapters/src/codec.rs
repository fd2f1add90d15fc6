//! Body and header decoding shared by the adapters: content types, JSON, forms (urlencoded and
//! multipart) and query strings.
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

/// A decoded `multipart/form-data` body: text fields in their original order (duplicates kept,
/// the same shape as [`decode_form`], so [`form_value`] reads both) and the file parts' metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MultipartForm {
    /// Name/value pairs of the parts without a `filename`.
    pub fields: Vec<(String, String)>,
    /// The parts with a `filename` (attachments); their content is not kept.
    pub files: Vec<FilePart>,
}

/// An attachment of a `multipart/form-data` body, without its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePart {
    /// The form field name (`attachment-1`).
    pub name: String,
    /// The file name the sender gave.
    pub file_name: String,
    /// The part's `Content-Type`, when given.
    pub content_type: Option<String>,
    /// Size of the content in bytes.
    pub size_bytes: usize,
}

/// Decodes a `multipart/form-data` body whose `Content-Type` header is `content_type`.
///
/// A missing or unreadable `boundary` parameter, a truncated body, broken part headers and text
/// fields that are not valid UTF-8 are [`AdapterError::Malformed`]; a boundary is never guessed
/// from the body. Parts without a name are skipped.
///
/// The parser ([`multer`]) is async; the body is already buffered, so it is handed over as one
/// ready chunk and the parse completes on the first poll, without a runtime.
pub fn decode_multipart_form(
    content_type: &str,
    body: &[u8],
) -> Result<MultipartForm, AdapterError> {
    let boundary = multer::parse_boundary(content_type).map_err(|error| match error {
        multer::Error::NoBoundary => {
            AdapterError::malformed("multipart/form-data without a `boundary` parameter")
        }
        _ => AdapterError::malformed("content type is not a valid multipart/form-data type"),
    })?;
    let chunk = bytes::Bytes::copy_from_slice(body);
    let stream = futures::stream::iter([Ok::<_, std::convert::Infallible>(chunk)]);
    let multipart = multer::Multipart::new(stream, boundary);
    poll_buffered(collect_multipart(multipart))
        .unwrap_or_else(|| Err(AdapterError::malformed("multipart body could not be read")))
}

async fn collect_multipart(
    mut multipart: multer::Multipart<'_>,
) -> Result<MultipartForm, AdapterError> {
    let mut form = MultipartForm::default();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|error| multipart_error(&error))?
    {
        let Some(name) = field.name().map(str::to_owned) else {
            continue;
        };
        let file_name = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(ToString::to_string);
        let content = field
            .bytes()
            .await
            .map_err(|error| multipart_error(&error))?;
        match file_name {
            Some(file_name) => form.files.push(FilePart {
                name,
                file_name,
                content_type,
                size_bytes: content.len(),
            }),
            None => {
                let value = String::from_utf8(content.to_vec()).map_err(|_| {
                    AdapterError::malformed("multipart text field is not valid UTF-8")
                })?;
                form.fields.push((name, value));
            }
        }
    }
    Ok(form)
}

/// A fixed reason per category: multer's messages can quote field names from the body.
fn multipart_error(error: &multer::Error) -> AdapterError {
    let reason = match error {
        multer::Error::IncompleteStream
        | multer::Error::IncompleteFieldData { .. }
        | multer::Error::IncompleteHeaders => "truncated multipart body",
        multer::Error::ReadHeaderFailed(_)
        | multer::Error::DecodeHeaderName { .. }
        | multer::Error::DecodeHeaderValue { .. } => "invalid multipart part headers",
        _ => "unreadable multipart body",
    };
    AdapterError::malformed(reason)
}

/// Polls a future that never waits (its input is fully buffered) to completion, without a
/// runtime. `None` if it keeps answering `Pending`, rather than spinning or blocking forever.
fn poll_buffered<F: std::future::Future>(future: F) -> Option<F::Output> {
    use std::task::{Context, Poll, Waker};
    /// A ready input completes on the first poll; a few more only absorb spurious wake-ups.
    const MAX_POLLS: usize = 4;
    let mut future = std::pin::pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    for _ in 0..MAX_POLLS {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return Some(output);
        }
    }
    None
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

    const MULTIPART: &str = "multipart/form-data; boundary=XyZ";

    #[test]
    fn multipart_forms_keep_text_fields_in_order_and_attachment_metadata_only() {
        let text_parts = "--XyZ\r\nContent-Disposition: form-data; name=\"sender\"\r\n\r\na@example.com\r\n\
                          --XyZ\r\nContent-Disposition: form-data; name=\"stripped-text\"\r\n\r\nHalo 🙏\r\nline 2\r\n\
                          --XyZ\r\nContent-Disposition: form-data; name=\"attachment-1\"; filename=\"a.bin\"\r\n\
                          Content-Type: application/octet-stream\r\n\r\n";
        // The attachment's bytes are binary (not UTF-8) and must not be decoded as text.
        let raw = [
            text_parts.as_bytes(),
            &[0xFF, 0xFE, 0x00],
            b"\r\n--XyZ--\r\n",
        ]
        .concat();
        let form = decode_multipart_form(MULTIPART, &raw).expect("valid multipart");
        assert_eq!(
            form.fields,
            vec![
                ("sender".to_owned(), "a@example.com".to_owned()),
                ("stripped-text".to_owned(), "Halo 🙏\r\nline 2".to_owned()),
            ]
        );
        assert_eq!(
            form.files,
            vec![FilePart {
                name: "attachment-1".to_owned(),
                file_name: "a.bin".to_owned(),
                content_type: Some("application/octet-stream".to_owned()),
                size_bytes: 3,
            }]
        );
        assert_eq!(form_value(&form.fields, "sender"), Some("a@example.com"));
    }

    #[test]
    fn multipart_without_boundary_is_malformed_and_never_guessed() {
        let body =
            b"--abc\r\nContent-Disposition: form-data; name=\"sender\"\r\n\r\nx\r\n--abc--\r\n";
        let refused = decode_multipart_form("multipart/form-data", body).expect_err("no boundary");
        assert_eq!(refused.code(), "malformed_body");
        assert!(refused.to_string().contains("boundary"), "{refused}");
    }

    #[test]
    fn truncated_or_non_utf8_multipart_is_malformed() {
        let truncated =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"sender\"\r\n\r\nsecret_customer_text";
        let refused = decode_multipart_form(MULTIPART, truncated).expect_err("truncated");
        assert_eq!(refused.code(), "malformed_body");
        assert!(!refused.to_string().contains("secret_customer_text"));
        let invalid =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\n\xFF\r\n--XyZ--\r\n";
        assert!(decode_multipart_form(MULTIPART, invalid).is_err());
        assert!(decode_multipart_form(MULTIPART, b"").is_err());
        assert!(decode_multipart_form("multipart/form-data; boundary=XyZ", b"--XyZ--\r\n").is_ok());
    }
}
