//! A row the real ClickHouse refuses goes to the DLQ with the server's message, and the rest
//! of its batch lands.
//!
//! The refusal is a check in the table: a `MATERIALIZED throwIf(...)` column added by the test,
//! the 18.16 way of `CONSTRAINT ... CHECK` (22.x+), which ClickHouse evaluates while inserting,
//! before anything of the insert is stored, and reports as code 395.
#![cfg(feature = "integration")]

use std::time::Duration;

use lintas_integration_tests::gateway::{header, read_records};
use lintas_integration_tests::sink::{RunningSink, SinkFixture, id_set, server_client};
use lintas_integration_tests::wait_for;
use lintas_schema::v1::ClassifiedInteraction;
use prost::Message as _;
use rdkafka::Message as _;

const EVENTS: usize = 300;
const REJECTED: usize = 150;
const POISON_TEXT: &str = "please refuse this row";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_row_is_dead_lettered_with_the_servers_message_and_its_neighbours_land()
-> anyhow::Result<()> {
    let fixture = SinkFixture::create(1).await?;
    server_client()
        .query(&format!(
            "ALTER TABLE {} ADD COLUMN refuse_check UInt8 MATERIALIZED throwIf(text = '{POISON_TEXT}')",
            fixture.table()
        ))
        .execute()
        .await?;
    let ids = fixture
        .produce(EVENTS, |index| {
            (index == REJECTED).then(|| POISON_TEXT.to_owned())
        })
        .await?;

    // One batch holds every event, so the refused row shares its insert with 299 others.
    let sink = RunningSink::start(fixture.config(&[
        ("LINTAS__SINK__BATCH_MAX_ROWS", "1000"),
        ("LINTAS__SINK__BATCH_MAX_WAIT", "2s"),
    ]));
    let config = fixture.config(&[]);
    let dead = read_records(&config, &fixture.dlq, 1, Duration::from_secs(90))?;
    wait_for(
        "the neighbours in clickhouse",
        Duration::from_secs(60),
        || async { (fixture.count_final().await.ok()? >= (EVENTS - 1) as u64).then_some(()) },
    )
    .await;
    sink.stop().await?;

    let record = &dead[0];
    let message = header(record, lintas_kafka::dlq::ERROR_MESSAGE).unwrap_or_default();
    assert!(
        message.contains("Code: 395"),
        "server message kept: {message}"
    );
    assert!(
        message.contains("throwIf"),
        "server message kept: {message}"
    );
    assert_eq!(
        header(record, lintas_kafka::dlq::ERROR_KIND).as_deref(),
        Some("clickhouse_rejected")
    );
    assert_eq!(
        header(record, lintas_kafka::dlq::STAGE).as_deref(),
        Some("sink")
    );
    assert_eq!(
        header(record, lintas_kafka::dlq::ORIGIN_PARTITION).as_deref(),
        Some("0")
    );
    let payload = record.payload().expect("original bytes");
    let refused = ClassifiedInteraction::decode(payload)?;
    let refused_id = refused.event.expect("event").event_id;
    assert_eq!(refused_id, ids[REJECTED]);

    let stored = fixture.ids_final().await?;
    let stored_ids: Vec<String> = stored.iter().map(|(id, _)| id.clone()).collect();
    let mut expected = ids.clone();
    expected.remove(REJECTED);
    assert_eq!(id_set(&stored_ids), id_set(&expected), "neighbours differ");
    assert!(
        stored.iter().all(|(_, copies)| *copies == 1),
        "duplicates under FINAL"
    );
    assert_eq!(
        fixture.committed_total()?,
        EVENTS as i64,
        "offset moved past the refused row"
    );
    Ok(())
}
