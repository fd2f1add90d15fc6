//! The seeded fixture the query pack is checked against, on ClickHouse 18.16 (integration
//! tests) and on 26.x (chDB, from the RowBinary this module's rows encode to), and the reader
//! of the pack's expected answers (`sql/queries/expected/*.tsv`).
//!
//! Tenant `acme-shop`, March and April 2026, five customers, three conversations, plus one
//! event of another tenant (every query must filter it out) and two redeliveries (the same
//! event again at a later Kafka offset: `FINAL` must collapse them). The comments in
//! [`EVENTS`] say why each event is there; each expected answer file says what it proves.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use lintas_schema::v1::{
    Actor, Channel, Classification, ClassifiedInteraction, Direction, InteractionEvent,
    InteractionType, JourneyStage, KafkaOrigin, Money, Rating, RatingScale,
};

use crate::error::Error;
use crate::row::InteractionRow;

/// Kafka topic the fixture rows claim to come from.
pub const TOPIC: &str = "lintas.interactions.classified.v1";

/// Customer A's main handle; event 1 also carries `email:a@example.com`.
pub const CUSTOMER_A: &str = "phone:+15555550101";

/// The events, one per line: tenant | id | occurred at (UTC; every event at .250 s) | channel |
/// source | direction | actor | event name | customer | conversation | agent | text |
/// interaction type | journey stage. Money, ratings and handles are added in
/// [`interactions`].
const EVENTS: &str = r"
# Customer A: WhatsApp question answered after 5 minutes, then closed.
acme-shop|1|2026-03-02 09:00:00|messaging|whatsapp|inbound|customer|message.received|phone:+15555550101|wa:101||where is my order 1042?|service|retention
acme-shop|2|2026-03-02 09:05:00|messaging|whatsapp|outbound|agent|message.sent|phone:+15555550101|wa:101|agent:ana|it ships today|service|retention
acme-shop|3|2026-03-02 09:30:00|messaging|whatsapp|not_applicable|system|conversation.closed|phone:+15555550101|wa:101|||not_applicable|not_applicable
# Customer B: an e-mail ticket answered after an hour, reopened on the 10th, unanswered.
acme-shop|6|2026-03-03 08:00:00|email|zendesk|inbound|customer|ticket.created|email:b@example.com|zendesk_ticket:7||my invoice is wrong|service|retention
acme-shop|7|2026-03-03 09:00:00|email|zendesk|outbound|agent|message.sent|email:b@example.com|zendesk_ticket:7|agent:budi|fixed, sorry|service|retention
# Customer A buys (money, attributes) and answers an NPS survey with 9.
acme-shop|4|2026-03-05 10:00:00|commerce|shopify|inbound|customer|order.created|phone:+15555550101||||transactional|purchase
acme-shop|5|2026-03-06 12:00:00|survey|typeform|inbound|customer|survey.answered|phone:+15555550101||||feedback|advocacy
acme-shop|8|2026-03-10 14:00:00|email|zendesk|inbound|customer|message.received|email:b@example.com|zendesk_ticket:7||still wrong|service|retention
# Customer B gives CSAT 2 of 1-5.
acme-shop|9|2026-03-11 11:00:00|survey|typeform|inbound|customer|survey.answered|email:b@example.com||||feedback|retention
# Customer C: a price question answered by a bot in 2 minutes, later a service message in the
# same thread that nobody answered.
acme-shop|10|2026-03-12 16:00:00|messaging|whatsapp|inbound|customer|message.received|whatsapp:15555550103|wa:103||how much is the blue kettle?|informative|consideration
acme-shop|11|2026-03-12 16:02:00|messaging|whatsapp|outbound|bot|message.sent|whatsapp:15555550103|wa:103|bot:faq|it is 250k|informative|consideration
acme-shop|12|2026-03-20 10:00:00|web|segment|inbound|customer|product.viewed|whatsapp:15555550103||||informative|awareness
acme-shop|13|2026-03-21 10:00:00|messaging|whatsapp|inbound|customer|message.received|whatsapp:15555550103|wa:103||the kettle leaks|service|retention
# An anonymous visitor: counted in volumes, never in customer funnels.
acme-shop|14|2026-04-01 08:00:00|web|segment|inbound|customer|product.viewed|||||informative|awareness
# Customer E, April cohort: considers, buys, reviews with 5 stars.
acme-shop|15|2026-04-02 09:00:00|web|segment|inbound|customer|checkout.started|email:e@example.com||||sales|consideration
acme-shop|16|2026-04-02 09:10:00|commerce|shopify|inbound|customer|order.created|email:e@example.com||||transactional|purchase
acme-shop|17|2026-04-03 18:00:00|social|messenger|inbound|customer|review.submitted|email:e@example.com|||love it|feedback|advocacy
# Another tenant with customer A's phone number: no acme-shop answer may include it.
other-co|18|2026-03-02 09:00:00|messaging|whatsapp|inbound|customer|message.received|phone:+15555550101|wa:101||hello|service|retention
";

