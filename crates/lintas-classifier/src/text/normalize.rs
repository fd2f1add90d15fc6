//! Normalization of message text before features and lexicon matching.
//!
//! Lowercase; every character that is not a letter or digit separates words, except apostrophes,
//! which are dropped so `don't` and `dont` (both common in chat) become the same word; every digit
//! becomes `0` so order numbers and amounts generalize; a letter repeated more than `max_run`
//! times collapses to one (`mantappp` -> `mantap`, `pleaseee` -> `please`); then each word is
//! looked up in the replacement map, which spells informal Indonesian (`gak`, `udah`, `gimana`)
//! and chat English (`pls`, `u`) the standard way, or drops it (`""`: swearing used as an
//! intensifier). The map is data (`data/normalization.toml`) and travels inside every model
//! file, because a model only works with the normalization it was trained with.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::error::ClassifierError;

/// Only the first this many characters of a text are normalized: the opening of a message
/// carries its intent, and the bound keeps `classify` fast on long e-mails.
pub const MAX_TEXT_CHARS: usize = 2_000;

/// The normalization built into this crate, `data/normalization.toml`.
pub const BUILTIN_NORMALIZATION: &str = include_str!("../../data/normalization.toml");

/// The data of a normalization: what a model file stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormalizerSpec {
    /// A letter repeated more than this many times in a row collapses to one (digits too: every
    /// number becomes `0`).
    pub max_run: u8,
    /// Word -> replacement (one or more words, or none: an empty value drops the word). Keys are
    /// single normalized words.
    pub replacements: BTreeMap<String, String>,
}

impl NormalizerSpec {
    /// The built-in normalization.
    ///
    /// # Errors
    /// Only if the embedded file is broken, which the crate's tests rule out.
    pub fn builtin() -> Result<Self, ClassifierError> {
        Self::from_toml(BUILTIN_NORMALIZATION)
    }

    /// Parses and checks a normalization file.
    ///
    /// # Errors
    /// [`ClassifierError::ModelFormat`] naming the invalid entry.
    pub fn from_toml(text: &str) -> Result<Self, ClassifierError> {
        let spec: Self = toml::from_str(text)
            .map_err(|error| ClassifierError::ModelFormat(format!("normalization: {error}")))?;
        spec.check()?;
        Ok(spec)
    }

    /// Checks that keys are single normalized words and values normalized words, so the map
    /// means the same whether applied once or twice.
    ///
    /// # Errors
    /// [`ClassifierError::ModelFormat`] naming the first invalid entry.
    pub fn check(&self) -> Result<(), ClassifierError> {
        if self.max_run == 0 {
            return Err(ClassifierError::ModelFormat(
                "normalization: max_run must be at least 1".into(),
            ));
        }
        let plain = Normalizer::new(Self {
            max_run: self.max_run,
            replacements: BTreeMap::new(),
        });
        for (key, value) in &self.replacements {
            let is_word = !key.is_empty() && plain.normalize(key) == *key && !key.contains(' ');
            if !is_word {
                return Err(ClassifierError::ModelFormat(format!(
                    "normalization: key `{key}` is not a single lowercase word"
                )));
            }
            // An empty value drops the word (filler and swearing, which carry no intent).
            if plain.normalize(value) != *value {
                return Err(ClassifierError::ModelFormat(format!(
                    "normalization: value `{value}` of `{key}` is not lowercase words separated by single spaces"
                )));
            }
        }
        Ok(())
    }
}

/// Applies a [`NormalizerSpec`].
#[derive(Debug, Clone)]
pub struct Normalizer {
    spec: NormalizerSpec,
    // A HashMap copy of the BTreeMap for O(1) lookups by `&str` on the hot path.
    lookup: HashMap<String, String>,
}

impl Normalizer {
    /// A normalizer for `spec`.
    pub fn new(spec: NormalizerSpec) -> Self {
        let lookup = spec
            .replacements
            .iter()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        Self { spec, lookup }
    }

    /// The spec this normalizer applies.
    pub fn spec(&self) -> &NormalizerSpec {
        &self.spec
    }

