//! Every corpus sample of the implemented platforms, checked field by field against
//! `expected.json` (see `tests/common/mod.rs` for the loader and the comparison).

mod common;

use common::{CorpusCase, Outcome, assert_matches_manifest, run_request};
use lintas_adapters::{IgnoredKind, UnusableReason};
use lintas_schema::v1::NormalizationFlag;

/// The samples this file checks; `corpus_covers_every_sample_of_the_implemented_platforms`
/// fails when the corpus gains a sample of these platforms that is not listed here.
const CASES: &[&str] = &[
    "stripe/charge_refunded.json",
    "stripe/malformed_truncated_json.json",
    "twilio/malformed_form_body_json_content_type.form",
    "twilio/mms_inbound_damaged_item_id.form",
    "twilio/whatsapp_inbound_stock_question_id.form",
    "whatsapp/malformed_duplicate_delivery_1.json",
    "whatsapp/malformed_missing_sender.json",
    "whatsapp/malformed_oversized_5mb.json",
    "whatsapp/message_image_caption_id.json",
    "whatsapp/message_text_payment_issue_id.json",
    "whatsapp/status_read.json",
    "whatsapp/verify_handshake.txt",
];

/// Platforms whose adapters exist; add yours when you add an adapter.
const PLATFORMS: &[&str] = &["stripe", "twilio", "whatsapp"];

fn check(file: &str) -> (CorpusCase, Outcome) {
    let case = CorpusCase::load(file);
    let outcome = case.run();
    assert_matches_manifest(&case, &outcome);
    (case, outcome)
}

#[test]
fn corpus_covers_every_sample_of_the_implemented_platforms() {
    for platform in PLATFORMS {
        for file in common::corpus_files_of(platform) {
            assert!(
                CASES.contains(&file.as_str()),
                "{file} has no test: add it to CASES"
            );
        }
    }
}

#[test]
fn every_listed_sample_matches_the_manifest() {
    for file in CASES {
        check(file);
    }
}

#[test]
fn whatsapp_text_in_indonesian_becomes_one_messaging_event_with_detected_language() {
    let (_, outcome) = check("whatsapp/message_text_payment_issue_id.json");
    let event = &outcome.parsed().events[0];
    assert_eq!(event.event_name, "message.received");
    assert_eq!(
        event.customer_handles,
        vec!["phone:+15555550106".to_owned()]
    );
    assert_eq!(event.conversation_id, "whatsapp:15555550106");
    assert_eq!(
        event.attributes.get("message_type").map(String::as_str),
        Some("text")
    );
}

#[test]
fn whatsapp_image_keeps_the_caption_as_text_and_the_media_id_as_attribute() {
    let (_, outcome) = check("whatsapp/message_image_caption_id.json");
    let event = &outcome.parsed().events[0];
    assert_eq!(
        event.attributes.get("media_id").map(String::as_str),
        Some("9608168575975751")
    );
    assert_eq!(
        event.attributes.get("media_mime_type").map(String::as_str),
        Some("image/jpeg")
    );
}

#[test]
fn whatsapp_read_receipt_is_a_state_change_not_an_interaction() {
    let (_, outcome) = check("whatsapp/status_read.json");
    let ignored = &outcome.parsed().ignored;
    assert_eq!(ignored.len(), 1);
    assert_eq!(ignored[0].kind, IgnoredKind::StateChange);
    assert_eq!(ignored[0].event_type, "status.read");
    assert_eq!(
        ignored[0].source_event_id.as_deref(),
        Some("wamid.HBgLMTU1NTU1NTAxMDYVAgASGBQLjeyynABpkhzxGmg0PVo2l+KMuwA=")
    );
}

#[test]
fn whatsapp_redelivery_yields_the_same_event_id() {
    let (case, first) = check("whatsapp/malformed_duplicate_delivery_1.json");
    // The retry arrives later; only the receive time differs.
    let mut retry = case.request();
    retry.received_at += chrono::Duration::minutes(3);
    let again = run_request("whatsapp", &retry);
    assert_eq!(first.parsed().events.len(), 1);
    assert_eq!(
        again.parsed().events[0].event_id,
        first.parsed().events[0].event_id
    );
    assert_eq!(
        again.parsed().events[0].occurred_at,
        first.parsed().events[0].occurred_at
    );
}

