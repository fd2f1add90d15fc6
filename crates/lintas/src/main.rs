//! `lintas`: one binary, a subcommand per role and per operator task.
//!
//! Exit codes: 0 success, 1 a failure the operator must act on (invalid config, unreachable
//! service), 2 a usage error (clap).

mod commands;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Lintas: every customer interaction from every channel, classified, in ClickHouse.
#[derive(Debug, Parser)]
#[command(name = "lintas", version, about, long_about = None)]
struct Cli {
    /// Config file (TOML). Layers: built-in defaults < this file < LINTAS__SECTION__KEY env vars.
    #[arg(long, global = true, env = "LINTAS_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train the classifier's text model from labeled JSONL.
    Train(commands::train::TrainArgs),
    /// Score the classifier on labeled JSONL: accuracy, macro-F1, confusion matrices.
    Eval(commands::eval::EvalArgs),
    /// Validate classification rules files.
    #[command(subcommand)]
    Rules(commands::rules::RulesCommand),
    /// Inspect the resolved configuration.
    #[command(subcommand)]
    Config(commands::config::ConfigCommand),
    /// Create and inspect the Kafka topics Lintas uses.
    #[command(subcommand)]
    Topics(commands::topics::TopicsCommand),
    /// Run the HTTP intake: POST /v1/events and /v1/webhooks/{tenant}/{source} into Kafka.
    Gateway,
    /// Run the classifier: raw events from Kafka, classified, to Kafka in transactions.
    Classifier,
    /// Run the sink: classified events from Kafka into ClickHouse, committed after each insert.
    Sink,
    /// Post events from a JSON file or stdin to a gateway's POST /v1/events.
    Send(commands::send::SendArgs),
    /// Create or upgrade the ClickHouse schema (versioned, idempotent, recorded).
    Migrate(commands::migrate::MigrateArgs),
    /// Run a query of the analysts' pack (sql/queries); without NAME, list the pack.
    Query(commands::query::QueryArgs),
    /// Run gateway, classifier and sink in one process (the embedded broker when no Kafka is set).
    Run(commands::run::RunArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(args) => commands::train::run(args),
        Command::Eval(args) => commands::eval::run(args),
        Command::Rules(command) => commands::rules::run(command),
        Command::Config(command) => commands::config::run(command, cli.config.as_deref()),
        Command::Topics(command) => commands::topics::run(command, cli.config.as_deref()),
        Command::Gateway => commands::gateway::run(cli.config.as_deref()),
        Command::Classifier => commands::classifier::run(cli.config.as_deref()),
        Command::Sink => commands::sink::run(cli.config.as_deref()),
        Command::Send(args) => commands::send::run(args),
        Command::Migrate(args) => commands::migrate::run(args, cli.config.as_deref()),
        Command::Query(args) => commands::query::run(args, cli.config.as_deref()),
        Command::Run(args) => commands::run::run(args, cli.config.as_deref()),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