/// Proto enum number of `name` (lower case, without the proto prefix). The table above is
/// fixed data, so an unknown name is a bug in this file, caught by every test using it.
fn number(prefix: &str, name: &str, from: fn(&str) -> Option<i32>) -> i32 {
    let full = format!("{prefix}_{}", name.to_uppercase());
    from(&full).unwrap_or_else(|| panic!("fixture: {full} is not a proto enum value"))
}

fn timestamp(at: &str) -> prost_types::Timestamp {
    let seconds = NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M:%S")
        .unwrap_or_else(|error| panic!("fixture: bad time {at:?}: {error}"))
        .and_utc()
        .timestamp();
    prost_types::Timestamp {
        seconds,
        nanos: 250_000_000,
    }
}

fn parse_line(line: &str) -> ClassifiedInteraction {
    let f: Vec<&str> = line.split('|').collect();
    assert_eq!(f.len(), 14, "fixture: 14 fields expected in {line:?}");
    let id: i64 = f[1].parse().expect("fixture: numeric id");
    let at = timestamp(f[2]);
    let event = InteractionEvent {
        event_id: format!("00000000-0000-4000-8000-{id:012}"),
        tenant_id: f[0].to_owned(),
        source: f[4].to_owned(),
        channel: number("CHANNEL", f[3], |s| {
            Channel::from_str_name(s).map(|v| v as i32)
        }),
        direction: number("DIRECTION", f[5], |s| {
            Direction::from_str_name(s).map(|v| v as i32)
        }),
        actor: number("ACTOR", f[6], |s| Actor::from_str_name(s).map(|v| v as i32)),
        event_name: f[7].to_owned(),
        occurred_at: Some(at),
        received_at: Some(at),
        customer_id: f[8].to_owned(),
        conversation_id: f[9].to_owned(),
        agent_id: f[10].to_owned(),
        text: f[11].to_owned(),
        language: if f[11].is_empty() { "" } else { "en" }.to_owned(),
        source_event_id: format!("src-{id}"),
        ..Default::default()
    };
    let classification = Classification {
        interaction_type: number("INTERACTION_TYPE", f[12], |s| {
            InteractionType::from_str_name(s).map(|v| v as i32)
        }),
        journey_stage: number("JOURNEY_STAGE", f[13], |s| {
            JourneyStage::from_str_name(s).map(|v| v as i32)
        }),
        type_confidence: 0.75,
        stage_confidence: 0.5,
        classifier_version: "rules-1+nb-fixture".to_owned(),
        reasons: vec!["rule:fixture".to_owned()],
        classified_at: Some(at),
    };
    ClassifiedInteraction {
        event: Some(event),
        classification: Some(classification),
        raw_origin: Some(KafkaOrigin {
            topic: "lintas.interactions.raw.v1".to_owned(),
            partition: 0,
            offset: id,
        }),
    }
}

/// The fixture's classified events, in Kafka order (redeliveries included).
pub fn interactions() -> Vec<ClassifiedInteraction> {
    let mut out: Vec<ClassifiedInteraction> = EVENTS
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(parse_line)
        .collect();
    for item in &mut out {
        let Some(event) = item.event.as_mut() else {
            continue;
        };
        let idr = |amount_minor| Money {
            amount_minor,
            currency: "IDR".to_owned(),
        };
        match event.source_event_id.as_str() {
            "src-1" => event.customer_handles = vec!["email:a@example.com".to_owned()],
            "src-4" => {
                event.money = Some(idr(129_900));
                event.attributes = [("order_number", "1042"), ("campaign", "ramadan")]
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect();
            }
            "src-16" => event.money = Some(idr(250_000)),
            "src-5" => event.rating = Some(rating(RatingScale::Nps, 9.0, 0.0, 10.0)),
            "src-9" => event.rating = Some(rating(RatingScale::Csat, 2.0, 1.0, 5.0)),
            "src-17" => event.rating = Some(rating(RatingScale::Stars, 5.0, 1.0, 5.0)),
            _ => {}
        }
    }
    // Redeliveries: events 1 and 7 read again from Kafka (a sink restarted before its commit).
    let again: Vec<ClassifiedInteraction> = out
        .iter()
        .filter(|i| {
            i.event
                .as_ref()
                .is_some_and(|e| matches!(e.source_event_id.as_str(), "src-1" | "src-7"))
        })
        .cloned()
        .collect();
    out.extend(again);
    out
}