#[test]
fn whatsapp_message_without_sender_is_unusable_and_still_answered_200() {
    let (_, outcome) = check("whatsapp/malformed_missing_sender.json");
    let parsed = outcome.parsed();
    assert_eq!(parsed.unusable.len(), 1);
    assert_eq!(
        parsed.unusable[0].reason,
        UnusableReason::NoCustomerIdentifier
    );
    assert_eq!(parsed.unusable[0].reason.code(), "no_customer_identifier");
}

#[test]
fn whatsapp_oversized_body_is_refused_with_413_before_anything_else() {
    let (_, outcome) = check("whatsapp/malformed_oversized_5mb.json");
    assert!(matches!(outcome, Outcome::Refused(ref error) if error.code() == "payload_too_large"));
}

#[test]
fn whatsapp_handshake_echoes_the_challenge_and_refuses_a_wrong_token_with_403() {
    let (case, outcome) = check("whatsapp/verify_handshake.txt");
    let Outcome::Answered(response) = outcome else {
        panic!("handshake must be answered");
    };
    assert_eq!(response.content_type, Some("text/plain; charset=utf-8"));

    let mut wrong = case.request();
    wrong.query = wrong.query.replace("corpus-verify-token-0003", "guess");
    assert_eq!(run_request("whatsapp", &wrong).status(), 403);
    let mut no_token = case.request();
    no_token.query = "hub.mode=subscribe&hub.challenge=1158201444".to_owned();
    assert_eq!(run_request("whatsapp", &no_token).status(), 403);
}

#[test]
fn twilio_whatsapp_message_is_messaging_with_inferred_time_and_empty_twiml() {
    let (_, outcome) = check("twilio/whatsapp_inbound_stock_question_id.form");
    let Outcome::Accepted(parsed, response) = &outcome else {
        panic!("accepted");
    };
    let event = &parsed.events[0];
    let inferred = NormalizationFlag::OccurredAtInferred as i32;
    assert!(
        event.normalization_flags.contains(&inferred),
        "OCCURRED_AT_INFERRED is set"
    );
    assert_eq!(
        event.customer_handles,
        vec!["phone:+15555550102".to_owned()]
    );
    assert_eq!(response.content_type, Some("text/xml"));
    assert!(
        std::str::from_utf8(&response.body)
            .expect("UTF-8")
            .contains("<Response></Response>")
    );
}

#[test]
fn twilio_mms_keeps_the_media_as_attributes() {
    let (_, outcome) = check("twilio/mms_inbound_damaged_item_id.form");
    let event = &outcome.parsed().events[0];
    assert_eq!(
        event.attributes.get("media_count").map(String::as_str),
        Some("1")
    );
    assert_eq!(
        event
            .attributes
            .get("media_content_type_0")
            .map(String::as_str),
        Some("image/jpeg")
    );
    assert!(event.attributes.contains_key("media_url_0"));
}

#[test]
fn twilio_signature_covers_the_url_so_another_route_needs_a_new_signature() {
    let case = CorpusCase::load("twilio/mms_inbound_damaged_item_id.form");
    let our_route = format!("{}/v1/webhooks/acme/twilio", common::PUBLIC_HOST);
    let mut moved = case.request();
    moved.public_url = our_route.clone();
    assert_eq!(
        run_request("twilio", &moved).status(),
        401,
        "old signature, new URL"
    );

    let token = common::manifest_secret("twilio_auth_token");
    let signature = lintas_adapters::testing::twilio_signature(&token, &our_route, &case.body)
        .expect("form body");
    let resigned = moved
        .without_header("X-Twilio-Signature")
        .with_header("X-Twilio-Signature", &signature)
        .expect("header");
    assert_eq!(run_request("twilio", &resigned).status(), 200);
}

#[test]
fn stripe_refund_carries_negative_minor_units_and_the_customer_email_as_handle() {
    let (_, outcome) = check("stripe/charge_refunded.json");
    let event = &outcome.parsed().events[0];
    assert_eq!(event.event_name, "refund.created");
    let money = event.money.as_ref().expect("money");
    assert_eq!(
        (money.amount_minor, money.currency.as_str()),
        (-8900, "USD")
    );
    assert_eq!(
        event.customer_handles,
        vec!["email:customer.i@example.com".to_owned()]
    );
    assert_eq!(
        event.attributes.get("description").map(String::as_str),
        Some("Order #5521")
    );
    assert_eq!(
        event
            .attributes
            .get("metadata.order_id")
            .map(String::as_str),
        Some("5521")
    );
    assert!(event.text.is_empty());
}
