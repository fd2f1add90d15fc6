use lintas_schema::v1::{
    Actor, Channel, Direction, InteractionType, JourneyStage, NormalizationFlag, RatingScale,
};

use super::*;
use crate::migrate::{bootstrap, migrations, render_script};
use crate::version::{ServerCapabilities, ServerVersion};

fn options(variant: SchemaVariant, cluster: Option<&str>) -> SchemaOptions {
    SchemaOptions {
        database: "analytics".to_owned(),
        variant,
        cluster: cluster.map(str::to_owned),
        ttl_days: 400,
        dedup_window_blocks: 2000,
    }
}

/// Every statement of the schema: bootstrap, then each migration.
fn all_statements(o: &SchemaOptions) -> Vec<String> {
    let mut out = bootstrap(o);
    for migration in migrations() {
        out.extend(migration.statements(o));
    }
    out
}

/// Checks an `Enum8` member list against the proto enum: same numbers, names equal to the
/// proto names without their prefix, in lower case, and no proto value missing.
fn same_as_proto(members: &[(&str, i8)], prefix: &str, name_of: impl Fn(i32) -> Option<String>) {
    for &(name, number) in members {
        let Some(proto) = name_of(i32::from(number)) else {
            panic!("{prefix}: {number} ({name}) is not a proto value");
        };
        let expected = proto.trim_start_matches(prefix).to_lowercase();
        // A rating scale of 0 means "no rating" in the table, hence `none`.
        let expected = if expected == "unspecified" && prefix == "RATING_SCALE_" {
            "none".to_owned()
        } else {
            expected
        };
        assert_eq!(name, expected, "{prefix}{number}");
    }
    for number in 0..=i32::from(i8::MAX) {
        if name_of(number).is_some() {
            assert!(
                members.iter().any(|&(_, n)| i32::from(n) == number),
                "{prefix}: proto value {number} has no Enum8 member"
            );
        }
    }
}

#[test]
fn enum8_members_are_the_proto_enums() {
    let name = |s: &str| Some(s.to_owned());
    same_as_proto(CHANNELS, "CHANNEL_", |n| {
        Channel::try_from(n)
            .ok()
            .and_then(|v| name(v.as_str_name()))
    });
    same_as_proto(DIRECTIONS, "DIRECTION_", |n| {
        Direction::try_from(n)
            .ok()
            .and_then(|v| name(v.as_str_name()))
    });
    same_as_proto(ACTORS, "ACTOR_", |n| {
        Actor::try_from(n).ok().and_then(|v| name(v.as_str_name()))
    });
    same_as_proto(RATING_SCALES, "RATING_SCALE_", |n| {
        RatingScale::try_from(n)
            .ok()
            .and_then(|v| name(v.as_str_name()))
    });
    same_as_proto(NORMALIZATION_FLAGS, "NORMALIZATION_FLAG_", |n| {
        NormalizationFlag::try_from(n)
            .ok()
            .and_then(|v| name(v.as_str_name()))
    });
    same_as_proto(INTERACTION_TYPES, "INTERACTION_TYPE_", |n| {
        InteractionType::try_from(n)
            .ok()
            .and_then(|v| name(v.as_str_name()))
    });
    same_as_proto(JOURNEY_STAGES, "JOURNEY_STAGE_", |n| {
        JourneyStage::try_from(n)
            .ok()
            .and_then(|v| name(v.as_str_name()))
    });
}

#[test]
fn the_core_schema_uses_nothing_18_16_lacks() {
    let sql = all_statements(&options(SchemaVariant::Core, None)).join("\n");
    for modern in [
        "LowCardinality",
        "DateTime64",
        "Map(",
        "TTL",
        "SETTINGS",
        "bloom_filter",
        "ON CLUSTER",
        "Replicated",
        "Distributed",
    ] {
        assert!(!sql.contains(modern), "core schema contains {modern}");
    }
    assert!(sql.contains("CREATE TABLE IF NOT EXISTS `analytics`.`interactions` ("));
    assert!(sql.contains("ENGINE = ReplacingMergeTree(row_version)"));
}

