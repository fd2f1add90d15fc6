//! The shared channel corpus' realistic interactions, with their metadata, classified against
//! the expected type and stage of `../shared/corpus/channels/expected.json`.
//!
//! The events are built here as the adapters emit them (event name, channel, direction, actor,
//! the attributes and rating the classifier reads), from each adapter's documented mapping; the
//! texts and expected labels are read from `expected.json`, so they are not copied here. An
//! end-to-end version through the adapters belongs with the classifier service.
//!
//! Fails, never skips, when the corpus is missing.

use std::collections::HashMap;
use std::path::PathBuf;

use lintas_classifier::labels::{parse_stage, parse_type, stage_from_i32, type_from_i32};
use lintas_classifier::{CustomerContext, classify};
use lintas_schema::v1::{Actor, Channel, Direction, InteractionEvent, Rating, RatingScale};

/// Accuracy the acceptance criteria ask for on these cases.
const MIN_TYPE_ACCURACY: f64 = 0.85;
const MIN_STAGE_ACCURACY: f64 = 0.80;

struct Case {
    file: &'static str,
    event_name: &'static str,
    channel: Channel,
    direction: Direction,
    actor: Actor,
    attributes: &'static [(&'static str, &'static str)],
    rating: Option<(RatingScale, f64, f64, f64)>,
}

const fn case(
    file: &'static str,
    event_name: &'static str,
    channel: Channel,
    direction: Direction,
    actor: Actor,
) -> Case {
    Case {
        file,
        event_name,
        channel,
        direction,
        actor,
        attributes: &[],
        rating: None,
    }
}

fn cases() -> Vec<Case> {
    use Actor::{Agent, Customer, System};
    use Channel::{Commerce, Crm, Email, Messaging, Sms, Social, Survey, Web, WebChat};
    use Direction::{Inbound, Outbound};
    vec![
        case(
            "chatwoot/conversation_created.json",
            "message.received",
            WebChat,
            Inbound,
            Customer,
        ),
        case(
            "chatwoot/message_created_incoming_id.json",
            "message.received",
            WebChat,
            Inbound,
            Customer,
        ),
        case(
            "chatwoot/malformed_created_at_with_offset_id.json",
            "message.received",
            WebChat,
            Inbound,
            Customer,
        ),
        Case {
            attributes: &[("message_type", "story_reply")],
            ..case(
                "instagram/message_story_reply_id.json",
                "message.received",
                Social,
                Inbound,
                Customer,
            )
        },
        case(
            "mailgun/inbound_multipart_feedback.txt",
            "message.received",
            Email,
            Inbound,
            Customer,
        ),
        case(
            "messenger/message_reply_upgrade_id.json",
            "message.received",
            Social,
            Inbound,
            Customer,
        ),
        Case {
            attributes: &[
                ("postback_payload", "GET_STARTED"),
                ("referral_ref", "ramadan_promo"),
                ("referral_source", "ADS"),
            ],
            ..case(
                "messenger/postback_get_started_from_ad.json",
                "postback.received",
                Social,
                Inbound,
                Customer,
            )
        },
        case(
            "postmark/inbound_cancel_subscription.json",
            "message.received",
            Email,
            Inbound,
            Customer,
        ),
        case(
            "segment/track_order_completed.json",
            "order.created",
            Web,
            Inbound,
            Customer,
        ),
        case(
            "shopify/orders_create_gift_note_id.json",
            "order.created",
            Commerce,
            Inbound,
            Customer,
        ),
        case(
            "stripe/charge_refunded.json",
            "refund.created",
            Commerce,
            Outbound,
            System,
        ),
        Case {
            attributes: &[("message_type", "callback_query")],
            ..case(
                "telegram/callback_query_csat.json",
                "postback.received",
                Messaging,
                Inbound,
                Customer,
            )
        },
        case(
            "telegram/message_refund_request_id.json",
            "message.received",
            Messaging,
            Inbound,
            Customer,
        ),
        case(
            "telegram/hostile_prompt_injection_id.json",
            "message.received",
            Messaging,
            Inbound,
            Customer,
        ),
        case(
            "twilio/mms_inbound_damaged_item_id.form",
            "message.received",
            Sms,
            Inbound,
            Customer,
        ),
        case(
            "twilio/whatsapp_inbound_stock_question_id.form",
            "message.received",
            Messaging,
            Inbound,
            Customer,
        ),
        Case {
            rating: Some((RatingScale::Nps, 3.0, 0.0, 10.0)),
            ..case(
                "typeform/form_response_nps_detractor_id.json",
                "survey.answered",
                Survey,
                Inbound,
                Customer,
            )
        },
        case(
            "whatsapp/message_image_caption_id.json",
            "message.received",
            Messaging,
            Inbound,
            Customer,
        ),
        case(
            "whatsapp/message_text_payment_issue_id.json",
            "message.received",
            Messaging,
            Inbound,
            Customer,
        ),
        case(
            "whatsapp/status_read.json",
            "message.read",
            Messaging,
            Outbound,
            System,
        ),
        case(
            "zendesk/ticket_comment_added_agent.json",
            "message.sent",
            Crm,
            Outbound,
            Agent,
        ),
        Case {
            rating: Some((RatingScale::Csat, 1.0, 0.0, 1.0)),
            ..case(
                "zendesk/trigger_satisfaction_custom_body.json",
                "survey.answered",
                Crm,
                Inbound,
                Customer,
            )
        },
    ]
}

