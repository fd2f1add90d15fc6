//! The text model: multinomial logistic regression over hashed word and character n-grams, one
//! head per field (interaction type, journey stage), trained by [`train`] and stored as a
//! versioned JSON model file.
//!
//! Features are TF-IDF weighted (sublinear term frequency `1 + ln tf`, smoothed IDF), each group
//! (words, characters) L2-normalized on its own, as in the usual scikit-learn text pipeline; only
//! features seen in at least `min_df` training texts are kept, so the file holds a vocabulary
//! of bucket ids rather than a dense `2^hash_bits` table.
//!
//! File format (`format_version` 1): a JSON object with `format`, `format_version`,
//! `model_version`, `algorithm`, `features` (hash-space size and n-gram ranges), `normalizer`
//! (the normalization the model was trained with), `training` (what it was trained on),
//! `feature_ids` (sorted bucket ids), `idf`, and per head the `classes`, `bias` and the weights
//! quantized to `i16` with one `weight_scale` per head (feature-major: `weights[f * k + c]`).
//! Quantization keeps the file small; a freshly trained model carries the same quantized weights,
//! so it predicts exactly what its saved and reloaded copy predicts.

mod file;
mod train;

use std::cell::RefCell;
use std::path::Path;

use lintas_schema::v1::{InteractionType, JourneyStage};

use crate::error::ClassifierError;
use crate::labels::{self, STAGE_SLOTS, TYPE_SLOTS};
use crate::text::{FeatureSpec, Normalizer, NormalizerSpec};

use file::{ModelFile, head_from_file, head_to_file};
pub use train::{TrainOptions, TrainingSummary, train, train_with};

/// `format` of every model file.
pub const MODEL_FORMAT: &str = "lintas-text-model";
/// The model file format version this build reads and writes.
pub const MODEL_FORMAT_VERSION: u32 = 1;
/// The only algorithm of format version 1.
pub const ALGORITHM: &str = "logistic_regression";
/// The model shipped inside the crate, trained by `lintas train` (see the crate README).
pub const BUILTIN_MODEL: &[u8] = include_bytes!("../../models/default.json");

const FIELD_TYPE: &str = "interaction_type";
const FIELD_STAGE: &str = "journey_stage";
const NO_SLOT: u32 = u32::MAX;

/// Raw model scores of one text: a logit per class, `-inf` for classes the model never saw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    /// Logits indexed by `InteractionType as usize`.
    pub type_logits: [f32; TYPE_SLOTS],
    /// Logits indexed by `JourneyStage as usize`.
    pub stage_logits: [f32; STAGE_SLOTS],
}

/// A trained text model, ready to score texts.
#[derive(Debug, Clone)]
pub struct TextModel {
    version: String,
    features: FeatureSpec,
    normalizer: Normalizer,
    training: TrainingSummary,
    feature_ids: Vec<u32>,
    idf: Vec<f32>,
    // Feature id -> index into `feature_ids`, `NO_SLOT` when the model does not use it: a flat
    // table so scoring does one array read per n-gram.
    slot_of: Vec<u32>,
    type_head: Head<InteractionType>,
    stage_head: Head<JourneyStage>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Head<L> {
    pub(crate) classes: Vec<L>,
    pub(crate) bias: Vec<f32>,
    pub(crate) weight_scale: f32,
    /// Dequantized weights, feature-major.
    pub(crate) weights: Vec<f32>,
}

thread_local! {
    // Reused buffers: scoring allocates nothing per call once a thread has warmed up.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

#[derive(Debug, Default)]
struct Scratch {
    normalized: String,
    chars: Vec<char>,
    ids: Vec<u32>,
    vector: Vec<(u32, f32)>,
}

impl TextModel {
    /// The model built into this crate.
    ///
    /// # Errors
    /// Only if the embedded file is broken, which the crate's tests rule out.
    pub fn builtin() -> Result<Self, ClassifierError> {
        Self::from_json(BUILTIN_MODEL)
    }

    /// Loads a model file.
    ///
    /// # Errors
    /// [`ClassifierError::Io`] or [`ClassifierError::ModelFormat`].
    pub fn load(path: &Path) -> Result<Self, ClassifierError> {
        let bytes = std::fs::read(path).map_err(|source| ClassifierError::Io {
            action: "reading",
            path: path.to_owned(),
            source,
        })?;
        Self::from_json(&bytes)
    }

    /// Parses and checks a model file's bytes.
    ///
    /// # Errors
    /// [`ClassifierError::ModelFormat`] naming what is wrong.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ClassifierError> {
        let format_error = |message: String| ClassifierError::ModelFormat(message);
        // Read the header first so a file of another format version gets a clear message rather
        // than a complaint about some field it renamed.
        let header: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|error| format_error(format!("not JSON: {error}")))?;
        let format = header.get("format").and_then(|value| value.as_str());
        if format != Some(MODEL_FORMAT) {
            return Err(format_error(format!(
                "`format` is {format:?}, expected \"{MODEL_FORMAT}\""
            )));
        }
        let version = header
            .get("format_version")
            .and_then(|value| value.as_u64());
        if version != Some(u64::from(MODEL_FORMAT_VERSION)) {
            return Err(format_error(format!(
                "format_version {version:?} is not supported; this build reads {MODEL_FORMAT_VERSION}"
            )));
        }
        let file: ModelFile =
            serde_json::from_value(header).map_err(|error| format_error(error.to_string()))?;
        Self::from_file(file)
    }

