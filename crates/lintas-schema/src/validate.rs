//! The checks an [`InteractionEvent`] passes before the gateway produces it to Kafka.
//!
//! Validation is the contract's enforcement point: downstream stages (classifier, sink) may rely
//! on every rule here, so a rule is only ever relaxed with a schema version bump.

use crate::v1::{Channel, Direction, InteractionEvent, RatingScale};
use thiserror::Error;

/// Most attribute entries an event may carry.
pub const MAX_ATTRIBUTES: usize = 64;
/// Longest attribute key in bytes.
pub const MAX_ATTRIBUTE_KEY_BYTES: usize = 128;
/// Longest attribute value in bytes.
pub const MAX_ATTRIBUTE_VALUE_BYTES: usize = 4096;
/// Longest `text` in bytes (adapters truncate at a char boundary and flag it).
pub const MAX_TEXT_BYTES: usize = 32 * 1024;
/// Longest identifier-like field (ids, handles, names) in bytes.
pub const MAX_ID_BYTES: usize = 512;

/// Why an event was refused. `field` names the offending field in the contract's terms.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {problem}")]
pub struct ValidationError {
    /// The contract field at fault, e.g. `occurred_at` or `attributes["k"]`.
    pub field: String,
    /// What is wrong with it, phrased as the expectation.
    pub problem: String,
}

impl ValidationError {
    fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// A stable, low-cardinality code for metrics and API error bodies.
    pub fn code(&self) -> &'static str {
        "invalid_event"
    }
}

/// Checks every rule of the contract and returns the first violation found.
pub fn validate_event(event: &InteractionEvent) -> Result<(), ValidationError> {
    check_uuid("event_id", &event.event_id)?;
    check_slug("tenant_id", &event.tenant_id)?;
    check_slug("source", &event.source)?;
    if event.channel == Channel::Unspecified as i32 || Channel::try_from(event.channel).is_err() {
        return Err(ValidationError::new("channel", "must be a known channel"));
    }
    if event.direction == Direction::Unspecified as i32
        || Direction::try_from(event.direction).is_err()
    {
        return Err(ValidationError::new(
            "direction",
            "must be a known direction",
        ));
    }
    check_event_name(&event.event_name)?;
    let occurred = event
        .occurred_at
        .as_ref()
        .ok_or_else(|| ValidationError::new("occurred_at", "is required"))?;
    if crate::time::from_timestamp(occurred).is_none() {
        return Err(ValidationError::new(
            "occurred_at",
            "must be a valid instant",
        ));
    }
    for (field, value) in [
        ("customer_id", &event.customer_id),
        ("anonymous_id", &event.anonymous_id),
        ("conversation_id", &event.conversation_id),
        ("agent_id", &event.agent_id),
        ("source_event_id", &event.source_event_id),
    ] {
        check_len(field, value, MAX_ID_BYTES)?;
    }
    check_len("text", &event.text, MAX_TEXT_BYTES)?;
    check_len("subject", &event.subject, MAX_ID_BYTES * 2)?;
    if !event.language.is_empty() && !is_language_code(&event.language) {
        return Err(ValidationError::new(
            "language",
            "must be an ISO 639-1 code such as `en` or `id`",
        ));
    }
    check_money(event)?;
    check_rating(event)?;
    check_attributes(event)
}

fn check_uuid(field: &str, value: &str) -> Result<(), ValidationError> {
    match uuid::Uuid::try_parse(value) {
        Ok(_) => Ok(()),
        Err(_) => Err(ValidationError::new(field, "must be a UUID")),
    }
}

/// Tenant and source ids: lowercase ASCII letters, digits, `_` and `-`, 1 to 63 bytes.
fn check_slug(field: &str, value: &str) -> Result<(), ValidationError> {
    let valid = !value.is_empty()
        && value.len() <= 63
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            "must be 1-63 characters of a-z, 0-9, `_` or `-`",
        ))
    }
}

fn check_event_name(value: &str) -> Result<(), ValidationError> {
    let parts_ok = value.split('.').all(|part| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    });
    if value.contains('.') && value.len() <= 128 && parts_ok {
        Ok(())
    } else {
        Err(ValidationError::new(
            "event_name",
            "must be a dotted lowercase verb such as `message.received`",
        ))
    }
}

fn check_len(field: &str, value: &str, max: usize) -> Result<(), ValidationError> {
    if value.len() <= max {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            format!("must be at most {max} bytes, got {}", value.len()),
        ))
    }
}

fn is_language_code(value: &str) -> bool {
    value.len() == 2 && value.bytes().all(|b| b.is_ascii_lowercase())
}

fn check_money(event: &InteractionEvent) -> Result<(), ValidationError> {
    let Some(money) = &event.money else {
        return Ok(());
    };
    let currency_ok =
        money.currency.len() == 3 && money.currency.bytes().all(|b| b.is_ascii_uppercase());
    if currency_ok {
        Ok(())
    } else {
        Err(ValidationError::new(
            "money.currency",
            "must be an ISO 4217 code in uppercase such as `USD`",
        ))
    }
}

fn check_rating(event: &InteractionEvent) -> Result<(), ValidationError> {
    let Some(rating) = &event.rating else {
        return Ok(());
    };
    if rating.scale == RatingScale::Unspecified as i32
        || RatingScale::try_from(rating.scale).is_err()
    {
        return Err(ValidationError::new(
            "rating.scale",
            "must be a known scale",
        ));
    }
    let finite = rating.value.is_finite() && rating.min.is_finite() && rating.max.is_finite();
    if !finite || rating.min >= rating.max {
        return Err(ValidationError::new(
            "rating",
            "min and max must be finite numbers with min < max",
        ));
    }
    if rating.value < rating.min || rating.value > rating.max {
        return Err(ValidationError::new(
            "rating.value",
            format!(
                "must lie within [{}, {}], got {}",
                rating.min, rating.max, rating.value
            ),
        ));
    }
    Ok(())
}

fn check_attributes(event: &InteractionEvent) -> Result<(), ValidationError> {
    if event.attributes.len() > MAX_ATTRIBUTES {
        return Err(ValidationError::new(
            "attributes",
            format!(
                "must have at most {MAX_ATTRIBUTES} entries, got {}",
                event.attributes.len()
            ),
        ));
    }
    for (key, value) in &event.attributes {
        if key.is_empty() || key.len() > MAX_ATTRIBUTE_KEY_BYTES {
            return Err(ValidationError::new(
                "attributes",
                format!("keys must be 1-{MAX_ATTRIBUTE_KEY_BYTES} bytes"),
            ));
        }
        check_len(
            &format!("attributes[{key:?}]"),
            value,
            MAX_ATTRIBUTE_VALUE_BYTES,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
