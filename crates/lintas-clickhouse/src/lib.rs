//! The Lintas ClickHouse schema: the row the sink writes, its RowBinary encoding, versioned
//! migrations and the analysts' query pack.
//!
//! # For the sink (stable API)
//!
//! ```no_run
//! # async fn demo(ci: lintas_schema::v1::ClassifiedInteraction, client: clickhouse::Client)
//! # -> Result<(), Box<dyn std::error::Error>> {
//! use lintas_clickhouse::{InteractionRow, ServerCapabilities, INTERACTIONS_TABLE};
//!
//! // Once at start: what the server supports (`SELECT version()`).
//! let caps = ServerCapabilities::detect(&client).await?;
//!
//! // Per Kafka record of `lintas.interactions.classified.v1`:
//! let row = InteractionRow::from_classified(&ci, "lintas.interactions.classified.v1", 3, 42);
//!
//! // Either the crate's typed insert (validation must stay off for 18.16) ...
//! let mut insert = client.insert::<InteractionRow>(INTERACTIONS_TABLE).await?;
//! insert.write(&row).await?;
//! insert.end().await?;
//!
//! // ... or pre-encoded bytes (same layout), e.g. to cut batches by encoded size:
//! let mut bytes = Vec::new();
//! lintas_clickhouse::encode_row(&row, &mut bytes);
//! let mut insert = client
//!     .insert_formatted_with(lintas_clickhouse::insert_sql("lintas", INTERACTIONS_TABLE));
//! for (name, value) in caps.insert_settings("classified/3/42-42") {
//!     insert = insert.with_setting(name, value);
//! }
//! insert.send(bytes.into()).await?;
//! insert.end().await?;
//! # Ok(()) }
//! ```
//!
//! - [`InteractionRow::from_classified`] never fails and does not check enum numbers: the
//!   caller must check them against the member lists in [`schema`] (`CHANNELS`, ...) before
//!   inserting, since ClickHouse 18.16 stores an unknown `Enum8` number sent in RowBinary and
//!   then fails every query that reads the column (the sink dead-letters such records).
//! - [`ServerCapabilities::insert_settings`] is empty on servers without
//!   `insert_deduplication_token` (18.16 answers `Unknown setting` to it).
//! - Inserts always target [`INTERACTIONS_TABLE`] in the configured database; in cluster mode
//!   that is the Distributed table (sharded by `event_id`).
//! - The insert (columns [`COLUMNS`], RowBinary layout) is identical for every server version.
//!
//! # Deduplication
//!
//! `interactions` is a `ReplacingMergeTree(row_version)` keyed by
//! `(tenant_id, toDate(occurred_at), channel, event_id)`: queries read it with `FINAL`
//! (every query of the pack does). See `docs/schema.md`.
#![deny(missing_docs)]

pub mod encode;
pub mod error;
pub mod fixture;
pub mod migrate;
pub mod query;
pub mod row;
pub mod schema;
pub mod version;

pub use encode::{COLUMNS, encode_row, encode_rows, insert_sql};
pub use error::Error;
pub use migrate::{MigrationReport, migrate, migrations};
pub use row::InteractionRow;
pub use schema::{INTERACTIONS_TABLE, SchemaOptions};
pub use version::{SchemaVariant, ServerCapabilities, ServerVersion};

/// A client for the configured server: URL, database, credentials, timeout. Validation is off
/// because 18.16 lacks `RowBinaryWithNamesAndTypes`.
pub fn client(config: &lintas_config::ClickhouseConfig) -> clickhouse::Client {
    server_client(config).with_database(&config.database)
}

/// Like [`client`] but without a default database: for `lintas migrate`, which runs before
/// the database exists and names it in every statement.
pub fn server_client(config: &lintas_config::ClickhouseConfig) -> clickhouse::Client {
    clickhouse::Client::default()
        .with_url(config.url.as_str())
        .with_user(&config.user)
        .with_password(config.password.expose().as_str())
        .with_validation(false)
}

/// Schema options for `config` on a server with `capabilities`.
pub fn schema_options(
    config: &lintas_config::Config,
    capabilities: &ServerCapabilities,
) -> SchemaOptions {
    SchemaOptions {
        database: config.clickhouse.database.clone(),
        variant: capabilities.schema_variant(),
        cluster: config.clickhouse.cluster.clone(),
        ttl_days: config.sink.ttl_days,
        dedup_window_blocks: config.clickhouse.dedup_window_blocks,
    }
}
