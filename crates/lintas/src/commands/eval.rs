//! `lintas eval`: accuracy and macro-F1 per field, overall, per source and per language, with
//! confusion matrices; exits 1 below the given thresholds.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use lintas_classifier::data::{self, Split};
use lintas_classifier::eval::{self, EvalMode, Thresholds};
use lintas_classifier::model::TextModel;
use lintas_classifier::{Classifier, RuleSet};
use lintas_schema::v1::{InteractionType, JourneyStage};

#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    /// Labeled JSONL to score.
    #[arg(value_name = "FILE.jsonl")]
    file: PathBuf,
    /// Model file (default: the built-in model).
    #[arg(long, value_name = "MODEL.json")]
    model: Option<PathBuf>,
    /// Rules file (default: the built-in rules).
    #[arg(long, value_name = "RULES.toml")]
    rules: Option<PathBuf>,
    /// Which rows to score: all, or one part of the deterministic dev split.
    #[arg(long, value_enum, default_value_t = SplitArg::All)]
    split: SplitArg,
    /// Score the text alone (model + lexicons), without event rules and context.
    #[arg(long)]
    text_only: bool,
    /// Baseline: rules and lexicons only, no model (no match: service / retention).
    #[arg(long)]
    keywords_only: bool,
    /// Exit 1 if the overall macro-F1 of either field is below this.
    #[arg(long, value_name = "X", value_parser = parse_score)]
    min_macro_f1: Option<f64>,
    /// Exit 1 if the macro-F1 of either field within any language is below this.
    #[arg(long, value_name = "X", value_parser = parse_score)]
    min_language_macro_f1: Option<f64>,
}

/// A threshold outside [0, 1] can never be met (2) or is always met (NaN, -1): both would make
/// a CI gate meaningless without anyone noticing.
fn parse_score(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(score) if (0.0..=1.0).contains(&score) => Ok(score),
        Ok(_) => Err("a macro-F1 is between 0 and 1, e.g. 0.9".to_owned()),
        Err(error) => Err(format!(
            "{error}: expected a number between 0 and 1, e.g. 0.9"
        )),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SplitArg {
    All,
    Train,
    Heldout,
}

pub(crate) fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let rules = match &args.rules {
        Some(path) => RuleSet::load(path)?,
        None => RuleSet::builtin()?,
    };
    let model = match (&args.model, args.keywords_only) {
        (Some(_), true) => anyhow::bail!("--model and --keywords-only exclude each other"),
        (_, true) => TextModel::keywords_only(InteractionType::Service, JourneyStage::Retention)?,
        (Some(path), false) => TextModel::load(path)?,
        (None, false) => TextModel::builtin()?,
    };
    let classifier = Classifier::new(rules, model);
    let all = data::read_jsonl(&args.file)?;
    let rows = match args.split {
        SplitArg::All => all,
        SplitArg::Train => data::rows_in(&all, Split::Train),
        SplitArg::Heldout => data::rows_in(&all, Split::Heldout),
    };
    anyhow::ensure!(
        !rows.is_empty(),
        "no rows to score in {}",
        args.file.display()
    );
    let mode = if args.text_only {
        EvalMode::TextOnly
    } else {
        EvalMode::Events
    };
    let predicted = eval::predict(&classifier, &rows, mode);
    let report = eval::evaluate(&rows, &predicted);
    println!(
        "{} rows of {} (split {:?}, {}), classifier {}\n",
        rows.len(),
        args.file.display(),
        args.split,
        if args.text_only {
            "text only"
        } else {
            "as events"
        },
        classifier.version()
    );
    print!("{}", report.render());
    let failures = report.failures(&Thresholds {
        min_macro_f1: args.min_macro_f1,
        min_language_macro_f1: args.min_language_macro_f1,
    });
    if failures.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!();
    for failure in &failures {
        eprintln!("below threshold: {failure}");
    }
    Ok(ExitCode::FAILURE)
}

#[cfg(test)]
mod tests {
    use super::parse_score;

    #[test]
    fn thresholds_outside_zero_to_one_are_refused() {
        assert_eq!(parse_score("0.9"), Ok(0.9));
        assert_eq!(parse_score("1"), Ok(1.0));
        for bad in ["NaN", "2", "-0.1", "inf", "high"] {
            let error = parse_score(bad).expect_err(bad);
            assert!(error.contains("between 0 and 1"), "{bad}: {error}");
        }
    }
}
