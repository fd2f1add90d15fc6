//! The schema on the real ClickHouse server: migrations are idempotent and recorded, rows
//! encoded by `lintas_clickhouse` read back unchanged, and the rollups hold the fixture's
//! figures with redeliveries counted once where the rollup promises it.
#![cfg(feature = "integration")]

use std::collections::BTreeSet;
use std::process::Command;

use lintas_clickhouse::migrate::applied_migrations;
use lintas_clickhouse::{COLUMNS, Error, InteractionRow, SchemaVariant, migrations};
use lintas_integration_tests::clickhouse_url;
use lintas_integration_tests::process::lintas_bin;
use lintas_integration_tests::warehouse::{TestDatabase, server_client};

#[tokio::test]
async fn migrating_twice_applies_each_migration_once_and_records_it() -> anyhow::Result<()> {
    let db = TestDatabase::migrated("ch_migrate").await?;
    let server = server_client();
    let expected_versions: Vec<u32> = migrations().iter().map(|m| m.version).collect();
    assert_eq!(expected_versions, [1, 2, 3, 4]);

    let again = lintas_clickhouse::migrate(&server, &db.options, &db.capabilities).await?;
    assert!(again.applied.is_empty(), "{again:?}");
    assert_eq!(again.already_applied, expected_versions);

    let recorded = applied_migrations(&server, &db.options).await?;
    let versions: Vec<u32> = recorded.iter().map(|m| m.version).collect();
    assert_eq!(versions, expected_versions);
    let variant = db.capabilities.schema_variant();
    for (row, migration) in recorded.iter().zip(migrations()) {
        assert_eq!(row.name, migration.name);
        assert_eq!(row.checksum, migration.checksum());
        assert_eq!(row.variant, variant.as_str());
        assert_eq!(row.server_version, db.capabilities.version.to_string());
        assert!(row.applied_at > 1_700_000_000, "{row:?}");
    }
    // Recorded once: no second row per version, even before a merge.
    let stored = db
        .column("SELECT count() FROM lintas_schema_migrations")
        .await?;
    assert_eq!(stored, ["4"]);

    let tables: BTreeSet<String> = db
        .column(&format!(
            "SELECT name FROM system.tables WHERE database = '{}'",
            db.name
        ))
        .await?
        .into_iter()
        .collect();
    let expected_tables: BTreeSet<String> = [
        "interactions",
        "interactions_volume_hourly",
        "interactions_volume_hourly_mv",
        "conversation_first_response",
        "conversation_first_response_mv",
        "feedback_daily",
        "feedback_daily_mv",
        "lintas_schema_migrations",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    // Materialized views without TO keep an inner table; ours write TO named tables, so the
    // set is exact.
    assert_eq!(tables, expected_tables);
    if variant == SchemaVariant::Core {
        let lc = db
            .column(&format!(
                "SELECT count() FROM system.columns WHERE database = '{}' \
                 AND type LIKE '%LowCardinality%'",
                db.name
            ))
            .await?;
        assert_eq!(lc, ["0"], "the core schema must not need LowCardinality");
    }
    Ok(())
}

#[tokio::test]
async fn a_migration_edited_after_it_was_applied_is_refused() -> anyhow::Result<()> {
    let db = TestDatabase::migrated("ch_checksum").await?;
    // A later row for version 2 replaces the recorded one (ReplacingMergeTree, FINAL).
    db.client
        .query(
            "INSERT INTO lintas_schema_migrations \
             SELECT 2, 'volume_hourly_rollup', 'edited', 'core', '0.0.0', now()",
        )
        .execute()
        .await?;
    let error = lintas_clickhouse::migrate(&server_client(), &db.options, &db.capabilities)
        .await
        .expect_err("a changed checksum must stop the migration");
    assert!(
        matches!(error, Error::ChecksumMismatch { version: 2, ref recorded, .. } if recorded == "edited"),
        "{error}"
    );
    Ok(())
}

fn select_columns() -> String {
    format!(
        "SELECT {} FROM interactions ORDER BY kafka_offset",
        COLUMNS.join(", ")
    )
}

#[tokio::test]
async fn rows_encoded_by_hand_and_by_the_crate_serializer_read_back_unchanged() -> anyhow::Result<()>
{
    let rows = lintas_clickhouse::fixture::rows();

    // The sink's path: pre-encoded RowBinary bytes.
    let encoded = TestDatabase::migrated("ch_encode").await?;
    assert_eq!(encoded.load_fixture().await?, rows.len());
    let read: Vec<InteractionRow> = encoded.client.query(&select_columns()).fetch_all().await?;
    assert_eq!(read.len(), rows.len());
    for (got, want) in read.iter().zip(&rows) {
        assert_eq!(got, want, "row at offset {}", want.kafka_offset);
    }

    // The `clickhouse` crate's typed insert of the same struct.
    let typed = TestDatabase::migrated("ch_typed").await?;
    let mut insert = typed
        .client
        .insert::<InteractionRow>("interactions")
        .await?;
    for row in &rows {
        insert.write(row).await?;
    }
    insert.end().await?;
    let read_typed: Vec<InteractionRow> = typed.client.query(&select_columns()).fetch_all().await?;
    assert_eq!(read_typed, read);

    // The server computes the DateTime views from the stored microseconds.
    let at = encoded
        .column(
            "SELECT toString(occurred_at) FROM interactions \
             WHERE event_id = '00000000-0000-4000-8000-000000000001' LIMIT 1",
        )
        .await?;
    assert_eq!(at, ["2026-03-02 09:00:00"]);
    // FINAL collapses the two redeliveries: 20 rows stored, 18 events.
    let events = encoded
        .column("SELECT count() FROM interactions FINAL")
        .await?;
    assert_eq!(events, ["18"]);
    Ok(())
}

#[tokio::test]
async fn rollups_hold_the_fixture_figures() -> anyhow::Result<()> {
    let db = TestDatabase::migrated("ch_rollup").await?;
    db.load_fixture().await?;

    // 19 acme-shop rows arrived (17 events, 2 redelivered); `interactions` counts each once.
    let volume = db
        .column(
            "SELECT concat(toString(sum(r)), '/', toString(sum(i))) FROM (\
             SELECT countMerge(rows) AS r, uniqMerge(interactions) AS i \
             FROM interactions_volume_hourly WHERE tenant_id = 'acme-shop' \
             GROUP BY hour, channel, interaction_type, journey_stage, direction)",
        )
        .await?;
    assert_eq!(volume, ["19/17"]);
    let first_hour = db
        .column(
            "SELECT concat(toString(channel), ' ', toString(interaction_type), ' ', \
             toString(direction), ' ', toString(uniqMerge(interactions)), ' ', \
             toString(uniqIfMerge(customers))) \
             FROM interactions_volume_hourly \
             WHERE tenant_id = 'acme-shop' AND hour = toDateTime('2026-03-02 09:00:00', 'UTC') \
             GROUP BY channel, interaction_type, journey_stage, direction \
             ORDER BY channel, interaction_type, direction",
        )
        .await?;
    assert_eq!(
        first_hour,
        [
            "messaging service inbound 1 1",
            "messaging service outbound 1 1",
            "messaging not_applicable not_applicable 1 1",
        ]
    );

    let first_response = db
        .column(
            "SELECT concat(conversation_id, ' ', toString(channel), ' ', \
             toString(intDiv(minIfMerge(first_reply_us) - minIfMerge(first_inbound_us), 1000000)), \
             ' ', argMinIfMerge(first_reply_agent), ' ', toString(uniqMerge(messages))) \
             FROM conversation_first_response WHERE tenant_id = 'acme-shop' \
             GROUP BY conversation_id, channel ORDER BY conversation_id",
        )
        .await?;
    assert_eq!(
        first_response,
        [
            "wa:101 messaging 300 agent:ana 3",
            "wa:103 messaging 120 bot:faq 3",
            "zendesk_ticket:7 email 3600 agent:budi 3",
        ]
    );

    let feedback = db
        .column(
            "SELECT concat(toString(day), ' ', toString(channel), ' ', toString(rating_scale), \
             ' ', toString(uniqMerge(answers)), ' ', toString(avgMerge(value_avg)), ' ', \
             toString(countIfMerge(promoters)), ' ', toString(countIfMerge(detractors)), ' ', \
             toString(countIfMerge(satisfied))) \
             FROM feedback_daily WHERE tenant_id = 'acme-shop' \
             GROUP BY day, channel, rating_scale ORDER BY day",
        )
        .await?;
    assert_eq!(
        feedback,
        [
            "2026-03-06 survey nps 1 9 1 0 1",
            "2026-03-11 survey csat 1 2 0 0 0",
            "2026-04-03 social stars 1 5 0 0 1",
        ]
    );
    Ok(())
}

#[tokio::test]
async fn lintas_migrate_reports_applied_then_already_applied() -> anyhow::Result<()> {
    let database = lintas_integration_tests::unique_name("ch_cli");
    let run = |args: &[&str]| {
        Command::new(lintas_bin())
            .arg("migrate")
            .args(args)
            .env("LINTAS__CLICKHOUSE__URL", clickhouse_url())
            .env("LINTAS__CLICKHOUSE__DATABASE", &database)
            .env("LINTAS__TELEMETRY__LOG_FORMAT", "json")
            .output()
    };
    let dry = run(&["--dry-run"])?;
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let sql = String::from_utf8(dry.stdout)?;
    assert!(
        sql.contains(&format!("CREATE DATABASE IF NOT EXISTS `{database}`")),
        "{sql}"
    );
    assert!(
        sql.contains("-- migration 4 feedback_daily_rollup"),
        "{sql}"
    );
    // A dry run changes nothing.
    let exists = server_client()
        .query(&format!(
            "SELECT count() FROM system.databases WHERE name = '{database}'"
        ))
        .fetch_one::<u64>()
        .await?;
    assert_eq!(exists, 0);

    let first = run(&[])?;
    let first_out = String::from_utf8_lossy(&first.stdout);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        first_out.contains("applied [1, 2, 3, 4], already applied []"),
        "{first_out}"
    );
    let second = run(&[])?;
    let second_out = String::from_utf8_lossy(&second.stdout);
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(
        second_out.contains("applied [], already applied [1, 2, 3, 4]"),
        "{second_out}"
    );

    server_client()
        .query(&format!("DROP DATABASE `{database}`"))
        .execute()
        .await?;
    Ok(())
}

