//! Throughput of the sink's encode + insert path into a real ClickHouse server.
//!
//! Run with the test services up (`scripts/services.sh start && source target/services/env`):
//!
//! ```sh
//! cargo bench -p lintas-sink --bench encode_insert
//! ```
//!
//! It migrates a fresh database, encodes `ROWS` Kafka values (protobuf `ClassifiedInteraction`,
//! as the sink reads them) into RowBinary exactly as the sink does (decode, validate, encode),
//! and inserts them in batches of `BATCH` rows (LZ4, as the sink does), on a single-threaded
//! runtime. It prints rows/s by wall clock and rows per CPU-second of this process (the sink's
//! side; the server's parsing runs in its own process and is not counted).

use std::time::Instant;

use lintas_clickhouse::ServerCapabilities;
use lintas_schema::v1::{Classification, ClassifiedInteraction, KafkaOrigin};
use prost::Message as _;

const ROWS: usize = 200_000;
const BATCH: usize = 50_000;
const ROUNDS: usize = 3;
/// Clock ticks per second of /proc/self/stat's times (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_command = stat.rfind(')').map_or("", |end| &stat[end + 1..]);
    let fields: Vec<&str> = after_command.split_whitespace().collect();
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the command.
    let ticks = |index: usize| -> f64 {
        fields
            .get(index)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / TICKS_PER_SECOND
}

fn payloads() -> Vec<Vec<u8>> {
    (0..ROWS)
        .map(|index| {
            let mut event = lintas_schema::example::example_event();
            event.event_id = uuid_like(index);
            event.customer_id = format!("phone:+1555555{:04}", index % 5000);
            event.text = format!("Hi, where is my order #{index}? It was due yesterday.");
            ClassifiedInteraction {
                event: Some(event),
                classification: Some(Classification {
                    interaction_type: 1,
                    journey_stage: 3,
                    type_confidence: 0.93,
                    stage_confidence: 0.81,
                    classifier_version: "rules-3+nb-2026.12.1".into(),
                    reasons: vec!["rule:event.order_status".into()],
                    classified_at: Some(lintas_schema::time::now()),
                }),
                raw_origin: Some(KafkaOrigin {
                    topic: "lintas.interactions.raw.v1".into(),
                    partition: (index % 6) as i32,
                    offset: index as i64,
                }),
            }
            .encode_to_vec()
        })
        .collect()
}

fn uuid_like(index: usize) -> String {
    format!("00000000-0000-7000-8000-{index:012x}")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo test --benches` runs bench targets with --bench absent; only measure on demand.
    if !std::env::args().any(|arg| arg == "--bench") {
        return Ok(());
    }
    let url = std::env::var("LINTAS_TEST_CLICKHOUSE_URL").map_err(
        |_| "LINTAS_TEST_CLICKHOUSE_URL is not set: start scripts/services.sh and source its env",
    )?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let client = clickhouse::Client::default().with_url(&url).with_validation(false);
        let capabilities = ServerCapabilities::detect(&client).await?;
        let database = format!("sink_bench_{}", std::process::id());
        let mut env = std::collections::HashMap::new();
        env.insert("LINTAS__CLICKHOUSE__DATABASE".to_owned(), database.clone());
        let config = lintas_config::load(None, env)?;
        let options = lintas_clickhouse::schema_options(&config, &capabilities);
        lintas_clickhouse::migrate(&client, &options, &capabilities).await?;

        let payloads = payloads();
        let bytes: usize = payloads.iter().map(Vec::len).sum();
        println!(
            "server {} ({} schema), {ROWS} rows of {} protobuf bytes on average, batches of {BATCH}",
            capabilities.version,
            capabilities.schema_variant().as_str(),
            bytes / ROWS
        );
        for round in 1..=ROUNDS {
            let wall = Instant::now();
            let cpu = cpu_seconds();
            let mut encode_seconds = 0.0;
            let mut encoded_bytes = 0;
            for (batch_index, chunk) in payloads.chunks(BATCH).enumerate() {
                let started = Instant::now();
                let mut data = Vec::with_capacity(chunk.len() * 400);
                for (index, payload) in chunk.iter().enumerate() {
                    let offset = (batch_index * BATCH + index) as i64;
                    assert!(
                        lintas_sink::bench_api::encode_record(payload, "bench", 0, offset, &mut data),
                        "bench rows are valid"
                    );
                }
                encode_seconds += started.elapsed().as_secs_f64();
                encoded_bytes += data.len();
                lintas_sink::bench_api::insert(client.clone(), &database, capabilities, &data, chunk.len())
                    .await?;
            }
            let wall = wall.elapsed().as_secs_f64();
            let cpu = cpu_seconds() - cpu;
            println!(
                "round {round}: {:.0} rows/s wall, {:.0} rows per cpu-second of the sink process \
                 ({cpu:.2} cpu-s), encode alone {:.0} rows/s, {:.1} MB RowBinary",
                ROWS as f64 / wall,
                ROWS as f64 / cpu.max(0.01),
                ROWS as f64 / encode_seconds,
                encoded_bytes as f64 / 1e6
            );
        }
        let stored: u64 = client
            .query(&format!("SELECT count() FROM `{database}`.interactions FINAL"))
            .fetch_one()
            .await?;
        // Every round inserts the same events: FINAL collapses them to one row each.
        println!("rows under FINAL: {stored} (expected {ROWS})");
        client.query(&format!("DROP DATABASE `{database}`")).execute().await?;
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}
