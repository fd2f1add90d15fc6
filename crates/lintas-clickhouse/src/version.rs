//! Server version detection and the features it unlocks.

use std::fmt;

use crate::error::Error;

/// A ClickHouse server version, `major.minor[.patch...]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServerVersion {
    /// Major version (18, 23, 26...).
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Patch version, 0 when absent.
    pub patch: u32,
}

impl ServerVersion {
    /// Parses `18.16.1`, `26.9.1.1`, `24.8` (extra components ignored).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let mut parts = text.trim().split('.');
        let mut next = |required: bool| -> Result<u32, Error> {
            match parts.next() {
                Some(part) => part
                    .parse()
                    .map_err(|_| Error::Version(format!("not a version: {text:?}"))),
                None if required => Err(Error::Version(format!("not a version: {text:?}"))),
                None => Ok(0),
            }
        };
        Ok(Self {
            major: next(true)?,
            minor: next(true)?,
            patch: next(false)?,
        })
    }

    const fn at_least(self, major: u32, minor: u32) -> bool {
        self.major > major || (self.major == major && self.minor >= minor)
    }
}

impl fmt::Display for ServerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Which DDL the migrations render. The stored columns and so the insert (column list and
/// RowBinary bytes) are the same in both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaVariant {
    /// Portable to ClickHouse 18.16: `String` instead of `LowCardinality`, no TTL, no skip
    /// indexes, `DateTime` views of the times only.
    Core,
    /// 23.8 LTS and newer: adds `LowCardinality`, `DateTime64(6)` and `Map` views, TTL from
    /// `sink.ttl_days`, a bloom filter index on customer ids and a non-replicated
    /// deduplication window for insert tokens.
    Modern,
}

impl SchemaVariant {
    /// `core` or `modern`, as recorded in the migrations table.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Core => "core",
            Self::Modern => "modern",
        }
    }
}

/// What the connected server supports, from its version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerCapabilities {
    /// The detected version.
    pub version: ServerVersion,
}

/// Oldest version given the modern schema: the project's oldest supported LTS.
const MODERN_FROM: (u32, u32) = (23, 8);

impl ServerCapabilities {
    /// Capabilities of a server of `version`.
    pub fn new(version: ServerVersion) -> Self {
        Self { version }
    }

    /// Runs `SELECT version()` on the client's server.
    pub async fn detect(client: &clickhouse::Client) -> Result<Self, Error> {
        let text: String = client
            .query("SELECT version()")
            .fetch_one()
            .await
            .map_err(Error::VersionQuery)?;
        Ok(Self::new(ServerVersion::parse(&text)?))
    }

    /// The schema variant migrations create on this server.
    pub fn schema_variant(&self) -> SchemaVariant {
        if self.version.at_least(MODERN_FROM.0, MODERN_FROM.1) {
            SchemaVariant::Modern
        } else {
            SchemaVariant::Core
        }
    }

    /// `insert_deduplication_token` is known (22.2+; 18.16 answers `Unknown setting`). With
    /// the modern schema's `non_replicated_deduplication_window` it makes a retried batch a
    /// no-op.
    pub fn supports_insert_deduplication_token(&self) -> bool {
        self.version.at_least(22, 2)
    }

    /// Settings to send with an insert of the batch identified by `token` (for example
    /// `topic/partition/first-last`): none on servers without insert tokens, since unknown
    /// settings fail the whole request there.
    pub fn insert_settings(&self, token: &str) -> Vec<(&'static str, String)> {
        if !self.supports_insert_deduplication_token() {
            return Vec::new();
        }
        vec![
            ("insert_deduplication_token", token.to_owned()),
            // The rollups' materialized views must skip a deduplicated block too, or a retried
            // batch would be counted twice there.
            (
                "deduplicate_blocks_in_dependent_materialized_views",
                "1".to_owned(),
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_order() {
        let old = ServerVersion::parse("18.16.1").expect("valid");
        let new = ServerVersion::parse("26.9.1.1").expect("valid");
        assert_eq!(old.to_string(), "18.16.1");
        assert!(old < new);
        assert_eq!(ServerVersion::parse("24.8").expect("valid").patch, 0);
        assert!(ServerVersion::parse("banana").is_err());
        assert!(ServerVersion::parse("18").is_err());
    }

    #[test]
    fn old_servers_get_the_core_schema_and_no_insert_settings() {
        let old = ServerCapabilities::new(ServerVersion::parse("18.16.1").expect("valid"));
        assert_eq!(old.schema_variant(), SchemaVariant::Core);
        assert!(old.insert_settings("t/0/1-9").is_empty());
        let lts = ServerCapabilities::new(ServerVersion::parse("23.8.2").expect("valid"));
        assert_eq!(lts.schema_variant(), SchemaVariant::Modern);
        assert_eq!(
            lts.insert_settings("t/0/1-9")[0],
            ("insert_deduplication_token", "t/0/1-9".to_owned())
        );
        let mid = ServerCapabilities::new(ServerVersion::parse("22.3").expect("valid"));
        assert_eq!(mid.schema_variant(), SchemaVariant::Core);
        assert!(mid.supports_insert_deduplication_token());
    }
}
