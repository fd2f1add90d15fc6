//! `[clickhouse]`: the HTTP endpoint the sink and `lintas migrate` talk to.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::Sensitive;
use crate::sensitive::mask_url_userinfo;
use crate::validator::{Validator, render, scalar_text};

/// Upper bound for ClickHouse request timeouts: longer ones only hide a hung server.
const MAX_REQUEST_TIMEOUT: Duration = Duration::from_secs(3600);
/// Every remembered block costs the server a hash in memory and in ZooKeeper/Keeper (replicated
/// tables); beyond a million that cost outweighs any retry window.
const MAX_DEDUP_WINDOW_BLOCKS: u64 = 1_000_000;

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
    /// `clickhouse.cluster`: name of a cluster from the servers' `remote_servers`; when set,
    /// `lintas migrate` creates the tables `ON CLUSTER` with Replicated engines behind
    /// Distributed tables. `None` (empty) for a single server.
    pub cluster: Option<String>,
    /// `clickhouse.dedup_window_blocks`: how many recent insert blocks each table remembers
    /// to drop a retried batch (its `insert_deduplication_token`); rendered by `lintas migrate`
    /// on servers that have insert tokens (22.2+) as `non_replicated_deduplication_window` or
    /// `replicated_deduplication_window`. 0 turns deduplication off.
    pub dedup_window_blocks: u32,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawClickhouse {
    url: Value,
    database: Value,
    user: Value,
    password: Value,
    request_timeout: Value,
    cluster: Value,
    dedup_window_blocks: Value,
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
    let cluster = validate_cluster(&raw.cluster, v);
    let dedup_window_blocks = v.integer(
        "clickhouse.dedup_window_blocks",
        &raw.dedup_window_blocks,
        0,
        MAX_DEDUP_WINDOW_BLOCKS,
    );
    Some(ClickhouseConfig {
        url: url?,
        database: database?,
        user: user?,
        password: password?,
        request_timeout: request_timeout?,
        cluster: cluster?,
        dedup_window_blocks: dedup_window_blocks?,
    })
}

/// Empty means no cluster; otherwise an identifier, since it is spliced into `ON CLUSTER` DDL.
fn validate_cluster(raw: &Value, v: &mut Validator) -> Option<Option<String>> {
    const KEY: &str = "clickhouse.cluster";
    let name = v.optional_string(KEY, raw)?;
    match name {
        Some(name)
            if name.len() > 255
                || !name.chars().enumerate().all(|(index, c)| {
                    c == '_' || c.is_ascii_alphabetic() || (index > 0 && c.is_ascii_digit())
                }) =>
        {
            v.invalid(
                KEY,
                render(raw),
                "empty for a single server, or a cluster name: a letter or _ followed by letters, digits or _",
            );
            None
        }
        other => Some(other),
    }
}

/// Credentials in the URL are refused: they would bypass masking when the configuration is
/// printed, and `user`/`password` already carry them. Errors show the URL with any user
/// information masked, since a rejected URL may still hold a password.
fn validate_url(raw: &Value, v: &mut Validator) -> Option<Url> {
    const KEY: &str = "clickhouse.url";
    const EXPECTED: &str = "an http:// or https:// URL such as http://127.0.0.1:8123";
    let shown = mask_url_userinfo(&render(raw));
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
    // ClickHouse reads `?password=` and `?user=` from the query string too, which would carry
    // a secret past masking into every log line naming the URL; its settings have their own
    // keys here. The value is not shown: it may be that password.
    if url.query().is_some() || url.fragment().is_some() {
        v.invalid(
            KEY,
            format!(
                "{}://{}/... (query string not shown)",
                url.scheme(),
                url.host_str().unwrap_or_default()
            ),
            "a base URL without a query string or fragment; set clickhouse.user, \
             clickhouse.password and clickhouse.database instead",
        );
        return None;
    }
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_names_are_identifiers_or_empty() {
        let mut v = Validator::default();
        assert_eq!(
            validate_cluster(&Value::String(String::new()), &mut v),
            Some(None)
        );
        assert_eq!(
            validate_cluster(&Value::String("main_2".into()), &mut v),
            Some(Some("main_2".into()))
        );
        assert_eq!(
            validate_cluster(&Value::String("a' DROP".into()), &mut v),
            None
        );
    }
}
