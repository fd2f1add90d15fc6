//! Rules file text -> validated [`RuleSet`], collecting every invalid field.
//!
//! Each entry is deserialized on its own, so even a TOML type error or an unknown field is
//! reported with the entry's id.

use std::collections::HashSet;

use serde::Deserialize;

use super::when::{RawWhen, compile_when};
use super::{ContextPolicy, Decision, EventRule, LexiconEntry, RefineRule, Refinement, RuleSet};
use crate::error::{ClassifierError, RuleError};
use crate::labels;
use crate::text::{Normalizer, NormalizerSpec};

/// Largest lexicon weight: a single phrase should tip close calls, not override the model on
/// texts it is sure about.
const MAX_LEXICON_WEIGHT: f64 = 10.0;
/// Longest lexicon phrase in words.
pub(crate) const MAX_PHRASE_WORDS: usize = 6;
const TEXT: &str = "text";
const NEXT: &str = "next";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    version: i64,
    #[serde(default)]
    context: Option<toml::Value>,
    #[serde(default)]
    rule: Vec<toml::Value>,
    #[serde(default)]
    lexicon: Vec<toml::Value>,
    #[serde(default)]
    refine: Vec<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContext {
    recent_purchase_days: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    when: RawWhen,
    #[serde(rename = "type")]
    interaction_type: String,
    stage: String,
    #[serde(default)]
    type_among: Vec<String>,
    #[serde(default)]
    stage_among: Vec<String>,
    confidence: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRefine {
    id: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    when: RawWhen,
    #[serde(rename = "type")]
    interaction_type: Option<String>,
    stage: Option<String>,
    confidence: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLexicon {
    id: String,
    #[serde(default)]
    description: String,
    lang: String,
    phrases: Vec<String>,
    #[serde(rename = "type")]
    interaction_type: Option<String>,
    stage: Option<String>,
    weight: f64,
}

/// Collects errors of one entry.
pub(super) struct Report<'a> {
    section: &'static str,
    id: String,
    pub(super) errors: &'a mut Vec<RuleError>,
}

impl<'a> Report<'a> {
    fn new(section: &'static str, id: String, errors: &'a mut Vec<RuleError>) -> Self {
        Self {
            section,
            id,
            errors,
        }
    }

    pub(super) fn error(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(RuleError {
            section: self.section,
            rule_id: self.id.clone(),
            field: field.into(),
            message: message.into(),
        });
    }
}

pub(super) fn compile(text: &str) -> Result<RuleSet, ClassifierError> {
    let raw: RawFile =
        toml::from_str(text).map_err(|error| ClassifierError::RulesSyntax(error.to_string()))?;
    let mut errors = Vec::new();
    let version = match u32::try_from(raw.version) {
        Ok(version) if version >= 1 => version,
        _ => {
            errors.push(file_error("version", "must be an integer >= 1"));
            0
        }
    };
    let context = compile_context(raw.context, &mut errors);
    // Lexicon first: refine rules refer to lexicon ids.
    let normalizer = NormalizerSpec::builtin().map(Normalizer::new)?;
    let mut lexicon = Vec::new();
    for (raw, id) in entries::<RawLexicon>(&raw.lexicon, "lexicon", &mut errors) {
        let mut report = Report::new("lexicon", id, &mut errors);
        if let Some(entry) = compile_lexicon(raw, &normalizer, &mut report) {
            lexicon.push(entry);
        }
    }
    let lexicon_ids: Vec<String> = lexicon.iter().map(|entry| entry.id.clone()).collect();
    let mut rules = Vec::new();
    for (raw, id) in entries::<RawRule>(&raw.rule, "rule", &mut errors) {
        let mut report = Report::new("rule", id, &mut errors);
        if let Some(rule) = compile_rule(raw, &lexicon_ids, &mut report) {
            rules.push(rule);
        }
    }
    let mut refines = Vec::new();
    for (raw, id) in entries::<RawRefine>(&raw.refine, "refine", &mut errors) {
        let mut report = Report::new("refine", id, &mut errors);
        if let Some(refine) = compile_refine(raw, &lexicon_ids, &mut report) {
            refines.push(refine);
        }
    }
    if !errors.is_empty() {
        return Err(ClassifierError::InvalidRules(errors));
    }
    Ok(RuleSet {
        version,
        context,
        rules,
        lexicon,
        refines,
    })
}

fn file_error(field: &str, message: &str) -> RuleError {
    RuleError {
        section: "file",
        rule_id: "-".into(),
        field: field.into(),
        message: message.into(),
    }
}

fn compile_context(raw: Option<toml::Value>, errors: &mut Vec<RuleError>) -> ContextPolicy {
    let mut policy = ContextPolicy {
        recent_purchase_days: 30,
    };
    let Some(raw) = raw else {
        return policy;
    };
    let mut report = Report::new("context", "context".into(), errors);
    match raw.try_into::<RawContext>() {
        Ok(context) => match u32::try_from(context.recent_purchase_days) {
            Ok(days) if days >= 1 => policy.recent_purchase_days = days,
            _ => report.error("recent_purchase_days", "must be an integer >= 1"),
        },
        Err(error) => report.error(field_of(&error), error.message()),
    }
    policy
}

/// Deserializes each entry of a section on its own; checks ids for presence, form, uniqueness.
/// Returns the entries that deserialized, with their ids.
fn entries<T: serde::de::DeserializeOwned>(
    values: &[toml::Value],
    section: &'static str,
    errors: &mut Vec<RuleError>,
) -> Vec<(T, String)> {
    let mut seen = HashSet::new();
    let mut parsed = Vec::new();
    for (index, value) in values.iter().enumerate() {
        let id = value
            .get("id")
            .and_then(|id| id.as_str())
            .map_or_else(|| format!("#{}", index + 1), str::to_owned);
        let before = errors.len();
        let mut report = Report::new(section, id.clone(), errors);
        let valid_id = !id.is_empty()
            && id
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || "._-".contains(ch));
        if !valid_id && !id.starts_with('#') {
            report.error("id", "use lowercase letters, digits, `.`, `_` and `-`");
        }
        if !seen.insert(id.clone()) {
            report.error("id", "is used by an earlier entry of this section");
        }
        match value.clone().try_into::<T>() {
            Ok(entry) if errors.len() == before => parsed.push((entry, id)),
            Ok(_) => {}
            Err(error) => {
                Report::new(section, id, errors).error(field_of(&error), error.message());
            }
        }
    }
    parsed
}

