//! The analysts' query pack (`sql/queries/*.sql`), compiled into the binary.
//!
//! Each file starts with a comment header; `-- param NAME Type[ = default]: text` lines
//! declare the parameters, which the SQL uses as `{NAME:Type}` (ClickHouse's query parameter
//! syntax). ClickHouse 18.16 has no server-side query parameters (added in 19.x), so the values
//! are substituted client-side as literals: each is checked against its type first and strings
//! are escaped, so a value can never end the literal. The same rendered SQL runs on every
//! server version.

use std::collections::BTreeMap;

use crate::error::Error;

/// A query of the pack.
#[derive(Debug, Clone, Copy)]
pub struct PackQuery {
    /// File stem, the name `lintas query` takes.
    pub name: &'static str,
    /// The whole file: header comment and SQL.
    pub source: &'static str,
}

macro_rules! pack {
    ($($name:literal),* $(,)?) => {
        &[$(PackQuery {
            name: $name,
            source: include_str!(concat!("../../../sql/queries/", $name, ".sql")),
        }),*]
    };
}

/// Every query, by name.
pub const PACK: &[PackQuery] = pack![
    "channel_mix",
    "interaction_matrix",
    "journey_funnel",
    "first_response_times",
    "feedback_trend",
    "open_service_load",
    "customer_timeline",
];

/// A declared parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// Name used in `{name:Type}`.
    pub name: String,
    /// ClickHouse type.
    pub ty: String,
    /// Value used when none is given.
    pub default: Option<String>,
    /// What it means.
    pub description: String,
}

impl PackQuery {
    /// The query named `name`, or an error listing the pack.
    pub fn find(name: &str) -> Result<Self, Error> {
        PACK.iter()
            .find(|q| q.name == name)
            .copied()
            .ok_or_else(|| Error::UnknownQuery {
                name: name.to_owned(),
                available: PACK.iter().map(|q| q.name).collect::<Vec<_>>().join(", "),
            })
    }

