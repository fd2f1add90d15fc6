//! Labeled data: the JSONL rows `lintas train` and `lintas eval` read, and the deterministic
//! train / held-out split of the dev set.
//!
//! A row is `{id, source, lang, text, interaction_type, journey_stage}` with the short label
//! names of [`crate::labels`]; other fields (`label_orig`) are ignored.

use std::path::Path;

use lintas_schema::v1::{InteractionType, JourneyStage};
use serde::Deserialize;

use crate::error::ClassifierError;
use crate::labels;
use crate::text::fnv1a;

/// Percentage of ids that fall into the held-out part.
pub const HELDOUT_PERCENT: u64 = 30;

/// One labeled text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabeledRow {
    /// Unique id of the row, e.g. `banking77-test-0005`; the split is derived from it.
    pub id: String,
    /// The data set it came from, e.g. `banking77`.
    pub source: String,
    /// ISO 639-1 language, `en` or `id`.
    pub lang: String,
    /// The message.
    pub text: String,
    /// Gold interaction type.
    pub interaction_type: InteractionType,
    /// Gold journey stage.
    pub journey_stage: JourneyStage,
}

#[derive(Deserialize)]
struct RawRow {
    id: String,
    source: String,
    lang: String,
    text: String,
    interaction_type: String,
    journey_stage: String,
}

/// The part of the dev set a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Split {
    /// Used for training and tuning.
    Train,
    /// Never trained or tuned on; the figures in the README are measured on it.
    Heldout,
}

/// The split of a row id: FNV-1a 64 of the id's UTF-8 bytes, modulo 100, below
/// [`HELDOUT_PERCENT`] is held out. Independent of file order, so adding rows never moves others;
/// `baselines/tfidf_lr.py` implements the same function.
pub fn split_of(id: &str) -> Split {
    if fnv1a(id.as_bytes()) % 100 < HELDOUT_PERCENT {
        Split::Heldout
    } else {
        Split::Train
    }
}

/// Cross-validation fold (`0..folds`) of a row id, from hash bits the split does not use.
pub fn fold_of(id: &str, folds: u64) -> u64 {
    (fnv1a(id.as_bytes()) >> 32) % folds.max(1)
}

/// Parses JSONL text; blank lines are skipped.
///
/// # Errors
/// [`ClassifierError::Data`] naming the first invalid line.
pub fn parse_jsonl(text: &str) -> Result<Vec<LabeledRow>, ClassifierError> {
    let mut rows = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let data_error = |message: String| ClassifierError::Data {
            line: index + 1,
            message,
        };
        let raw: RawRow =
            serde_json::from_str(line).map_err(|error| data_error(error.to_string()))?;
        let interaction_type = labels::parse_type(&raw.interaction_type).ok_or_else(|| {
            data_error(format!(
                "interaction_type `{}` is not one of {}",
                raw.interaction_type,
                labels::type_names()
            ))
        })?;
        let journey_stage = labels::parse_stage(&raw.journey_stage).ok_or_else(|| {
            data_error(format!(
                "journey_stage `{}` is not one of {}",
                raw.journey_stage,
                labels::stage_names()
            ))
        })?;
        if raw.id.is_empty() {
            return Err(data_error("id is empty".into()));
        }
        rows.push(LabeledRow {
            id: raw.id,
            source: raw.source,
            lang: raw.lang,
            text: raw.text,
            interaction_type,
            journey_stage,
        });
    }
    Ok(rows)
}

/// Reads a JSONL file of labeled rows.
///
/// # Errors
/// [`ClassifierError::Io`] or [`ClassifierError::Data`].
pub fn read_jsonl(path: &Path) -> Result<Vec<LabeledRow>, ClassifierError> {
    let text = std::fs::read_to_string(path).map_err(|source| ClassifierError::Io {
        action: "reading",
        path: path.to_owned(),
        source,
    })?;
    parse_jsonl(&text)
}

/// The rows of one split.
pub fn rows_in(rows: &[LabeledRow], split: Split) -> Vec<LabeledRow> {
    rows.iter()
        .filter(|row| split_of(&row.id) == split)
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rows_and_names_the_bad_line() {
        let text = concat!(
            r#"{"id":"a","source":"s","lang":"en","text":"hi","label_orig":"x","interaction_type":"sales","journey_stage":"purchase"}"#,
            "\n\n",
            r#"{"id":"b","source":"s","lang":"en","text":"hi","interaction_type":"sale","journey_stage":"purchase"}"#,
        );
        let error = parse_jsonl(text).expect_err("bad label");
        assert!(
            matches!(error, ClassifierError::Data { line: 3, .. }),
            "{error}"
        );
        assert!(error.to_string().contains("`sale`"));
        let rows = parse_jsonl(text.lines().next().unwrap_or_default()).expect("valid row");
        assert_eq!(rows[0].interaction_type, InteractionType::Sales);
        assert_eq!(rows[0].journey_stage, JourneyStage::Purchase);
    }

    #[test]
    fn split_is_a_pure_function_of_the_id() {
        assert_eq!(
            split_of("banking77-test-0005"),
            split_of("banking77-test-0005")
        );
        let heldout = (0..1000)
            .filter(|index| split_of(&format!("row-{index}")) == Split::Heldout)
            .count();
        assert!((250..350).contains(&heldout), "{heldout} of 1000 held out");
        assert!((0..100).all(|index| fold_of(&format!("row-{index}"), 5) < 5));
    }
}
