//! Every webhook of the example day passes its adapter's signature check and becomes exactly the
//! expected event; the built-in classifier, fed the day in order, gives every event the expected
//! interaction type and journey stage. No services: the adapters and the classifier are pure.

use std::collections::HashMap;

use chrono::{TimeZone, Utc};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use lintas_adapters::{Secrets, VerifyPolicy, WebhookRequest};
use lintas_classifier::CustomerContext;
use lintas_schema::v1::{
    Actor, Channel, Direction, InteractionEvent, InteractionType, JourneyStage, Money, Rating,
    RatingScale,
};
use lintas_shop_day::day::{Day, Source};
use lintas_shop_day::expect::ExpectedEvent;
use lintas_shop_day::platforms::{BuildContext, TenantSecrets};
use lintas_shop_day::replay::{plan, prepare};

const TENANT: &str = "kopi-senja-test";
const PUBLIC_BASE: &str = "http://127.0.0.1:8080";

fn lower(name: &str) -> String {
    name.to_ascii_lowercase()
}

fn channel_name(value: i32) -> String {
    Channel::try_from(value).map_or("?".into(), |c| {
        lower(c.as_str_name().trim_start_matches("CHANNEL_"))
    })
}

fn direction_name(value: i32) -> String {
    Direction::try_from(value).map_or("?".into(), |d| {
        lower(d.as_str_name().trim_start_matches("DIRECTION_"))
    })
}

fn actor_name(value: i32) -> String {
    Actor::try_from(value).map_or("?".into(), |a| {
        lower(a.as_str_name().trim_start_matches("ACTOR_"))
    })
}

/// Differences between an adapter's event and its expectation, as readable lines.
fn differences(event: &InteractionEvent, expected: &ExpectedEvent) -> Vec<String> {
    let mut problems = Vec::new();
    let mut check = |field: &str, got: String, want: String| {
        if got != want {
            problems.push(format!("{field}: got {got:?}, expected {want:?}"));
        }
    };
    check(
        "event_id",
        event.event_id.clone(),
        expected.event_id.clone(),
    );
    check("source", event.source.clone(), expected.source.clone());
    check(
        "source_event_id",
        event.source_event_id.clone(),
        expected.source_event_id.clone(),
    );
    check(
        "channel",
        channel_name(event.channel),
        expected.channel.clone(),
    );
    check(
        "direction",
        direction_name(event.direction),
        expected.direction.clone(),
    );
    check("actor", actor_name(event.actor), expected.actor.clone());
    check(
        "event_name",
        event.event_name.clone(),
        expected.event_name.clone(),
    );
    check(
        "customer_id",
        event.customer_id.clone(),
        expected.customer_id.clone(),
    );
    if let Some(at) = expected.occurred_at_ms {
        let got = event
            .occurred_at
            .as_ref()
            .map_or(0, |ts| ts.seconds * 1000 + i64::from(ts.nanos) / 1_000_000);
        check("occurred_at_ms", got.to_string(), at.to_string());
    }
    if let Some(conversation) = &expected.conversation_id {
        check(
            "conversation_id",
            event.conversation_id.clone(),
            conversation.clone(),
        );
    }
    if let Some(agent) = &expected.agent_id {
        check("agent_id", event.agent_id.clone(), agent.clone());
    }
    if let Some(text) = &expected.text {
        check("text", event.text.clone(), text.clone());
    }
    if let Some(language) = &expected.language {
        check("language", event.language.clone(), language.clone());
    }
    let money = event
        .money
        .as_ref()
        .map(|m| format!("{} {}", m.amount_minor, m.currency));
    let want_money = expected
        .money
        .as_ref()
        .map(|m| format!("{} {}", m.amount_minor, m.currency));
    check("money", format!("{money:?}"), format!("{want_money:?}"));
    let rating = event.rating.as_ref().map(|r| {
        let scale = RatingScale::try_from(r.scale).map_or("?".into(), |s| {
            lower(s.as_str_name().trim_start_matches("RATING_SCALE_"))
        });
        format!("{scale} {}", r.value)
    });
    let want_rating = expected
        .rating
        .as_ref()
        .map(|r| format!("{} {}", r.scale, r.value));
    check("rating", format!("{rating:?}"), format!("{want_rating:?}"));
    problems
}

/// The event the gateway makes of an API expectation (the gateway's mapping is checked end to
/// end; here it only feeds the classifier).
fn api_event(expected: &ExpectedEvent) -> InteractionEvent {
    let parse = |name: &str, prefix: &str| format!("{prefix}{}", name.to_ascii_uppercase());
    InteractionEvent {
        event_id: expected.event_id.clone(),
        tenant_id: expected.tenant_id.clone(),
        source: "api".into(),
        channel: Channel::from_str_name(&parse(&expected.channel, "CHANNEL_"))
            .map_or(0, |c| c as i32),
        direction: Direction::from_str_name(&parse(&expected.direction, "DIRECTION_"))
            .map_or(0, |d| d as i32),
        actor: Actor::from_str_name(&parse(&expected.actor, "ACTOR_")).map_or(0, |a| a as i32),
        event_name: expected.event_name.clone(),
        occurred_at: expected.occurred_at_ms.map(prost_types_timestamp),
        customer_id: expected.customer_id.clone(),
        conversation_id: expected.conversation_id.clone().unwrap_or_default(),
        agent_id: expected.agent_id.clone().unwrap_or_default(),
        text: expected.text.clone().unwrap_or_default(),
        language: expected.language.clone().unwrap_or_default(),
        money: expected.money.as_ref().map(|m| Money {
            amount_minor: m.amount_minor,
            currency: m.currency.clone(),
        }),
        rating: expected.rating.as_ref().map(|r| Rating {
            scale: RatingScale::from_str_name(&parse(&r.scale, "RATING_SCALE_"))
                .map_or(0, |s| s as i32),
            value: r.value,
            min: 1.0,
            max: 5.0,
        }),
        source_event_id: expected.source_event_id.clone(),
        ..Default::default()
    }
}

