use super::*;
use chrono::{TimeZone, Utc};
use lintas_schema::v1::{Actor, Channel, Direction, Rating, RatingScale};

fn classifier() -> &'static Classifier {
    crate::builtin()
}

fn event(name: &str, text: &str) -> InteractionEvent {
    InteractionEvent {
        event_id: "00000000-0000-0000-0000-000000000001".into(),
        tenant_id: "acme".into(),
        source: "api".into(),
        channel: Channel::Messaging as i32,
        direction: Direction::Inbound as i32,
        actor: Actor::Customer as i32,
        event_name: name.into(),
        occurred_at: Some(prost_types::Timestamp {
            seconds: 1_741_947_910,
            nanos: 0,
        }),
        customer_id: "whatsapp:15555550101".into(),
        text: text.into(),
        ..Default::default()
    }
}

fn rated(name: &str, scale: RatingScale, value: f64, min: f64, max: f64) -> InteractionEvent {
    InteractionEvent {
        rating: Some(Rating {
            scale: scale as i32,
            value,
            min,
            max,
        }),
        ..event(name, "")
    }
}

fn labels(result: &Classification) -> (InteractionType, JourneyStage) {
    (
        type_from_i32(result.interaction_type),
        stage_from_i32(result.journey_stage),
    )
}

fn first_contact() -> CustomerContext {
    CustomerContext::default()
}

fn buyer() -> CustomerContext {
    CustomerContext {
        first_seen: Utc.timestamp_opt(1_700_000_000, 0).single(),
        has_purchased: true,
        last_purchase: Utc.timestamp_opt(1_741_000_000, 0).single(),
        interactions_seen: 4,
    }
}

#[test]
fn builtin_rules_and_model_load() {
    let classifier = Classifier::builtin().expect("embedded rules and model are valid");
    assert!(classifier.version().starts_with("rules-"));
    assert!(classifier.version().contains("+lr-"));
}

#[test]
fn orders_and_payments_are_transactional_purchases_by_rule() {
    for name in ["order.created", "payment.succeeded", "checkout.completed"] {
        let result = classifier().classify(&event(name, ""), &first_contact());
        assert_eq!(
            labels(&result),
            (InteractionType::Transactional, JourneyStage::Purchase),
            "{name}"
        );
        assert!(
            result.reasons[0].starts_with("rule:event."),
            "{:?}",
            result.reasons
        );
        assert!(result.type_confidence >= 0.9);
        assert!(result.classified_at.is_none(), "the caller stamps the time");
    }
    let refund = classifier().classify(&event("charge.refunded", ""), &buyer());
    assert_eq!(
        labels(&refund),
        (InteractionType::Transactional, JourneyStage::Retention)
    );
    assert_eq!(refund.reasons, vec!["rule:event.refund".to_owned()]);
}

#[test]
fn survey_scores_decide_feedback_stage() {
    let cases = [
        (
            rated("survey.answered", RatingScale::Nps, 10.0, 0.0, 10.0),
            JourneyStage::Advocacy,
        ),
        (
            rated("survey.answered", RatingScale::Nps, 7.0, 0.0, 10.0),
            JourneyStage::Retention,
        ),
        (
            rated("survey.answered", RatingScale::Nps, 2.0, 0.0, 10.0),
            JourneyStage::Retention,
        ),
        (
            rated("survey.answered", RatingScale::Csat, 5.0, 1.0, 5.0),
            JourneyStage::Retention,
        ),
        (
            rated("review.submitted", RatingScale::Stars, 5.0, 1.0, 5.0),
            JourneyStage::Advocacy,
        ),
        (
            rated("review.submitted", RatingScale::Stars, 2.0, 1.0, 5.0),
            JourneyStage::Retention,
        ),
    ];
    for (event, stage) in cases {
        let result = classifier().classify(&event, &first_contact());
        assert_eq!(
            labels(&result),
            (InteractionType::Feedback, stage),
            "{event:?}"
        );
    }
}

#[test]
fn a_rating_without_a_usable_range_or_value_does_not_panic() {
    let broken = rated("review.submitted", RatingScale::Stars, f64::NAN, 5.0, 1.0);
    let result = classifier().classify(&broken, &first_contact());
    assert_eq!(
        type_from_i32(result.interaction_type),
        InteractionType::Feedback
    );
    assert!(result.reasons[0].starts_with("rule:event.review_text"));
}

#[test]
fn state_changes_are_not_applicable() {
    let receipt = event("message.delivered", "");
    let result = classifier().classify(&receipt, &first_contact());
    assert_eq!(
        labels(&result),
        (InteractionType::NotApplicable, JourneyStage::NotApplicable)
    );
    let mut closed = event("conversation.closed", "");
    closed.direction = Direction::NotApplicable as i32;
    assert_eq!(
        labels(&classifier().classify(&closed, &first_contact())).0,
        InteractionType::NotApplicable
    );
}

