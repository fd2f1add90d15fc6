use super::*;
use crate::error::RuleError;

fn errors(text: &str) -> Vec<RuleError> {
    match RuleSet::check(text) {
        Err(ClassifierError::InvalidRules(errors)) => errors,
        other => panic!("expected invalid rules, got {other:?}"),
    }
}

fn has(errors: &[RuleError], rule_id: &str, field: &str) -> bool {
    errors
        .iter()
        .any(|error| error.rule_id == rule_id && error.field == field)
}

#[test]
fn builtin_rules_are_valid() {
    let rules = RuleSet::builtin().expect("the embedded rules are valid");
    assert!(rules.version >= 1);
    assert!(rules.rules.len() > 20);
    assert!(rules.lexicon.iter().any(|entry| entry.lang == "id"));
    assert!(
        rules
            .summary()
            .starts_with(&format!("version {}", rules.version))
    );
}

#[test]
fn a_minimal_file_is_valid() {
    let rules = RuleSet::check(
        r#"
version = 7
[[rule]]
id = "event.order"
when = { event_name = ["order.*"] }
type = "transactional"
stage = "purchase"
confidence = 0.9
"#,
    )
    .expect("valid");
    assert_eq!(rules.version, 7);
    assert_eq!(rules.context.recent_purchase_days, 30);
    assert_eq!(
        rules.rules[0].when.event_name,
        vec![NamePattern::Prefix("order.".into())]
    );
}

#[test]
fn invalid_labels_enums_and_numbers_name_the_rule_and_field() {
    let found = errors(
        r#"
version = 1
[[rule]]
id = "event.bad"
when = { event_name = ["Order Created"], channel = ["pigeon"], rating = { scale = ["nps"], value_at_least = 9, value_at_most = 3 } }
type = "transactionl"
stage = "purchase"
confidence = 1.5

[[refine]]
id = "refine.bad"
when = { lexicon_none = ["en.missing"], customer = ["vip"] }
stage = "next"

[[lexicon]]
id = "en.bad"
lang = "fr"
phrases = ["!!!"]
weight = 0
"#,
    );
    for (rule_id, field) in [
        ("event.bad", "when.event_name"),
        ("event.bad", "when.channel"),
        ("event.bad", "when.rating.value_at_least"),
        ("event.bad", "type"),
        ("event.bad", "confidence"),
        ("refine.bad", "when.lexicon_none"),
        ("refine.bad", "when.customer"),
        ("en.bad", "lang"),
        ("en.bad", "phrases"),
        ("en.bad", "type"),
        ("en.bad", "weight"),
    ] {
        assert!(has(&found, rule_id, field), "{rule_id} {field}: {found:#?}");
    }
    let message = ClassifierError::InvalidRules(found).to_string();
    assert!(message.contains("rule `event.bad`: field `type`: `transactionl` is not"));
}

#[test]
fn unknown_fields_and_duplicate_ids_are_reported_with_the_id() {
    let found = errors(
        r#"
version = 1
[[rule]]
id = "event.a"
when = { event_nam = ["order.created"] }
type = "transactional"
stage = "purchase"
confidence = 0.9

[[rule]]
id = "event.b"
type = "transactional"
stage = "purchase"
confidence = 0.9

[[rule]]
id = "event.b"
type = "sales"
stage = "purchase"
confidence = 0.9

[[rule]]
type = "sales"
stage = "purchase"
confidence = 0.9
"#,
    );
    assert!(has(&found, "event.a", "event_nam"), "{found:#?}");
    assert!(has(&found, "event.b", "id"), "{found:#?}");
    assert!(has(&found, "#4", "id"), "{found:#?}");
}

#[test]
fn event_rules_cannot_test_the_text_decision_and_among_needs_text() {
    let found = errors(
        r#"
version = 1
[[rule]]
id = "event.early"
when = { type = ["sales"] }
type = "sales"
stage = "purchase"
stage_among = ["purchase"]
confidence = 0.9
"#,
    );
    assert!(has(&found, "event.early", "when.type"), "{found:#?}");
    assert!(has(&found, "event.early", "stage_among"), "{found:#?}");
}

#[test]
fn refine_rules_that_set_a_label_need_a_confidence() {
    let found = errors(
        r#"
version = 1
[[refine]]
id = "refine.no_confidence"
when = { customer = ["buyer"] }
stage = "retention"
"#,
    );
    assert!(
        has(&found, "refine.no_confidence", "confidence"),
        "{found:#?}"
    );
}

#[test]
fn syntax_errors_and_bad_versions_are_reported() {
    let error = RuleSet::check("version = ").expect_err("not TOML");
    assert_eq!(error.kind(), "rules_syntax");
    let found = errors("version = 0");
    assert!(has(&found, "-", "version"), "{found:#?}");
    let found = errors("version = 1\n[context]\nrecent_purchase_days = 0\n");
    assert!(has(&found, "context", "recent_purchase_days"), "{found:#?}");
}
