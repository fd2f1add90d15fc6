//! Normalization shared by every adapter, so the same rules hold whatever the channel.
//!
//! An adapter fills a [`Draft`] with what it read from the payload and calls
//! [`Draft::into_event`], which applies the rules that are the same everywhere:
//!
//! - `event_id`: UUIDv5 over tenant, source and `source_event_id`
//!   (`lintas_schema::identity::event_id_for`), so a redelivered webhook is the same event;
//! - `occurred_at`: the payload's time (see [`time`]), else the receive time with
//!   `OCCURRED_AT_INFERRED`, also when the payload's time is outside what ClickHouse stores
//!   ([`time::is_storable`]; the value is kept in [`UNSTORABLE_TIME_ATTRIBUTE`]); `received_at`: the receive time;
//! - `text`: [`text::clean`]ed and cut at `MAX_TEXT_BYTES` on a char boundary
//!   (`TEXT_TRUNCATED`);
//! - `language`: the source's tag when valid, else detected when reliable (`LANGUAGE_DETECTED`,
//!   see [`language`]);
//! - `customer_handles`: deduplicated, never repeating `customer_id`;
//! - `attributes`: bounded to the contract's limits (64 entries, 128-byte keys, 4096-byte values
//!   cut on a char boundary); empty values dropped.

pub mod handle;
pub mod language;
pub mod money;
pub mod text;
pub mod time;

use std::collections::BTreeMap;

use lintas_schema::identity::event_id_for;
use lintas_schema::v1::{
    Actor, Channel, Direction, InteractionEvent, Money, NormalizationFlag, Rating,
};
use lintas_schema::validate::{
    MAX_ATTRIBUTE_KEY_BYTES, MAX_ATTRIBUTE_VALUE_BYTES, MAX_ATTRIBUTES, MAX_ID_BYTES,
    MAX_TEXT_BYTES,
};

use crate::WebhookRequest;
pub use time::Occurred;

/// Attribute holding a payload time outside [`time::is_storable`]'s range, replaced by the
/// receive time (`OCCURRED_AT_INFERRED`).
pub const UNSTORABLE_TIME_ATTRIBUTE: &str = "occurred_at_unstorable";
/// Most extra handles kept per event: hints for identity resolution, not a contact book.
const MAX_CUSTOMER_HANDLES: usize = 16;
/// Longest subject kept, matching the contract's limit.
const MAX_SUBJECT_BYTES: usize = MAX_ID_BYTES * 2;

/// An event as an adapter read it, before the shared rules are applied.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Draft {
    /// The platform's stable id for this event (the input of `event_id`); empty only when the
    /// platform has none, which mints a random id and defeats redelivery deduplication.
    pub source_event_id: String,
    /// Channel kind.
    pub channel: Channel,
    /// Who talked to whom.
    pub direction: Direction,
    /// Who acted.
    pub actor: Actor,
    /// Normalized verb, `<object>.<past participle>`, e.g. `message.received`.
    pub event_name: String,
    /// The payload's time; `None` when it carries none (the receive time is used and flagged).
    pub occurred_at: Option<Occurred>,
    /// Namespaced customer handle, as the platform carries it.
    pub customer_id: String,
    /// A not-yet-known visitor's id.
    pub anonymous_id: String,
    /// More handles of the same customer (normalized phone, e-mail...).
    pub customer_handles: Vec<String>,
    /// Conversation, thread or ticket in the source's id space.
    pub conversation_id: String,
    /// The agent who handled the event, as a handle.
    pub agent_id: String,
    /// Customer-visible text (HTML already stripped, quoted history already removed).
    pub text: String,
    /// Subject line (e-mail, ticket).
    pub subject: String,
    /// The language tag the source gave, if any.
    pub language: Option<String>,
    /// Amount in contract minor units (see [`money`]).
    pub money: Option<Money>,
    /// A rating the customer gave.
    pub rating: Option<Rating>,
    /// Source extras (order number, media ids, campaign...).
    pub attributes: BTreeMap<String, String>,
}

impl Draft {
    /// Sets attribute `key` when `value` is present and non-empty.
    pub fn attribute(&mut self, key: &str, value: Option<impl Into<String>>) {
        if let Some(value) = value.map(Into::into).filter(|value| !value.is_empty()) {
            self.attributes.insert(key.to_owned(), value);
        }
    }

