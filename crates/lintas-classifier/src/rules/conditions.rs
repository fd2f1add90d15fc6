//! Conditions of rules (`when = {...}`) and how they match an event.

use lintas_schema::v1::{
    Actor, Channel, Direction, InteractionEvent, InteractionType, JourneyStage, RatingScale,
};

/// An `event_name` pattern: exact, or a prefix when written with a trailing `*` (`order.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamePattern {
    /// Matches this name only.
    Exact(String),
    /// Matches names starting with this prefix.
    Prefix(String),
}

impl NamePattern {
    fn matches(&self, name: &str) -> bool {
        match self {
            Self::Exact(exact) => name == exact,
            Self::Prefix(prefix) => name.starts_with(prefix.as_str()),
        }
    }
}

/// What is known of the customer, as rules name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerState {
    /// No earlier interaction is known.
    FirstContact,
    /// At least one earlier interaction is known.
    Returning,
    /// Has purchased before.
    Buyer,
    /// Purchased within `recent_purchase_days` before the event.
    RecentBuyer,
    /// Has not purchased (as far as the classifier knows).
    NonBuyer,
}

impl CustomerState {
    /// All states with their names in rules files.
    pub const ALL: [(&'static str, Self); 5] = [
        ("first_contact", Self::FirstContact),
        ("returning", Self::Returning),
        ("buyer", Self::Buyer),
        ("recent_buyer", Self::RecentBuyer),
        ("non_buyer", Self::NonBuyer),
    ];
}

/// A condition on the event's rating.
#[derive(Debug, Clone, PartialEq)]
pub struct RatingCondition {
    /// Scales accepted; empty means any.
    pub scales: Vec<RatingScale>,
    /// The raw value is at least this.
    pub value_at_least: Option<f64>,
    /// The raw value is at most this.
    pub value_at_most: Option<f64>,
    /// `(value - min) / (max - min)` is at least this.
    pub fraction_at_least: Option<f64>,
    /// `(value - min) / (max - min)` is at most this.
    pub fraction_at_most: Option<f64>,
}

/// The conditions of a rule; all present conditions must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conditions {
    /// `event_name` matches one of these.
    pub event_name: Vec<NamePattern>,
    /// `source` is one of these.
    pub source: Vec<String>,
    /// `channel` is one of these.
    pub channel: Vec<Channel>,
    /// `direction` is one of these.
    pub direction: Vec<Direction>,
    /// `actor` is one of these.
    pub actor: Vec<Actor>,
    /// Each key is present with one of its values (compared case-insensitively; `*` = any).
    pub attribute: Vec<(String, Vec<String>)>,
    /// The event has (`true`) or lacks (`false`) text or a subject.
    pub has_text: Option<bool>,
    /// The language (`language` field of the event) is one of these.
    pub language: Vec<String>,
    /// The event carries a rating that satisfies this.
    pub rating: Option<RatingCondition>,
    /// The customer is in one of these states.
    pub customer: Vec<CustomerState>,
    /// Refine only: the decided type is one of these.
    pub interaction_type: Vec<InteractionType>,
    /// Refine only: the decided stage is one of these.
    pub journey_stage: Vec<JourneyStage>,
    /// Refine only: at least one of these lexicon entries (indices) matched.
    pub lexicon_any: Vec<usize>,
    /// Refine only: none of these lexicon entries (indices) matched.
    pub lexicon_none: Vec<usize>,
    /// Refine only: the type confidence is at most this.
    pub max_type_confidence: Option<f32>,
    /// Refine only: the stage confidence is at most this.
    pub max_stage_confidence: Option<f32>,
}

/// What the customer context says, evaluated once per event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct CustomerFlags {
    pub(crate) first_contact: bool,
    pub(crate) buyer: bool,
    pub(crate) recent_buyer: bool,
}

impl CustomerFlags {
    fn is(&self, state: CustomerState) -> bool {
        match state {
            CustomerState::FirstContact => self.first_contact,
            CustomerState::Returning => !self.first_contact,
            CustomerState::Buyer => self.buyer,
            CustomerState::RecentBuyer => self.recent_buyer,
            CustomerState::NonBuyer => !self.buyer,
        }
    }
}

/// The event-side facts a condition is tested against.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Facts<'a> {
    pub(crate) event: &'a InteractionEvent,
    pub(crate) has_text: bool,
    pub(crate) customer: CustomerFlags,
}

/// The text-side decision a refine rule is tested against.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Decided<'a> {
    pub(crate) interaction_type: InteractionType,
    pub(crate) journey_stage: JourneyStage,
    pub(crate) type_confidence: f32,
    pub(crate) stage_confidence: f32,
    pub(crate) lexicon_hits: &'a [usize],
}