#[test]
fn newsletter_opens_depend_on_the_customer() {
    let open = event("email.opened", "");
    let stage = |context: &CustomerContext| labels(&classifier().classify(&open, context)).1;
    assert_eq!(stage(&buyer()), JourneyStage::Retention);
    assert_eq!(stage(&first_contact()), JourneyStage::Awareness);
}

#[test]
fn indonesian_informal_messages_use_model_and_lexicon() {
    let message = event(
        "message.received",
        "Min, saya mau refund, jaketnya gak sesuai deskripsi",
    );
    let result = classifier().classify(&message, &buyer());
    assert_eq!(
        type_from_i32(result.interaction_type),
        InteractionType::Service
    );
    assert!(
        result
            .reasons
            .iter()
            .any(|reason| reason == "lexicon:id.refund"),
        "{:?}",
        result.reasons
    );
    assert!(
        result
            .reasons
            .iter()
            .any(|reason| reason.starts_with("model:lr-"))
    );
    assert!(result.type_confidence > 0.0 && result.type_confidence <= 1.0);
}

#[test]
fn upgrade_questions_are_cross_sell_and_known_buyers_questions_retention() {
    let upgrade = event(
        "message.received",
        "Can I upgrade my plan to the annual premium plan?",
    );
    let result = classifier().classify(&upgrade, &buyer());
    assert_eq!(
        labels(&result),
        (InteractionType::CrossSellUpsell, JourneyStage::Retention)
    );
    let question = event("message.received", "Do you ship to Singapore?");
    let new_visitor = labels(&classifier().classify(&question, &first_contact()));
    assert_eq!(
        new_visitor,
        (InteractionType::Informative, JourneyStage::Consideration)
    );
    let known = classifier().classify(&question, &buyer());
    assert_eq!(stage_from_i32(known.journey_stage), JourneyStage::Retention);
    assert_eq!(known.reasons[0], "rule:context.known_buyer_question");
}

#[test]
fn story_replies_are_awareness_whatever_the_text() {
    let mut reply = event("message.received", "Promonya sampai kapan kak?");
    reply
        .attributes
        .insert("message_type".into(), "story_reply".into());
    let result = classifier().classify(&reply, &first_contact());
    assert_eq!(
        stage_from_i32(result.journey_stage),
        JourneyStage::Awareness
    );
    assert_eq!(result.reasons[0], "rule:event.message_from_ad_or_story");
}

#[test]
fn reviews_without_rating_choose_only_between_advocacy_and_retention() {
    let review = event(
        "review.submitted",
        "Paket belum sampai, kapan dikirim? Sudah bayar",
    );
    let result = classifier().classify(&review, &first_contact());
    let (interaction_type, stage) = labels(&result);
    assert_eq!(interaction_type, InteractionType::Feedback);
    assert!(matches!(
        stage,
        JourneyStage::Advocacy | JourneyStage::Retention
    ));
}

#[test]
fn private_praise_is_retention_and_public_praise_advocacy() {
    let praise = event(
        "message.received",
        "Barangnya sudah sampai, mantap! Makasih kak",
    );
    let result = classifier().classify(&praise, &buyer());
    assert_eq!(
        labels(&result),
        (InteractionType::Feedback, JourneyStage::Retention)
    );
}

#[test]
fn nothing_known_is_reported_as_unspecified_with_zero_confidence() {
    let result = classifier().classify(&event("custom.thing", "  "), &first_contact());
    assert_eq!(
        labels(&result),
        (InteractionType::Unspecified, JourneyStage::Unspecified)
    );
    assert_eq!(result.type_confidence, 0.0);
    assert_eq!(result.reasons, vec![REASON_NOTHING_KNOWN.to_owned()]);
}

#[test]
fn hostile_and_huge_texts_classify_without_panicking() {
    let long = "refund ".repeat(100_000);
    for text in [
        long.as_str(),
        "\u{0}\u{202e}<script>alert(1)</script>",
        "🙏🙏🙏",
        "ǅ ß İ ﬁ",
    ] {
        let result = classifier().classify(&event("message.received", text), &first_contact());
        assert!(result.type_confidence.is_finite() && result.stage_confidence.is_finite());
    }
}

#[test]
fn classification_is_deterministic() {
    let message = event("message.received", "Where is my order? It has not arrived");
    let first = classifier().classify(&message, &buyer());
    for _ in 0..3 {
        assert_eq!(classifier().classify(&message, &buyer()), first);
    }
}

#[test]
fn next_best_falls_back_to_the_second_label() {
    let probabilities = [0.0, 0.5, 0.3, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0];
    let (label, confidence) = refined(
        Refinement::NextBest,
        InteractionType::Transactional,
        &probabilities,
        0.9,
        type_from_i32,
    );
    assert_eq!(label, InteractionType::Service);
    assert_eq!(confidence, 0.3);
}
