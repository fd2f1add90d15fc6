//! The decision pipeline: event rules, then text model + lexicons, then refine rules.
//!
//! 1. Event rules (`[[rule]]`, first match wins) decide structured events from `event_name`,
//!    source, channel, direction, actor, attributes, rating and customer context. A rule may fix
//!    both labels, or fix one and leave the other to the text (`"text"`).
//! 2. Labels left to the text are scored by the text model on `subject` + `text`; each matching
//!    lexicon entry adds its weight to the logit of the labels it argues for; the confidence is
//!    the softmax probability of the chosen label, as computed.
//! 3. Refine rules (`[[refine]]`, in order, each applied when it matches) may change the labels
//!    the text decided, from the customer context, the channel or lexicon evidence.
//!
//! An event no rule matches and without text gets `UNSPECIFIED` labels with confidence 0:
//! nothing was known, and the result says so.

use std::borrow::Cow;
use std::cell::RefCell;
use std::path::Path;

use lintas_schema::v1::{Classification, InteractionEvent, InteractionType, JourneyStage};

use crate::context::CustomerContext;
use crate::error::ClassifierError;
use crate::labels::{STAGE_SLOTS, TYPE_SLOTS, stage_from_i32, type_from_i32};
use crate::lexicon::LexiconMatcher;
use crate::model::TextModel;
use crate::rules::{Decided, Decision, Facts, Refinement, RuleSet};

/// Reason recorded when no rule matched and there was no text.
pub const REASON_NOTHING_KNOWN: &str = "fallback:no_rule_no_text";

/// A classifier: rules, lexicons and a text model.
#[derive(Debug, Clone)]
pub struct Classifier {
    rules: RuleSet,
    model: TextModel,
    lexicon: LexiconMatcher,
    version: String,
}

/// A text decision before refine rules.
#[derive(Debug, Clone, PartialEq)]
pub struct TextDecision {
    /// The chosen type.
    pub interaction_type: InteractionType,
    /// The chosen stage.
    pub journey_stage: JourneyStage,
    /// Softmax probability of the chosen type.
    pub type_confidence: f32,
    /// Softmax probability of the chosen stage.
    pub stage_confidence: f32,
    /// Probability of every type after lexicons, indexed by `InteractionType as usize`.
    pub type_probabilities: [f32; TYPE_SLOTS],
    /// Probability of every stage after lexicons, indexed by `JourneyStage as usize`.
    pub stage_probabilities: [f32; STAGE_SLOTS],
    /// Indices of the lexicon entries that matched.
    pub lexicon_hits: Vec<usize>,
    /// Reasons, most decisive first.
    pub reasons: Vec<String>,
}

thread_local! {
    static NORMALIZED: RefCell<String> = const { RefCell::new(String::new()) };
}

impl Classifier {
    /// A classifier of `rules` and `model`; lexicon phrases are normalized with the model's
    /// normalizer so they match what the model sees.
    pub fn new(rules: RuleSet, model: TextModel) -> Self {
        let lexicon = LexiconMatcher::new(&rules.lexicon, model.normalizer());
        let version = format!("rules-{}+{}", rules.version, model.version());
        Self {
            rules,
            model,
            lexicon,
            version,
        }
    }

    /// The built-in rules and model.
    ///
    /// # Errors
    /// Only if an embedded file is broken, which the crate's tests rule out.
    pub fn builtin() -> Result<Self, ClassifierError> {
        Ok(Self::new(RuleSet::builtin()?, TextModel::builtin()?))
    }

    /// Rules and model from files, each falling back to the built-in one when `None`.
    ///
    /// # Errors
    /// When a file cannot be read or is invalid.
    pub fn from_paths(rules: Option<&Path>, model: Option<&Path>) -> Result<Self, ClassifierError> {
        let rules = match rules {
            Some(path) => RuleSet::load(path)?,
            None => RuleSet::builtin()?,
        };
        let model = match model {
            Some(path) => TextModel::load(path)?,
            None => TextModel::builtin()?,
        };
        Ok(Self::new(rules, model))
    }

