//! Versioned, idempotent migrations recorded in `lintas_schema_migrations`.
//!
//! Each migration is a list of `IF NOT EXISTS` statements, so re-running one that was cut
//! short is safe; it is recorded only after all its statements succeeded, and a recorded
//! migration is never run again. The checksum is taken over the migration's canonical
//! renderings (see [`Migration::checksum`]), so it changes exactly when the migration's SQL is
//! edited, not when the same migration is rendered for another server or configuration.
//!
//! Settings decided at creation (TTL, deduplication window, cluster) are not changed by a
//! later run with another configuration: a recorded migration is never re-rendered. Change
//! them with `ALTER TABLE ... MODIFY TTL` / `MODIFY SETTING` (docs/schema.md).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tracing::info;

use crate::error::Error;
use crate::schema::{
    self, FEEDBACK_DAILY_TABLE, FIRST_RESPONSE_TABLE, INTERACTIONS_TABLE, MIGRATIONS_TABLE,
    SchemaOptions, VOLUME_HOURLY_TABLE, quote_ident,
};
use crate::version::{SchemaVariant, ServerCapabilities};

/// One schema change.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Increasing version number, never reused.
    pub version: u32,
    /// Short snake_case name.
    pub name: &'static str,
    render: fn(&SchemaOptions) -> Vec<String>,
}

impl Migration {
    /// The statements for `options`, in order.
    pub fn statements(&self, options: &SchemaOptions) -> Vec<String> {
        (self.render)(options)
    }

    /// Hex SHA-256 of the canonical renderings: both variants, database `lintas`, no
    /// cluster, no TTL, no deduplication window. What configuration decides (names, cluster,
    /// TTL, window) is left out, so only an edit of the migration's SQL changes it.
    pub fn checksum(&self) -> String {
        let mut hash = Sha256::new();
        for variant in [SchemaVariant::Core, SchemaVariant::Modern] {
            let canonical = SchemaOptions {
                database: "lintas".to_owned(),
                variant,
                cluster: None,
                ttl_days: 0,
                dedup_window_blocks: 0,
            };
            for statement in self.statements(&canonical) {
                hash.update(statement.as_bytes());
                hash.update(b"\n;\n");
            }
        }
        hex::encode(hash.finalize())
    }
}

/// Every migration, in version order.
pub fn migrations() -> &'static [Migration] {
    &[
        Migration {
            version: 1,
            name: "interactions",
            render: interactions,
        },
        Migration {
            version: 2,
            name: "volume_hourly_rollup",
            render: volume_hourly,
        },
        Migration {
            version: 3,
            name: "conversation_first_response_rollup",
            render: first_response,
        },
        Migration {
            version: 4,
            name: "feedback_daily_rollup",
            render: feedback_daily,
        },
    ]
}

fn interactions(o: &SchemaOptions) -> Vec<String> {
    let mut out = vec![schema::interactions_ddl(o)];
    out.extend(o.distributed(INTERACTIONS_TABLE, "cityHash64(event_id)"));
    out
}

fn rollup(
    o: &SchemaOptions,
    name: &str,
    columns: &str,
    order_by: &str,
    key: &str,
    select: &str,
) -> Vec<String> {
    let mut out = vec![format!(
        "CREATE TABLE IF NOT EXISTS {table}{on} ({columns}) {engine} ORDER BY ({order_by}){settings}",
        table = o.storage_table(name),
        on = o.on_cluster(),
        engine = o.engine(&o.storage_name(name), "Aggregating", ""),
        settings = o.table_settings(),
    )];
    out.extend(o.distributed(name, key));
    out.push(schema::materialized_view(o, name, select));
    out
}

fn volume_hourly(o: &SchemaOptions) -> Vec<String> {
    let columns = format!(
        "tenant_id {lc}, hour DateTime('UTC'), channel {ch}, interaction_type {ty}, \
         journey_stage {st}, direction {dir}, \
         rows AggregateFunction(count), \
         interactions AggregateFunction(uniq, String), \
         customers AggregateFunction(uniqIf, String, UInt8)",
        lc = lc(o),
        ch = schema::enum8(schema::CHANNELS),
        ty = schema::enum8(schema::INTERACTION_TYPES),
        st = schema::enum8(schema::JOURNEY_STAGES),
        dir = schema::enum8(schema::DIRECTIONS),
    );
    let mut out = rollup(
        o,
        VOLUME_HOURLY_TABLE,
        &columns,
        "tenant_id, hour, channel, interaction_type, journey_stage, direction",
        "cityHash64(tenant_id)",
        "SELECT tenant_id, toStartOfHour(occurred_at) AS hour, channel, interaction_type, \
         journey_stage, direction, countState() AS rows, uniqState(event_id) AS interactions, \
         uniqIfState(customer_id, customer_id != '') AS customers \
         FROM {interactions} \
         GROUP BY tenant_id, hour, channel, interaction_type, journey_stage, direction",
    );
    partition_first(&mut out[0], "toYYYYMM(hour)");
    out
}

