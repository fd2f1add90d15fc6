//! ClickHouse stops for 60 s while events keep flowing: the sink pauses consumption (Kafka is
//! the buffer), keeps at most one open and one closed batch per partition in memory, and once
//! ClickHouse is back delivers every event exactly once (ids compared) and its lag returns to 0.
//!
//! It stops the real server with `$LINTAS_TEST_SERVICES clickhouse-stop`, so it is the only
//! test in this binary; a guard resumes the server even when an assertion fails.
#![cfg(feature = "integration")]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lintas_integration_tests::outage::Outage;
use lintas_integration_tests::sink::{RunningSink, SinkFixture, id_set, metric_value};
use lintas_integration_tests::wait_for;

const OUTAGE: Duration = Duration::from_secs(60);
const PARTITIONS: i32 = 3;
const BATCH_ROWS: u64 = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clickhouse_outage_pauses_the_sink_without_loss_duplicates_or_unbounded_memory()
-> anyhow::Result<()> {
    let metrics = lintas_telemetry::install_metrics_recorder()?;
    let fixture = SinkFixture::create(PARTITIONS).await?;
    let batch_rows = BATCH_ROWS.to_string();
    let sink = RunningSink::start(fixture.config(&[("LINTAS__SINK__BATCH_MAX_ROWS", &batch_rows)]));

    // Events flow all along: 50 every 100 ms.
    let producing = Arc::new(AtomicBool::new(true));
    let producer = {
        let fixture = fixture.clone();
        let producing = Arc::clone(&producing);
        tokio::spawn(async move {
            let producer = fixture.producer()?;
            let mut ids = Vec::new();
            while producing.load(Ordering::SeqCst) {
                ids.extend(fixture.produce_with(&producer, 50, |_| None).await?);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            anyhow::Ok(ids)
        })
    };
    wait_for("the sink to insert", Duration::from_secs(60), || async {
        (fixture.count_final().await.ok()? >= 500).then_some(())
    })
    .await;

    let mut outage = Outage::stop("clickhouse")?;
    let started = Instant::now();
    let mut paused_seen = false;
    let mut max_buffered = 0.0_f64;
    while started.elapsed() < OUTAGE {
        let exposition = metrics.render();
        paused_seen |= metric_value(&exposition, "lintas_sink_paused") == Some(1.0);
        max_buffered =
            max_buffered.max(metric_value(&exposition, "lintas_sink_buffered_rows").unwrap_or(0.0));
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let lag_during_outage = metric_value(&metrics.render(), "lintas_sink_consumer_lag_messages");
    outage.resume()?;
    producing.store(false, Ordering::SeqCst);
    let ids = producer.await??;

    wait_for(
        "every event in clickhouse",
        Duration::from_secs(120),
        || async { (fixture.count_final().await.ok()? >= ids.len() as u64).then_some(()) },
    )
    .await;
    wait_for(
        "the consumer lag to return to 0",
        Duration::from_secs(60),
        || async {
            let exposition = metrics.render();
            let lag = metric_value(&exposition, "lintas_sink_consumer_lag_messages")?;
            let paused = metric_value(&exposition, "lintas_sink_paused")?;
            (lag == 0.0 && paused == 0.0).then_some(())
        },
    )
    .await;
    sink.stop().await?;

    eprintln!(
        "outage {OUTAGE:?}: {} events in total, max buffered rows {max_buffered} (bound {}), \
         lag at the end of the outage {lag_during_outage:?}",
        ids.len(),
        2 * PARTITIONS as u64 * BATCH_ROWS
    );
    assert!(paused_seen, "consumption was paused during the outage");
    // One open and one closed batch per partition at most; the outage saw ~30 000 events.
    let bound = (2 * PARTITIONS as u64 * BATCH_ROWS) as f64;
    assert!(
        max_buffered <= bound,
        "buffered {max_buffered} rows, bound {bound}"
    );
    assert!(
        lag_during_outage.unwrap_or(0.0) > bound,
        "lag grew in kafka during the outage: {lag_during_outage:?}"
    );
    let stored = fixture.ids_final().await?;
    let stored_ids: Vec<String> = stored.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(stored.len(), ids.len(), "rows under FINAL");
    assert_eq!(
        id_set(&stored_ids),
        id_set(&ids),
        "ids in clickhouse differ"
    );
    assert!(
        stored.iter().all(|(_, copies)| *copies == 1),
        "duplicates under FINAL"
    );
    Ok(())
}
