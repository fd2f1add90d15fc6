//! An in-process Kafka for development: librdkafka's mock cluster.
//!
//! It speaks the Kafka protocol on a loopback TCP port, supports idempotent and transactional
//! producers and consumer groups, and keeps everything in memory. It exists so the quickstart
//! runs without installing a broker; production config always names real brokers.

use crate::KafkaError;
use crate::topics::TopicSpec;
use rdkafka::mocking::MockCluster;
use std::sync::mpsc;
use std::thread::JoinHandle;

/// A running mock cluster. Dropping it (or calling [`EmbeddedBroker::stop`]) shuts it down.
///
/// librdkafka's mock cluster handle is not `Send`, so it lives on a dedicated thread that owns
/// it until stop; everything else talks to it over TCP like to any broker.
#[derive(Debug)]
pub struct EmbeddedBroker {
    bootstrap_servers: String,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl EmbeddedBroker {
    /// Starts a single-broker mock cluster with `topics` created.
    pub fn start(topics: &[TopicSpec]) -> Result<Self, KafkaError> {
        let (ready_tx, ready_rx) = mpsc::channel::<Result<String, String>>();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let topics = topics.to_vec();
        let thread = std::thread::Builder::new()
            .name("lintas-embedded-kafka".into())
            .spawn(move || {
                let cluster = match MockCluster::new(1) {
                    Ok(cluster) => cluster,
                    Err(error) => {
                        // The starter only goes away if it gave up waiting; nothing to tell then.
                        ready_tx.send(Err(error.to_string())).ok();
                        return;
                    }
                };
                for topic in &topics {
                    // The mock cluster has no replicas beyond its one broker.
                    if let Err(error) = cluster.create_topic(&topic.name, topic.partitions, 1) {
                        ready_tx
                            .send(Err(format!("topic {}: {error}", topic.name)))
                            .ok();
                        return;
                    }
                }
                ready_tx.send(Ok(cluster.bootstrap_servers())).ok();
                // Blocks until stop() or drop; a closed channel also ends the cluster.
                stop_rx.recv().ok();
                drop(cluster);
            })
            .map_err(|error| KafkaError::Embedded(error.to_string()))?;
        let bootstrap_servers = ready_rx
            .recv()
            .map_err(|_| KafkaError::Embedded("broker thread exited".into()))?
            .map_err(KafkaError::Embedded)?;
        tracing::warn!(
            bootstrap_servers = %bootstrap_servers,
            "started embedded in-memory kafka broker for development, data is lost on exit"
        );
        Ok(Self {
            bootstrap_servers,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// The `host:port` list clients connect to.
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap_servers
    }

    /// Stops the cluster and waits for its thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("embedded kafka broker thread panicked");
            }
        }
    }
}

impl Drop for EmbeddedBroker {
    fn drop(&mut self) {
        self.shutdown();
    }
}
