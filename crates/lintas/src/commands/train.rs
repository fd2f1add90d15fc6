//! `lintas train`: trains the text model from labeled JSONL and writes a model file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use lintas_classifier::data::{self, Split};
use lintas_classifier::model::{TrainOptions, train_with};

#[derive(Debug, Args)]
pub(crate) struct TrainArgs {
    /// Labeled JSONL to train on, every row (repeatable).
    #[arg(long, value_name = "FILE.jsonl")]
    input: Vec<PathBuf>,
    /// Labeled JSONL of which only the train split is used (repeatable): the dev set, so its
    /// held-out split stays unseen. These rows come first, then those of --input.
    #[arg(long, value_name = "FILE.jsonl")]
    train_split: Vec<PathBuf>,
    /// Where to write the model file.
    #[arg(long, value_name = "MODEL.json")]
    output: PathBuf,
    /// Model version to record (default: `lr-` + a hash of the data and options).
    #[arg(long)]
    model_version: Option<String>,
    /// Shuffle seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Passes over the data, 1 to 10000 (the shipped model uses 150).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    epochs: Option<u32>,
}

pub(crate) fn run(args: TrainArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        !args.input.is_empty() || !args.train_split.is_empty(),
        "give at least one --input or --train-split file"
    );
    // Writing the model over a training file would destroy the data it was made from.
    for input in args.input.iter().chain(&args.train_split) {
        if same_file(input, &args.output) {
            anyhow::bail!(
                "--output {} is also a training file: write the model elsewhere",
                args.output.display()
            );
        }
    }
    if let Some(version) = &args.model_version {
        anyhow::ensure!(
            !version.is_empty()
                && version.len() <= 64
                && version
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
            "--model-version {version:?}: use 1 to 64 letters, digits, '.', '_' or '-' \
             (it is stored in every classified row)"
        );
    }
    let mut rows = Vec::new();
    for path in &args.train_split {
        let all = data::read_jsonl(path)?;
        let kept = data::rows_in(&all, Split::Train);
        eprintln!(
            "{}: {} of {} rows (train split)",
            path.display(),
            kept.len(),
            all.len()
        );
        rows.extend(kept);
    }
    for path in &args.input {
        let all = data::read_jsonl(path)?;
        eprintln!("{}: {} rows", path.display(), all.len());
        rows.extend(all);
    }
    let mut options = TrainOptions::builtin()?;
    options.model_version = args.model_version;
    if let Some(seed) = args.seed {
        options.seed = seed;
    }
    if let Some(epochs) = args.epochs {
        options.epochs = epochs;
    }
    let started = std::time::Instant::now();
    let model = train_with(&rows, &options)?;
    model
        .save(&args.output)
        .with_context(|| format!("saving the model to {}", args.output.display()))?;
    println!(
        "trained {} on {} rows in {:.1?}: {} features, written to {}",
        model.version(),
        rows.len(),
        started.elapsed(),
        model.num_features(),
        args.output.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Both paths name one existing file (also through `./`, `..` or links).
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