fn first_response(o: &SchemaOptions) -> Vec<String> {
    let columns = format!(
        "tenant_id {lc}, channel {ch}, conversation_id String, \
         first_inbound_us AggregateFunction(minIf, Int64, UInt8), \
         first_reply_us AggregateFunction(minIf, Int64, UInt8), \
         first_reply_agent AggregateFunction(argMinIf, String, Int64, UInt8), \
         messages AggregateFunction(uniq, String)",
        lc = lc(o),
        ch = schema::enum8(schema::CHANNELS),
    );
    rollup(
        o,
        FIRST_RESPONSE_TABLE,
        &columns,
        "tenant_id, channel, conversation_id",
        "cityHash64(conversation_id)",
        "SELECT tenant_id, channel, conversation_id, \
         minIfState(occurred_at_us, direction = 'inbound' AND actor = 'customer') AS first_inbound_us, \
         minIfState(occurred_at_us, direction = 'outbound' AND actor IN ('agent', 'bot')) AS first_reply_us, \
         argMinIfState(agent_id, occurred_at_us, direction = 'outbound' AND actor IN ('agent', 'bot')) AS first_reply_agent, \
         uniqState(event_id) AS messages \
         FROM {interactions} WHERE conversation_id != '' \
         GROUP BY tenant_id, channel, conversation_id",
    )
}

fn feedback_daily(o: &SchemaOptions) -> Vec<String> {
    let columns = format!(
        "tenant_id {lc}, day Date, channel {ch}, rating_scale {sc}, \
         answers AggregateFunction(uniq, String), \
         value_avg AggregateFunction(avg, Float64), \
         promoters AggregateFunction(countIf, UInt8), \
         detractors AggregateFunction(countIf, UInt8), \
         satisfied AggregateFunction(countIf, UInt8), \
         rows AggregateFunction(count)",
        lc = lc(o),
        ch = schema::enum8(schema::CHANNELS),
        sc = schema::enum8(schema::RATING_SCALES),
    );
    let mut out = rollup(
        o,
        FEEDBACK_DAILY_TABLE,
        &columns,
        "tenant_id, day, channel, rating_scale",
        "cityHash64(tenant_id)",
        // NPS: promoters 9-10, detractors 0-6. CSAT/stars: satisfied = the top two points of
        // the scale (4-5 of 1-5); on a two-point scale (Zendesk's good/bad as 0-1) only the top
        // one, or a bad answer would count as satisfied.
        "SELECT tenant_id, toDate(occurred_at) AS day, channel, rating_scale, \
         uniqState(event_id) AS answers, avgState(assumeNotNull(rating_value)) AS value_avg, \
         countIfState(rating_scale = 'nps' AND assumeNotNull(rating_value) >= 9) AS promoters, \
         countIfState(rating_scale = 'nps' AND assumeNotNull(rating_value) <= 6) AS detractors, \
         countIfState(assumeNotNull(rating_value) >= assumeNotNull(rating_max) \
         - if(assumeNotNull(rating_max) - assumeNotNull(rating_min) >= 2, 1, 0)) AS satisfied, \
         countState() AS rows \
         FROM {interactions} WHERE rating_scale != 'none' AND isNotNull(rating_value) \
         GROUP BY tenant_id, day, channel, rating_scale",
    );
    partition_first(&mut out[0], "toYYYYMM(day)");
    out
}

fn lc(o: &SchemaOptions) -> &'static str {
    match o.variant {
        SchemaVariant::Core => "String",
        SchemaVariant::Modern => "LowCardinality(String)",
    }
}

/// Inserts `PARTITION BY` before the `ORDER BY` of a rendered CREATE TABLE.
fn partition_first(create: &mut String, by: &str) {
    if let Some(at) = create.rfind(" ORDER BY (") {
        create.insert_str(at, &format!(" PARTITION BY {by}"));
    }
}

/// The statements that create the database and the migrations table (not themselves recorded).
pub fn bootstrap(o: &SchemaOptions) -> Vec<String> {
    vec![
        format!(
            "CREATE DATABASE IF NOT EXISTS {}{}",
            quote_ident(&o.database),
            o.on_cluster()
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {table}{on} (version UInt32, name String, \
             checksum String, variant String, server_version String, applied_at DateTime('UTC')) \
             {engine} ORDER BY version",
            table = o.table(MIGRATIONS_TABLE),
            on = o.on_cluster(),
            engine = o.engine(MIGRATIONS_TABLE, "Replacing", ""),
        ),
    ]
}