    /// The finished event for `source` (the adapter id), with the shared rules applied.
    pub fn into_event(mut self, source: &str, request: &WebhookRequest<'_>) -> InteractionEvent {
        let mut flags = Vec::new();
        let (event_id, _) = event_id_for(request.tenant, source, Some(&self.source_event_id));
        let received_at = time::truncate_to_micros(request.received_at);
        let occurred_at = match self.occurred_at {
            Some(occurred) if time::is_storable(occurred.at) => {
                flags.extend(occurred.flag);
                occurred.at
            }
            Some(unstorable) => {
                // Kept as an attribute so the platform's value is not lost, only not trusted.
                self.attributes.insert(
                    UNSTORABLE_TIME_ATTRIBUTE.to_owned(),
                    unstorable
                        .at
                        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                );
                flags.push(NormalizationFlag::OccurredAtInferred);
                received_at
            }
            None => {
                flags.push(NormalizationFlag::OccurredAtInferred);
                received_at
            }
        };

        let cleaned = text::clean(&self.text);
        let kept = text::truncate_at_char_boundary(&cleaned, MAX_TEXT_BYTES);
        if kept.len() < cleaned.len() {
            flags.push(NormalizationFlag::TextTruncated);
        }
        let event_text = kept.to_owned();

        let language = match self
            .language
            .as_deref()
            .and_then(language::normalize_language_tag)
        {
            Some(given) => given,
            None => match language::detect_language(&event_text) {
                Some(detected) => {
                    flags.push(NormalizationFlag::LanguageDetected);
                    detected.to_owned()
                }
                None => String::new(),
            },
        };

        flags.sort_unstable();
        flags.dedup();
        InteractionEvent {
            event_id: event_id.to_string(),
            tenant_id: request.tenant.to_owned(),
            source: source.to_owned(),
            channel: self.channel.into(),
            direction: self.direction.into(),
            actor: self.actor.into(),
            event_name: self.event_name,
            occurred_at: Some(lintas_schema::time::to_timestamp(occurred_at)),
            received_at: Some(lintas_schema::time::to_timestamp(received_at)),
            customer_handles: bounded_handles(&self.customer_id, self.customer_handles),
            customer_id: self.customer_id,
            anonymous_id: self.anonymous_id,
            conversation_id: self.conversation_id,
            agent_id: self.agent_id,
            text: event_text,
            subject: text::truncate_at_char_boundary(
                &text::clean(&self.subject),
                MAX_SUBJECT_BYTES,
            )
            .to_owned(),
            language,
            money: self.money,
            rating: self.rating,
            attributes: bounded_attributes(self.attributes),
            source_event_id: self.source_event_id,
            normalization_flags: flags.into_iter().map(i32::from).collect(),
        }
    }
}

fn bounded_handles(customer_id: &str, handles: Vec<String>) -> Vec<String> {
    let mut kept: Vec<String> = Vec::with_capacity(handles.len().min(MAX_CUSTOMER_HANDLES));
    for handle in handles {
        let duplicate = handle == customer_id || kept.contains(&handle);
        if handle.is_empty() || duplicate || handle.len() > MAX_ID_BYTES {
            continue;
        }
        if kept.len() == MAX_CUSTOMER_HANDLES {
            break;
        }
        kept.push(handle);
    }
    kept
}

