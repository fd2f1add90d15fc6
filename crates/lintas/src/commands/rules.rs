//! `lintas rules check [FILE]`: validates a classification rules file.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use lintas_classifier::RuleSet;

#[derive(Debug, Subcommand)]
pub(crate) enum RulesCommand {
    /// Validate a rules file (default: the built-in rules); lists every invalid field.
    Check {
        /// The rules file (TOML).
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
    },
}

pub(crate) fn run(command: RulesCommand) -> anyhow::Result<ExitCode> {
    let RulesCommand::Check { file } = command;
    let (name, result) = match &file {
        Some(path) => (path.display().to_string(), RuleSet::load(path)),
        None => ("built-in rules".to_owned(), RuleSet::builtin()),
    };
    match result {
        Ok(rules) => {
            println!("{name}: ok, {}", rules.summary());
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("{name}: {error}");
            Ok(ExitCode::FAILURE)
        }
    }
}
