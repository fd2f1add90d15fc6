//! What the classifier knows of a customer, and how it refines the journey stage.
//!
//! The classifier keeps one [`CustomerContext`] per customer key (tenant + customer id) and
//! updates it with [`CustomerContext::observe`] after classifying each of the customer's events,
//! in partition order. Rules read it through the `customer` condition:
//!
//! | state | means |
//! | --- | --- |
//! | `first_contact` | no earlier interaction is known (`interactions_seen == 0`, no `first_seen`) |
//! | `returning` | an earlier interaction is known |
//! | `buyer` | a purchase event was seen (`has_purchased`) |
//! | `recent_buyer` | the last purchase is at most `[context] recent_purchase_days` before the event |
//! | `non_buyer` | no purchase event was seen |
//!
//! The built-in rules use them as follows (`rules/default.toml`, `[[refine]]` and `[[rule]]`):
//! - purchase events (orders, payments, checkouts) are `purchase` by event rule, whoever sends
//!   them, and make the customer a buyer;
//! - a known buyer asking a general question is `retention` (they use what they bought);
//! - a known buyer with intent to buy more is `cross_sell_upsell` / `retention`;
//! - a first contact greeting or engaging (relationship building from text) is `awareness`;
//! - a newsletter open is `retention` for a buyer and `awareness` otherwise.
//!
//! Context only refines labels the text decided; event rules that fix a stage are not overridden.

use chrono::{DateTime, Duration, Utc};
use lintas_schema::v1::{Classification, InteractionEvent, InteractionType};
use serde::{Deserialize, Serialize};

use crate::rules::{ContextPolicy, CustomerFlags};

/// Normalized event names that record a purchase by the customer.
///
/// A fixed vocabulary, because `event_name` is normalized by the adapters (`order.created` for a
/// Shopify order, `payment.succeeded` for a Stripe charge), not free text.
pub const PURCHASE_EVENTS: &[&str] = &[
    "order.created",
    "order.placed",
    "order.paid",
    "order.completed",
    "checkout.completed",
    "payment.succeeded",
    "invoice.paid",
    "subscription.started",
    "subscription.created",
    "subscription.renewed",
];

/// What the classifier knows of one customer.
///
/// `Default` is a customer never seen before.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerContext {
    /// When the customer's first interaction happened, if any was seen.
    pub first_seen: Option<DateTime<Utc>>,
    /// Whether a purchase event of the customer was seen.
    pub has_purchased: bool,
    /// When the customer's latest purchase happened.
    pub last_purchase: Option<DateTime<Utc>>,
    /// How many interactions (not state changes) of the customer were seen.
    pub interactions_seen: u32,
}

impl CustomerContext {
    /// Updates the context with an event of this customer and its classification.
    ///
    /// State changes (`NOT_APPLICABLE`, such as delivery receipts) are not interactions and
    /// change nothing. Times only move forward: an event replayed out of order cannot make
    /// `first_seen` later or `last_purchase` earlier.
    pub fn observe(&mut self, event: &InteractionEvent, classification: &Classification) {
        if classification.interaction_type == InteractionType::NotApplicable as i32 {
            return;
        }
        let occurred_at = event
            .occurred_at
            .as_ref()
            .and_then(lintas_schema::time::from_timestamp);
        self.interactions_seen = self.interactions_seen.saturating_add(1);
        if let Some(at) = occurred_at {
            self.first_seen = Some(self.first_seen.map_or(at, |first| first.min(at)));
        }
        if PURCHASE_EVENTS.contains(&event.event_name.as_str()) {
            self.has_purchased = true;
            if let Some(at) = occurred_at {
                self.last_purchase = Some(self.last_purchase.map_or(at, |last| last.max(at)));
            }
        }
    }

    /// Whether no earlier interaction of the customer is known.
    pub fn is_first_contact(&self) -> bool {
        self.interactions_seen == 0 && self.first_seen.is_none()
    }

    /// The flags rules test, for an event that happened at `at`.
    pub(crate) fn flags(&self, policy: &ContextPolicy, at: Option<DateTime<Utc>>) -> CustomerFlags {
        let window = Duration::days(i64::from(policy.recent_purchase_days));
        let recent_buyer = match (self.last_purchase, at) {
            // A purchase "after" the event (clock skew, replay) still counts as recent.
            (Some(last), Some(at)) => at.signed_duration_since(last) <= window,
            _ => false,
        };
        CustomerFlags {
            first_contact: self.is_first_contact(),
            buyer: self.has_purchased,
            recent_buyer: self.has_purchased && recent_buyer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn event(name: &str, seconds: i64) -> InteractionEvent {
        InteractionEvent {
            event_name: name.into(),
            occurred_at: Some(prost_types::Timestamp { seconds, nanos: 0 }),
            ..Default::default()
        }
    }

    fn labelled(interaction_type: InteractionType) -> Classification {
        Classification {
            interaction_type: interaction_type as i32,
            ..Default::default()
        }
    }

    #[test]
    fn observing_a_message_then_an_order_makes_a_recent_buyer() {
        let mut context = CustomerContext::default();
        assert!(context.is_first_contact());
        context.observe(
            &event("message.received", 2_000),
            &labelled(InteractionType::Sales),
        );
        assert!(!context.is_first_contact());
        assert!(!context.has_purchased);
        context.observe(
            &event("order.created", 3_000),
            &labelled(InteractionType::Transactional),
        );
        context.observe(
            &event("message.received", 1_000),
            &labelled(InteractionType::Service),
        );
        assert_eq!(context.interactions_seen, 3);
        assert_eq!(context.first_seen, Utc.timestamp_opt(1_000, 0).single());
        assert_eq!(context.last_purchase, Utc.timestamp_opt(3_000, 0).single());
        let policy = ContextPolicy {
            recent_purchase_days: 30,
        };
        let soon = Utc.timestamp_opt(3_000 + 86_400, 0).single();
        assert!(context.flags(&policy, soon).recent_buyer);
        let later = Utc.timestamp_opt(3_000 + 31 * 86_400, 0).single();
        let flags = context.flags(&policy, later);
        assert!(flags.buyer && !flags.recent_buyer);
    }

    #[test]
    fn state_changes_are_not_interactions() {
        let mut context = CustomerContext::default();
        context.observe(
            &event("message.delivered", 1_000),
            &labelled(InteractionType::NotApplicable),
        );
        assert_eq!(context, CustomerContext::default());
    }
}
