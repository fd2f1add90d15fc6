//! The DDL of the Lintas tables, rendered per server variant and deployment (single server
//! or cluster).
//!
//! One rule keeps the insert path version-independent: every *stored* column has the same
//! type in both variants (`LowCardinality(String)` reads the same RowBinary as `String`), and
//! every type that only modern servers have (`DateTime64`, `Map`) is a `MATERIALIZED` column
//! computed by the server from stored ones.

use crate::version::SchemaVariant;

/// The table analysts query and the sink inserts into (a Distributed table in cluster mode).
pub const INTERACTIONS_TABLE: &str = "interactions";
/// Hourly volume rollup.
pub const VOLUME_HOURLY_TABLE: &str = "interactions_volume_hourly";
/// Per-conversation first inbound / first reply rollup.
pub const FIRST_RESPONSE_TABLE: &str = "conversation_first_response";
/// Daily feedback score rollup.
pub const FEEDBACK_DAILY_TABLE: &str = "feedback_daily";
/// Where applied migrations are recorded.
pub const MIGRATIONS_TABLE: &str = "lintas_schema_migrations";

/// `Enum8` members of each enum column: (name in ClickHouse, proto number).
pub const CHANNELS: &[(&str, i8)] = &[
    ("unspecified", 0),
    ("web_chat", 1),
    ("email", 2),
    ("social", 3),
    ("messaging", 4),
    ("sms", 5),
    ("voice", 6),
    ("web", 7),
    ("app", 8),
    ("store", 9),
    ("commerce", 10),
    ("survey", 11),
    ("crm", 12),
];
/// `direction` members.
pub const DIRECTIONS: &[(&str, i8)] = &[
    ("unspecified", 0),
    ("inbound", 1),
    ("outbound", 2),
    ("internal", 3),
    ("not_applicable", 4),
];
/// `actor` members.
pub const ACTORS: &[(&str, i8)] = &[
    ("unspecified", 0),
    ("customer", 1),
    ("agent", 2),
    ("bot", 3),
    ("system", 4),
];
/// `rating_scale` members.
pub const RATING_SCALES: &[(&str, i8)] = &[
    ("none", 0),
    ("nps", 1),
    ("csat", 2),
    ("stars", 3),
    ("ces", 4),
    ("thumbs", 5),
];
/// `normalization_flags` members.
pub const NORMALIZATION_FLAGS: &[(&str, i8)] = &[
    ("unspecified", 0),
    ("occurred_at_inferred", 1),
    ("timestamp_unit_corrected", 2),
    ("tz_assumed", 3),
    ("language_detected", 4),
    ("text_truncated", 5),
];
/// `interaction_type` members.
pub const INTERACTION_TYPES: &[(&str, i8)] = &[
    ("unspecified", 0),
    ("transactional", 1),
    ("service", 2),
    ("informative", 3),
    ("feedback", 4),
    ("relationship_building", 5),
    ("sales", 6),
    ("cross_sell_upsell", 7),
    ("not_applicable", 8),
];
/// `journey_stage` members.
pub const JOURNEY_STAGES: &[(&str, i8)] = &[
    ("unspecified", 0),
    ("awareness", 1),
    ("consideration", 2),
    ("purchase", 3),
    ("retention", 4),
    ("advocacy", 5),
    ("not_applicable", 6),
];

/// How to render the DDL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaOptions {
    /// Database holding the tables.
    pub database: String,
    /// Variant chosen from the server version.
    pub variant: SchemaVariant,
    /// Cluster name: `ON CLUSTER`, Replicated engines and Distributed tables.
    pub cluster: Option<String>,
    /// Retention of `interactions` in days (modern variant only); 0 keeps rows forever.
    pub ttl_days: u32,
    /// Insert blocks each table remembers for `insert_deduplication_token` (modern variant
    /// only; 18.16 has no tokens); 0 leaves the server's default.
    pub dedup_window_blocks: u32,
}

impl SchemaOptions {
    /// `db`.`name` of a table as analysts and the sink address it.
    pub fn table(&self, name: &str) -> String {
        format!("{}.{}", quote_ident(&self.database), quote_ident(name))
    }