    fn from_file(file: ModelFile) -> Result<Self, ClassifierError> {
        let bad = |message: String| Err(ClassifierError::ModelFormat(message));
        if file.algorithm != ALGORITHM {
            return bad(format!(
                "algorithm `{}` is not `{ALGORITHM}`",
                file.algorithm
            ));
        }
        if file.model_version.trim().is_empty() {
            return bad("model_version is empty".into());
        }
        if let Some(problem) = file.features.problem() {
            return bad(format!("features: {problem}"));
        }
        file.normalizer.check()?;
        let num_ids = file.features.num_feature_ids();
        let sorted = file.feature_ids.windows(2).all(|pair| pair[0] < pair[1]);
        let in_range = file.feature_ids.iter().all(|id| (*id as usize) < num_ids);
        if !sorted || !in_range {
            return bad(format!(
                "feature_ids must be strictly increasing and below {num_ids}"
            ));
        }
        if file.idf.len() != file.feature_ids.len()
            || file.idf.iter().any(|idf| !idf.is_finite() || *idf <= 0.0)
        {
            return bad("idf must hold one positive number per feature id".into());
        }
        let mut type_head = None;
        let mut stage_head = None;
        for head in file.heads {
            let num_features = file.feature_ids.len();
            match head.field.as_str() {
                FIELD_TYPE if type_head.is_none() => {
                    type_head = Some(head_from_file(head, num_features, labels::parse_type)?);
                }
                FIELD_STAGE if stage_head.is_none() => {
                    stage_head = Some(head_from_file(head, num_features, labels::parse_stage)?);
                }
                other => return bad(format!("unexpected or repeated head `{other}`")),
            }
        }
        let (Some(type_head), Some(stage_head)) = (type_head, stage_head) else {
            return bad(format!(
                "needs the heads `{FIELD_TYPE}` and `{FIELD_STAGE}`"
            ));
        };
        let mut slot_of = vec![NO_SLOT; num_ids];
        for (slot, id) in file.feature_ids.iter().enumerate() {
            slot_of[*id as usize] = u32::try_from(slot).unwrap_or(NO_SLOT);
        }
        Ok(Self {
            version: file.model_version,
            features: file.features,
            normalizer: Normalizer::new(file.normalizer),
            training: file.training,
            feature_ids: file.feature_ids,
            idf: file.idf,
            slot_of,
            type_head,
            stage_head,
        })
    }

