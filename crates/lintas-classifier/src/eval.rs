//! Evaluation: accuracy and macro-F1 per field, overall, per language and per source, with
//! confusion matrices; what `lintas eval` prints.
//!
//! Macro-F1 averages the F1 of every label that occurs in the gold labels or the predictions of
//! the slice (scikit-learn's `f1_score(average="macro")`), so predicting a label that never occurs
//! costs as much as missing one.
//!
//! Rows carry no channel or event metadata, so (as the dev set's README prescribes) English rows
//! are classified as inbound chat messages and Indonesian rows as reviews, each from a customer
//! the classifier has not seen before ([`event_for_row`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use lintas_schema::v1::{
    Actor, Channel, Direction, InteractionEvent, InteractionType, JourneyStage,
};

use crate::classifier::Classifier;
use crate::context::CustomerContext;
use crate::data::LabeledRow;
use crate::labels::{stage_from_i32, stage_name, type_from_i32, type_name};

/// How rows are put to the classifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalMode {
    /// As events ([`event_for_row`]) through the whole pipeline.
    Events,
    /// Text alone through the model and lexicons ([`Classifier::decide_text`]).
    TextOnly,
}

/// The event a labeled row stands for: an inbound chat message (English) or a review
/// (Indonesian; the dev set's Indonesian rows are all reviews).
pub fn event_for_row(row: &LabeledRow) -> InteractionEvent {
    let is_review = row.lang == "id";
    InteractionEvent {
        event_id: row.id.clone(),
        tenant_id: "eval".into(),
        source: "eval".into(),
        channel: if is_review {
            Channel::Social
        } else {
            Channel::WebChat
        } as i32,
        direction: Direction::Inbound as i32,
        actor: Actor::Customer as i32,
        event_name: if is_review {
            "review.submitted"
        } else {
            "message.received"
        }
        .into(),
        customer_id: format!("eval:{}", row.id),
        text: row.text.clone(),
        language: row.lang.clone(),
        ..Default::default()
    }
}

/// Classifies every row.
pub fn predict(
    classifier: &Classifier,
    rows: &[LabeledRow],
    mode: EvalMode,
) -> Vec<(InteractionType, JourneyStage)> {
    let context = CustomerContext::default();
    rows.iter()
        .map(|row| match mode {
            EvalMode::Events => {
                let result = classifier.classify(&event_for_row(row), &context);
                (
                    type_from_i32(result.interaction_type),
                    stage_from_i32(result.journey_stage),
                )
            }
            EvalMode::TextOnly => {
                let decision = classifier.decide_text(&row.text);
                (decision.interaction_type, decision.journey_stage)
            }
        })
        .collect()
}

/// Accuracy and macro-F1 of one field on one slice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldScores {
    /// Share of rows whose label is right.
    pub accuracy: f64,
    /// Macro-averaged F1 over the labels of the slice.
    pub macro_f1: f64,
}

/// Scores of both fields on one slice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SliceScores {
    /// Rows in the slice.
    pub rows: usize,
    /// Interaction type.
    pub interaction_type: FieldScores,
    /// Journey stage.
    pub journey_stage: FieldScores,
}

/// A confusion matrix: `counts[gold][predicted]` over `labels`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confusion {
    /// Labels in order.
    pub labels: Vec<&'static str>,
    /// Row = gold label, column = predicted label.
    pub counts: Vec<Vec<usize>>,
}

/// The full evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalReport {
    /// All rows.
    pub overall: SliceScores,
    /// Per `lang`.
    pub by_language: BTreeMap<String, SliceScores>,
    /// Per `source`.
    pub by_source: BTreeMap<String, SliceScores>,
    /// Interaction type confusion, all rows.
    pub type_confusion: Confusion,
    /// Journey stage confusion, all rows.
    pub stage_confusion: Confusion,
}

/// Scores `predicted` (one per row, in order) against the rows' gold labels.
pub fn evaluate(rows: &[LabeledRow], predicted: &[(InteractionType, JourneyStage)]) -> EvalReport {
    let pairs: Vec<(&LabeledRow, (InteractionType, JourneyStage))> =
        rows.iter().zip(predicted.iter().copied()).collect();
    let slice = |filter: &dyn Fn(&LabeledRow) -> bool| -> SliceScores {
        let chosen: Vec<_> = pairs.iter().filter(|(row, _)| filter(row)).collect();
        let types: Vec<(&str, &str)> = chosen
            .iter()
            .map(|(row, (t, _))| (type_name(row.interaction_type), type_name(*t)))
            .collect();
        let stages: Vec<(&str, &str)> = chosen
            .iter()
            .map(|(row, (_, s))| (stage_name(row.journey_stage), stage_name(*s)))
            .collect();
        SliceScores {
            rows: chosen.len(),
            interaction_type: field_scores(&types),
            journey_stage: field_scores(&stages),
        }
    };
    let languages: BTreeSet<&str> = rows.iter().map(|row| row.lang.as_str()).collect();
    let sources: BTreeSet<&str> = rows.iter().map(|row| row.source.as_str()).collect();
    let type_pairs: Vec<_> = pairs
        .iter()
        .map(|(row, (t, _))| (type_name(row.interaction_type), type_name(*t)))
        .collect();
    let stage_pairs: Vec<_> = pairs
        .iter()
        .map(|(row, (_, s))| (stage_name(row.journey_stage), stage_name(*s)))
        .collect();
    EvalReport {
        overall: slice(&|_| true),
        by_language: languages
            .into_iter()
            .map(|lang| (lang.to_owned(), slice(&|row| row.lang == lang)))
            .collect(),
        by_source: sources
            .into_iter()
            .map(|source| (source.to_owned(), slice(&|row| row.source == source)))
            .collect(),
        type_confusion: confusion(&type_pairs),
        stage_confusion: confusion(&stage_pairs),
    }
}

