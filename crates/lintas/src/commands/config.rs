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
