//! The outcome of parsing one authentic request: events, unusable items and ignored items.
//!
//! One request may carry several items (a WhatsApp batch, a Twilio status next to nothing else),
//! so the three lists can all be non-empty. Gateway policy per list:
//! - `events`: produced to `lintas.interactions.raw.v1`; 2xx only after Kafka acknowledged them.
//! - `unusable`: authentic and parseable but no event can be made (no customer identifier, an
//!   event the contract refuses), or a part of one could not be kept (its money: the event is in
//!   `events` without it). A retry cannot fix that, so the gateway answers 2xx and writes
//!   the raw body to the DLQ with each item's `reason.code()`.
//! - `ignored`: platform events Lintas does not map, and pure state changes (delivery receipts):
//!   counted by `kind.code()` and answered 2xx.

use lintas_schema::ValidationError;
use lintas_schema::v1::InteractionEvent;

/// What an authentic request turned into.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    /// Normalized events, each passing `lintas_schema::validate_event` once returned by
    /// [`receive`](crate::receive).
    pub events: Vec<InteractionEvent>,
    /// Items that cannot become an event, or whose money could not be kept; the raw body goes to
    /// the DLQ.
    pub unusable: Vec<Unusable>,
    /// Items deliberately not turned into events.
    pub ignored: Vec<Ignored>,
}

impl Parsed {
    /// Adds an item that cannot become an event.
    pub fn push_unusable(&mut self, reason: UnusableReason, source_event_id: Option<&str>) {
        self.unusable.push(Unusable {
            reason,
            source_event_id: source_event_id.map(str::to_owned),
        });
    }

    /// Adds an item that is deliberately not turned into an event. `event_type` is cut to 64
    /// bytes: it comes from the platform and ends up in log lines.
    pub fn push_ignored(
        &mut self,
        kind: IgnoredKind,
        event_type: &str,
        source_event_id: Option<&str>,
    ) {
        self.ignored.push(Ignored {
            kind,
            event_type: crate::normalize::text::truncate_at_char_boundary(event_type, 64)
                .to_owned(),
            source_event_id: source_event_id.map(str::to_owned),
        });
    }

    /// True when the request carried nothing at all (no event, nothing unusable, nothing ignored).
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.unusable.is_empty() && self.ignored.is_empty()
    }

    /// Moves every event that fails the contract's validation to `unusable`, so nothing invalid
    /// reaches Kafka whatever an adapter produced.
    pub(crate) fn into_validated(self) -> Self {
        let Parsed {
            events,
            mut unusable,
            ignored,
        } = self;
        let mut valid = Vec::with_capacity(events.len());
        for event in events {
            match lintas_schema::validate_event(&event) {
                Ok(()) => valid.push(event),
                Err(error) => unusable.push(Unusable {
                    reason: UnusableReason::InvalidEvent(error),
                    source_event_id: Some(event.source_event_id).filter(|id| !id.is_empty()),
                }),
            }
        }
        Parsed {
            events: valid,
            unusable,
            ignored,
        }
    }
}

/// An authentic item that cannot become an event.
#[derive(Debug, Clone, PartialEq)]
pub struct Unusable {
    /// Why, as a DLQ reason.
    pub reason: UnusableReason,
    /// The platform's id of the item, when it has one (for the DLQ headers and logs).
    pub source_event_id: Option<String>,
}

/// Why an authentic item cannot become an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnusableReason {
    /// The item names no customer (no sender, no contact, no e-mail).
    #[error("no customer identifier")]
    NoCustomerIdentifier,
    /// The normalized event breaks a rule of the contract (an id over the size limit, say).
    #[error("event fails validation: {0}")]
    InvalidEvent(ValidationError),
    /// An amount or currency that cannot be contract money (a currency ISO 4217 does not list,
    /// an amount beyond 64 bits). The event is kept without money, the body goes to the DLQ so
    /// the amount is not lost silently.
    #[error("amount or currency cannot be stored as money; the event was kept without it")]
    UnusableMoney,
}

impl UnusableReason {
    /// A stable code for the DLQ reason header and metric labels.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoCustomerIdentifier => "no_customer_identifier",
            Self::InvalidEvent(_) => "invalid_event",
            Self::UnusableMoney => "unusable_money",
        }
    }
}

/// An item deliberately not turned into an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    /// Why; use `kind.code()` as the metric label.
    pub kind: IgnoredKind,
    /// The platform's type of the item (`status.read`, `customer.created`), for logs; at most
    /// 64 bytes. Not a metric label: the platform chooses it.
    pub event_type: String,
    /// The platform's id of the item, when it has one.
    pub source_event_id: Option<String>,
}

/// Why an item was ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IgnoredKind {
    /// A state change of an existing interaction (delivered, read, failed), not a new one.
    StateChange,
    /// A platform event type Lintas does not map to an interaction.
    Unmapped,
}

impl IgnoredKind {
    /// A stable code for metric labels.
    pub fn code(self) -> &'static str {
        match self {
            Self::StateChange => "state_change",
            Self::Unmapped => "unmapped_type",
        }
    }
}