fn prost_types_timestamp(ms: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: ms.div_euclid(1000),
        nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
    }
}

#[test]
fn every_step_becomes_its_expected_event_and_classification() {
    let day = Day::builtin().expect("the built-in day is valid");
    let secrets: TenantSecrets = lintas_shop_day::tenant::generate_secrets();
    let signed_at = Utc.timestamp_opt(1_800_000_000, 0).single().expect("valid");
    let ctx = BuildContext {
        day: &day,
        tenant: TENANT,
        opened: lintas_shop_day::day::day_opened(signed_at),
        signed_at,
        secrets: &secrets,
        public_base: PUBLIC_BASE,
    };
    let mut problems = Vec::new();
    let mut label_misses = Vec::new();
    let mut contexts: HashMap<String, CustomerContext> = HashMap::new();
    let mut sources_seen = std::collections::BTreeSet::new();
    let mut events = 0;
    for group in plan(&day) {
        let prepared = prepare(&ctx, &group).expect("prepared");
        sources_seen.insert(prepared.source.id());
        let produced: Vec<InteractionEvent> = if prepared.source == Source::Api {
            prepared.expected.iter().map(api_event).collect()
        } else {
            let mut headers = HeaderMap::new();
            for (name, value) in &prepared.headers {
                headers.append(
                    HeaderName::from_bytes(name.as_bytes()).expect("name"),
                    HeaderValue::from_str(value).expect("value"),
                );
            }
            let url = format!("{PUBLIC_BASE}{}", prepared.path);
            let request = WebhookRequest {
                tenant: TENANT,
                method: &Method::POST,
                public_url: &url,
                headers: &headers,
                query: "",
                body: &prepared.body,
                received_at: signed_at,
            };
            let adapter = lintas_adapters::adapter(prepared.source.id()).expect("adapter");
            let store = secrets
                .webhooks
                .get(prepared.source.id())
                .cloned()
                .unwrap_or_default();
            match lintas_adapters::receive(
                adapter,
                &request,
                &Secrets::new(&store),
                &VerifyPolicy::default(),
            ) {
                Ok(parsed) => {
                    if parsed.events.len() != 1 || !parsed.unusable.is_empty() {
                        problems.push(format!(
                            "step {:?}: {} events, unusable {:?}, ignored {:?}",
                            prepared.steps,
                            parsed.events.len(),
                            parsed.unusable,
                            parsed.ignored
                        ));
                    }
                    parsed.events
                }
                Err(error) => {
                    problems.push(format!(
                        "step {:?} ({}): refused: {error}",
                        prepared.steps,
                        prepared.source.id()
                    ));
                    continue;
                }
            }
        };
        for (event, expected) in produced.iter().zip(&prepared.expected) {
            events += 1;
            if prepared.source != Source::Api {
                for problem in differences(event, expected) {
                    problems.push(format!(
                        "step {} ({}): {problem}",
                        expected.step, expected.source
                    ));
                }
            }
            let context = contexts.entry(event.customer_id.clone()).or_default();
            let classification = lintas_classifier::classify(event, context);
            context.observe(event, &classification);
            let got_type = InteractionType::try_from(classification.interaction_type)
                .map_or("?".into(), |t| {
                    lower(t.as_str_name().trim_start_matches("INTERACTION_TYPE_"))
                });
            let got_stage = JourneyStage::try_from(classification.journey_stage)
                .map_or("?".into(), |s| {
                    lower(s.as_str_name().trim_start_matches("JOURNEY_STAGE_"))
                });
            if got_type != expected.labels.interaction_type || got_stage != expected.labels.stage {
                label_misses.push(format!(
                    "step {} ({} {}): classified {got_type}/{got_stage}, expected {}/{} ({:?}) text {:?}",
                    expected.step,
                    expected.source,
                    expected.event_name,
                    expected.labels.interaction_type,
                    expected.labels.stage,
                    classification.reasons,
                    event.text,
                ));
            }
        }
    }
    assert_eq!(events, day.steps.len());
    // The day's labels say what each message means; the classifier may honestly miss a few, the
    // share it must get right is the one the end-to-end check uses.
    assert!(
        lintas_shop_day::verify::labels_agree(label_misses.len(), events),
        "{} of {events} labels differ from the day's (at most {:.0}% may):\n{}",
        label_misses.len(),
        (1.0 - lintas_shop_day::expect::MIN_LABEL_AGREEMENT) * 100.0,
        label_misses.join("\n")
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    for required in [
        "whatsapp",
        "twilio",
        "messenger",
        "telegram",
        "mailgun",
        "zendesk",
        "shopify",
        "stripe",
        "typeform",
        "api",
    ] {
        assert!(sources_seen.contains(required), "the day lacks {required}");
    }
}
