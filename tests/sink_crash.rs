//! `lintas sink` processes are killed with SIGKILL between an insert and its commit, several
//! times, then a last one runs to the end: the table still holds each event exactly once under
//! `FINAL` (the deduplication the schema promises: `ReplacingMergeTree` keyed on `event_id`;
//! 18.16 has no insert tokens), ids equal, every offset committed.
//!
//! The window is hit deterministically: the test hook `LINTAS_SINK_TEST_HOLD_AFTER_INSERTS=k`
//! stops the sink's batch loop right after its k-th insert and writes a marker file naming the
//! batch; the test checks that the batch's rows are stored and its offsets not committed, then
//! sends SIGKILL.
#![cfg(feature = "integration")]

use std::time::Duration;

use lintas_integration_tests::process::LintasProcess;
use lintas_integration_tests::sink::{SinkFixture, id_set};
use lintas_integration_tests::{unique_name, wait_for};

const EVENTS: usize = 2000;

/// Every metric the sink registers at start.
const SINK_METRICS: &[&str] = &[
    "lintas_sink_rows_inserted_total",
    "lintas_sink_insert_duration_seconds",
    "lintas_sink_insert_errors_total{kind=\"network\"}",
    "lintas_sink_batch_rows",
    "lintas_sink_dlq_records_total{kind=\"clickhouse_rejected\"}",
    "lintas_sink_consumer_lag_messages",
    "lintas_sink_buffered_rows",
    "lintas_sink_paused",
];

/// A loopback address with a port free right now, for the sink's admin server.
fn free_local_address() -> anyhow::Result<std::net::SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

/// The batch a held sink names in its marker file: `partition=P first_offset=F last_offset=L`.
fn parse_marker(text: &str) -> Option<(i32, i64, i64)> {
    let value = |key: &str| -> Option<i64> {
        text.split_whitespace()
            .find_map(|field| field.strip_prefix(key)?.strip_prefix('='))?
            .parse()
            .ok()
    };
    Some((
        i32::try_from(value("partition")?).ok()?,
        value("first_offset")?,
        value("last_offset")?,
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_between_insert_and_commit_neither_loses_nor_duplicates_rows() -> anyhow::Result<()>
{
    let fixture = SinkFixture::create(3).await?;
    let ids = fixture.produce(EVENTS, |_| None).await?;
    let marker_dir = std::env::temp_dir().join(unique_name("sink-crash"));
    std::fs::create_dir_all(&marker_dir)?;

    for hold_after in ["2", "3", "5"] {
        let marker = marker_dir.join(format!("held-{hold_after}"));
        let marker_text = marker.to_string_lossy().into_owned();
        let env = fixture.env(&[
            (lintas_sink::HOLD_AFTER_INSERTS_ENV, hold_after),
            (lintas_sink::HOLD_MARKER_ENV, &marker_text),
        ]);
        let mut sink = LintasProcess::spawn("sink", &["sink"], &env)?;
        let (partition, first, last) = wait_for(
            "the sink to hold after an insert",
            Duration::from_secs(90),
            || {
                let text = std::fs::read_to_string(&marker).ok();
                async move { parse_marker(&text?) }
            },
        )
        .await;
        assert!(sink.try_wait()?.is_none(), "the held sink is still running");

        // Inside the window: the batch is in ClickHouse, its offsets are not committed.
        let rows = u64::try_from(last - first + 1)?;
        assert_eq!(
            fixture.count_range(partition, first, last).await?,
            rows,
            "batch {partition}:{first}..={last} is stored"
        );
        let committed = fixture.committed_offsets()?[usize::try_from(partition)?];
        assert!(
            committed <= first,
            "batch {partition}:{first}..={last} is not committed (committed {committed})"
        );
        sink.kill9()?;
    }
    let raw_after_crashes = fixture.count_raw().await?;

    // The last run also serves its admin endpoints: ready, and every sink metric listed.
    let admin = free_local_address()?;
    let admin_text = admin.to_string();
    let mut sink = LintasProcess::spawn(
        "sink",
        &["sink"],
        &fixture.env(&[("LINTAS__TELEMETRY__ADMIN_LISTEN", &admin_text)]),
    )?;
    let http = reqwest::Client::new();
    wait_for("/readyz to answer 200", Duration::from_secs(60), || async {
        let response = http
            .get(format!("http://{admin}/readyz"))
            .send()
            .await
            .ok()?;
        response.status().is_success().then_some(())
    })
    .await;
    let exposition = http
        .get(format!("http://{admin}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    for name in SINK_METRICS {
        assert!(
            exposition.lines().any(|line| line.starts_with(name)),
            "{name} missing from /metrics"
        );
    }
    let healthz = http.get(format!("http://{admin}/healthz")).send().await?;
    assert!(
        healthz.status().is_success(),
        "/healthz: {}",
        healthz.status()
    );
    wait_for(
        "every event in clickhouse",
        Duration::from_secs(90),
        || async { (fixture.count_final().await.ok()? >= EVENTS as u64).then_some(()) },
    )
    .await;
    assert!(
        sink.terminate(Duration::from_secs(30))?,
        "sink exits 0 after SIGTERM"
    );
    std::fs::remove_dir_all(&marker_dir).ok();

    let stored = fixture.ids_final().await?;
    let stored_ids: Vec<String> = stored.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(
        id_set(&stored_ids),
        id_set(&ids),
        "ids in clickhouse differ"
    );
    assert!(
        stored.iter().all(|(_, copies)| *copies == 1),
        "duplicates under FINAL"
    );
    assert_eq!(fixture.count_final().await?, EVENTS as u64);
    assert_eq!(fixture.committed_total()?, EVENTS as i64);
    // The re-read batches were inserted twice; FINAL hides what merges have not removed yet.
    eprintln!(
        "rows without FINAL: {} after the crashes, {} at the end; under FINAL: {EVENTS}",
        raw_after_crashes,
        fixture.count_raw().await?
    );
    Ok(())
}