    /// The question the query answers (the header's `-- question:` line).
    pub fn question(&self) -> &'static str {
        self.source
            .lines()
            .find_map(|line| line.strip_prefix("-- question:"))
            .map_or("", str::trim)
    }

    /// The declared parameters, in header order.
    pub fn params(&self) -> Result<Vec<Param>, Error> {
        let malformed = |reason: String| Error::MalformedQuery {
            query: self.name.to_owned(),
            reason,
        };
        let mut params = Vec::new();
        for line in self.source.lines() {
            let Some(decl) = line.strip_prefix("-- param ") else {
                continue;
            };
            let (head, description) = decl
                .split_once(':')
                .ok_or_else(|| malformed(format!("param line without ':': {line}")))?;
            let (head, default) = match head.split_once('=') {
                Some((head, default)) => (head, Some(default.trim().to_owned())),
                None => (head, None),
            };
            let mut words = head.split_whitespace();
            let (Some(name), Some(ty), None) = (words.next(), words.next(), words.next()) else {
                return Err(malformed(format!("expected `-- param NAME Type`: {line}")));
            };
            params.push(Param {
                name: name.to_owned(),
                ty: ty.to_owned(),
                default,
                description: description.trim().to_owned(),
            });
        }
        Ok(params)
    }

    /// The SQL with every `{name:Type}` replaced by the checked literal of its value.
    pub fn render(&self, values: &BTreeMap<String, String>) -> Result<String, Error> {
        let params = self.params()?;
        if let Some(unknown) = values
            .keys()
            .find(|k| !params.iter().any(|p| &p.name == *k))
        {
            return Err(Error::UnknownParam {
                query: self.name.to_owned(),
                param: unknown.clone(),
                known: params
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let mut literals = BTreeMap::new();
        for param in &params {
            let value = values
                .get(&param.name)
                .or(param.default.as_ref())
                .ok_or_else(|| Error::MissingParam {
                    query: self.name.to_owned(),
                    param: param.name.clone(),
                    ty: param.ty.clone(),
                })?;
            literals.insert(
                format!("{{{}:{}}}", param.name, param.ty),
                literal(&param.name, &param.ty, value)?,
            );
        }
        let body: String = self
            .source
            .lines()
            .filter(|line| !line.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n");
        let mut out = String::with_capacity(body.len());
        let mut rest = body.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| Error::MalformedQuery {
                    query: self.name.to_owned(),
                    reason: "unclosed {".to_owned(),
                })?;
            let placeholder = &rest[open..=open + close];
            let value = literals
                .get(placeholder)
                .ok_or_else(|| Error::MalformedQuery {
                    query: self.name.to_owned(),
                    reason: format!("{placeholder} is not declared by a `-- param` line"),
                })?;
            out.push_str(value);
            rest = &rest[open + close + 1..];
        }
        out.push_str(rest);
        Ok(out.trim().trim_end_matches(';').to_owned())
    }
}

/// The SQL literal of `value` as a `ty`, or why it is not one.
fn literal(name: &str, ty: &str, value: &str) -> Result<String, Error> {
    let invalid = |reason: &'static str| Error::InvalidParam {
        param: name.to_owned(),
        value: value.to_owned(),
        ty: ty.to_owned(),
        reason,
    };
    match ty {
        "String" => Ok(quote_string(value)),
        "Date" => {
            let date = parse_date(value).ok_or_else(|| invalid("expected YYYY-MM-DD"))?;
            if !in_server_range(date) {
                return Err(invalid(DATE_RANGE));
            }
            Ok(format!("toDate('{value}')"))
        }
        "DateTime" => {
            let time = (value.len() == 19 && digits_except(value, &[4, 7, 10, 13, 16]))
                .then(|| chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S").ok())
                .flatten()
                .ok_or_else(|| invalid("expected 'YYYY-MM-DD hh:mm:ss' (UTC)"))?;
            if !in_server_range(time.date()) {
                return Err(invalid(DATE_RANGE));
            }
            Ok(format!("toDateTime('{value}', 'UTC')"))
        }
        "UInt32" => value
            .parse::<u32>()
            .map(|n| n.to_string())
            .map_err(|_| invalid("expected an integer in 0..=4294967295")),
        "Int64" => value
            .parse::<i64>()
            .map(|n| n.to_string())
            .map_err(|_| invalid("expected a 64-bit integer")),
        _ => Err(invalid("type not supported by the query pack")),
    }
}

/// What `Date` and `DateTime` hold on every supported server (days and seconds since 1970 as
/// unsigned integers). Outside it ClickHouse 18.16 does not refuse a literal but wraps or clamps
/// it, so a typo like 9999-12-31 would silently query the wrong days.
const DATE_RANGE: &str = "outside the dates ClickHouse stores, 1970-01-01 to 2105-12-31";

fn in_server_range(date: chrono::NaiveDate) -> bool {
    let first = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    let last = chrono::NaiveDate::from_ymd_opt(2105, 12, 31).expect("valid date");
    (first..=last).contains(&date)
}

/// Exactly `YYYY-MM-DD` and a real calendar day (no 2026-02-31, which the server would roll
/// over into March).
fn parse_date(text: &str) -> Option<chrono::NaiveDate> {
    if text.len() != 10 || !digits_except(text, &[4, 7]) {
        return None;
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// Every byte an ASCII digit except at `separators`: chrono alone would accept a sign or a
/// space inside a field, which is not the fixed-width form the pack documents.
fn digits_except(text: &str, separators: &[usize]) -> bool {
    text.bytes()
        .enumerate()
        .all(|(i, b)| separators.contains(&i) || b.is_ascii_digit())
}

/// `'text'` with `\` and `'` escaped, the ClickHouse string literal syntax of every version.
pub fn quote_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Runs the rendered `sql` of `query` and returns the server's answer in `format` (a
/// ClickHouse output format such as `TabSeparatedWithNames`).
pub async fn fetch(
    client: &clickhouse::Client,
    query: &PackQuery,
    sql: &str,
    format: &str,
) -> Result<Vec<u8>, Error> {
    let to_error = |source| Error::Query {
        query: query.name.to_owned(),
        source,
    };
    // `query_raw`: a `?` inside a string literal is data, not a client-side bind placeholder.
    let mut request = client.query_raw(sql);
    if format.starts_with("JSON") {
        // ClickHouse quotes 64-bit integers in JSON by default (for JavaScript's sake), so counts
        // would be strings next to float averages; analysts' tools want numbers.
        request = request.with_setting("output_format_json_quote_64bit_integers", "0");
    }
    let mut cursor = request.fetch_bytes(format).map_err(to_error)?;
    Ok(cursor.collect().await.map_err(to_error)?.to_vec())
}

/// Rows of `TabSeparated` text, with its escapes (`\t`, `\n`, `\\`...) undone.
pub fn parse_tsv(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|line| line.split('\t').map(unescape_tsv).collect())
        .collect()
}

fn unescape_tsv(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests;