    /// A model without features that prefers `default_type` / `default_stage` slightly over
    /// every other label: with it a classifier decides by rules and lexicons alone (the keyword
    /// baseline of the README), falling back to the defaults when no phrase matches.
    pub fn keywords_only(
        default_type: InteractionType,
        default_stage: JourneyStage,
    ) -> Result<Self, ClassifierError> {
        let preference = |matches: bool| if matches { 0.5 } else { 0.0 };
        let types: Vec<InteractionType> = labels::TYPES
            .into_iter()
            .filter(|label| *label != InteractionType::NotApplicable)
            .collect();
        let stages: Vec<JourneyStage> = labels::STAGES
            .into_iter()
            .filter(|label| *label != JourneyStage::NotApplicable)
            .collect();
        let features = FeatureSpec {
            hash_bits: crate::text::features::MIN_HASH_BITS,
            ..FeatureSpec::default()
        };
        Ok(Self {
            version: "keywords-only".into(),
            features,
            normalizer: Normalizer::new(NormalizerSpec::builtin()?),
            training: TrainingSummary {
                rows: 0,
                rows_by_source: Default::default(),
                min_df: 1,
                epochs: 0,
                l2: 0.0,
                learning_rate: 0.0,
                seed: 0,
                data_hash: String::new(),
            },
            feature_ids: Vec::new(),
            idf: Vec::new(),
            slot_of: vec![NO_SLOT; features.num_feature_ids()],
            type_head: Head {
                bias: types
                    .iter()
                    .map(|label| preference(*label == default_type))
                    .collect(),
                classes: types,
                weight_scale: 0.0,
                weights: Vec::new(),
            },
            stage_head: Head {
                bias: stages
                    .iter()
                    .map(|label| preference(*label == default_stage))
                    .collect(),
                classes: stages,
                weight_scale: 0.0,
                weights: Vec::new(),
            },
        })
    }

    /// The model file's JSON (compact, deterministic: the same model always gives the same bytes).
    pub fn to_json(&self) -> String {
        let file = ModelFile {
            format: MODEL_FORMAT.into(),
            format_version: MODEL_FORMAT_VERSION,
            model_version: self.version.clone(),
            algorithm: ALGORITHM.into(),
            features: self.features,
            normalizer: self.normalizer.spec().clone(),
            training: self.training.clone(),
            feature_ids: self.feature_ids.clone(),
            idf: self.idf.clone(),
            heads: vec![
                head_to_file(FIELD_TYPE, &self.type_head, labels::type_name),
                head_to_file(FIELD_STAGE, &self.stage_head, labels::stage_name),
            ],
        };
        // Plain data (numbers, strings, maps with string keys) always serializes.
        serde_json::to_string(&file).unwrap_or_default()
    }

    /// Writes the model file.
    ///
    /// # Errors
    /// [`ClassifierError::Io`].
    pub fn save(&self, path: &Path) -> Result<(), ClassifierError> {
        let mut json = self.to_json();
        json.push('\n');
        std::fs::write(path, json).map_err(|source| ClassifierError::Io {
            action: "writing",
            path: path.to_owned(),
            source,
        })
    }

    /// The model's version, e.g. `lr-3f2a9c01`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// What the model was trained on.
    pub fn training(&self) -> &TrainingSummary {
        &self.training
    }

    /// The feature spec (hash-space size, n-gram ranges).
    pub fn features(&self) -> &FeatureSpec {
        &self.features
    }

    /// The normalizer the model was trained with; lexicons must use the same one.
    pub fn normalizer(&self) -> &Normalizer {
        &self.normalizer
    }

    /// Number of features (vocabulary size) the model uses.
    pub fn num_features(&self) -> usize {
        self.feature_ids.len()
    }

