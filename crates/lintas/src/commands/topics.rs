//! `lintas topics apply|list`: the declared topics, created if missing.

use anyhow::Context as _;
use clap::Subcommand;
use lintas_kafka::topics::{TopicOutcome, apply_topics, partition_counts};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Subcommand)]
pub(crate) enum TopicsCommand {
    /// Create the declared topics that do not exist; report those whose partitions differ.
    Apply,
    /// List the topics on the cluster with their partition counts.
    List,
}

const ADMIN_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) fn run(command: TopicsCommand, path: Option<&Path>) -> anyhow::Result<ExitCode> {
    let config = super::load_config(path)?;
    super::init_logging(&config)?;
    anyhow::ensure!(
        !config.kafka.is_embedded(),
        "kafka.brokers is empty: topics are managed on a real cluster (set LINTAS__KAFKA__BROKERS)"
    );
    let bootstrap = config.kafka.bootstrap_servers();
    let admin = lintas_kafka::client::base_config(&config.kafka, &bootstrap);
    match command {
        TopicsCommand::Apply => {
            let specs = lintas_kafka::topics::declared_topics(&config.kafka, &config.topics);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let outcomes = runtime
                .block_on(apply_topics(&admin, &specs, ADMIN_TIMEOUT))
                .context("applying topics")?;
            for (name, outcome) in outcomes {
                match outcome {
                    TopicOutcome::Created => println!("created   {name}"),
                    TopicOutcome::Unchanged => println!("unchanged {name}"),
                    TopicOutcome::PartitionsDiffer { actual } => println!(
                        "differs   {name}: has {actual} partitions, left as is (changing them remaps keys)"
                    ),
                }
            }
        }
        TopicsCommand::List => {
            let mut topics = partition_counts(&admin, ADMIN_TIMEOUT)?;
            topics.sort();
            for (name, partitions) in topics {
                println!("{name}\t{partitions}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
