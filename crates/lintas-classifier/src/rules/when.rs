//! The `when = {...}` conditions of a rules file entry -> [`Conditions`].

use std::collections::BTreeMap;

use lintas_schema::v1::{Actor, Channel, Direction, RatingScale};
use serde::Deserialize;

use super::compile::{Report, label};
use super::{Conditions, CustomerState, NamePattern, RatingCondition};
use crate::labels;

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawWhen {
    event_name: Vec<String>,
    source: Vec<String>,
    channel: Vec<String>,
    direction: Vec<String>,
    actor: Vec<String>,
    attribute: BTreeMap<String, Vec<String>>,
    has_text: Option<bool>,
    language: Vec<String>,
    rating: Option<RawRating>,
    customer: Vec<String>,
    #[serde(rename = "type")]
    interaction_type: Vec<String>,
    stage: Vec<String>,
    lexicon_any: Vec<String>,
    lexicon_none: Vec<String>,
    max_type_confidence: Option<f64>,
    max_stage_confidence: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRating {
    #[serde(default)]
    scale: Vec<String>,
    value_at_least: Option<f64>,
    value_at_most: Option<f64>,
    fraction_at_least: Option<f64>,
    fraction_at_most: Option<f64>,
}

pub(super) fn compile_when(
    raw: RawWhen,
    lexicon: &[String],
    report: &mut Report<'_>,
) -> Option<Conditions> {
    let before = report.errors.len();
    let mut when = Conditions::default();
    for pattern in raw.event_name {
        let (body, is_prefix) = match pattern.strip_suffix('*') {
            Some(prefix) => (prefix, true),
            None => (pattern.as_str(), false),
        };
        let valid = !body.is_empty()
            && body
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || "._".contains(ch));
        if !valid {
            report.error(
                "when.event_name",
                format!("`{pattern}` is not a lowercase event name, optionally ending in `*`"),
            );
        } else if is_prefix {
            when.event_name.push(NamePattern::Prefix(body.to_owned()));
        } else {
            when.event_name.push(NamePattern::Exact(body.to_owned()));
        }
    }
    when.source = raw.source;
    when.channel = enum_names(raw.channel, "when.channel", report, |name| {
        Channel::from_str_name(&format!("CHANNEL_{}", name.to_ascii_uppercase()))
            .filter(|_| name.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'))
            .filter(|value| *value != Channel::Unspecified)
    });
    when.direction = enum_names(raw.direction, "when.direction", report, |name| {
        Direction::from_str_name(&format!("DIRECTION_{}", name.to_ascii_uppercase()))
            .filter(|_| name.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'))
            .filter(|value| *value != Direction::Unspecified)
    });
    when.actor = enum_names(raw.actor, "when.actor", report, |name| {
        Actor::from_str_name(&format!("ACTOR_{}", name.to_ascii_uppercase()))
            .filter(|_| name.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'))
            .filter(|value| *value != Actor::Unspecified)
    });
    for (key, values) in raw.attribute {
        if key.is_empty() || values.is_empty() {
            report.error(
                format!("when.attribute.{key}"),
                "needs a key and at least one value (`*` for any)",
            );
        }
        when.attribute.push((key, values));
    }
    when.has_text = raw.has_text;
    when.language = raw.language;
    if let Some(rating) = raw.rating {
        when.rating = compile_rating(rating, report);
    }
    when.customer = enum_names(raw.customer, "when.customer", report, |name| {
        CustomerState::ALL
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, state)| *state)
    });
    when.interaction_type = raw
        .interaction_type
        .iter()
        .filter_map(|name| label(name, labels::parse_type, "when.type", report))
        .collect();
    when.journey_stage = raw
        .stage
        .iter()
        .filter_map(|name| label(name, labels::parse_stage, "when.stage", report))
        .collect();
    when.lexicon_any = lexicon_refs(&raw.lexicon_any, lexicon, "when.lexicon_any", report);
    when.lexicon_none = lexicon_refs(&raw.lexicon_none, lexicon, "when.lexicon_none", report);
    when.max_type_confidence =
        optional_fraction(raw.max_type_confidence, "when.max_type_confidence", report);
    when.max_stage_confidence = optional_fraction(
        raw.max_stage_confidence,
        "when.max_stage_confidence",
        report,
    );
    (report.errors.len() == before).then_some(when)
}

fn compile_rating(raw: RawRating, report: &mut Report<'_>) -> Option<RatingCondition> {
    let scales = enum_names(raw.scale, "when.rating.scale", report, |name| {
        RatingScale::from_str_name(&format!("RATING_SCALE_{}", name.to_ascii_uppercase()))
            .filter(|_| name.chars().all(|ch| ch.is_ascii_lowercase()))
            .filter(|value| *value != RatingScale::Unspecified)
    });
    let values = [
        raw.value_at_least,
        raw.value_at_most,
        raw.fraction_at_least,
        raw.fraction_at_most,
    ];
    if values.iter().flatten().any(|value| !value.is_finite()) {
        report.error("when.rating", "bounds must be finite numbers");
    }
    if let (Some(low), Some(high)) = (raw.value_at_least, raw.value_at_most)
        && low > high
    {
        report.error("when.rating.value_at_least", "is above value_at_most");
    }
    for (value, field) in [
        (raw.fraction_at_least, "when.rating.fraction_at_least"),
        (raw.fraction_at_most, "when.rating.fraction_at_most"),
    ] {
        if value.is_some_and(|value| !(0.0..=1.0).contains(&value)) {
            report.error(field, "must be within [0, 1]");
        }
    }
    Some(RatingCondition {
        scales,
        value_at_least: raw.value_at_least,
        value_at_most: raw.value_at_most,
        fraction_at_least: raw.fraction_at_least,
        fraction_at_most: raw.fraction_at_most,
    })
}

fn enum_names<T>(
    names: Vec<String>,
    field: &str,
    report: &mut Report<'_>,
    parse: impl Fn(&str) -> Option<T>,
) -> Vec<T> {
    let mut values = Vec::with_capacity(names.len());
    for name in names {
        match parse(&name) {
            Some(value) => values.push(value),
            None => report.error(field, format!("`{name}` is not a known value")),
        }
    }
    values
}

fn lexicon_refs(
    ids: &[String],
    lexicon: &[String],
    field: &str,
    report: &mut Report<'_>,
) -> Vec<usize> {
    let mut indices = Vec::new();
    for id in ids {
        match lexicon.iter().position(|known| known == id) {
            Some(index) => indices.push(index),
            None => report.error(field, format!("no valid [[lexicon]] entry has id `{id}`")),
        }
    }
    indices
}

fn optional_fraction(value: Option<f64>, field: &str, report: &mut Report<'_>) -> Option<f32> {
    let value = value?;
    if (0.0..=1.0).contains(&value) {
        Some(value as f32)
    } else {
        report.error(field, format!("{value} is outside [0, 1]"));
        None
    }
}
