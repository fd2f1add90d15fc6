//! The service on the embedded development broker (librdkafka's mock cluster), as `lintas run`
//! uses it: events are classified in committed transactions, and shutdown returns even though
//! the mock cluster never completes some client closes. Exactly-once across crashes is proven
//! on the real broker (tests/classifier_kill_restart.rs of lintas-integration-tests).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use lintas_kafka::EmbeddedBroker;
use lintas_kafka::topics::TopicSpec;
use lintas_schema::v1::{ClassifiedInteraction, InteractionEvent};
use prost::Message as _;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message as _, Offset, TopicPartitionList};

const EVENTS: usize = 60;
const PARTITIONS: i32 = 2;

fn config(bootstrap: &str) -> lintas_config::Config {
    let env = [
        ("LINTAS__KAFKA__BROKERS", bootstrap),
        ("LINTAS__CLASSIFIER__INSTANCE_ID", "embedded-test"),
        ("LINTAS__CLASSIFIER__BATCH_MAX_RECORDS", "25"),
    ]
    .iter()
    .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
    .collect();
    lintas_config::load(None, env).expect("valid config")
}

fn event(index: usize) -> InteractionEvent {
    let mut event = lintas_schema::example::example_event();
    event.event_id = uuid::Uuid::now_v7().to_string();
    event.customer_id = format!("whatsapp:6281200000{}", index % 7);
    event.conversation_id = event.customer_id.clone();
    event.source_event_id = event.event_id.clone();
    event
}

/// Committed classified records, until `expected` were read or 60 s passed.
fn read_classified(config: &lintas_config::Config, expected: usize) -> Vec<ClassifiedInteraction> {
    let kafka = &config.kafka;
    let consumer: BaseConsumer =
        lintas_kafka::client::base_config(kafka, &kafka.bootstrap_servers())
            .set("group.id", "embedded-reader")
            .set("isolation.level", "read_committed")
            .create()
            .expect("reader");
    let mut assignment = TopicPartitionList::new();
    for partition in 0..PARTITIONS {
        assignment
            .add_partition_offset(&kafka.topic_classified, partition, Offset::Beginning)
            .expect("partition");
    }
    consumer.assign(&assignment).expect("assign");
    let started = Instant::now();
    let mut records = Vec::new();
    while records.len() < expected && started.elapsed() < Duration::from_secs(60) {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(message)) => records.push(
                ClassifiedInteraction::decode(message.payload().unwrap_or_default())
                    .expect("a ClassifiedInteraction"),
            ),
            Some(Err(KafkaError::PartitionEOF(_))) | None => {}
            Some(Err(error)) => panic!("reading classified records: {error}"),
        }
    }
    // An assign()-only reader leaves no group; its close returns on the mock cluster.
    records
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_embedded_broker_every_event_is_classified_and_shutdown_returns() {
    lintas_telemetry::init_test_tracing();
    let defaults = config("placeholder:9092");
    let kafka = &defaults.kafka;
    let broker = EmbeddedBroker::start(&[
        TopicSpec::with_retention(&kafka.topic_raw, PARTITIONS, 1, Duration::from_secs(600)),
        TopicSpec::with_retention(
            &kafka.topic_classified,
            PARTITIONS,
            1,
            Duration::from_secs(600),
        ),
        TopicSpec::with_retention(&kafka.topic_dlq, 1, 1, Duration::from_secs(600)),
        TopicSpec::compacted(&kafka.topic_context, PARTITIONS, 1),
    ])
    .expect("mock cluster");
    let config = config(broker.bootstrap_servers());

    let producer: FutureProducer =
        lintas_kafka::producer_config(&config.kafka, &config.kafka.bootstrap_servers())
            .create()
            .expect("producer");
    let mut sent = BTreeSet::new();
    for index in 0..EVENTS {
        let event = event(index);
        sent.insert(event.event_id.clone());
        let key = lintas_schema::partition_key(&event).unwrap_or_default();
        let payload = event.encode_to_vec();
        producer
            .send(
                FutureRecord::to(&config.kafka.topic_raw)
                    .key(&key)
                    .payload(&payload),
                Duration::from_secs(10),
            )
            .await
            .expect("raw event acknowledged");
    }

    let health = lintas_telemetry::Health::new();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = tokio::spawn(lintas_classifier_service::run(
        config.clone(),
        health.clone(),
        async {
            stopped.await.ok();
        },
    ));
    let reader_config = config.clone();
    let classified = tokio::task::spawn_blocking(move || read_classified(&reader_config, EVENTS))
        .await
        .expect("reader task");
    let ids: BTreeSet<String> = classified
        .iter()
        .filter_map(|record| record.event.as_ref().map(|event| event.event_id.clone()))
        .collect();
    assert_eq!(classified.len(), EVENTS, "one classified record per event");
    assert_eq!(ids, sent);
    assert!(
        classified.iter().all(|record| record
            .classification
            .as_ref()
            .is_some_and(|c| c.interaction_type != 0)),
        "every record carries a decided interaction type"
    );

    stop.send(()).ok();
    // Bounded: each client close the mock cluster never completes is abandoned after 10 s.
    let result = tokio::time::timeout(Duration::from_secs(40), service)
        .await
        .expect("run returns after shutdown")
        .expect("service task");
    assert!(result.is_ok(), "clean stop: {result:?}");
    assert!(!health.is_ready());
    // The producer's close is what may hang on the mock cluster; leak it with the process.
    std::mem::forget(producer);
    std::mem::forget(broker);
}
