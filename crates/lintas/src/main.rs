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
    /// Inspect the resolved configuration.
    #[command(subcommand)]
    Config(commands::config::ConfigCommand),
    /// Create and inspect the Kafka topics Lintas uses.
    #[command(subcommand)]
    Topics(commands::topics::TopicsCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Config(command) => commands::config::run(command, cli.config.as_deref()),
        Command::Topics(command) => commands::topics::run(command, cli.config.as_deref()),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
