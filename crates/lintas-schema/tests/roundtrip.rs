//! Property tests: any event survives a protobuf encode/decode round trip unchanged, including
//! wrapped in a `ClassifiedInteraction`.

use lintas_schema::v1::{
    Classification, ClassifiedInteraction, InteractionEvent, KafkaOrigin, Money, Rating,
};
use proptest::prelude::*;
use prost::Message;

fn timestamp() -> impl Strategy<Value = Option<prost_types::Timestamp>> {
    proptest::option::of(
        (0i64..4_102_444_800, 0i32..1_000_000_000)
            .prop_map(|(seconds, nanos)| prost_types::Timestamp { seconds, nanos }),
    )
}

prop_compose! {
    fn event()(
        ids in proptest::collection::vec(".{0,24}", 10),
        enums in proptest::collection::vec(0i32..13, 3),
        occurred_at in timestamp(),
        received_at in timestamp(),
        handles in proptest::collection::vec("[a-z]{1,8}:[0-9a-z+.@]{1,16}", 0..3),
        text in "\\PC{0,200}",
        money in proptest::option::of((any::<i64>(), "[A-Z]{3}")),
        rating in proptest::option::of((0i32..6, -1e6f64..1e6)),
        attributes in proptest::collection::btree_map("[a-z_]{1,10}", ".{0,20}", 0..5),
        flags in proptest::collection::vec(0i32..6, 0..3),
    ) -> InteractionEvent {
        InteractionEvent {
            event_id: ids[0].clone(),
            tenant_id: ids[1].clone(),
            source: ids[2].clone(),
            channel: enums[0],
            direction: enums[1] % 5,
            actor: enums[2] % 5,
            event_name: ids[3].clone(),
            occurred_at,
            received_at,
            customer_id: ids[4].clone(),
            anonymous_id: ids[5].clone(),
            customer_handles: handles,
            conversation_id: ids[6].clone(),
            agent_id: ids[7].clone(),
            text,
            subject: ids[8].clone(),
            language: "id".into(),
            money: money.map(|(amount_minor, currency)| Money { amount_minor, currency }),
            rating: rating.map(|(scale, value)| Rating { scale, value, min: 0.0, max: 10.0 }),
            attributes: attributes.into_iter().collect(),
            source_event_id: ids[9].clone(),
            normalization_flags: flags,
        }
    }
}

proptest! {
    #[test]
    fn any_event_survives_protobuf_encoding(event in event()) {
        let bytes = event.encode_to_vec();
        let decoded = InteractionEvent::decode(bytes.as_slice()).expect("decodes");
        prop_assert_eq!(decoded, event);
    }

    #[test]
    fn any_classified_interaction_survives_protobuf_encoding(
        event in event(),
        type_confidence in 0f32..=1.0,
        reasons in proptest::collection::vec("[a-z:._]{1,30}", 0..4),
        offset in any::<i64>(),
    ) {
        let classified = ClassifiedInteraction {
            event: Some(event),
            classification: Some(Classification {
                interaction_type: 2,
                journey_stage: 4,
                type_confidence,
                stage_confidence: 1.0 - type_confidence,
                classifier_version: "rules-1+nb-1".into(),
                reasons,
                classified_at: None,
            }),
            raw_origin: Some(KafkaOrigin { topic: "lintas.interactions.raw.v1".into(), partition: 3, offset }),
        };
        let decoded = ClassifiedInteraction::decode(classified.encode_to_vec().as_slice()).expect("decodes");
        prop_assert_eq!(decoded, classified);
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        // Ok or Err are both fine; only a panic would fail.
        InteractionEvent::decode(bytes.as_slice()).ok();
    }
}