    /// The normalized form of `text`: words separated by single spaces.
    pub fn normalize(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len().min(MAX_TEXT_CHARS));
        self.normalize_into(text, &mut out);
        out
    }

    /// Writes the normalized form of `text` into `out` (cleared first), reusing its buffer.
    pub fn normalize_into(&self, text: &str, out: &mut String) {
        out.clear();
        let max_run = usize::from(self.spec.max_run);
        let mut token_start = 0;
        let mut last: Option<char> = None;
        let mut run = 0usize;
        let mut in_number = false;
        for ch in text.chars().take(MAX_TEXT_CHARS) {
            if matches!(ch, '\'' | '\u{2019}' | '`') {
                continue;
            }
            if !ch.is_alphanumeric() {
                self.finish_token(out, &mut token_start);
                last = None;
                run = 0;
                continue;
            }
            // Letters and digits are separate words (`masuk2` -> `masuk 0`, `inv20931` -> `inv 0`).
            let is_number = ch.is_numeric();
            if is_number != in_number {
                self.finish_token(out, &mut token_start);
                in_number = is_number;
            }
            for lower in ch.to_lowercase() {
                let folded = if lower.is_numeric() { '0' } else { lower };
                if last == Some(folded) {
                    run += 1;
                } else {
                    last = Some(folded);
                    run = 1;
                }
                if run <= max_run {
                    out.push(folded);
                } else if run == max_run + 1 {
                    // Too long a run: keep a single copy of the letter.
                    for _ in 1..max_run {
                        out.pop();
                    }
                }
            }
        }
        self.finish_token(out, &mut token_start);
        if out.ends_with(' ') {
            out.pop();
        }
    }

    fn finish_token(&self, out: &mut String, token_start: &mut usize) {
        if out.len() == *token_start {
            return;
        }
        if let Some(replacement) = self.lookup.get(&out[*token_start..]) {
            out.truncate(*token_start);
            if replacement.is_empty() {
                return;
            }
            out.push_str(replacement);
        }
        out.push(' ');
        *token_start = out.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> Normalizer {
        Normalizer::new(NormalizerSpec::builtin().expect("built-in normalization is valid"))
    }

    #[test]
    fn lowercases_strips_punctuation_and_joins_apostrophes() {
        let normalizer = builtin();
        assert_eq!(
            normalizer.normalize("Hi!! I don't   see my ORDER #1042, help?"),
            "hi i do not see my order 0 help"
        );
    }

    #[test]
    fn informal_indonesian_is_spelled_the_standard_way() {
        let normalizer = builtin();
        assert_eq!(
            normalizer.normalize("Gan, udah transfer tp gimana kok gak masuk2 ya?"),
            "kak sudah transfer tapi bagaimana kok tidak masuk 0 ya"
        );
        assert_eq!(normalizer.normalize("min nggak bisa"), "kak tidak bisa");
    }

    #[test]
    fn long_letter_runs_collapse_and_emoji_separate_words() {
        let normalizer = builtin();
        assert_eq!(
            normalizer.normalize("Mantappp👍🔥bangettt"),
            "mantap banget"
        );
        assert_eq!(normalizer.normalize("good  cool"), "good cool");
    }

    #[test]
    fn words_mapped_to_nothing_are_dropped() {
        let normalizer = builtin();
        assert_eq!(
            normalizer.normalize("I wanna place a DAMN order"),
            "i want to place a order"
        );
        assert_eq!(normalizer.normalize("bloody"), "");
    }

    #[test]
    fn empty_and_symbol_only_texts_normalize_to_nothing() {
        let normalizer = builtin();
        assert_eq!(normalizer.normalize(""), "");
        assert_eq!(normalizer.normalize("🙏 ... !!!"), "");
    }

    #[test]
    fn long_texts_are_cut_at_the_character_bound() {
        let normalizer = builtin();
        let text = "ab ".repeat(MAX_TEXT_CHARS);
        assert!(normalizer.normalize(&text).len() <= MAX_TEXT_CHARS);
    }

    #[test]
    fn replacement_keys_must_be_single_normalized_words() {
        let mut spec = NormalizerSpec::builtin().expect("built-in normalization is valid");
        spec.replacements.insert("Gak".into(), "tidak".into());
        let error = spec.check().expect_err("uppercase key");
        assert!(error.to_string().contains("`Gak`"), "{error}");
    }
}
