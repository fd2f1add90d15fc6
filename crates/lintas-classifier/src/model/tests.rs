use super::*;
use crate::data::LabeledRow;

fn row(id: &str, text: &str, interaction_type: InteractionType, stage: JourneyStage) -> LabeledRow {
    LabeledRow {
        id: id.into(),
        source: "test".into(),
        lang: "en".into(),
        text: text.into(),
        interaction_type,
        journey_stage: stage,
    }
}

fn toy_rows() -> Vec<LabeledRow> {
    use InteractionType::{Sales, Service};
    use JourneyStage::{Consideration, Retention};
    let mut rows = Vec::new();
    for (index, text) in [
        "my parcel arrived broken",
        "the app crashes on login",
        "paketnya rusak kak",
        "refund please, it is broken",
    ]
    .into_iter()
    .enumerate()
    {
        rows.push(row(&format!("s{index}"), text, Service, Retention));
    }
    for (index, text) in [
        "I want to buy two chairs",
        "mau pesan dua kak",
        "quote for 50 units please",
        "is the blue one in stock, I want to order",
    ]
    .into_iter()
    .enumerate()
    {
        rows.push(row(&format!("b{index}"), text, Sales, Consideration));
    }
    rows
}

fn options() -> TrainOptions {
    TrainOptions::builtin().expect("built-in options")
}

fn best_type(scores: &Scores) -> usize {
    let mut best = 0;
    for (index, logit) in scores.type_logits.iter().enumerate() {
        if *logit > scores.type_logits[best] {
            best = index;
        }
    }
    best
}

#[test]
fn training_is_deterministic_byte_for_byte() {
    let first = train_with(&toy_rows(), &options()).expect("trains");
    let second = train_with(&toy_rows(), &options()).expect("trains");
    assert_eq!(first.to_json(), second.to_json());
    assert!(first.version().starts_with("lr-"));
    let mut reseeded = options();
    reseeded.seed += 1;
    let third = train_with(&toy_rows(), &reseeded).expect("trains");
    assert_ne!(
        first.version(),
        third.version(),
        "the version covers the options"
    );
}

#[test]
fn a_trained_model_separates_its_training_classes() {
    let model = train_with(&toy_rows(), &options()).expect("trains");
    let broken = model.score("the chair arrived broken");
    assert_eq!(best_type(&broken), InteractionType::Service as usize);
    let buy = model.score("I want to order two");
    assert_eq!(best_type(&buy), InteractionType::Sales as usize);
    assert_eq!(
        broken.type_logits[InteractionType::Feedback as usize],
        f32::NEG_INFINITY,
        "classes never trained on have no logit"
    );
}

#[test]
fn model_file_round_trip_preserves_every_score() {
    let model = train_with(&toy_rows(), &options()).expect("trains");
    let directory = tempfile::tempdir().expect("temp dir");
    let path = directory.path().join("model.json");
    model.save(&path).expect("saves");
    let loaded = TextModel::load(&path).expect("loads");
    assert_eq!(loaded.to_json(), model.to_json());
    for text in ["broken parcel", "mau pesan", "", "🙏"] {
        assert_eq!(loaded.score(text), model.score(text), "{text}");
    }
    assert_eq!(loaded.training(), model.training());
    assert_eq!(loaded.features().hash_bits, 18);
}

#[test]
fn the_builtin_model_loads_and_scores_every_field() {
    let model = TextModel::builtin().expect("the embedded model is valid");
    assert!(model.num_features() > 1000);
    let scores = model.score("Kak, paket saya belum sampai");
    assert!(
        scores
            .type_logits
            .iter()
            .filter(|logit| logit.is_finite())
            .count()
            >= 7
    );
    assert!(
        scores
            .stage_logits
            .iter()
            .filter(|logit| logit.is_finite())
            .count()
            >= 5
    );
}

#[test]
fn model_files_of_another_version_or_shape_are_rejected_with_the_reason() {
    let model = train_with(&toy_rows(), &options()).expect("trains");
    let json = model.to_json();
    let newer = json.replacen("\"format_version\":1", "\"format_version\":2", 1);
    let error = TextModel::from_json(newer.as_bytes()).expect_err("unsupported version");
    assert!(error.to_string().contains("format_version"), "{error}");

    let mut value: serde_json::Value = serde_json::from_str(&json).expect("json");
    value["heads"][0]["weights"] = serde_json::json!([1, 2, 3]);
    let error = TextModel::from_json(value.to_string().as_bytes()).expect_err("bad shape");
    assert!(
        error.to_string().contains("weights has 3 entries"),
        "{error}"
    );

    let mut value: serde_json::Value = serde_json::from_str(&json).expect("json");
    value["features"]["hash_bits"] = serde_json::json!(40);
    let error = TextModel::from_json(value.to_string().as_bytes()).expect_err("bad bits");
    assert!(error.to_string().contains("hash_bits"), "{error}");

    let error = TextModel::from_json(b"not json").expect_err("not json");
    assert_eq!(error.kind(), "model_format");
}

#[test]
fn training_without_rows_is_an_error() {
    let error = train_with(&[], &options()).expect_err("no rows");
    assert!(matches!(error, ClassifierError::Training(_)));
}

#[test]
fn keywords_only_model_prefers_its_defaults() {
    let model = TextModel::keywords_only(InteractionType::Service, JourneyStage::Retention)
        .expect("builds");
    let scores = model.score("anything at all");
    assert_eq!(best_type(&scores), InteractionType::Service as usize);
    assert_eq!(model.num_features(), 0);
}

#[test]
fn vectorize_normalizes_each_group_to_unit_length() {
    let model = train_with(&toy_rows(), &options()).expect("trains");
    let mut ids = Vec::new();
    model
        .features
        .extract("paketnya rusak", &mut Vec::new(), &mut ids);
    let mut vector = Vec::new();
    vectorize(
        &model.features,
        &model.slot_of,
        &model.idf,
        &mut ids,
        &mut vector,
    );
    let norm: f32 = vector.iter().map(|(_, value)| value * value).sum();
    // Two groups of unit length each.
    assert!((norm - 2.0).abs() < 1e-4, "{norm}");
}
