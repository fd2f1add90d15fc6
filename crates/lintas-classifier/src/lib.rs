//! Interaction type and journey stage for every Lintas event, in English and Indonesian.
//!
//! [`classify`] decides both labels of an [`InteractionEvent`] with a confidence each, the
//! `classifier_version` and the reasons (rule ids, lexicon ids, model) that decided:
//!
//! - structured events (orders, payments, refunds, subscriptions, e-mail engagement, surveys,
//!   reviews, state changes) by the event rules of an operator-editable TOML file
//!   ([`rules`], `rules/default.toml`);
//! - conversational text by a bilingual text model ([`model`]: logistic regression over hashed
//!   word and character n-grams, trained by [`model::train`]) plus lexicons of English and
//!   Indonesian phrases, informal Indonesian included;
//! - the stage refined by what is known of the customer ([`context`]).
//!
//! Classification is pure and allocation-light: no I/O, no clock, no network; the built-in rules
//! and model are embedded in the binary. Loading, training and evaluation ([`data`], [`eval`])
//! are the I/O-bearing parts, for the `lintas train|eval|rules` commands.
#![deny(missing_docs)]

pub mod classifier;
pub mod context;
pub mod data;
pub mod error;
pub mod eval;
pub mod labels;
mod lexicon;
pub mod model;
pub mod rules;
pub mod text;

use std::sync::OnceLock;

pub use classifier::{Classifier, TextDecision};
pub use context::CustomerContext;
pub use error::{ClassifierError, RuleError};
pub use lintas_schema::v1::{Classification, InteractionEvent};
pub use model::{TextModel, TrainOptions, train};
pub use rules::RuleSet;

/// The classifier of the built-in rules and model, loaded on first use.
///
/// # Panics
/// If the embedded rules or model file is invalid: a broken build, never input-dependent; the
/// test `builtin_rules_and_model_load` keeps it from shipping.
pub fn builtin() -> &'static Classifier {
    static BUILTIN: OnceLock<Classifier> = OnceLock::new();
    BUILTIN.get_or_init(|| {
        Classifier::builtin().expect("the embedded rules and model are validated by the tests")
    })
}

/// Classifies `event` with the built-in rules and model; see [`Classifier::classify`].
pub fn classify(event: &InteractionEvent, context: &CustomerContext) -> Classification {
    builtin().classify(event, context)
}
