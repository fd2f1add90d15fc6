//! `lintas classifier` as a process on the real broker, killed with SIGKILL mid-stream and
//! restarted: still exactly one classified event per raw event, and the customer context
//! written before the kill is restored from the changelog after the restart.
#![cfg(feature = "integration")]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lintas_classifier::CustomerContext;
use lintas_integration_tests::classifier::{
    ClassifierTopics, PARTITIONS, chat_event, decode_classified, event_ids, producer,
    read_committed, send_event,
};
use lintas_integration_tests::process::LintasProcess;
use lintas_integration_tests::{kafka_brokers, test_config, unique_name, wait_for};
use lintas_schema::v1::{ClassifiedInteraction, JourneyStage};
use prost::Message as _;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::{Message as _, Offset, TopicPartitionList};

const EVENTS: usize = 2000;

/// Event ids of classified records as committed transactions make them visible, read by a
/// background task, so the test can kill the classifier once some (not all) output is visible.
fn watch_classified(topic: &str) -> anyhow::Result<Arc<Mutex<Vec<ClassifiedInteraction>>>> {
    let config = test_config(&[]);
    let mut client = lintas_kafka::client::base_config(&config.kafka, &kafka_brokers());
    client
        .set("group.id", unique_name("watcher"))
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed");
    let consumer: StreamConsumer = client.create()?;
    let mut assignment = TopicPartitionList::new();
    for partition in 0..PARTITIONS {
        assignment.add_partition_offset(topic, partition, Offset::Beginning)?;
    }
    consumer.assign(&assignment)?;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok(message) = consumer.recv().await {
            if let Ok(value) = ClassifiedInteraction::decode(message.payload().unwrap_or_default())
            {
                sink.lock().expect("watch lock").push(value);
            }
        }
    });
    Ok(seen)
}

fn visible(seen: &Mutex<Vec<ClassifiedInteraction>>) -> usize {
    seen.lock().expect("watch lock").len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_classifier_killed_mid_stream_and_restarted_classifies_each_event_exactly_once()
-> anyhow::Result<()> {
    let topics = ClassifierTopics::create("cls_kill").await?;
    let env = topics.env();
    let producer = producer()?;
    // Events arrive over a few seconds, so the kill lands while input is still flowing.
    let raw = topics.raw.clone();
    let feeder = tokio::spawn(async move {
        let mut sent = BTreeSet::new();
        for index in 0..EVENTS {
            let event = chat_event(
                &format!("customer-{}", index % 40),
                "Do you ship to Bandung?",
            );
            sent.insert(event.event_id.clone());
            send_event(&producer, &raw, &event).await?;
            if index % 100 == 99 {
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
        anyhow::Ok(sent)
    });
    let seen = watch_classified(&topics.classified)?;

    let mut first = LintasProcess::spawn("classifier", &["classifier"], &env)?;
    wait_for(
        "some classified output",
        Duration::from_secs(120),
        || async { (visible(&seen) >= 200).then_some(()) },
    )
    .await;
    first.kill9()?;
    let at_kill = visible(&seen);
    assert!(
        at_kill < EVENTS,
        "the kill must land mid-stream ({at_kill} of {EVENTS} visible)"
    );

    let mut second = LintasProcess::spawn("classifier", &["classifier"], &env)?;
    let sent = feeder.await??;
    let classified_topic = topics.classified.clone();
    let records = tokio::task::spawn_blocking(move || {
        read_committed(
            &classified_topic,
            PARTITIONS,
            EVENTS,
            Duration::from_secs(180),
        )
    })
    .await??;
    let classified = decode_classified(&records)?;
    let (ids, duplicates) = event_ids(&classified);
    assert_eq!(
        duplicates, 0,
        "no event may be classified twice across the kill"
    );
    assert_eq!(classified.len(), EVENTS);
    assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), sent);
    assert!(
        second.terminate(Duration::from_secs(30))?,
        "clean exit on SIGTERM"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purchase_seen_before_a_kill_shapes_the_stage_of_a_question_after_the_restart()
-> anyhow::Result<()> {
    let question = "Do you ship to Bandung?";
    let buyer = "customer-buyer";
    // Precondition from the library itself: the question's stage depends on the context.
    let probe = chat_event(buyer, question);
    let as_stranger = lintas_classifier::classify(&probe, &CustomerContext::default());
    let mut purchase = chat_event(buyer, "");
    purchase.event_name = "order.created".into();
    let mut known_buyer = CustomerContext::default();
    known_buyer.observe(
        &purchase,
        &lintas_classifier::classify(&purchase, &known_buyer),
    );
    assert!(known_buyer.has_purchased);
    let as_buyer = lintas_classifier::classify(&probe, &known_buyer);
    assert_eq!(as_buyer.journey_stage, JourneyStage::Retention as i32);
    assert_ne!(as_stranger.journey_stage, as_buyer.journey_stage);

    let topics = ClassifierTopics::create("cls_ctx").await?;
    let env = topics.env();
    let producer = producer()?;
    send_event(&producer, &topics.raw, &purchase).await?;
    let seen = watch_classified(&topics.classified)?;
    let mut first = LintasProcess::spawn("classifier", &["classifier"], &env)?;
    wait_for(
        "the purchase classified",
        Duration::from_secs(120),
        || async { (visible(&seen) >= 1).then_some(()) },
    )
    .await;
    first.kill9()?;

    let later = chat_event(buyer, question);
    send_event(&producer, &topics.raw, &later).await?;
    let mut second = LintasProcess::spawn("classifier", &["classifier"], &env)?;
    wait_for(
        "the question classified",
        Duration::from_secs(120),
        || async { (visible(&seen) >= 2).then_some(()) },
    )
    .await;
    let outputs = seen.lock().expect("watch lock").clone();
    let answer = outputs
        .iter()
        .find(|value| value.event.as_ref().map(|e| e.event_id.as_str()) == Some(&later.event_id))
        .expect("the question's classification");
    let stage = answer
        .classification
        .as_ref()
        .expect("classification")
        .journey_stage;
    assert_eq!(
        stage,
        JourneyStage::Retention as i32,
        "the restarted classifier must know the customer bought: context restored from the changelog"
    );
    assert!(
        second.terminate(Duration::from_secs(30))?,
        "clean exit on SIGTERM"
    );
    Ok(())
}