/// The field a TOML deserialization error is about, read from its message.
fn field_of(error: &toml::de::Error) -> String {
    let message = error.message();
    for marker in ["unknown field `", "missing field `"] {
        if let Some(start) = message.find(marker) {
            let rest = &message[start + marker.len()..];
            if let Some(end) = rest.find('`') {
                return rest[..end].to_owned();
            }
        }
    }
    "(entry)".into()
}

fn compile_rule(raw: RawRule, lexicon: &[String], report: &mut Report<'_>) -> Option<EventRule> {
    let when = compile_when(raw.when, lexicon, report);
    if let Some(when) = &when {
        for field in when.tests_decision() {
            report.error(
                field,
                "tests the text decision, which event rules run before; use a [[refine]] rule",
            );
        }
    }
    let interaction_type = decision(&raw.interaction_type, labels::parse_type, "type", report);
    let journey_stage = decision(&raw.stage, labels::parse_stage, "stage", report);
    let type_among: Vec<_> = raw
        .type_among
        .iter()
        .filter_map(|name| label(name, labels::parse_type, "type_among", report))
        .collect();
    let stage_among: Vec<_> = raw
        .stage_among
        .iter()
        .filter_map(|name| label(name, labels::parse_stage, "stage_among", report))
        .collect();
    if !type_among.is_empty() && raw.interaction_type != TEXT {
        report.error("type_among", "only applies when `type` is \"text\"");
    }
    if !stage_among.is_empty() && raw.stage != TEXT {
        report.error("stage_among", "only applies when `stage` is \"text\"");
    }
    let confidence = confidence(raw.confidence, "confidence", report);
    Some(EventRule {
        id: raw.id,
        description: raw.description,
        when: when?,
        interaction_type: interaction_type?,
        journey_stage: journey_stage?,
        type_among,
        stage_among,
        confidence: confidence?,
    })
}