fn rating(scale: RatingScale, value: f64, min: f64, max: f64) -> Rating {
    Rating {
        scale: scale as i32,
        value,
        min,
        max,
    }
}

/// The fixture as rows, each at its own offset of partition 0 of [`TOPIC`].
pub fn rows() -> Vec<InteractionRow> {
    interactions()
        .iter()
        .zip(0_i64..)
        .map(|(item, offset)| InteractionRow::from_classified(item, TOPIC, 0, offset))
        .collect()
}

/// One expected answer of the pack on this fixture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedAnswer {
    /// The file it was read from.
    pub file: PathBuf,
    /// Query name: the file stem up to its first `.` (`open_service_load.before_reopen`
    /// is a second case of `open_service_load`).
    pub query: String,
    /// The `-- param NAME=VALUE` lines.
    pub params: BTreeMap<String, String>,
    /// Header row, then the data rows, as `TabSeparatedWithNames` prints them.
    pub rows: Vec<Vec<String>>,
}

/// Every `*.tsv` in `dir` (normally `sql/queries/expected`), sorted by file name. Lines
/// starting with `--` are comments, except `-- param NAME=VALUE`.
pub fn expected_answers(dir: &Path) -> Result<Vec<ExpectedAnswer>, Error> {
    let fixture_error = |file: &Path, reason: String| Error::Fixture {
        file: file.display().to_string(),
        reason,
    };
    let entries = std::fs::read_dir(dir).map_err(|e| fixture_error(dir, e.to_string()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| fixture_error(dir, e.to_string()))?.path();
        if path.extension().is_some_and(|ext| ext == "tsv") {
            files.push(path);
        }
    }
    files.sort();
    let mut answers = Vec::with_capacity(files.len());
    for file in files {
        let text =
            std::fs::read_to_string(&file).map_err(|e| fixture_error(&file, e.to_string()))?;
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let mut params = BTreeMap::new();
        let mut body = String::new();
        for line in text.lines() {
            if let Some(param) = line.strip_prefix("-- param ") {
                let (name, value) = param
                    .split_once('=')
                    .ok_or_else(|| fixture_error(&file, format!("bad param line {line:?}")))?;
                params.insert(name.to_owned(), value.to_owned());
            } else if !line.starts_with("--") {
                body.push_str(line);
                body.push('\n');
            }
        }
        answers.push(ExpectedAnswer {
            query: stem.split('.').next().unwrap_or(stem).to_owned(),
            file,
            params,
            rows: crate::query::parse_tsv(&body),
        });
    }
    Ok(answers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixture_has_eighteen_events_and_two_redeliveries() {
        let rows = rows();
        assert_eq!(rows.len(), 20);
        let ids: std::collections::BTreeSet<&str> =
            rows.iter().map(|r| r.event_id.as_str()).collect();
        assert_eq!(ids.len(), 18);
        assert_eq!(rows[18].event_id, rows[0].event_id);
        assert_eq!(rows[18].kafka_offset, 18);
        assert_eq!(rows[0].occurred_at_us, 1_772_442_000_250_000);
        assert_eq!(rows[3].rating_scale, 0);
        assert_eq!(rows[5].attribute_keys, ["campaign", "order_number"]);
    }

    #[test]
    fn every_query_of_the_pack_has_an_expected_answer_with_its_params() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sql/queries/expected");
        let answers = expected_answers(&dir).expect("readable");
        for query in crate::query::PACK {
            let mine: Vec<&ExpectedAnswer> =
                answers.iter().filter(|a| a.query == query.name).collect();
            assert!(!mine.is_empty(), "no expected answer for {}", query.name);
            for answer in mine {
                query.render(&answer.params).expect("params fit the query");
                assert!(
                    answer.rows.len() > 1,
                    "{}: no data rows",
                    answer.file.display()
                );
            }
        }
        assert!(
            answers
                .iter()
                .all(|a| crate::query::PackQuery::find(&a.query).is_ok())
        );
    }
}
