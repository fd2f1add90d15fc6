//! The sink delivers every classified event of the real broker to the real ClickHouse exactly
//! once (ids compared), dead-letters an undecodable record with its origin and moves past it,
//! and commits every offset once it stops; on shutdown it flushes and commits batches that
//! neither their size nor their age had closed yet.
#![cfg(feature = "integration")]

use std::time::Duration;

use lintas_integration_tests::gateway::{header, read_records};
use lintas_integration_tests::sink::{RunningSink, SinkFixture, id_set, metric_value};
use lintas_integration_tests::wait_for;
use rdkafka::Message as _;

const EVENTS: usize = 1000;
const FLUSHED_ON_SHUTDOWN: usize = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n_classified_events_become_n_rows_garbage_goes_to_the_dlq_and_shutdown_flushes()
-> anyhow::Result<()> {
    let metrics = lintas_telemetry::install_metrics_recorder()?;
    let fixture = SinkFixture::create(3).await?;
    let mut ids = fixture.produce(EVENTS / 2, |_| None).await?;
    let garbage_offset = fixture.produce_garbage(b"\xff\xfe not protobuf").await?;
    ids.extend(fixture.produce(EVENTS / 2, |_| None).await?);

    let sink = RunningSink::start(fixture.config(&[]));
    wait_for(
        "every event in clickhouse",
        Duration::from_secs(60),
        || async { (fixture.count_final().await.ok()? >= EVENTS as u64).then_some(()) },
    )
    .await;
    sink.stop().await?;

    let stored = fixture.ids_final().await?;
    let stored_ids: Vec<String> = stored.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(
        id_set(&stored_ids),
        id_set(&ids),
        "ids in clickhouse differ"
    );
    assert_eq!(stored.len(), EVENTS);
    assert!(
        stored.iter().all(|(_, copies)| *copies == 1),
        "duplicates under FINAL"
    );

    let config = fixture.config(&[]);
    let dead = read_records(&config, &fixture.dlq, 1, Duration::from_secs(30))?;
    assert_eq!(dead[0].payload(), Some(&b"\xff\xfe not protobuf"[..]));
    assert_eq!(
        header(&dead[0], lintas_kafka::dlq::STAGE).as_deref(),
        Some("sink")
    );
    assert_eq!(
        header(&dead[0], lintas_kafka::dlq::ERROR_KIND).as_deref(),
        Some("decode")
    );
    assert_eq!(
        header(&dead[0], lintas_kafka::dlq::ORIGIN_OFFSET),
        Some(garbage_offset.to_string())
    );
    assert_eq!(
        header(&dead[0], lintas_kafka::dlq::ORIGIN_TOPIC).as_deref(),
        Some(fixture.classified.as_str())
    );

    // Every record, the garbage included, is committed: a restarted sink reads nothing again.
    assert_eq!(fixture.committed_total()?, EVENTS as i64 + 1);

    // Shutdown flushes: batches far from full and far from their age limit are held in memory
    // until the shutdown future (what SIGTERM resolves in `lintas sink`) inserts and commits
    // them.
    let held = fixture.produce(FLUSHED_ON_SHUTDOWN, |_| None).await?;
    let sink = RunningSink::start(fixture.config(&[
        ("LINTAS__SINK__BATCH_MAX_ROWS", "100000"),
        ("LINTAS__SINK__BATCH_MAX_WAIT", "10m"),
    ]));
    wait_for(
        "the new events held in batches",
        Duration::from_secs(60),
        || async {
            let buffered = metric_value(&metrics.render(), "lintas_sink_buffered_rows")?;
            (buffered >= FLUSHED_ON_SHUTDOWN as f64).then_some(())
        },
    )
    .await;
    assert_eq!(
        fixture.count_final().await?,
        EVENTS as u64,
        "nothing inserted before shutdown"
    );
    sink.stop().await?;
    ids.extend(held);
    let stored = fixture.ids_final().await?;
    let stored_ids: Vec<String> = stored.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(
        id_set(&stored_ids),
        id_set(&ids),
        "ids after the shutdown flush"
    );
    assert!(
        stored.iter().all(|(_, copies)| *copies == 1),
        "duplicates under FINAL"
    );
    assert_eq!(
        fixture.committed_total()?,
        (EVENTS + FLUSHED_ON_SHUTDOWN) as i64 + 1,
        "the flushed batches are committed"
    );
    Ok(())
}

#[tokio::test]
async fn a_sink_whose_topic_is_missing_stops_at_start_naming_it() -> anyhow::Result<()> {
    let fixture = SinkFixture::create(1).await?;
    let missing = lintas_integration_tests::unique_name("missing.classified");
    let config = fixture.config(&[("LINTAS__KAFKA__TOPIC_CLASSIFIED", missing.as_str())]);
    let health = lintas_telemetry::Health::new();
    let ended = tokio::time::timeout(
        Duration::from_secs(60),
        lintas_sink::run(config, health.clone(), std::future::pending()),
    )
    .await
    .map_err(|_| anyhow::anyhow!("the sink kept running without its topic"))?;
    let message = ended.expect_err("no topic, no sink").to_string();
    assert!(message.contains(&missing), "{message}");
    assert!(message.contains("lintas topics apply"), "{message}");
    assert!(!health.is_ready());
    Ok(())
}
