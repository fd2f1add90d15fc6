//! Throughput of the classifier service through a Kafka broker: events per second from the raw
//! topic to committed classified records, transactions and context changelog included.
//!
//! ```sh
//! LINTAS__KAFKA__BROKERS=127.0.0.1:9092 \
//!   cargo run --release -p lintas-classifier-service --example throughput -- [EVENTS] [PARTITIONS]
//! ```
//!
//! Creates four topics with a unique prefix, preloads EVENTS raw chat events (default 100000,
//! English and Indonesian, 2000 customers) into PARTITIONS partitions (default 4), runs the
//! service (`lintas_classifier_service::run`, the default batch policy unless
//! `LINTAS__CLASSIFIER__BATCH_MAX_*` say otherwise) and watches the group's committed offsets,
//! which move only when a transaction commits. Prints the steady rate (from the first committed
//! transaction to the last) and the rate including start-up (group join, context restore).
//! The topics are left behind; they carry the prefix `lintas_throughput_`.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use lintas_kafka::topics::{TopicSpec, apply_topics};
use lintas_schema::v1::{Actor, Channel, Direction, InteractionEvent};
use prost::Message as _;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{Offset, TopicPartitionList};

const CHAT_TEXTS: &[&str] = &[
    "Hi, could you tell me where my order is? It has not arrived yet and it's been a week.",
    "Kak, saya udah transfer tadi pagi tapi status pesanan masih menunggu pembayaran, tolong dicek ya",
    "Do you ship to Singapore? I'd like to order two of the blue chairs for our office.",
    "Min, barangnya datang rusak, gimana cara refund nya? kecewa banget",
    "Thanks for the quick help yesterday, the replacement works perfectly!",
    "Halo kak, sepatu ukuran 40 warna putih masih ready gak? mau pesan satu",
    "Can I upgrade my plan to the annual premium package with more seats?",
    "Promo gratis ongkirnya berlaku sampai kapan ya kak?",
];
const CUSTOMERS: usize = 2000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let events: usize = args.next().map_or(Ok(100_000), |arg| arg.parse())?;
    let partitions: i32 = args.next().map_or(Ok(4), |arg| arg.parse())?;
    let prefix = format!(
        "lintas_throughput_{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis()
    );
    let mut env: std::collections::HashMap<String, String> = std::env::vars()
        .filter(|(key, _)| key.starts_with("LINTAS__"))
        .collect();
    for (key, suffix) in [
        ("LINTAS__KAFKA__TOPIC_RAW", "raw"),
        ("LINTAS__KAFKA__TOPIC_CLASSIFIED", "classified"),
        ("LINTAS__KAFKA__TOPIC_DLQ", "dlq"),
        ("LINTAS__KAFKA__TOPIC_CONTEXT", "context"),
        ("LINTAS__CLASSIFIER__GROUP_ID", "group"),
    ] {
        env.insert(key.to_owned(), format!("{prefix}_{suffix}"));
    }
    env.insert(
        "LINTAS__CLASSIFIER__INSTANCE_ID".into(),
        "throughput".into(),
    );
    let config = lintas_config::load(None, env).map_err(|error| anyhow::anyhow!("{error}"))?;
    anyhow::ensure!(
        !config.kafka.brokers.is_empty(),
        "set LINTAS__KAFKA__BROKERS to the broker to measure against"
    );
    lintas_telemetry::init_tracing(lintas_telemetry::LogFormat::Pretty, "warn")?;
    let bootstrap = config.kafka.bootstrap_servers();
    let kafka = &config.kafka;
    let admin = lintas_kafka::client::base_config(kafka, &bootstrap);
    let hour = Duration::from_secs(3600);
    apply_topics(
        &admin,
        &[
            TopicSpec::with_retention(&kafka.topic_raw, partitions, 1, hour),
            TopicSpec::with_retention(&kafka.topic_classified, partitions, 1, hour),
            TopicSpec::with_retention(&kafka.topic_dlq, 1, 1, hour),
            TopicSpec::compacted(&kafka.topic_context, partitions, 1),
        ],
        Duration::from_secs(30),
    )
    .await?;

    let loaded = Instant::now();
    preload(&config, &bootstrap, events)?;
    println!(
        "preloaded {events} events into {} ({partitions} partitions) in {:.1}s",
        kafka.topic_raw,
        loaded.elapsed().as_secs_f64()
    );

    let watcher: BaseConsumer = lintas_kafka::client::base_config(kafka, &bootstrap)
        .set("group.id", &config.classifier.group_id)
        .create()?;
    let mut watched = TopicPartitionList::new();
    for partition in 0..partitions {
        watched.add_partition(&kafka.topic_raw, partition);
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let started = Instant::now();
    let service = tokio::spawn(lintas_classifier_service::run(
        config.clone(),
        lintas_telemetry::Health::new(),
        async {
            stopped.await.ok();
        },
    ));
    let mut first: Option<(Instant, i64)> = None;
    let target = i64::try_from(events)?;
    let finished = loop {
        anyhow::ensure!(!service.is_finished(), "the service stopped early");
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "not done within 10 minutes"
        );
        let committed = committed_sum(&watcher, &watched)?;
        let now = Instant::now();
        if committed > 0 && first.is_none() {
            first = Some((now, committed));
        }
        if committed >= target {
            break now;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    stop.send(()).ok();
    service.await?.context("classifier service")?;

    let (first_at, first_committed) = first.context("no transaction committed")?;
    anyhow::ensure!(
        first_committed < target,
        "every event was committed before the first look: use more events"
    );
    let steady = finished.duration_since(first_at).as_secs_f64();
    let total = finished.duration_since(started).as_secs_f64();
    println!(
        "steady: {} events in {steady:.2}s = {:.0} events/s (from the first committed transaction)",
        target - first_committed,
        (target - first_committed) as f64 / steady
    );
    println!(
        "overall: {events} events in {total:.2}s = {:.0} events/s (start-up, group join and restore included)",
        events as f64 / total
    );
    let (_, dead) = watcher.fetch_watermarks(&kafka.topic_dlq, 0, Duration::from_secs(10))?;
    anyhow::ensure!(
        dead == 0,
        "{dead} events went to the dlq: the measured path is not classify"
    );
    println!(
        "batch policy: {} records or {:?}; cores: {}",
        config.classifier.batch_max_records,
        config.classifier.batch_max_wait,
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    Ok(())
}

fn preload(config: &lintas_config::Config, bootstrap: &str, events: usize) -> anyhow::Result<()> {
    let producer: ThreadedProducer<DefaultProducerContext> =
        lintas_kafka::producer_config(&config.kafka, bootstrap).create()?;
    for index in 0..events {
        let event = chat_event(index);
        let key = lintas_schema::partition_key(&event).unwrap_or_default();
        let payload = event.encode_to_vec();
        let mut record = BaseRecord::to(&config.kafka.topic_raw)
            .key(&key)
            .payload(&payload);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((error, returned)) => {
                    anyhow::ensure!(
                        error.rdkafka_error_code()
                            == Some(rdkafka::types::RDKafkaErrorCode::QueueFull),
                        "producing: {error}"
                    );
                    record = returned;
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
    }
    producer.flush(Duration::from_secs(60))?;
    Ok(())
}

fn chat_event(index: usize) -> InteractionEvent {
    let customer = format!("whatsapp:62812{:07}", index % CUSTOMERS);
    InteractionEvent {
        event_id: uuid::Uuid::now_v7().to_string(),
        tenant_id: "acme-shop".into(),
        source: "whatsapp".into(),
        channel: Channel::Messaging as i32,
        direction: Direction::Inbound as i32,
        actor: Actor::Customer as i32,
        event_name: "message.received".into(),
        occurred_at: Some(lintas_schema::time::now()),
        received_at: Some(lintas_schema::time::now()),
        conversation_id: customer.clone(),
        customer_id: customer,
        source_event_id: format!("wamid.{index}"),
        text: CHAT_TEXTS[index % CHAT_TEXTS.len()].into(),
        ..Default::default()
    }
}

fn committed_sum(watcher: &BaseConsumer, partitions: &TopicPartitionList) -> anyhow::Result<i64> {
    let committed = watcher.committed_offsets(partitions.clone(), Duration::from_secs(10))?;
    Ok(committed
        .elements()
        .iter()
        .filter_map(|element| match element.offset() {
            Offset::Offset(offset) => Some(offset),
            _ => None,
        })
        .sum())
}