    /// `rules-<version>+<model version>`, stored in every classification.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The rules.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// The text model.
    pub fn model(&self) -> &TextModel {
        &self.model
    }

    /// Classifies an event of a customer with the given context. Pure: the same inputs always
    /// give the same result; `classified_at` is left unset for the caller to stamp.
    pub fn classify(&self, event: &InteractionEvent, context: &CustomerContext) -> Classification {
        let has_text = !event.text.trim().is_empty() || !event.subject.trim().is_empty();
        let occurred_at = event
            .occurred_at
            .as_ref()
            .and_then(lintas_schema::time::from_timestamp);
        let facts = Facts {
            event,
            has_text,
            customer: context.flags(&self.rules.context, occurred_at),
        };
        let rule = self
            .rules
            .rules
            .iter()
            .find(|rule| rule.when.matches(&facts, None));
        let (type_decision, stage_decision) = match rule {
            Some(rule) => (rule.interaction_type, rule.journey_stage),
            None if !has_text => {
                return self.result(
                    InteractionType::Unspecified,
                    JourneyStage::Unspecified,
                    [0.0, 0.0],
                    vec![REASON_NOTHING_KNOWN.to_owned()],
                );
            }
            None => (Decision::Text, Decision::Text),
        };
        let rule_reason = rule.map(|rule| format!("rule:{}", rule.id));
        let rule_confidence = rule.map_or(0.0, |rule| rule.confidence);
        if let (Decision::Fixed(interaction_type), Decision::Fixed(journey_stage)) =
            (type_decision, stage_decision)
        {
            return self.result(
                interaction_type,
                journey_stage,
                [rule_confidence, rule_confidence],
                rule_reason.into_iter().collect(),
            );
        }

        let text: Cow<'_, str> = if event.subject.trim().is_empty() {
            Cow::Borrowed(&event.text)
        } else {
            Cow::Owned(format!("{}\n{}", event.subject, event.text))
        };
        let (type_among, stage_among) = rule.map_or((&[][..], &[][..]), |rule| {
            (&rule.type_among[..], &rule.stage_among[..])
        });
        let decision = self.decide_text_among(&text, type_among, stage_among);
        let mut interaction_type = decision.interaction_type;
        let mut journey_stage = decision.journey_stage;
        let mut confidences = [decision.type_confidence, decision.stage_confidence];
        let type_from_text = type_decision == Decision::Text;
        let stage_from_text = stage_decision == Decision::Text;
        if let Decision::Fixed(fixed) = type_decision {
            interaction_type = fixed;
            confidences[0] = rule_confidence;
        }
        if let Decision::Fixed(fixed) = stage_decision {
            journey_stage = fixed;
            confidences[1] = rule_confidence;
        }
        let mut reasons: Vec<String> = rule_reason.into_iter().collect();
        let mut refine_reasons = Vec::new();
        for refine in &self.rules.refines {
            let decided = Decided {
                interaction_type,
                journey_stage,
                type_confidence: confidences[0],
                stage_confidence: confidences[1],
                lexicon_hits: &decision.lexicon_hits,
            };
            if !refine.when.matches(&facts, Some(&decided)) {
                continue;
            }
            let mut changed = false;
            if let Some(refinement) = refine.interaction_type.filter(|_| type_from_text) {
                let (new_type, confidence) = refined(
                    refinement,
                    interaction_type,
                    &decision.type_probabilities,
                    refine.confidence,
                    type_from_i32,
                );
                changed |= new_type != interaction_type;
                interaction_type = new_type;
                confidences[0] = confidence;
            }
            if let Some(refinement) = refine.journey_stage.filter(|_| stage_from_text) {
                let (new_stage, confidence) = refined(
                    refinement,
                    journey_stage,
                    &decision.stage_probabilities,
                    refine.confidence,
                    stage_from_i32,
                );
                changed |= new_stage != journey_stage;
                journey_stage = new_stage;
                confidences[1] = confidence;
            }
            if changed {
                refine_reasons.push(format!("rule:{}", refine.id));
            }
        }
        // Refine rules overrode the text, so they are the most decisive reasons.
        refine_reasons.reverse();
        reasons.splice(0..0, refine_reasons);
        reasons.extend(decision.reasons);
        self.result(interaction_type, journey_stage, confidences, reasons)
    }

    /// Decides both labels from text alone (model + lexicons), without event rules, refine rules
    /// or context: what a text-only evaluation measures.
    pub fn decide_text(&self, text: &str) -> TextDecision {
        self.decide_text_among(text, &[], &[])
    }

    /// As [`Classifier::decide_text`], choosing only among the given labels (empty = any).
    pub fn decide_text_among(
        &self,
        text: &str,
        type_among: &[InteractionType],
        stage_among: &[JourneyStage],
    ) -> TextDecision {
        NORMALIZED.with(|cell| match cell.try_borrow_mut() {
            Ok(mut normalized) => {
                self.decide_normalized(text, &mut normalized, type_among, stage_among)
            }
            Err(_) => self.decide_normalized(text, &mut String::new(), type_among, stage_among),
        })
    }

    fn decide_normalized(
        &self,
        text: &str,
        normalized: &mut String,
        type_among: &[InteractionType],
        stage_among: &[JourneyStage],
    ) -> TextDecision {
        self.model.normalizer().normalize_into(text, normalized);
        let scores = self.model.score_normalized(normalized);
        let mut lexicon_hits = Vec::new();
        self.lexicon.hits(normalized, &mut lexicon_hits);
        let entries = &self.rules.lexicon;

        let mut type_logits = scores.type_logits;
        let mut stage_logits = scores.stage_logits;
        let type_allowed = type_among.iter().map(|label| *label as usize);
        let stage_allowed = stage_among.iter().map(|label| *label as usize);
        // What the model alone would choose among the allowed labels, to tell whether the
        // lexicons changed the decision.
        let mut model_only = type_logits;
        restrict(&mut model_only, type_allowed.clone());
        let model_type = argmax(&model_only);
        let mut model_only = stage_logits;
        restrict(&mut model_only, stage_allowed.clone());
        let model_stage = argmax(&model_only);
        for hit in &lexicon_hits {
            let entry = &entries[*hit];
            if let Some(label) = entry.interaction_type {
                boost(&mut type_logits, label as usize, entry.weight);
            }
            if let Some(label) = entry.journey_stage {
                boost(&mut stage_logits, label as usize, entry.weight);
            }
        }
        restrict(&mut type_logits, type_allowed);
        restrict(&mut stage_logits, stage_allowed);
        let type_probabilities = softmax(&type_logits);
        let stage_probabilities = softmax(&stage_logits);
        let (type_index, type_confidence) = best(&type_probabilities);
        let (stage_index, stage_confidence) = best(&stage_probabilities);
        let interaction_type = type_from_i32(type_index as i32);
        let journey_stage = stage_from_i32(stage_index as i32);

        let model_reason = format!("model:{}", self.model.version());
        let supporting: Vec<String> = lexicon_hits
            .iter()
            .filter(|hit| {
                let entry = &entries[**hit];
                entry.interaction_type == Some(interaction_type)
                    || entry.journey_stage == Some(journey_stage)
            })
            .map(|hit| format!("lexicon:{}", entries[*hit].id))
            .collect();
        let model_agrees = Some(type_index) == model_type && Some(stage_index) == model_stage;
        let reasons = if model_agrees {
            std::iter::once(model_reason).chain(supporting).collect()
        } else {
            supporting
                .into_iter()
                .chain(std::iter::once(model_reason))
                .collect()
        };
        TextDecision {
            interaction_type,
            journey_stage,
            type_confidence,
            stage_confidence,
            type_probabilities,
            stage_probabilities,
            lexicon_hits,
            reasons,
        }
    }

    fn result(
        &self,
        interaction_type: InteractionType,
        journey_stage: JourneyStage,
        confidences: [f32; 2],
        reasons: Vec<String>,
    ) -> Classification {
        Classification {
            interaction_type: interaction_type as i32,
            journey_stage: journey_stage as i32,
            type_confidence: confidences[0],
            stage_confidence: confidences[1],
            classifier_version: self.version.clone(),
            reasons,
            classified_at: None,
        }
    }
}