    /// The table that stores rows: `name` itself, or `name_local` behind a Distributed `name`.
    pub fn storage_table(&self, name: &str) -> String {
        self.table(&self.storage_name(name))
    }

    /// ` ON CLUSTER name` or nothing.
    pub fn on_cluster(&self) -> String {
        self.cluster
            .as_deref()
            .map(|c| format!(" ON CLUSTER {}", quote_ident(c)))
            .unwrap_or_default()
    }

    fn low_cardinality(&self) -> &'static str {
        match self.variant {
            SchemaVariant::Core => "String",
            SchemaVariant::Modern => "LowCardinality(String)",
        }
    }

    /// `ENGINE = ...` of the table stored as `table` (unquoted, `_local` included in cluster
    /// mode); `engine` is the MergeTree family member without the `MergeTree` suffix
    /// (`Replacing`, `Aggregating`) and `args` its own arguments. In cluster mode the
    /// replication path is per shard (`{shard}` and `{replica}` are the servers' macros).
    pub fn engine(&self, table: &str, engine: &str, args: &str) -> String {
        match &self.cluster {
            None => format!("ENGINE = {engine}MergeTree({args})"),
            Some(_) => {
                let path = format!(
                    "'/clickhouse/tables/{{shard}}/{}/{table}', '{{replica}}'",
                    self.database
                );
                let args = if args.is_empty() {
                    path
                } else {
                    format!("{path}, {args}")
                };
                format!("ENGINE = Replicated{engine}MergeTree({args})")
            }
        }
    }

    /// Unquoted name of the table that stores `name`'s rows.
    pub fn storage_name(&self, name: &str) -> String {
        match self.cluster {
            Some(_) => format!("{name}_local"),
            None => name.to_owned(),
        }
    }

    /// ` SETTINGS ...` of every MergeTree table, or nothing.
    ///
    /// The deduplication window is set on the rollups too: with
    /// `deduplicate_blocks_in_dependent_materialized_views` a retried insert is dropped by each
    /// view's target only if that table remembers blocks as well (seen on 26.9: without it a
    /// retried batch was counted twice in the rollups while `interactions` dropped it).
    pub fn table_settings(&self) -> String {
        if self.variant == SchemaVariant::Core || self.dedup_window_blocks == 0 {
            return String::new();
        }
        let setting = match self.cluster {
            None => "non_replicated_deduplication_window",
            Some(_) => "replicated_deduplication_window",
        };
        format!(" SETTINGS {setting} = {}", self.dedup_window_blocks)
    }

    /// The Distributed table in front of `name_local` in cluster mode, sharded by `key` so
    /// rows of one key (one event) always meet on one shard, where they are deduplicated.
    pub fn distributed(&self, name: &str, key: &str) -> Option<String> {
        let cluster = self.cluster.as_deref()?;
        Some(format!(
            "CREATE TABLE IF NOT EXISTS {table}{on} AS {local} \
             ENGINE = Distributed({cluster}, {db}, {name}_local, {key})",
            table = self.table(name),
            on = self.on_cluster(),
            local = self.storage_table(name),
            cluster = quote_ident(cluster),
            db = quote_ident(&self.database),
            name = name,
        ))
    }
}

/// Backquoted identifier (config already restricts names to `[A-Za-z_][A-Za-z0-9_]*`; quoting
/// keeps a future relaxation from turning into SQL injection).
pub fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('\\', "\\\\").replace('`', "\\`"))
}

/// `Enum8('a' = 0, 'b' = 1)`.
pub fn enum8(members: &[(&str, i8)]) -> String {
    let members: Vec<String> = members
        .iter()
        .map(|(name, value)| format!("'{name}' = {value}"))
        .collect();
    format!("Enum8({})", members.join(", "))
}