/// The whole schema as `lintas migrate --dry-run` prints it: a header comment naming the
/// server version, variant, database and cluster, the bootstrap statements, then each
/// migration under a `-- migration N name (checksum ...)` line. Every statement ends with
/// `;` and a blank line, so the script can be fed to `clickhouse-client --multiquery` or
/// split on `;\n`.
pub fn render_script(options: &SchemaOptions, capabilities: &ServerCapabilities) -> String {
    let mut out = format!(
        "-- lintas migrate --dry-run: server {}, {} schema, database {}{}\n",
        capabilities.version,
        options.variant.as_str(),
        options.database,
        options
            .cluster
            .as_deref()
            .map(|c| format!(", cluster {c}"))
            .unwrap_or_default()
    );
    let statement = |out: &mut String, sql: &str| {
        out.push_str(sql);
        out.push_str(";\n\n");
    };
    for sql in bootstrap(options) {
        statement(&mut out, &sql);
    }
    for migration in migrations() {
        out.push_str(&format!(
            "-- migration {} {} (checksum {})\n",
            migration.version,
            migration.name,
            migration.checksum()
        ));
        for sql in migration.statements(options) {
            statement(&mut out, &sql);
        }
    }
    out
}

/// A row of the migrations table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct AppliedMigration {
    /// Migration version.
    pub version: u32,
    /// Migration name.
    pub name: String,
    /// Checksum when applied.
    pub checksum: String,
    /// `core` or `modern`.
    pub variant: String,
    /// Server version when applied.
    pub server_version: String,
    /// Seconds since the epoch.
    pub applied_at: u32,
}

/// What one `migrate` run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationReport {
    /// Versions applied by this run.
    pub applied: Vec<u32>,
    /// Versions found already applied.
    pub already_applied: Vec<u32>,
}

/// Applies every migration not yet recorded, in order; verifies checksums of recorded ones.
pub async fn migrate(
    client: &clickhouse::Client,
    options: &SchemaOptions,
    capabilities: &ServerCapabilities,
) -> Result<MigrationReport, Error> {
    let table = options.table(MIGRATIONS_TABLE);
    for (index, statement) in bootstrap(options).iter().enumerate() {
        client
            .query(statement)
            .execute()
            .await
            .map_err(|source| Error::Migration {
                version: 0,
                name: "bootstrap",
                statement: index + 1,
                source,
            })?;
    }
    let applied = applied_migrations(client, options).await?;
    let mut report = MigrationReport::default();
    for migration in migrations() {
        if let Some(done) = applied.iter().find(|a| a.version == migration.version) {
            let expected = migration.checksum();
            if done.checksum != expected {
                return Err(Error::ChecksumMismatch {
                    version: migration.version,
                    name: migration.name,
                    recorded: done.checksum.clone(),
                    expected,
                });
            }
            report.already_applied.push(migration.version);
            continue;
        }
        for (index, statement) in migration.statements(options).iter().enumerate() {
            client
                .query(statement)
                .execute()
                .await
                .map_err(|source| Error::Migration {
                    version: migration.version,
                    name: migration.name,
                    statement: index + 1,
                    source,
                })?;
        }
        let record = format!(
            "INSERT INTO {table} (version, name, checksum, variant, server_version, applied_at) \
             SELECT {}, '{}', '{}', '{}', '{}', now()",
            migration.version,
            migration.name,
            migration.checksum(),
            options.variant.as_str(),
            capabilities.version,
        );
        client
            .query(&record)
            .execute()
            .await
            .map_err(|source| Error::MigrationsTable {
                table: table.clone(),
                source,
            })?;
        info!(
            version = migration.version,
            name = migration.name,
            variant = options.variant.as_str(),
            "migration applied"
        );
        report.applied.push(migration.version);
    }
    Ok(report)
}

/// The recorded migrations, one row per version.
pub async fn applied_migrations(
    client: &clickhouse::Client,
    options: &SchemaOptions,
) -> Result<Vec<AppliedMigration>, Error> {
    let table = options.table(MIGRATIONS_TABLE);
    client
        .query(&format!(
            "SELECT version, name, checksum, variant, server_version, toUInt32(applied_at) \
             FROM {table} FINAL ORDER BY version"
        ))
        .fetch_all()
        .await
        .map_err(|source| Error::MigrationsTable { table, source })
}