/// Accuracy and macro-F1 of `(gold, predicted)` pairs.
pub fn field_scores(pairs: &[(&str, &str)]) -> FieldScores {
    if pairs.is_empty() {
        return FieldScores {
            accuracy: 0.0,
            macro_f1: 0.0,
        };
    }
    let correct = pairs
        .iter()
        .filter(|(gold, predicted)| gold == predicted)
        .count();
    let labels: BTreeSet<&str> = pairs
        .iter()
        .flat_map(|(gold, predicted)| [*gold, *predicted])
        .collect();
    let mut f1_sum = 0.0;
    for label in &labels {
        let true_positive = pairs
            .iter()
            .filter(|(g, p)| g == label && p == label)
            .count() as f64;
        let gold_count = pairs.iter().filter(|(g, _)| g == label).count() as f64;
        let predicted_count = pairs.iter().filter(|(_, p)| p == label).count() as f64;
        // F1 = 2TP / (gold + predicted); zero when the label is never right.
        let denominator = gold_count + predicted_count;
        if denominator > 0.0 {
            f1_sum += 2.0 * true_positive / denominator;
        }
    }
    FieldScores {
        accuracy: correct as f64 / pairs.len() as f64,
        macro_f1: f1_sum / labels.len() as f64,
    }
}

fn confusion(pairs: &[(&'static str, &'static str)]) -> Confusion {
    let labels: Vec<&'static str> = pairs
        .iter()
        .flat_map(|(gold, predicted)| [*gold, *predicted])
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut counts = vec![vec![0; labels.len()]; labels.len()];
    for (gold, predicted) in pairs {
        let row = labels.iter().position(|label| label == gold);
        let column = labels.iter().position(|label| label == predicted);
        if let (Some(row), Some(column)) = (row, column) {
            counts[row][column] += 1;
        }
    }
    Confusion { labels, counts }
}

/// Minimum scores `lintas eval` enforces.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Thresholds {
    /// Macro-F1 of each field over all rows.
    pub min_macro_f1: Option<f64>,
    /// Macro-F1 of each field within each language.
    pub min_language_macro_f1: Option<f64>,
}

impl EvalReport {
    /// Every threshold the report misses, as messages naming slice, field, score and minimum.
    pub fn failures(&self, thresholds: &Thresholds) -> Vec<String> {
        let mut failures = Vec::new();
        let mut check = |slice: &str, scores: &SliceScores, minimum: Option<f64>| {
            let Some(minimum) = minimum else {
                return;
            };
            for (field, value) in [
                ("interaction_type", scores.interaction_type.macro_f1),
                ("journey_stage", scores.journey_stage.macro_f1),
            ] {
                if value < minimum {
                    failures.push(format!(
                        "{slice}: {field} macro-F1 {value:.3} is below {minimum:.3}"
                    ));
                }
            }
        };
        check("overall", &self.overall, thresholds.min_macro_f1);
        for (lang, scores) in &self.by_language {
            check(
                &format!("lang={lang}"),
                scores,
                thresholds.min_language_macro_f1,
            );
        }
        failures
    }

    /// The report as aligned text tables.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<22} {:>6}  {:>9} {:>9}  {:>9} {:>9}",
            "slice", "rows", "type acc", "type F1", "stage acc", "stage F1"
        );
        let mut line = |name: &str, scores: &SliceScores| {
            let _ = writeln!(
                out,
                "{:<22} {:>6}  {:>9.3} {:>9.3}  {:>9.3} {:>9.3}",
                name,
                scores.rows,
                scores.interaction_type.accuracy,
                scores.interaction_type.macro_f1,
                scores.journey_stage.accuracy,
                scores.journey_stage.macro_f1
            );
        };
        line("overall", &self.overall);
        for (lang, scores) in &self.by_language {
            line(&format!("lang={lang}"), scores);
        }
        for (source, scores) in &self.by_source {
            line(&format!("source={source}"), scores);
        }
        for (title, matrix) in [
            ("interaction type", &self.type_confusion),
            ("journey stage", &self.stage_confusion),
        ] {
            let _ = writeln!(
                out,
                "\nconfusion, {title} (rows = gold, columns = predicted):"
            );
            let width = 6;
            let _ = write!(out, "{:<22}", "");
            for label in &matrix.labels {
                let _ = write!(out, " {:>width$}", abbreviate(label, width));
            }
            let _ = writeln!(out);
            for (label, row) in matrix.labels.iter().zip(&matrix.counts) {
                let _ = write!(out, "{label:<22}");
                for count in row {
                    let _ = write!(out, " {count:>width$}");
                }
                let _ = writeln!(out);
            }
        }
        out
    }
}

fn abbreviate(label: &str, width: usize) -> String {
    label.chars().take(width).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_f1_counts_labels_that_are_only_predicted() {
        let perfect = field_scores(&[("a", "a"), ("b", "b")]);
        assert_eq!(perfect.macro_f1, 1.0);
        // Gold is all `a`; one `b` predicted: F1(a) = 2*2/(3+2) = 0.8, F1(b) = 0.
        let scores = field_scores(&[("a", "a"), ("a", "a"), ("a", "b")]);
        assert!((scores.macro_f1 - 0.4).abs() < 1e-9, "{scores:?}");
        assert!((scores.accuracy - 2.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn confusion_rows_are_gold_and_columns_predicted() {
        let matrix = confusion(&[("sales", "service"), ("sales", "sales")]);
        assert_eq!(matrix.labels, vec!["sales", "service"]);
        assert_eq!(matrix.counts, vec![vec![1, 1], vec![0, 0]]);
    }
}