#[test]
fn the_modern_schema_adds_types_ttl_and_dedup_windows_from_the_options() {
    let statements = all_statements(&options(SchemaVariant::Modern, None));
    let sql = statements.join("\n");
    assert!(sql.contains("tenant_id LowCardinality(String)"));
    assert!(sql.contains("occurred_at64 DateTime64(6, 'UTC') MATERIALIZED"));
    assert!(sql.contains("attributes Map(String, String) MATERIALIZED"));
    assert!(sql.contains(" TTL occurred_at + INTERVAL 400 DAY"));
    // interactions and the three rollup tables remember 2000 blocks each.
    assert_eq!(
        sql.matches("SETTINGS non_replicated_deduplication_window = 2000")
            .count(),
        4
    );
    // The stored columns, and so the insert, are the same as in the core schema.
    let core = interactions_ddl(&options(SchemaVariant::Core, None));
    let modern = interactions_ddl(&options(SchemaVariant::Modern, None));
    for column in crate::encode::COLUMNS {
        let type_of = |ddl: &str| {
            ddl.lines()
                .find_map(|line| line.trim().strip_prefix(&format!("{column} ")))
                .map(|rest| {
                    rest.trim_end_matches(',')
                        .replace("LowCardinality(String)", "String")
                })
        };
        assert_eq!(type_of(&core), type_of(&modern), "{column}");
        assert!(type_of(&core).is_some(), "{column} missing");
    }

    let no_extras = SchemaOptions {
        ttl_days: 0,
        dedup_window_blocks: 0,
        ..options(SchemaVariant::Modern, None)
    };
    let sql = all_statements(&no_extras).join("\n");
    assert!(!sql.contains("TTL") && !sql.contains("SETTINGS"), "{sql}");
}

#[test]
fn cluster_mode_replicates_local_tables_behind_distributed_ones() {
    let o = options(SchemaVariant::Modern, Some("main"));
    let statements = all_statements(&o);
    for statement in &statements {
        assert!(statement.contains(" ON CLUSTER `main`"), "{statement}");
    }
    let sql = statements.join("\n");
    assert!(sql.contains(
        "CREATE TABLE IF NOT EXISTS `analytics`.`interactions_local` ON CLUSTER `main` ("
    ));
    assert!(sql.contains(
        "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/analytics/interactions_local', '{replica}', row_version)"
    ));
    assert!(sql.contains(
        "CREATE TABLE IF NOT EXISTS `analytics`.`interactions` ON CLUSTER `main` AS `analytics`.`interactions_local` \
         ENGINE = Distributed(`main`, `analytics`, interactions_local, cityHash64(event_id))"
    ));
    for rollup in [
        VOLUME_HOURLY_TABLE,
        FIRST_RESPONSE_TABLE,
        FEEDBACK_DAILY_TABLE,
    ] {
        assert!(sql.contains(&format!(
            "ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{{shard}}/analytics/{rollup}_local', '{{replica}}')"
        )));
        assert!(sql.contains(&format!(
            "CREATE TABLE IF NOT EXISTS `analytics`.`{rollup}` ON CLUSTER `main` AS `analytics`.`{rollup}_local` ENGINE = Distributed("
        )));
        // Each server's view reads its own local rows and writes its own local rollup.
        assert!(sql.contains(&format!(
            "CREATE MATERIALIZED VIEW IF NOT EXISTS `analytics`.`{rollup}_mv` ON CLUSTER `main` TO `analytics`.`{rollup}_local` AS SELECT"
        )));
    }
    assert!(
        !sql.contains("FROM `analytics`.`interactions` "),
        "views must read the local table"
    );
    assert_eq!(
        sql.matches("SETTINGS replicated_deduplication_window = 2000")
            .count(),
        4
    );
    assert!(
        sql.contains("`analytics`.`lintas_schema_migrations` ON CLUSTER `main` (version UInt32")
    );
    assert!(sql.contains(
        "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/analytics/lintas_schema_migrations', '{replica}')"
    ));
}

#[test]
fn the_dry_run_script_lists_every_statement_once_with_checksums() {
    let o = options(SchemaVariant::Core, Some("main"));
    let capabilities = ServerCapabilities::new(ServerVersion::parse("18.16.1").expect("valid"));
    let script = render_script(&o, &capabilities);
    assert!(script.starts_with(
        "-- lintas migrate --dry-run: server 18.16.1, core schema, database analytics, cluster main\n"
    ));
    let statements: Vec<String> = script
        .split(";\n\n")
        .map(|chunk| {
            chunk
                .lines()
                .filter(|line| !line.starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(statements, all_statements(&o));
    for migration in migrations() {
        let line = format!(
            "-- migration {} {} (checksum {})\n",
            migration.version,
            migration.name,
            migration.checksum()
        );
        assert!(script.contains(&line), "{line}");
    }
}

#[test]
fn checksums_ignore_configuration_and_differ_between_migrations() {
    let checksums: Vec<String> = migrations().iter().map(|m| m.checksum()).collect();
    let distinct: std::collections::BTreeSet<&String> = checksums.iter().collect();
    assert_eq!(distinct.len(), checksums.len());
    assert!(checksums.iter().all(|c| c.len() == 64));
}
