//! `lintas config check`: print the resolved config (secrets masked) or every error.

use clap::Subcommand;
use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Validate the layered config; print it as TOML with secrets masked (exit 0), or list every
    /// invalid key with its value and what was expected (exit 1).
    Check,
}

pub(crate) fn run(command: ConfigCommand, path: Option<&Path>) -> anyhow::Result<ExitCode> {
    match command {
        ConfigCommand::Check => match lintas_config::load_from_process_env(path) {
            Ok(config) => {
                let problems = start_problems(&config);
                if !problems.is_empty() {
                    eprintln!(
                        "config check failed:\ninvalid configuration ({} problem{}):",
                        problems.len(),
                        if problems.len() == 1 { "" } else { "s" }
                    );
                    for problem in &problems {
                        eprintln!("  {problem}");
                    }
                    return Ok(ExitCode::FAILURE);
                }
                print!("{}", config.to_toml_masked());
                Ok(ExitCode::SUCCESS)
            }
            Err(error) => {
                eprintln!("config check failed:\n{error}");
                Ok(ExitCode::FAILURE)
            }
        },
    }
}

/// What the config crate accepts but a role refuses at start: webhook sources and secret names
/// no adapter reads (the gateway), a log filter that does not parse (every role). The config
/// crate knows neither the adapters nor the filter syntax, so `config check` asks their owners.
/// The messages name keys and never carry secret values.
fn start_problems(config: &lintas_config::Config) -> Vec<String> {
    let mut problems: Vec<String> = lintas_gateway::config::webhook_config_problems(config)
        .iter()
        .map(ToString::to_string)
        .collect();
    if let Err(error) = lintas_telemetry::build_env_filter(&config.telemetry.log_level, None) {
        problems.push(format!("telemetry.log_level: {error}"));
    }
    problems
}
