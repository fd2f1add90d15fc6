//! `[clickhouse]`: the HTTP endpoint the sink and `lintas migrate` talk to.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::Sensitive;
use crate::sensitive::MASK;
use crate::validator::{Validator, render, scalar_text};

/// Upper bound for ClickHouse request timeouts: longer ones only hide a hung server.
const MAX_REQUEST_TIMEOUT: Duration = Duration::from_secs(3600);

/// Connection to ClickHouse over HTTP(S).
#[derive(Debug, Clone, Serialize)]
pub struct ClickhouseConfig {
    /// `clickhouse.url`: base URL of the HTTP interface, `http` or `https`, without credentials.
    #[serde(serialize_with = "crate::ser::display")]
    pub url: Url,
    /// `clickhouse.database`: database holding the Lintas tables (an identifier).
    pub database: String,
    /// `clickhouse.user`: user name sent with every request.
    pub user: String,
    /// `clickhouse.password`: password of `user`; may be empty.
    pub password: Sensitive<String>,
    /// `clickhouse.request_timeout`: limit for one HTTP request, insert or query.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawClickhouse {
    url: Value,
    database: Value,
    user: Value,
    password: Value,
    request_timeout: Value,
}

pub(crate) fn validate(raw: RawClickhouse, v: &mut Validator) -> Option<ClickhouseConfig> {
    let url = validate_url(&raw.url, v);
    let database = v.restricted_string(
        "clickhouse.database",
        &raw.database,
        "an identifier: a letter or _ followed by letters, digits or _",
        255,
        |index, c| c == '_' || c.is_ascii_alphabetic() || (index > 0 && c.is_ascii_digit()),
    );
    let user = v.non_empty_string("clickhouse.user", &raw.user);
    let password = v.secret("clickhouse.password", &raw.password);
    let request_timeout = v.positive_duration(
        "clickhouse.request_timeout",
        &raw.request_timeout,
        MAX_REQUEST_TIMEOUT,
    );
    Some(ClickhouseConfig {
        url: url?,
        database: database?,
        user: user?,
        password: password?,
        request_timeout: request_timeout?,
    })
}

/// Credentials in the URL are refused: they would bypass masking when the configuration is
/// printed, and `user`/`password` already carry them. Errors show the URL with any user
/// information masked, since a rejected URL may still hold a password.
fn validate_url(raw: &Value, v: &mut Validator) -> Option<Url> {
    const KEY: &str = "clickhouse.url";
    const EXPECTED: &str = "an http:// or https:// URL such as http://127.0.0.1:8123";
    let shown = mask_userinfo(&render(raw));
    let parsed = scalar_text(raw)
        .and_then(|text| Url::parse(text.trim()).ok())
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some());
    let Some(url) = parsed else {
        v.invalid(KEY, shown, EXPECTED);
        return None;
    };
    if !url.username().is_empty() || url.password().is_some() {
        v.invalid(
            KEY,
            shown,
            "a URL without credentials; set clickhouse.user and clickhouse.password instead",
        );
        return None;
    }
    Some(url)
}

/// `http://user:secret@host/x` -> `http://****@host/x`; other text is returned unchanged.
fn mask_userinfo(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{MASK}{}", &rest[at..]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_information_is_masked_in_url_errors() {
        assert_eq!(
            mask_userinfo("http://bob:hunter2@ch:8123/x@y"),
            "http://****@ch:8123/x@y"
        );
        assert_eq!(mask_userinfo("http://ch:8123"), "http://ch:8123");
        assert_eq!(mask_userinfo("not a url"), "not a url");
    }
}