    /// Scores a raw text (normalizes it first).
    pub fn score(&self, text: &str) -> Scores {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.score_with(text, &mut scratch),
            // Only reachable if scoring re-entered itself on one thread; fall back to fresh
            // buffers rather than panic.
            Err(_) => self.score_with(text, &mut Scratch::default()),
        })
    }

    /// Scores an already normalized text (see [`Normalizer::normalize`]).
    pub fn score_normalized(&self, normalized: &str) -> Scores {
        SCRATCH.with(|cell| {
            let mut fresh = Scratch::default();
            let mut borrowed = cell.try_borrow_mut();
            // Re-entry on one thread cannot happen in practice; fresh buffers rather than panic.
            let scratch = match borrowed.as_deref_mut() {
                Ok(scratch) => scratch,
                Err(_) => &mut fresh,
            };
            self.score_features(
                normalized,
                &mut scratch.chars,
                &mut scratch.ids,
                &mut scratch.vector,
            )
        })
    }

    fn score_with(&self, text: &str, scratch: &mut Scratch) -> Scores {
        let Scratch {
            normalized,
            chars,
            ids,
            vector,
        } = scratch;
        self.normalizer.normalize_into(text, normalized);
        self.score_features(normalized, chars, ids, vector)
    }

    fn score_features(
        &self,
        normalized: &str,
        chars: &mut Vec<char>,
        ids: &mut Vec<u32>,
        vector: &mut Vec<(u32, f32)>,
    ) -> Scores {
        ids.clear();
        self.features.extract(normalized, chars, ids);
        vectorize(&self.features, &self.slot_of, &self.idf, ids, vector);
        let mut scores = Scores {
            type_logits: [f32::NEG_INFINITY; TYPE_SLOTS],
            stage_logits: [f32::NEG_INFINITY; STAGE_SLOTS],
        };
        let mut buffer = [0f32; TYPE_SLOTS];
        self.type_head.logits(vector, &mut buffer);
        for (class, logit) in self.type_head.classes.iter().zip(buffer) {
            scores.type_logits[*class as usize] = logit;
        }
        self.stage_head.logits(vector, &mut buffer);
        for (class, logit) in self.stage_head.classes.iter().zip(buffer) {
            scores.stage_logits[*class as usize] = logit;
        }
        scores
    }
}

impl<L> Head<L> {
    /// Writes the logit of each class (in `classes` order) into the front of `out`.
    fn logits(&self, vector: &[(u32, f32)], out: &mut [f32]) {
        let k = self.classes.len();
        let out = &mut out[..k];
        out.copy_from_slice(&self.bias);
        for (slot, value) in vector {
            let start = *slot as usize * k;
            if let Some(row) = self.weights.get(start..start + k) {
                for (logit, weight) in out.iter_mut().zip(row) {
                    *logit += value * weight;
                }
            }
        }
    }
}

/// Turns feature ids (one per occurrence, any order) into the model's sparse input:
/// `(slot, tf-idf)` pairs, each group L2-normalized. Ids without a slot are dropped.
pub(crate) fn vectorize(
    spec: &FeatureSpec,
    slot_of: &[u32],
    idf: &[f32],
    ids: &mut [u32],
    out: &mut Vec<(u32, f32)>,
) {
    out.clear();
    ids.sort_unstable();
    let mut norms = [0f32; 2];
    // Index in `out` of the first character feature: ids are sorted and the group is the high
    // bit, so all word features come first.
    let mut char_start: Option<usize> = None;
    let mut index = 0;
    while index < ids.len() {
        let id = ids[index];
        let run = ids[index..]
            .iter()
            .take_while(|other| **other == id)
            .count();
        index += run;
        let Some(&slot) = slot_of.get(id as usize) else {
            continue;
        };
        let Some(&weight) = idf.get(slot as usize) else {
            continue;
        };
        let group = usize::from(spec.group_of(id) != 0);
        if group == 1 && char_start.is_none() {
            char_start = Some(out.len());
        }
        let value = (1.0 + (run as f32).ln()) * weight;
        norms[group] += value * value;
        out.push((slot, value));
    }
    let split = char_start.unwrap_or(out.len());
    let norms = norms.map(f32::sqrt);
    for (position, entry) in out.iter_mut().enumerate() {
        let norm = norms[usize::from(position >= split)];
        if norm > 0.0 {
            entry.1 /= norm;
        }
    }
}

/// The `i16` of a weight at `scale` (saturating; `scale` 0 means all weights are 0).
pub(crate) fn quantize(weight: f32, scale: f32) -> i16 {
    if scale <= 0.0 {
        return 0;
    }
    // `as` saturates at the i16 bounds; the scale is chosen so |weight / scale| <= i16::MAX.
    (weight / scale).round() as i16
}

#[cfg(test)]
mod tests;
