//! The harness is real: a row goes through the real ClickHouse server via the `clickhouse` crate.
#![cfg(feature = "integration")]

use clickhouse::{Client, Row};
use lintas_integration_tests::{clickhouse_url, unique_name};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Row, Serialize, Deserialize)]
struct SmokeRow {
    event_id: String,
    tenant_id: String,
    occurred_at: u32,
    amount_minor: i64,
}

#[tokio::test]
async fn a_row_inserted_with_rowbinary_is_read_back() -> anyhow::Result<()> {
    // Validation needs RowBinaryWithNamesAndTypes, which ClickHouse 18.16 lacks.
    let client = Client::default()
        .with_url(clickhouse_url())
        .with_validation(false);
    let version: String = client.query("SELECT version()").fetch_one().await?;
    assert!(!version.is_empty());

    let table = unique_name("smoke");
    client
        .query(&format!(
            "CREATE TABLE {table} (event_id String, tenant_id String, occurred_at DateTime, \
             amount_minor Int64) ENGINE = MergeTree ORDER BY (tenant_id, occurred_at)"
        ))
        .execute()
        .await?;
    let rows = vec![
        SmokeRow {
            event_id: "1a4b940a-2ade-5631-a74b-b6afc5f62f9b".into(),
            tenant_id: "acme-shop".into(),
            occurred_at: 1_741_947_910,
            amount_minor: 129_900,
        },
        SmokeRow {
            event_id: "0193a0f2-7c1e-7000-8000-000000000002".into(),
            tenant_id: "acme-shop".into(),
            occurred_at: 1_741_947_911,
            amount_minor: -500,
        },
    ];
    let mut insert = client.insert::<SmokeRow>(&table).await?;
    for row in &rows {
        insert.write(row).await?;
    }
    insert.end().await?;

    let read: Vec<SmokeRow> = client
        .query(&format!(
            "SELECT event_id, tenant_id, occurred_at, amount_minor FROM {table} \
             ORDER BY occurred_at"
        ))
        .fetch_all()
        .await?;
    client
        .query(&format!("DROP TABLE {table}"))
        .execute()
        .await?;
    assert_eq!(read, rows);
    Ok(())
}
