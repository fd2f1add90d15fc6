//! Short label names (`transactional`, `retention`, ...) used in rules files, labeled data and
//! reports, and their mapping to the protobuf enums.

use lintas_schema::v1::{InteractionType, JourneyStage};

/// The interaction types a classifier can decide, in enum order (UNSPECIFIED excluded).
pub const TYPES: [InteractionType; 8] = [
    InteractionType::Transactional,
    InteractionType::Service,
    InteractionType::Informative,
    InteractionType::Feedback,
    InteractionType::RelationshipBuilding,
    InteractionType::Sales,
    InteractionType::CrossSellUpsell,
    InteractionType::NotApplicable,
];

/// The journey stages a classifier can decide, in enum order (UNSPECIFIED excluded).
pub const STAGES: [JourneyStage; 6] = [
    JourneyStage::Awareness,
    JourneyStage::Consideration,
    JourneyStage::Purchase,
    JourneyStage::Retention,
    JourneyStage::Advocacy,
    JourneyStage::NotApplicable,
];

/// Number of `InteractionType` enum values including UNSPECIFIED: the size of score arrays
/// indexed by the enum's integer value.
pub const TYPE_SLOTS: usize = 9;
/// Number of `JourneyStage` enum values including UNSPECIFIED.
pub const STAGE_SLOTS: usize = 7;

/// The short name of an interaction type, e.g. `cross_sell_upsell`.
pub fn type_name(value: InteractionType) -> &'static str {
    match value {
        InteractionType::Unspecified => "unspecified",
        InteractionType::Transactional => "transactional",
        InteractionType::Service => "service",
        InteractionType::Informative => "informative",
        InteractionType::Feedback => "feedback",
        InteractionType::RelationshipBuilding => "relationship_building",
        InteractionType::Sales => "sales",
        InteractionType::CrossSellUpsell => "cross_sell_upsell",
        InteractionType::NotApplicable => "not_applicable",
    }
}

/// The short name of a journey stage, e.g. `consideration`.
pub fn stage_name(value: JourneyStage) -> &'static str {
    match value {
        JourneyStage::Unspecified => "unspecified",
        JourneyStage::Awareness => "awareness",
        JourneyStage::Consideration => "consideration",
        JourneyStage::Purchase => "purchase",
        JourneyStage::Retention => "retention",
        JourneyStage::Advocacy => "advocacy",
        JourneyStage::NotApplicable => "not_applicable",
    }
}

/// Parses a short type name; `n/a` is accepted for `not_applicable` (the corpus' spelling).
pub fn parse_type(name: &str) -> Option<InteractionType> {
    if name == "n/a" {
        return Some(InteractionType::NotApplicable);
    }
    TYPES.into_iter().find(|value| type_name(*value) == name)
}

/// Parses a short stage name; `n/a` is accepted for `not_applicable`.
pub fn parse_stage(name: &str) -> Option<JourneyStage> {
    if name == "n/a" {
        return Some(JourneyStage::NotApplicable);
    }
    STAGES.into_iter().find(|value| stage_name(*value) == name)
}

/// The type stored in an event's `i32` field, `Unspecified` for unknown values.
pub fn type_from_i32(value: i32) -> InteractionType {
    InteractionType::try_from(value).unwrap_or(InteractionType::Unspecified)
}

/// The stage stored in an `i32` field, `Unspecified` for unknown values.
pub fn stage_from_i32(value: i32) -> JourneyStage {
    JourneyStage::try_from(value).unwrap_or(JourneyStage::Unspecified)
}

/// A space-separated list of the valid type names, for error messages.
pub fn type_names() -> String {
    TYPES.map(type_name).join(", ")
}

/// A space-separated list of the valid stage names, for error messages.
pub fn stage_names() -> String {
    STAGES.map(stage_name).join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_to_its_value() {
        for value in TYPES {
            assert_eq!(parse_type(type_name(value)), Some(value));
            assert!((value as usize) < TYPE_SLOTS);
        }
        for value in STAGES {
            assert_eq!(parse_stage(stage_name(value)), Some(value));
            assert!((value as usize) < STAGE_SLOTS);
        }
        assert_eq!(parse_type("n/a"), Some(InteractionType::NotApplicable));
        assert_eq!(parse_type("unspecified"), None);
        assert_eq!(parse_stage("Retention"), None);
    }
}
