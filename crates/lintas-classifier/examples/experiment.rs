//! Tuning and held-out measurement of the text model (not part of the product).
//!
//! `cargo run --release -p lintas-classifier --example experiment -- DEV.jsonl OWN.jsonl
//!  [cv|heldout|write MODEL] [key=value ...]` with keys epochs, l2, lr, min_df, bits, chars,
//!  cmin, words, seed, balance, lexicon, drop (lexicon ids), rules (a rules file instead of the
//!  built-in one), keywords (`true`: `heldout` scores keyword baseline (a), the rules and
//!  lexicons over `TextModel::keywords_only`, as `lintas eval --keywords-only` does).
//! `cv` runs 5-fold cross-validation inside the train split only (what tuning may look at);
//! `heldout` trains on the train split + own data and scores the held-out split; `write MODEL`
//! does the same and saves the model (byte for byte what `lintas train` writes).

use std::path::Path;

use lintas_classifier::data::{self, LabeledRow, Split};
use lintas_classifier::eval::{self, EvalMode};
use lintas_classifier::model::{TextModel, TrainOptions, train_with};
use lintas_classifier::{Classifier, RuleSet};
use lintas_schema::v1::{InteractionType, JourneyStage};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: experiment DEV.jsonl OWN.jsonl [cv|heldout|write MODEL] [key=value ...]";
    let (Some(dev_path), Some(own_path)) = (args.first(), args.get(1)) else {
        return Err(usage.into());
    };
    let dev = data::read_jsonl(Path::new(dev_path))?;
    let own = data::read_jsonl(Path::new(own_path))?;
    let mode = args.get(2).cloned().unwrap_or_else(|| "heldout".into());
    let mut options = TrainOptions::builtin()?;
    let mut rest = args.get(3..).unwrap_or_default();
    let mut output = None;
    let mut use_lexicon = true;
    let mut dropped: Vec<String> = Vec::new();
    let mut rules_path: Option<String> = None;
    let mut keywords_only = false;
    if mode == "write" {
        output = Some(rest.first().ok_or(usage)?.clone());
        rest = rest.get(1..).unwrap_or_default();
    }
    for setting in rest {
        let (key, value) = setting.split_once('=').ok_or("key=value")?;
        match key {
            "epochs" => options.epochs = value.parse()?,
            "l2" => options.l2 = value.parse()?,
            "lr" => options.learning_rate = value.parse()?,
            "min_df" => options.min_df = value.parse()?,
            "bits" => options.features.hash_bits = value.parse()?,
            "chars" => options.features.char_ngram_max = value.parse()?,
            "cmin" => options.features.char_ngram_min = value.parse()?,
            "words" => options.features.word_ngram_max = value.parse()?,
            "seed" => options.seed = value.parse()?,
            "balance" => options.balance_classes = value.parse()?,
            "lexicon" => use_lexicon = value.parse()?,
            "rules" => rules_path = Some(value.to_owned()),
            "keywords" => keywords_only = value.parse()?,
            "drop" => dropped = value.split(',').map(str::to_owned).collect(),
            _ => return Err(format!("unknown key {key}").into()),
        }
    }
    let mut rules = match &rules_path {
        Some(path) => RuleSet::load(Path::new(path))?,
        None => RuleSet::builtin()?,
    };
    if !use_lexicon {
        rules.lexicon.clear();
    }
    for entry in &mut rules.lexicon {
        if dropped.contains(&entry.id) {
            entry.weight = 0.0;
        }
    }
    let train_dev = data::rows_in(&dev, Split::Train);
    let heldout = data::rows_in(&dev, Split::Heldout);
    match mode.as_str() {
        "cv" => {
            let folds = 5;
            let mut sums = [0.0f64; 4];
            let mut gold: Vec<LabeledRow> = Vec::new();
            let mut predicted_events = Vec::new();
            let mut predicted_text = Vec::new();
            for fold in 0..folds {
                let (test, train): (Vec<LabeledRow>, Vec<LabeledRow>) = train_dev
                    .iter()
                    .cloned()
                    .partition(|row| data::fold_of(&row.id, folds) == fold);
                let mut rows = train;
                rows.extend(own.iter().cloned());
                let classifier = Classifier::new(rules.clone(), train_with(&rows, &options)?);
                let events = eval::predict(&classifier, &test, EvalMode::Events);
                let text = eval::predict(&classifier, &test, EvalMode::TextOnly);
                let report_events = eval::evaluate(&test, &events);
                let report_text = eval::evaluate(&test, &text);
                sums[0] += report_events.overall.interaction_type.macro_f1;
                sums[1] += report_events.overall.journey_stage.macro_f1;
                sums[2] += report_text.overall.interaction_type.macro_f1;
                sums[3] += report_text.overall.journey_stage.macro_f1;
                gold.extend(test);
                predicted_events.extend(events);
                predicted_text.extend(text);
            }
            let n = folds as f64;
            println!(
                "cv mean macro-F1: events type {:.3} stage {:.3} | text type {:.3} stage {:.3}",
                sums[0] / n,
                sums[1] / n,
                sums[2] / n,
                sums[3] / n
            );
            if std::env::var_os("PRINT_ERRORS").is_some() {
                for (row, (t, s)) in gold.iter().zip(&predicted_events) {
                    if *t != row.interaction_type {
                        println!(
                            "ERR {:?}->{:?} {:?}->{:?} | {}",
                            row.interaction_type, t, row.journey_stage, s, row.text
                        );
                    }
                }
            }
            println!("{}", eval::evaluate(&gold, &predicted_events).render());
            println!(
                "== text only\n{}",
                eval::evaluate(&gold, &predicted_text).render()
            );
        }
        "heldout" | "write" => {
            let mut rows = train_dev.clone();
            rows.extend(own.iter().cloned());
            let start = std::time::Instant::now();
            let model = train_with(&rows, &options)?;
            eprintln!(
                "trained {} rows, {} features in {:?}",
                rows.len(),
                model.num_features(),
                start.elapsed()
            );
            if let Some(path) = output {
                model.save(Path::new(&path))?;
            }
            let model = if keywords_only {
                TextModel::keywords_only(InteractionType::Service, JourneyStage::Retention)?
            } else {
                model
            };
            let classifier = Classifier::new(rules, model);
            for mode in [EvalMode::Events, EvalMode::TextOnly] {
                let predicted = eval::predict(&classifier, &heldout, mode);
                println!(
                    "== held-out, {mode:?}\n{}",
                    eval::evaluate(&heldout, &predicted).render()
                );
            }
        }
        other => return Err(format!("unknown mode {other}").into()),
    }
    Ok(())
}
