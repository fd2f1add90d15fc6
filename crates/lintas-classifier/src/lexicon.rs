//! Matching lexicon phrases on normalized text.
//!
//! Phrases are normalized with the model's normalizer (so `udah` in a phrase matches `sudah` in a
//! message) and matched on whole words: `refund` matches "mau refund dong" but not "refunded".
//! Lookup is by a hash of 1..=N consecutive words, confirmed by comparing the words, so matching
//! costs a few hash probes per word whatever the lexicon size.

use std::collections::HashMap;

use crate::rules::LexiconEntry;
use crate::text::Normalizer;
use crate::text::features::Fnv;

/// The compiled phrases of all lexicon entries.
#[derive(Debug, Clone, Default)]
pub(crate) struct LexiconMatcher {
    by_hash: HashMap<u64, Vec<(usize, Vec<String>)>>,
    max_words: usize,
}

impl LexiconMatcher {
    pub(crate) fn new(entries: &[LexiconEntry], normalizer: &Normalizer) -> Self {
        let mut matcher = Self::default();
        for (index, entry) in entries.iter().enumerate() {
            for phrase in &entry.phrases {
                let normalized = normalizer.normalize(phrase);
                let words: Vec<String> = normalized
                    .split(' ')
                    .filter(|word| !word.is_empty())
                    .map(str::to_owned)
                    .collect();
                if words.is_empty() {
                    continue;
                }
                matcher.max_words = matcher.max_words.max(words.len());
                let hash = phrase_hash(words.iter().map(String::as_str));
                matcher
                    .by_hash
                    .entry(hash)
                    .or_default()
                    .push((index, words));
            }
        }
        matcher
    }

    /// Writes the indices of the entries with a phrase in `normalized` into `out`, sorted and
    /// without repeats.
    pub(crate) fn hits(&self, normalized: &str, out: &mut Vec<usize>) {
        out.clear();
        if self.by_hash.is_empty() {
            return;
        }
        let words: Vec<&str> = normalized
            .split(' ')
            .filter(|word| !word.is_empty())
            .take(crate::text::features::MAX_TOKENS)
            .collect();
        for start in 0..words.len() {
            let mut hash = Fnv::new();
            for length in 1..=self.max_words.min(words.len() - start) {
                if length > 1 {
                    hash = hash.bytes(b" ");
                }
                hash = hash.bytes(words[start + length - 1].as_bytes());
                let Some(candidates) = self.by_hash.get(&hash.0) else {
                    continue;
                };
                let window = &words[start..start + length];
                for (entry, phrase) in candidates {
                    if phrase.iter().map(String::as_str).eq(window.iter().copied()) {
                        out.push(*entry);
                    }
                }
            }
        }
        out.sort_unstable();
        out.dedup();
    }
}

fn phrase_hash<'a>(words: impl Iterator<Item = &'a str>) -> u64 {
    let mut hash = Fnv::new();
    for (index, word) in words.enumerate() {
        if index > 0 {
            hash = hash.bytes(b" ");
        }
        hash = hash.bytes(word.as_bytes());
    }
    hash.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::NormalizerSpec;
    use lintas_schema::v1::InteractionType;

    fn entry(id: &str, phrases: &[&str]) -> LexiconEntry {
        LexiconEntry {
            id: id.into(),
            description: String::new(),
            lang: "any".into(),
            phrases: phrases.iter().map(|phrase| (*phrase).to_owned()).collect(),
            interaction_type: Some(InteractionType::Service),
            journey_stage: None,
            weight: 1.0,
        }
    }

    fn matcher(entries: &[LexiconEntry]) -> (LexiconMatcher, Normalizer) {
        let normalizer = Normalizer::new(NormalizerSpec::builtin().expect("valid"));
        (LexiconMatcher::new(entries, &normalizer), normalizer)
    }

    fn hits(matcher: &LexiconMatcher, normalizer: &Normalizer, text: &str) -> Vec<usize> {
        let mut out = Vec::new();
        matcher.hits(&normalizer.normalize(text), &mut out);
        out
    }

    #[test]
    fn matches_whole_words_and_multi_word_phrases() {
        let (matcher, normalizer) = matcher(&[
            entry("id.refund", &["refund", "uang kembali"]),
            entry("id.late", &["belum sampai"]),
        ]);
        assert_eq!(hits(&matcher, &normalizer, "Min, mau REFUND dong"), vec![0]);
        assert_eq!(
            hits(&matcher, &normalizer, "refunded already"),
            Vec::<usize>::new()
        );
        assert_eq!(
            hits(
                &matcher,
                &normalizer,
                "paket blm sampai, minta uang kembali!"
            ),
            vec![0, 1]
        );
    }

    #[test]
    fn phrases_are_normalized_like_messages() {
        let (matcher, normalizer) = matcher(&[entry("id.done", &["udah transfer"])]);
        assert_eq!(hits(&matcher, &normalizer, "sdh transfer kak"), vec![0]);
        assert_eq!(hits(&matcher, &normalizer, ""), Vec::<usize>::new());
    }
}
