use super::*;
use crate::example::example_event;
use crate::v1::{Money, Rating};

fn field_of(event: &InteractionEvent) -> String {
    match validate_event(event) {
        Ok(()) => "ok".to_owned(),
        Err(error) => error.field,
    }
}

#[test]
fn the_example_event_is_valid() {
    assert_eq!(validate_event(&example_event()), Ok(()));
}

#[test]
fn a_missing_or_malformed_event_id_is_named() {
    let mut event = example_event();
    event.event_id = "not-a-uuid".into();
    assert_eq!(field_of(&event), "event_id");
}

#[test]
fn tenant_and_source_must_be_slugs() {
    let mut event = example_event();
    event.tenant_id = "Acme Shop".into();
    assert_eq!(field_of(&event), "tenant_id");
    let mut event = example_event();
    event.source = String::new();
    assert_eq!(field_of(&event), "source");
}

#[test]
fn unspecified_or_unknown_enums_are_refused() {
    let mut event = example_event();
    event.channel = 0;
    assert_eq!(field_of(&event), "channel");
    let mut event = example_event();
    event.direction = 99;
    assert_eq!(field_of(&event), "direction");
}

#[test]
fn event_names_must_be_dotted_lowercase_verbs() {
    for bad in [
        "message",
        "Message.Received",
        "message..received",
        ".x",
        "order.created ",
    ] {
        let mut event = example_event();
        event.event_name = bad.into();
        assert_eq!(field_of(&event), "event_name", "{bad:?} should be refused");
    }
    let mut event = example_event();
    event.event_name = "payment.succeeded".into();
    assert_eq!(field_of(&event), "ok");
}

#[test]
fn occurred_at_is_required() {
    let mut event = example_event();
    event.occurred_at = None;
    assert_eq!(field_of(&event), "occurred_at");
}

#[test]
fn currency_must_be_uppercase_iso_4217() {
    let mut event = example_event();
    event.money = Some(Money {
        amount_minor: 1999,
        currency: "usd".into(),
    });
    let error = validate_event(&event).expect_err("lowercase currency");
    assert_eq!(error.field, "money.currency");
    assert!(error.to_string().contains("ISO 4217"));
}

#[test]
fn rating_values_must_lie_on_their_scale() {
    let mut event = example_event();
    event.rating = Some(Rating {
        scale: RatingScale::Nps as i32,
        value: 11.0,
        min: 0.0,
        max: 10.0,
    });
    let error = validate_event(&event).expect_err("nps 11");
    assert_eq!(error.field, "rating.value");
    assert!(error.problem.contains("[0, 10]"), "{error}");
    let mut event = example_event();
    event.rating = Some(Rating {
        scale: RatingScale::Nps as i32,
        value: f64::NAN,
        min: 0.0,
        max: 10.0,
    });
    assert_eq!(field_of(&event), "rating");
}

#[test]
fn attributes_are_bounded() {
    let mut event = example_event();
    event.attributes = (0..=MAX_ATTRIBUTES)
        .map(|i| (format!("k{i}"), "v".to_owned()))
        .collect();
    assert_eq!(field_of(&event), "attributes");
    let mut event = example_event();
    event
        .attributes
        .insert("big".into(), "x".repeat(MAX_ATTRIBUTE_VALUE_BYTES + 1));
    assert_eq!(field_of(&event), "attributes[\"big\"]");
}

#[test]
fn oversized_text_is_refused_with_its_size() {
    let mut event = example_event();
    event.text = "a".repeat(MAX_TEXT_BYTES + 1);
    let error = validate_event(&event).expect_err("too long");
    assert_eq!(error.field, "text");
    assert!(error.problem.contains(&(MAX_TEXT_BYTES + 1).to_string()));
}

#[test]
fn language_must_be_a_two_letter_code() {
    let mut event = example_event();
    event.language = "indonesian".into();
    assert_eq!(field_of(&event), "language");
}