/// The customer-visible text of an `expect.text`: bracketed notes and `(none)` are annotations.
fn visible_text(annotated: &str) -> String {
    let without_none = annotated.replace("(none)", "");
    let visible = match without_none.find("  [") {
        Some(cut) => &without_none[..cut],
        None => without_none.as_str(),
    };
    if annotated.starts_with("(none)") {
        return String::new();
    }
    visible.trim().to_owned()
}

/// `type` and `stage`, or for malformed cases the `type X / stage Y` in `behaviour`.
fn expected_labels(expect: &serde_json::Value) -> (String, String) {
    if let (Some(kind), Some(stage)) = (expect["type"].as_str(), expect["stage"].as_str()) {
        return (kind.to_owned(), stage.to_owned());
    }
    let behaviour = expect["behaviour"].as_str().unwrap_or_default();
    let word_after = |marker: &str| {
        behaviour
            .split(marker)
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_default()
            .trim_matches(|ch: char| !ch.is_ascii_alphabetic() && ch != '_')
            .to_owned()
    };
    (word_after("type "), word_after("stage "))
}

#[test]
fn corpus_interactions_get_their_expected_type_and_stage() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/channels/expected.json");
    assert!(
        path.is_file(),
        "the channel corpus is missing at {}: this test needs ../shared next to the repository",
        path.display()
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("readable")).expect("json");
    let expectations: HashMap<&str, &serde_json::Value> = manifest["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter_map(|case| Some((case["file"].as_str()?, &case["expect"])))
        .collect();
    let mut type_right = 0;
    let mut stage_right = 0;
    let mut report = Vec::new();
    let all = cases();
    for case in &all {
        let expect = expectations
            .get(case.file)
            .unwrap_or_else(|| panic!("{} is not in expected.json", case.file));
        let text = visible_text(expect["text"].as_str().unwrap_or("(none)"));
        let (type_name, stage_name) = expected_labels(expect);
        let expected_type = parse_type(&type_name).expect("known type");
        let expected_stage = parse_stage(&stage_name).expect("known stage");
        let event = InteractionEvent {
            event_name: case.event_name.into(),
            channel: case.channel as i32,
            direction: case.direction as i32,
            actor: case.actor as i32,
            text,
            attributes: case
                .attributes
                .iter()
                .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                .collect(),
            rating: case.rating.map(|(scale, value, min, max)| Rating {
                scale: scale as i32,
                value,
                min,
                max,
            }),
            ..Default::default()
        };
        let result = classify(&event, &CustomerContext::default());
        let got = (
            type_from_i32(result.interaction_type),
            stage_from_i32(result.journey_stage),
        );
        type_right += usize::from(got.0 == expected_type);
        stage_right += usize::from(got.1 == expected_stage);
        report.push(format!(
            "{:<52} expected {:?}/{:?} got {:?}/{:?} ({:.2}/{:.2}) {:?}",
            case.file,
            expected_type,
            expected_stage,
            got.0,
            got.1,
            result.type_confidence,
            result.stage_confidence,
            result.reasons
        ));
    }
    let total = all.len() as f64;
    let type_accuracy = type_right as f64 / total;
    let stage_accuracy = stage_right as f64 / total;
    let details = report.join("\n");
    println!("{details}\ntype {type_accuracy:.3} stage {stage_accuracy:.3}");
    assert!(
        type_accuracy >= MIN_TYPE_ACCURACY && stage_accuracy >= MIN_STAGE_ACCURACY,
        "type {type_accuracy:.3} (min {MIN_TYPE_ACCURACY}), stage {stage_accuracy:.3} \
         (min {MIN_STAGE_ACCURACY}):\n{details}"
    );
}