/// A CSAT answered on a two-point scale (Zendesk's good/bad becomes 0-1): "bad" must not count
/// as satisfied, in the rollup nor in the pack's `feedback_trend`; 1-5 keeps its top two points.
#[tokio::test]
async fn a_bad_answer_on_a_good_bad_scale_is_not_satisfied() -> anyhow::Result<()> {
    let db = TestDatabase::migrated("ch_csat").await?;
    let template = lintas_clickhouse::fixture::rows()
        .into_iter()
        .find(|row| row.rating_max == Some(5.0) && row.rating_value == Some(2.0))
        .ok_or_else(|| anyhow::anyhow!("the fixture lost its CSAT row"))?;
    let answers = [
        (0.0, 0.0, 1.0),
        (1.0, 0.0, 1.0),
        (4.0, 1.0, 5.0),
        (3.0, 1.0, 5.0),
    ];
    let rows: Vec<InteractionRow> = answers
        .iter()
        .enumerate()
        .map(|(i, &(value, min, max))| InteractionRow {
            tenant_id: "csat-scales".to_owned(),
            event_id: format!("00000000-0000-4000-8000-00000000000{i}"),
            source_event_id: format!("csat-{i}"),
            rating_value: Some(value),
            rating_min: Some(min),
            rating_max: Some(max),
            ..template.clone()
        })
        .collect();
    let sql = lintas_clickhouse::insert_sql(&db.name, lintas_clickhouse::INTERACTIONS_TABLE);
    let mut insert = db.client.insert_formatted_with(sql);
    for (name, value) in db.capabilities.insert_settings("csat/0/0-3") {
        insert = insert.with_setting(name, value);
    }
    insert
        .send(lintas_clickhouse::encode_rows(&rows).into())
        .await?;
    insert.end().await?;

    let satisfied = db
        .column(
            "SELECT concat(toString(uniqMerge(answers)), ' ', toString(countIfMerge(satisfied))) \
             FROM feedback_daily WHERE tenant_id = 'csat-scales'",
        )
        .await?;
    // good (1 of 0-1) and 4 of 1-5 are satisfied; bad (0 of 0-1) and 3 of 1-5 are not.
    assert_eq!(satisfied, ["4 2"]);

    let day = db
        .column("SELECT toString(min(toDate(occurred_at))) FROM interactions WHERE tenant_id = 'csat-scales'")
        .await?;
    let day = day.first().cloned().unwrap_or_default();
    let params = [
        ("tenant", "csat-scales"),
        ("from", day.as_str()),
        ("to", day.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let trend = lintas_clickhouse::query::PackQuery::find("feedback_trend")?.render(&params)?;
    let score = db.column(&format!("SELECT score FROM ({trend})")).await?;
    assert_eq!(score, ["50"]);
    Ok(())
}