/// Index of the largest finite logit (the first on ties), `None` if none is finite.
fn argmax(logits: &[f32]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (index, logit) in logits.iter().enumerate() {
        if logit.is_finite() && best.is_none_or(|current| *logit > logits[current]) {
            best = Some(index);
        }
    }
    best
}

/// Adds `weight` to a label's logit. A label the model never saw starts from the lowest known
/// logit, so lexicon evidence can still raise it (the model cannot speak for it).
fn boost(logits: &mut [f32], index: usize, weight: f32) {
    if index == 0 || index >= logits.len() {
        return;
    }
    if !logits[index].is_finite() {
        let floor = logits
            .iter()
            .copied()
            .filter(|logit| logit.is_finite())
            .fold(f32::INFINITY, f32::min);
        logits[index] = if floor.is_finite() { floor } else { 0.0 };
    }
    logits[index] += weight;
}

/// Keeps only the logits of `allowed` (all when it is empty). An allowed label the model never
/// saw starts from the lowest known logit, so the choice is never empty.
fn restrict(logits: &mut [f32], allowed: impl Iterator<Item = usize> + Clone) {
    if allowed.clone().next().is_none() {
        return;
    }
    let floor = logits
        .iter()
        .copied()
        .filter(|logit| logit.is_finite())
        .fold(f32::INFINITY, f32::min);
    let mut kept = vec![f32::NEG_INFINITY; logits.len()];
    for index in allowed {
        if let Some(logit) = logits.get(index) {
            kept[index] = if logit.is_finite() {
                *logit
            } else if floor.is_finite() {
                floor
            } else {
                0.0
            };
        }
    }
    logits.copy_from_slice(&kept);
}

