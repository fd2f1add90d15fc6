//! The rules file: operator-editable data that decides structured events, adds lexicon evidence
//! to the text model and refines text decisions with the customer context.
//!
//! ```toml
//! version = 3                      # recorded in every classification as `rules-3`
//!
//! [context]
//! recent_purchase_days = 30        # what `customer = ["recent_buyer"]` means
//!
//! [[rule]]                         # event rules: the first that matches decides
//! id = "event.order_created"
//! when = { event_name = ["order.created", "order.paid"] }
//! type = "transactional"           # a label, or "text" to let the text model decide it
//! stage = "purchase"               # with "text", `stage_among = [...]` limits the choice
//! confidence = 0.97
//!
//! [[lexicon]]                      # phrases that add `weight` to a label's model logit
//! id = "id.refund"
//! lang = "id"
//! phrases = ["refund", "uang kembali"]
//! type = "service"
//! weight = 2.0
//!
//! [[refine]]                       # applied in order to labels the text decided;
//!                                  # a label, or "next" for the text's next best label
//! id = "context.known_buyer_question"
//! when = { customer = ["buyer"], type = ["informative"], stage = ["consideration"] }
//! stage = "retention"
//! confidence = 0.7
//! ```
//!
//! Conditions inside `when` are ANDed; the values of one condition are ORed. [`RuleSet::check`]
//! reports every invalid field at once, naming the entry's id and the field.

mod compile;
mod conditions;
mod when;

use std::path::Path;

use lintas_schema::v1::{InteractionType, JourneyStage};

use crate::error::ClassifierError;

pub use conditions::{Conditions, CustomerState, NamePattern, RatingCondition};
pub(crate) use conditions::{CustomerFlags, Decided, Facts};

/// The rules built into this crate, `rules/default.toml`.
pub const BUILTIN_RULES: &str = include_str!("../../rules/default.toml");

/// A validated rules file.
#[derive(Debug, Clone)]
pub struct RuleSet {
    /// `version` of the file.
    pub version: u32,
    /// `[context]`.
    pub context: ContextPolicy,
    /// `[[rule]]` entries in file order.
    pub rules: Vec<EventRule>,
    /// `[[lexicon]]` entries in file order.
    pub lexicon: Vec<LexiconEntry>,
    /// `[[refine]]` entries in file order.
    pub refines: Vec<RefineRule>,
}

/// How the customer context is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContextPolicy {
    /// A purchase at most this many days before the event makes the customer a `recent_buyer`.
    pub recent_purchase_days: u32,
}

/// Who decides a label of an event rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision<T> {
    /// The rule fixes the label.
    Fixed(T),
    /// The text model (with lexicons, refine rules and context) decides it.
    Text,
}

/// An event rule: decides labels from the event's name, source and fields.
#[derive(Debug, Clone)]
pub struct EventRule {
    /// Unique id; reasons cite it as `rule:<id>`.
    pub id: String,
    /// What the rule is for.
    pub description: String,
    /// When it applies.
    pub when: Conditions,
    /// The interaction type it decides.
    pub interaction_type: Decision<InteractionType>,
    /// The journey stage it decides.
    pub journey_stage: Decision<JourneyStage>,
    /// When the type is left to the text: the types it may choose from (empty = any).
    pub type_among: Vec<InteractionType>,
    /// When the stage is left to the text: the stages it may choose from (empty = any), e.g.
    /// `["advocacy", "retention"]` for a review, which is never a purchase.
    pub stage_among: Vec<JourneyStage>,
    /// Confidence of the fixed labels.
    pub confidence: f32,
}

/// A lexicon entry: phrases whose presence adds `weight` to the logits of its labels.
#[derive(Debug, Clone)]
pub struct LexiconEntry {
    /// Unique id; reasons cite it as `lexicon:<id>`.
    pub id: String,
    /// What the phrases have in common.
    pub description: String,
    /// `en`, `id` or `any`: documents which language the phrases are written in.
    pub lang: String,
    /// Phrases of one or more words, matched on whole normalized words.
    pub phrases: Vec<String>,
    /// The type it argues for.
    pub interaction_type: Option<InteractionType>,
    /// The stage it argues for.
    pub journey_stage: Option<JourneyStage>,
    /// Added to the logit of each label it argues for.
    pub weight: f32,
}

/// What a refine rule does to a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refinement<T> {
    /// Sets this label.
    Set(T),
    /// Falls back to the text's next most probable label (`"next"` in the file): for labels
    /// that need corroborating evidence the text alone does not give.
    NextBest,
}

/// A refine rule: changes labels that the text decided, e.g. from the customer context.
#[derive(Debug, Clone)]
pub struct RefineRule {
    /// Unique id; reasons cite it as `rule:<id>`.
    pub id: String,
    /// What the rule is for.
    pub description: String,
    /// When it applies (may test the decided labels, their confidence and lexicon hits).
    pub when: Conditions,
    /// What it does to the type, if anything.
    pub interaction_type: Option<Refinement<InteractionType>>,
    /// What it does to the stage, if anything.
    pub journey_stage: Option<Refinement<JourneyStage>>,
    /// Confidence of the labels it sets (`NextBest` reports the text's probability instead).
    pub confidence: f32,
}

impl RuleSet {
    /// The built-in rules.
    ///
    /// # Errors
    /// Only if the embedded file is broken, which the crate's tests rule out.
    pub fn builtin() -> Result<Self, ClassifierError> {
        Self::check(BUILTIN_RULES)
    }

    /// Parses and validates a rules file's text.
    ///
    /// # Errors
    /// [`ClassifierError::RulesSyntax`] for TOML errors, [`ClassifierError::InvalidRules`] listing
    /// every invalid field otherwise.
    pub fn check(text: &str) -> Result<Self, ClassifierError> {
        compile::compile(text)
    }

    /// One line describing the rules, e.g. `version 3: 41 event rules, 22 lexicon entries
    /// (310 phrases), 7 refine rules`.
    pub fn summary(&self) -> String {
        let phrases: usize = self.lexicon.iter().map(|entry| entry.phrases.len()).sum();
        format!(
            "version {}: {} event rules, {} lexicon entries ({} phrases), {} refine rules",
            self.version,
            self.rules.len(),
            self.lexicon.len(),
            phrases,
            self.refines.len()
        )
    }

    /// Reads and validates a rules file.
    ///
    /// # Errors
    /// [`ClassifierError::Io`], or as [`RuleSet::check`].
    pub fn load(path: &Path) -> Result<Self, ClassifierError> {
        let text = std::fs::read_to_string(path).map_err(|source| ClassifierError::Io {
            action: "reading",
            path: path.to_owned(),
            source,
        })?;
        Self::check(&text)
    }
}

#[cfg(test)]
mod tests;
