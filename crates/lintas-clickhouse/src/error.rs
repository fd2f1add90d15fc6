//! Errors of the ClickHouse layer, each naming what failed.

/// What went wrong talking to ClickHouse or preparing SQL for it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `SELECT version()` failed or answered something unparseable.
    #[error("cannot detect the ClickHouse server version: {0}")]
    Version(String),
    /// `SELECT version()` could not be run: the server is unreachable or refused it. The cause
    /// stays a source so that the CLI's chain ends in the OS error ("Connection refused").
    #[error("cannot detect the ClickHouse server version: SELECT version() failed")]
    VersionQuery(#[source] clickhouse::error::Error),
    /// A migration statement failed on the server.
    #[error("migration {version} ({name}) failed on statement {statement}: {source}")]
    Migration {
        /// Migration version.
        version: u32,
        /// Migration name.
        name: &'static str,
        /// 1-based statement number within the migration.
        statement: usize,
        /// The server's answer.
        #[source]
        source: clickhouse::error::Error,
    },
    /// A migration recorded as applied has a different checksum than the one in this binary.
    #[error(
        "migration {version} ({name}) was applied with checksum {recorded}, this binary has {expected}: the schema was changed after it was applied"
    )]
    ChecksumMismatch {
        /// Migration version.
        version: u32,
        /// Migration name.
        name: &'static str,
        /// Checksum in the migrations table.
        recorded: String,
        /// Checksum of this binary's migration.
        expected: String,
    },
    /// Reading or writing the migrations table failed.
    #[error("migrations table {table}: {source}")]
    MigrationsTable {
        /// The table.
        table: String,
        /// The server's answer.
        #[source]
        source: clickhouse::error::Error,
    },
    /// No query of that name in the pack.
    #[error("unknown query {name:?}; available: {available}")]
    UnknownQuery {
        /// The name asked for.
        name: String,
        /// Comma-separated names of the pack.
        available: String,
    },
    /// A parameter the query needs was not given.
    #[error("query {query} needs parameter {param} ({ty}); pass --param {param}=VALUE")]
    MissingParam {
        /// The query.
        query: String,
        /// The parameter.
        param: String,
        /// Its ClickHouse type.
        ty: String,
    },
    /// A parameter value does not fit its type.
    #[error("parameter {param}={value:?} is not a valid {ty}: {reason}")]
    InvalidParam {
        /// The parameter.
        param: String,
        /// The value given.
        value: String,
        /// Its ClickHouse type.
        ty: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A parameter was given that the query does not use (likely a typo).
    #[error("query {query} has no parameter {param}; its parameters: {known}")]
    UnknownParam {
        /// The query.
        query: String,
        /// The parameter given.
        param: String,
        /// The query's parameters.
        known: String,
    },
    /// A query file of the pack is malformed (a bug caught by the pack's tests).
    #[error("query {query}: {reason}")]
    MalformedQuery {
        /// The query.
        query: String,
        /// What is wrong.
        reason: String,
    },
    /// A query failed on the server.
    #[error("query {query} failed: {source}")]
    Query {
        /// The query name.
        query: String,
        /// The server's answer.
        #[source]
        source: clickhouse::error::Error,
    },
    /// The query-pack fixture's expected answers could not be read.
    #[error("expected answer {file}: {reason}")]
    Fixture {
        /// The file or directory.
        file: String,
        /// What is wrong.
        reason: String,
    },
}
