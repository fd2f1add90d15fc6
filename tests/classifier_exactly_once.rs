//! The classifier service on the real broker: every raw event yields exactly one classified
//! event (read with `read_committed`), a poison record yields exactly one DLQ record with its
//! reason, and the role's metrics say so.
#![cfg(feature = "integration")]

use std::collections::BTreeSet;
use std::time::Duration;

use lintas_integration_tests::classifier::{
    ClassifierTopics, PARTITIONS, chat_event, decode_classified, event_ids, header, producer,
    read_committed, send_event,
};
use lintas_integration_tests::task::StoppableTask;
use lintas_kafka::dlq;
use rdkafka::Message as _;
use rdkafka::producer::FutureRecord;

const EVENTS: usize = 2000;
const TEXTS: &[&str] = &[
    "Where is my order #1042?",
    "Do you ship to Bandung?",
    "kak, barangnya udah sampai belum ya?",
    "The app keeps crashing when I pay",
    "Thanks, great service!",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_raw_event_is_classified_exactly_once_and_poison_goes_to_the_dlq()
-> anyhow::Result<()> {
    let metrics = lintas_telemetry::install_metrics_recorder()?;
    let topics = ClassifierTopics::create("cls_eo").await?;
    let producer = producer()?;
    let mut sent = BTreeSet::new();
    for index in 0..EVENTS {
        let event = chat_event(
            &format!("customer-{}", index % 50),
            TEXTS[index % TEXTS.len()],
        );
        sent.insert(event.event_id.clone());
        send_event(&producer, &topics.raw, &event).await?;
    }
    let poison = b"\xff\xff\xff\x07 not a protobuf";
    let delivered = producer
        .send(
            FutureRecord::to(&topics.raw)
                .key("acme-shop/poison")
                .payload(&poison[..]),
            Duration::from_secs(30),
        )
        .await
        .map_err(|(error, _)| anyhow::anyhow!("producing poison: {error}"))?;

    let health = lintas_telemetry::Health::new();
    let service = StoppableTask::spawn(|stopped| {
        lintas_classifier_service::run(topics.config(), health.clone(), stopped)
    });

    let classified_topic = topics.classified.clone();
    let records = tokio::task::spawn_blocking(move || {
        read_committed(
            &classified_topic,
            PARTITIONS,
            EVENTS,
            Duration::from_secs(120),
        )
    })
    .await??;
    let classified = decode_classified(&records)?;
    let (ids, duplicates) = event_ids(&classified);
    assert_eq!(duplicates, 0, "no event may be classified twice");
    assert_eq!(classified.len(), EVENTS);
    assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), sent);
    for (record, value) in records.iter().zip(&classified) {
        let event = value.event.as_ref().expect("event");
        let classification = value.classification.as_ref().expect("classification");
        assert!(
            classification.classified_at.is_some(),
            "classified_at is stamped"
        );
        assert!(!classification.classifier_version.is_empty());
        let origin = value.raw_origin.as_ref().expect("raw origin");
        assert_eq!(origin.topic, topics.raw);
        assert_eq!(
            record.key().map(<[u8]>::to_vec),
            lintas_schema::partition_key(event).map(String::into_bytes),
            "the classified record keeps the raw key"
        );
        assert_eq!(
            header(record, lintas_schema::headers::TENANT).as_deref(),
            Some("acme-shop")
        );
        assert_eq!(
            header(record, lintas_schema::headers::SCHEMA).as_deref(),
            Some(lintas_schema::headers::CLASSIFIED_INTERACTION)
        );
    }
    assert!(
        health.is_ready(),
        "ready while consuming: {:?}",
        health.snapshot()
    );

    let dlq_topic = topics.dlq.clone();
    let dead = tokio::task::spawn_blocking(move || {
        read_committed(&dlq_topic, 1, 1, Duration::from_secs(60))
    })
    .await??;
    assert_eq!(dead.len(), 1, "exactly one dead letter");
    let reason =
        dlq::DlqReason::from_headers(dead[0].headers().expect("headers")).expect("reason headers");
    assert_eq!(reason.stage, "classifier");
    assert_eq!(reason.error_kind, "decode");
    assert!(
        reason.message.contains("InteractionEvent"),
        "{}",
        reason.message
    );
    let origin = reason.origin.expect("origin headers");
    assert_eq!(
        (origin.topic.as_str(), origin.partition, origin.offset),
        (topics.raw.as_str(), delivered.partition, delivered.offset)
    );
    assert_eq!(
        dead[0].payload(),
        Some(&poison[..]),
        "the original bytes are kept"
    );

    tokio::time::timeout(Duration::from_secs(30), service.stop())
        .await
        .map_err(|_| anyhow::anyhow!("the classifier did not stop within 30s of shutdown"))??;
    assert!(!health.is_ready(), "not ready after shutdown");

    let rendered = metrics.render();
    for (name, _) in lintas_classifier_service::metrics::ALL {
        assert!(rendered.contains(name), "/metrics lacks {name}");
    }
    assert!(
        rendered.contains("lintas_classifier_dlq_records_total{kind=\"decode\"} 1"),
        "{rendered}"
    );
    let classified_total: f64 = rendered
        .lines()
        .filter(|line| line.starts_with("lintas_classifier_events_classified_total{"))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(classified_total, EVENTS as f64);
    Ok(())
}