/// Softmax of the finite logits; labels with `-inf` get probability 0.
fn softmax<const N: usize>(logits: &[f32; N]) -> [f32; N] {
    let mut probabilities = [0f32; N];
    let Some(top) = argmax(logits) else {
        return probabilities;
    };
    let max = logits[top];
    let mut total = 0.0;
    for (probability, logit) in probabilities.iter_mut().zip(logits) {
        if logit.is_finite() {
            *probability = (logit - max).exp();
            total += *probability;
        }
    }
    for probability in &mut probabilities {
        *probability /= total;
    }
    probabilities
}

/// The most probable label's index and probability (`0, 0.0` when all are 0).
fn best(probabilities: &[f32]) -> (usize, f32) {
    let mut chosen = (0, 0.0);
    for (index, probability) in probabilities.iter().enumerate() {
        if *probability > chosen.1 {
            chosen = (index, *probability);
        }
    }
    chosen
}

/// Applies a refinement to a text-decided label: a new label with the rule's confidence, or the
/// next most probable label with its probability (the current one kept if there is none).
fn refined<T: Copy + Into<i32>>(
    refinement: Refinement<T>,
    current: T,
    probabilities: &[f32],
    rule_confidence: f32,
    from_i32: fn(i32) -> T,
) -> (T, f32) {
    match refinement {
        Refinement::Set(label) => (label, rule_confidence),
        Refinement::NextBest => {
            let skip = usize::try_from(current.into()).unwrap_or(usize::MAX);
            let mut others = probabilities.to_vec();
            if let Some(probability) = others.get_mut(skip) {
                *probability = 0.0;
            }
            let (index, probability) = best(&others);
            if probability > 0.0 {
                (from_i32(index as i32), probability)
            } else {
                (current, probabilities.get(skip).copied().unwrap_or(0.0))
            }
        }
    }
}

#[cfg(test)]
mod tests;