fn compile_refine(
    raw: RawRefine,
    lexicon: &[String],
    report: &mut Report<'_>,
) -> Option<RefineRule> {
    let when = compile_when(raw.when, lexicon, report);
    let interaction_type = raw
        .interaction_type
        .map(|name| refinement(&name, labels::parse_type, "type", report));
    let journey_stage = raw
        .stage
        .map(|name| refinement(&name, labels::parse_stage, "stage", report));
    if interaction_type.is_none() && journey_stage.is_none() {
        report.error("type", "a refine rule sets `type`, `stage` or both");
    }
    let sets_label = [
        interaction_type.map(|t| matches!(t, Some(Refinement::Set(_)))),
        journey_stage.map(|s| matches!(s, Some(Refinement::Set(_)))),
    ]
    .contains(&Some(true));
    let confidence = match raw.confidence {
        Some(value) => confidence(value, "confidence", report),
        None if sets_label => {
            report.error("confidence", "required when the rule sets a label");
            None
        }
        // `next` reports the model's probability of the label it falls back to.
        None => Some(0.0),
    };
    Some(RefineRule {
        id: raw.id,
        description: raw.description,
        when: when?,
        interaction_type: given(interaction_type)?,
        journey_stage: given(journey_stage)?,
        confidence: confidence?,
    })
}

fn refinement<T>(
    name: &str,
    parse: fn(&str) -> Option<T>,
    field: &str,
    report: &mut Report<'_>,
) -> Option<Refinement<T>> {
    if name == NEXT {
        return Some(Refinement::NextBest);
    }
    label(name, parse, field, report).map(Refinement::Set)
}

fn compile_lexicon(
    raw: RawLexicon,
    normalizer: &Normalizer,
    report: &mut Report<'_>,
) -> Option<LexiconEntry> {
    if !["en", "id", "any"].contains(&raw.lang.as_str()) {
        report.error("lang", format!("`{}` is not one of en, id, any", raw.lang));
    }
    if raw.phrases.is_empty() {
        report.error("phrases", "needs at least one phrase");
    }
    for phrase in &raw.phrases {
        let words = normalizer.normalize(phrase);
        let count = words.split(' ').filter(|word| !word.is_empty()).count();
        if count == 0 || count > MAX_PHRASE_WORDS {
            report.error(
                "phrases",
                format!("`{phrase}` normalizes to {count} words; use 1 to {MAX_PHRASE_WORDS}"),
            );
        }
    }
    let interaction_type = raw
        .interaction_type
        .map(|name| label(&name, labels::parse_type, "type", report));
    let journey_stage = raw
        .stage
        .map(|name| label(&name, labels::parse_stage, "stage", report));
    if interaction_type.is_none() && journey_stage.is_none() {
        report.error(
            "type",
            "a lexicon entry argues for a `type`, a `stage` or both",
        );
    }
    if !(raw.weight.is_finite() && raw.weight > 0.0 && raw.weight <= MAX_LEXICON_WEIGHT) {
        report.error(
            "weight",
            format!("{} is outside (0, {MAX_LEXICON_WEIGHT}]", raw.weight),
        );
    }
    Some(LexiconEntry {
        id: raw.id,
        description: raw.description,
        lang: raw.lang,
        phrases: raw.phrases,
        interaction_type: given(interaction_type)?,
        journey_stage: given(journey_stage)?,
        weight: raw.weight as f32,
    })
}

/// A label name, or `None` after reporting it.
pub(super) fn label<T>(
    name: &str,
    parse: fn(&str) -> Option<T>,
    field: &str,
    report: &mut Report<'_>,
) -> Option<T> {
    let parsed = parse(name);
    if parsed.is_none() {
        let valid = if field == "stage" {
            labels::stage_names()
        } else {
            labels::type_names()
        };
        report.error(field, format!("`{name}` is not one of {valid}"));
    }
    parsed
}

fn decision<T>(
    name: &str,
    parse: fn(&str) -> Option<T>,
    field: &str,
    report: &mut Report<'_>,
) -> Option<Decision<T>> {
    if name == TEXT {
        return Some(Decision::Text);
    }
    if parse(name).is_none() {
        let valid = if field == "stage" {
            labels::stage_names()
        } else {
            labels::type_names()
        };
        report.error(field, format!("`{name}` is not `{TEXT}` or one of {valid}"));
    }
    parse(name).map(Decision::Fixed)
}

fn confidence(value: f64, field: &str, report: &mut Report<'_>) -> Option<f32> {
    if value.is_finite() && value > 0.0 && value <= 1.0 {
        Some(value as f32)
    } else {
        report.error(field, format!("{value} is outside (0, 1]"));
        None
    }
}

/// An optional field's parse result: `Some(None)` when absent, `None` when present but invalid.
fn given<T>(field: Option<Option<T>>) -> Option<Option<T>> {
    match field {
        None => Some(None),
        Some(parsed) => parsed.map(Some),
    }
}