fn bounded_attributes(
    attributes: BTreeMap<String, String>,
) -> std::collections::HashMap<String, String> {
    attributes
        .into_iter()
        .filter(|(key, value)| {
            !key.is_empty() && key.len() <= MAX_ATTRIBUTE_KEY_BYTES && !value.is_empty()
        })
        .take(MAX_ATTRIBUTES)
        .map(|(key, value)| {
            let value =
                text::truncate_at_char_boundary(&value, MAX_ATTRIBUTE_VALUE_BYTES).to_owned();
            (key, value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use http::{HeaderMap, Method};

    fn with_request<T>(run: impl FnOnce(&WebhookRequest<'_>) -> T) -> T {
        let headers = HeaderMap::new();
        let request = WebhookRequest {
            tenant: "acme",
            method: &Method::POST,
            public_url: "https://ingest.example.com/v1/webhooks/acme/test",
            headers: &headers,
            query: "",
            body: b"",
            received_at: Utc
                .timestamp_opt(1_741_921_543, 123_456_789)
                .single()
                .expect("valid instant"),
        };
        run(&request)
    }

    fn draft() -> Draft {
        Draft {
            source_event_id: "m-1".into(),
            channel: Channel::Messaging,
            direction: Direction::Inbound,
            actor: Actor::Customer,
            event_name: "message.received".into(),
            customer_id: "whatsapp:1555".into(),
            ..Draft::default()
        }
    }

    fn flags(event: &InteractionEvent) -> Vec<NormalizationFlag> {
        event
            .normalization_flags
            .iter()
            .filter_map(|flag| NormalizationFlag::try_from(*flag).ok())
            .collect()
    }

    #[test]
    fn a_payload_without_time_gets_the_receive_time_flagged() {
        let event = with_request(|request| draft().into_event("test", request));
        assert_eq!(event.occurred_at, event.received_at);
        assert_eq!(
            event.received_at.as_ref().map(|ts| ts.nanos),
            Some(123_456_000)
        );
        assert_eq!(flags(&event), vec![NormalizationFlag::OccurredAtInferred]);
        assert!(lintas_schema::validate_event(&event).is_ok());
    }

    #[test]
    fn a_payload_time_clickhouse_cannot_store_gets_the_receive_time_flagged_and_kept() {
        // ClickHouse `DateTime` (the partition key) holds 1970..2106: anything else would wrap
        // into a wrong date silently.
        for (seconds, original) in [
            (-5, "1969-12-31T23:59:55Z"),
            (253_402_300_799, "9999-12-31T23:59:59Z"),
        ] {
            let mut absurd = draft();
            absurd.occurred_at = Some(Occurred {
                at: Utc
                    .timestamp_opt(seconds, 0)
                    .single()
                    .expect("valid instant"),
                flag: None,
            });
            let event = with_request(|request| absurd.into_event("test", request));
            assert_eq!(event.occurred_at, event.received_at, "{original}");
            assert_eq!(flags(&event), vec![NormalizationFlag::OccurredAtInferred]);
            assert_eq!(
                event
                    .attributes
                    .get(UNSTORABLE_TIME_ATTRIBUTE)
                    .map(String::as_str),
                Some(original)
            );
        }
    }

    #[test]
    fn event_ids_are_deterministic_per_tenant_source_and_id() {
        let first = with_request(|request| draft().into_event("test", request));
        let again = with_request(|request| draft().into_event("test", request));
        assert_eq!(first.event_id, again.event_id);
        let expected = lintas_schema::derive_event_id("acme", "test", "m-1");
        assert_eq!(first.event_id, expected.to_string());
    }

    #[test]
    fn oversized_text_is_truncated_on_a_char_boundary_and_flagged() {
        let mut oversized = draft();
        oversized.text = "🙏".repeat(MAX_TEXT_BYTES / 4 + 10);
        oversized.language = Some("id".into());
        let event = with_request(|request| oversized.into_event("test", request));
        assert!(event.text.len() <= MAX_TEXT_BYTES);
        assert!(event.text.chars().all(|c| c == '🙏'));
        assert!(flags(&event).contains(&NormalizationFlag::TextTruncated));
        assert!(lintas_schema::validate_event(&event).is_ok());
    }

    #[test]
    fn a_language_from_the_source_wins_over_detection() {
        let mut given = draft();
        given.text = "Please cancel my subscription at the end of this billing period.".into();
        given.language = Some("en-GB".into());
        let event = with_request(|request| given.into_event("test", request));
        assert_eq!(event.language, "en");
        assert!(!flags(&event).contains(&NormalizationFlag::LanguageDetected));

        let mut detected = draft();
        detected.text = "Kak, ongkir ke Makassar berapa ya? 📦".into();
        let event = with_request(|request| detected.into_event("test", request));
        assert_eq!(event.language, "id");
        assert!(flags(&event).contains(&NormalizationFlag::LanguageDetected));
    }

    #[test]
    fn handles_and_attributes_are_bounded() {
        let mut noisy = draft();
        noisy.customer_handles = vec![
            "whatsapp:1555".into(),
            "phone:+1555".into(),
            "phone:+1555".into(),
            String::new(),
        ];
        for index in 0..100 {
            noisy
                .attributes
                .insert(format!("key_{index:03}"), "v".repeat(5000));
        }
        noisy
            .attributes
            .insert("k".repeat(200), "too long a key".into());
        let event = with_request(|request| noisy.into_event("test", request));
        assert_eq!(event.customer_handles, vec!["phone:+1555".to_owned()]);
        assert_eq!(event.attributes.len(), MAX_ATTRIBUTES);
        assert!(
            event
                .attributes
                .values()
                .all(|v| v.len() == MAX_ATTRIBUTE_VALUE_BYTES)
        );
        assert!(lintas_schema::validate_event(&event).is_ok());
    }
}