/// `CREATE TABLE interactions` (or `interactions_local` in cluster mode).
pub fn interactions_ddl(o: &SchemaOptions) -> String {
    let lc = o.low_cardinality();
    let mut columns = vec![
        format!("tenant_id {lc}"),
        "event_id String".to_owned(),
        "source_event_id String".to_owned(),
        format!("source {lc}"),
        format!("channel {}", enum8(CHANNELS)),
        format!("direction {}", enum8(DIRECTIONS)),
        format!("actor {}", enum8(ACTORS)),
        format!("event_name {lc}"),
        "occurred_at_us Int64".to_owned(),
        "received_at_us Int64".to_owned(),
        "classified_at_us Int64".to_owned(),
        "customer_id String".to_owned(),
        "anonymous_id String".to_owned(),
        "customer_handles Array(String)".to_owned(),
        "conversation_id String".to_owned(),
        "agent_id String".to_owned(),
        "subject String".to_owned(),
        "text String".to_owned(),
        format!("language {lc}"),
        "amount_minor Nullable(Int64)".to_owned(),
        format!("currency {lc}"),
        format!("rating_scale {}", enum8(RATING_SCALES)),
        "rating_value Nullable(Float64)".to_owned(),
        "rating_min Nullable(Float64)".to_owned(),
        "rating_max Nullable(Float64)".to_owned(),
        "attribute_keys Array(String)".to_owned(),
        "attribute_values Array(String)".to_owned(),
        format!("normalization_flags Array({})", enum8(NORMALIZATION_FLAGS)),
        format!("interaction_type {}", enum8(INTERACTION_TYPES)),
        format!("journey_stage {}", enum8(JOURNEY_STAGES)),
        "type_confidence Float32".to_owned(),
        "stage_confidence Float32".to_owned(),
        format!("classifier_version {lc}"),
        "reasons Array(String)".to_owned(),
        format!("raw_topic {lc}"),
        "raw_partition Int32".to_owned(),
        "raw_offset Int64".to_owned(),
        format!("kafka_topic {lc}"),
        "kafka_partition Int32".to_owned(),
        "kafka_offset Int64".to_owned(),
        "row_version UInt64".to_owned(),
    ];
    // Second-precision views of the times: partitioning, sorting and the query pack use these,
    // identical on every version.
    for time in ["occurred_at", "received_at", "classified_at"] {
        columns.push(format!(
            "{time} DateTime('UTC') MATERIALIZED toDateTime(intDiv({time}_us, 1000000), 'UTC')"
        ));
    }
    let mut ttl = String::new();
    if o.variant == SchemaVariant::Modern {
        for time in ["occurred_at", "received_at", "classified_at"] {
            columns.push(format!(
                "{time}64 DateTime64(6, 'UTC') MATERIALIZED fromUnixTimestamp64Micro({time}_us, 'UTC')"
            ));
        }
        columns.push(
            "attributes Map(String, String) MATERIALIZED mapFromArrays(attribute_keys, attribute_values)"
                .to_owned(),
        );
        columns.push("INDEX customer_idx customer_id TYPE bloom_filter GRANULARITY 4".to_owned());
        if o.ttl_days > 0 {
            ttl = format!(" TTL occurred_at + INTERVAL {} DAY", o.ttl_days);
        }
    }
    format!(
        "CREATE TABLE IF NOT EXISTS {table}{on} (\n    {columns}\n) {engine} \
         PARTITION BY toYYYYMM(occurred_at) \
         ORDER BY (tenant_id, toDate(occurred_at), channel, event_id){ttl}{settings}",
        settings = o.table_settings(),
        table = o.storage_table(INTERACTIONS_TABLE),
        on = o.on_cluster(),
        columns = columns.join(",\n    "),
        engine = o.engine(
            &o.storage_name(INTERACTIONS_TABLE),
            "Replacing",
            "row_version"
        ),
    )
}

/// `CREATE MATERIALIZED VIEW name_mv TO name AS select`, reading the local interactions table.
pub fn materialized_view(o: &SchemaOptions, target: &str, select: &str) -> String {
    format!(
        "CREATE MATERIALIZED VIEW IF NOT EXISTS {view}{on} TO {target} AS {select}",
        view = o.table(&format!("{target}_mv")),
        on = o.on_cluster(),
        target = o.storage_table(target),
        select = select.replace("{interactions}", &o.storage_table(INTERACTIONS_TABLE)),
    )
}

#[cfg(test)]
mod tests;