impl Conditions {
    /// Whether the conditions hold; `decided` is `None` for event rules, which cannot test it.
    pub(crate) fn matches(&self, facts: &Facts<'_>, decided: Option<&Decided<'_>>) -> bool {
        let event = facts.event;
        let any = |empty: bool, found: bool| empty || found;
        if !any(
            self.event_name.is_empty(),
            self.event_name.iter().any(|p| p.matches(&event.event_name)),
        ) || !any(self.source.is_empty(), self.source.contains(&event.source))
            || !any(
                self.channel.is_empty(),
                self.channel.iter().any(|c| *c as i32 == event.channel),
            )
            || !any(
                self.direction.is_empty(),
                self.direction.iter().any(|d| *d as i32 == event.direction),
            )
            || !any(
                self.actor.is_empty(),
                self.actor.iter().any(|a| *a as i32 == event.actor),
            )
            || !any(
                self.language.is_empty(),
                self.language
                    .iter()
                    .any(|l| event.language.eq_ignore_ascii_case(l)),
            )
            || !any(
                self.customer.is_empty(),
                self.customer.iter().any(|state| facts.customer.is(*state)),
            )
        {
            return false;
        }
        if self.has_text.is_some_and(|wanted| wanted != facts.has_text) {
            return false;
        }
        for (key, values) in &self.attribute {
            let Some(value) = event.attributes.get(key) else {
                return false;
            };
            let accepted = values
                .iter()
                .any(|wanted| wanted == "*" || value.eq_ignore_ascii_case(wanted));
            if !accepted {
                return false;
            }
        }
        if let Some(rating) = &self.rating
            && !rating.matches(event)
        {
            return false;
        }
        let needs_decision = !self.interaction_type.is_empty()
            || !self.journey_stage.is_empty()
            || !self.lexicon_any.is_empty()
            || !self.lexicon_none.is_empty()
            || self.max_type_confidence.is_some()
            || self.max_stage_confidence.is_some();
        if !needs_decision {
            return true;
        }
        let Some(decided) = decided else {
            return false;
        };
        any(
            self.interaction_type.is_empty(),
            self.interaction_type.contains(&decided.interaction_type),
        ) && any(
            self.journey_stage.is_empty(),
            self.journey_stage.contains(&decided.journey_stage),
        ) && any(
            self.lexicon_any.is_empty(),
            self.lexicon_any
                .iter()
                .any(|entry| decided.lexicon_hits.contains(entry)),
        ) && !self
            .lexicon_none
            .iter()
            .any(|entry| decided.lexicon_hits.contains(entry))
            && self
                .max_type_confidence
                .is_none_or(|max| decided.type_confidence <= max)
            && self
                .max_stage_confidence
                .is_none_or(|max| decided.stage_confidence <= max)
    }

    /// Whether any condition needs the text decision (allowed in refine rules only).
    pub(crate) fn tests_decision(&self) -> Vec<&'static str> {
        let mut fields = Vec::new();
        if !self.interaction_type.is_empty() {
            fields.push("when.type");
        }
        if !self.journey_stage.is_empty() {
            fields.push("when.stage");
        }
        if !self.lexicon_any.is_empty() {
            fields.push("when.lexicon_any");
        }
        if !self.lexicon_none.is_empty() {
            fields.push("when.lexicon_none");
        }
        if self.max_type_confidence.is_some() {
            fields.push("when.max_type_confidence");
        }
        if self.max_stage_confidence.is_some() {
            fields.push("when.max_stage_confidence");
        }
        fields
    }
}

impl RatingCondition {
    fn matches(&self, event: &InteractionEvent) -> bool {
        let Some(rating) = &event.rating else {
            return false;
        };
        if !rating.value.is_finite() {
            return false;
        }
        if !self.scales.is_empty() && !self.scales.iter().any(|s| *s as i32 == rating.scale) {
            return false;
        }
        let value = rating.value;
        if self.value_at_least.is_some_and(|min| value < min)
            || self.value_at_most.is_some_and(|max| value > max)
        {
            return false;
        }
        if self.fraction_at_least.is_none() && self.fraction_at_most.is_none() {
            return true;
        }
        let span = rating.max - rating.min;
        // A rating without a usable range cannot be placed on the 0..1 scale.
        if !(span.is_finite() && span > 0.0) {
            return false;
        }
        let fraction = (value - rating.min) / span;
        !(self.fraction_at_least.is_some_and(|min| fraction < min)
            || self.fraction_at_most.is_some_and(|max| fraction > max))
    }
}
