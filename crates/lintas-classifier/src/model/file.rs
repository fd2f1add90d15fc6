//! The serialized form of a model file and its conversion to and from [`Head`]s.

use serde::{Deserialize, Serialize};

use super::{Head, TrainingSummary, quantize};
use crate::error::ClassifierError;
use crate::labels::TYPE_SLOTS;
use crate::text::{FeatureSpec, NormalizerSpec};

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ModelFile {
    pub(super) format: String,
    pub(super) format_version: u32,
    pub(super) model_version: String,
    pub(super) algorithm: String,
    pub(super) features: FeatureSpec,
    pub(super) normalizer: NormalizerSpec,
    pub(super) training: TrainingSummary,
    pub(super) feature_ids: Vec<u32>,
    pub(super) idf: Vec<f32>,
    pub(super) heads: Vec<HeadFile>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HeadFile {
    pub(super) field: String,
    pub(super) classes: Vec<String>,
    pub(super) bias: Vec<f32>,
    pub(super) weight_scale: f32,
    pub(super) weights: Vec<i16>,
}

pub(super) fn head_from_file<L: Copy + PartialEq>(
    head: HeadFile,
    num_features: usize,
    parse: fn(&str) -> Option<L>,
) -> Result<Head<L>, ClassifierError> {
    let bad = |message: String| {
        Err(ClassifierError::ModelFormat(format!(
            "head `{}`: {message}",
            head.field
        )))
    };
    let mut classes = Vec::with_capacity(head.classes.len());
    for name in &head.classes {
        match parse(name) {
            Some(class) if !classes.contains(&class) => classes.push(class),
            _ => return bad(format!("class `{name}` is unknown or repeated")),
        }
    }
    let k = classes.len();
    if k == 0 || k > TYPE_SLOTS {
        return bad(format!("has {k} classes"));
    }
    if head.bias.len() != k || head.bias.iter().any(|bias| !bias.is_finite()) {
        return bad(format!("bias must hold {k} finite numbers"));
    }
    if head.weights.len() != num_features * k {
        return bad(format!(
            "weights has {} entries, expected {num_features} features x {k} classes",
            head.weights.len()
        ));
    }
    if !head.weight_scale.is_finite() || head.weight_scale < 0.0 {
        return bad("weight_scale must be a finite number >= 0".into());
    }
    let weights = head
        .weights
        .iter()
        .map(|quantized| f32::from(*quantized) * head.weight_scale)
        .collect();
    Ok(Head {
        classes,
        bias: head.bias,
        weight_scale: head.weight_scale,
        weights,
    })
}

pub(super) fn head_to_file<L: Copy>(
    field: &str,
    head: &Head<L>,
    name: fn(L) -> &'static str,
) -> HeadFile {
    let weights = head
        .weights
        .iter()
        .map(|weight| quantize(*weight, head.weight_scale))
        .collect();
    HeadFile {
        field: field.into(),
        classes: head
            .classes
            .iter()
            .map(|class| name(*class).into())
            .collect(),
        bias: head.bias.clone(),
        weight_scale: head.weight_scale,
        weights,
    }
}
