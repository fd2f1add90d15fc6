//! Secrets that never show up in logs, `Debug` output or the printed configuration.

use std::fmt;

/// What a secret prints as, in `Debug`, in `Serialize` output and in error messages.
pub const MASK: &str = "****";

/// A URL as it can be shown in an error: `http://user:secret@host/x` -> `http://****@host/x`.
/// A text that does not parse may still hold credentials (`http//user:secret@host`), so without
/// `://` everything up to the last `@` is masked. Other text is returned unchanged.
pub fn mask_url_userinfo(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return match text.rfind('@') {
            Some(at) => format!("{MASK}{}", &text[at..]),
            None => text.to_owned(),
        };
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{MASK}{}", &rest[at..]),
        None => text.to_owned(),
    }
}

/// A secret value (password, write key, webhook signing secret).
///
/// `Debug` and `Serialize` print [`MASK`] instead of the value; the only way to read it is
/// [`Sensitive::expose`], which makes every use greppable. There is deliberately no `Display`,
/// `Deserialize` or `PartialEq`: comparing secrets must go through a constant-time comparison such
/// as [`Config::tenant_for_write_key`](crate::Config::tenant_for_write_key).
#[derive(Clone, Default)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    /// Wraps a secret.
    pub const fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret itself. Never log or format the result.
    pub const fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the secret, for handing it to a client library.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Sensitive<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{MASK:?}")
    }
}

impl<T> serde::Serialize for Sensitive<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(MASK)
    }
}

/// Compares two byte strings in time that depends only on their lengths, not on where they first
/// differ, so a caller guessing write keys learns nothing from response times.
///
/// The lengths themselves are not secret (keys have a documented minimum length and callers may
/// choose any length), so unequal lengths return early. `black_box` keeps the optimizer from
/// turning the accumulation into an early-exit loop.
// TODO: replace with `subtle::ConstantTimeEq` once `subtle` is a workspace dependency.
pub(crate) fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    if left.len() != right.len() {
        return false;
    }
    let difference = left
        .iter()
        .zip(right)
        .fold(0u8, |accumulated, (l, r)| accumulated | (l ^ r));
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_prints_the_mask_not_the_secret() {
        let secret = Sensitive::new("hunter2-hunter2".to_owned());
        let printed = format!("{secret:?}");
        assert_eq!(printed, "\"****\"");
        assert!(!printed.contains("hunter2"));
        assert_eq!(secret.expose(), "hunter2-hunter2");
    }

    #[test]
    fn serialize_prints_the_mask_not_the_secret() {
        let secret = Sensitive::new("hunter2-hunter2".to_owned());
        let json = serde_json::to_string(&secret).unwrap_or_default();
        assert_eq!(json, "\"****\"");
    }

    #[test]
    fn constant_time_eq_matches_ordinary_equality() {
        assert!(constant_time_eq(b"abcdef", b"abcdef"));
        assert!(!constant_time_eq(b"abcdef", b"abcdeg"));
        assert!(!constant_time_eq(b"abcdef", b"abcde"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn user_information_is_masked_in_url_errors() {
        assert_eq!(
            mask_url_userinfo("http://bob:hunter2@ch:8123/x@y"),
            "http://****@ch:8123/x@y"
        );
        assert_eq!(mask_url_userinfo("http://ch:8123"), "http://ch:8123");
        assert_eq!(mask_url_userinfo("not a url"), "not a url");
        assert_eq!(mask_url_userinfo("http//bob:hunter2@ch"), "****@ch");
    }
}
