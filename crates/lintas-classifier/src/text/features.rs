//! Hashed n-gram features of normalized text.
//!
//! Two groups, each hashed into its own space of `2^hash_bits` buckets with FNV-1a (a fixed,
//! platform-independent hash: a model trained on one machine scores the same on every other):
//! - words: unigrams and bigrams (`word_ngram_max` = 2) of the normalized words;
//! - characters: n-grams of `char_ngram_min..=char_ngram_max` characters inside each word padded
//!   with a space on both sides (like scikit-learn's `char_wb`), which carry spelling variants,
//!   typos and Indonesian affixes (`di-kirim-kan`) that whole words miss.
//!
//! A feature id is `group << hash_bits | bucket`.

use serde::{Deserialize, Serialize};

/// Words beyond this many are ignored (the bound keeps long e-mails cheap).
pub const MAX_TOKENS: usize = 256;
/// Character n-grams are taken from at most this many characters of a word (URLs, hashes).
pub const MAX_WORD_CHARS: usize = 32;
/// Largest supported `hash_bits`: the lookup table of a loaded model has `2^(hash_bits+1)` slots.
pub const MAX_HASH_BITS: u8 = 22;
/// Smallest supported `hash_bits`.
pub const MIN_HASH_BITS: u8 = 10;

/// Feature group of word n-grams.
pub const WORD_GROUP: u32 = 0;
/// Feature group of character n-grams.
pub const CHAR_GROUP: u32 = 1;

/// Which features a model uses; stored in the model file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureSpec {
    /// Each group hashes into `2^hash_bits` buckets.
    pub hash_bits: u8,
    /// Longest word n-gram (1 = unigrams only, 2 = with bigrams).
    pub word_ngram_max: u8,
    /// Shortest character n-gram.
    pub char_ngram_min: u8,
    /// Longest character n-gram; 0 disables character features.
    pub char_ngram_max: u8,
}

impl Default for FeatureSpec {
    fn default() -> Self {
        Self {
            hash_bits: 18,
            word_ngram_max: 2,
            char_ngram_min: 3,
            char_ngram_max: 5,
        }
    }
}

impl FeatureSpec {
    /// Why the spec cannot be used, if it cannot.
    pub fn problem(&self) -> Option<String> {
        if !(MIN_HASH_BITS..=MAX_HASH_BITS).contains(&self.hash_bits) {
            return Some(format!(
                "hash_bits {} is outside {MIN_HASH_BITS}..={MAX_HASH_BITS}",
                self.hash_bits
            ));
        }
        if !(1..=3).contains(&self.word_ngram_max) {
            return Some(format!(
                "word_ngram_max {} is outside 1..=3",
                self.word_ngram_max
            ));
        }
        let chars_on = self.char_ngram_max > 0;
        if chars_on && (self.char_ngram_min == 0 || self.char_ngram_min > self.char_ngram_max) {
            return Some(format!(
                "char n-gram range {}..={} is empty",
                self.char_ngram_min, self.char_ngram_max
            ));
        }
        if self.char_ngram_max > 8 {
            return Some(format!("char_ngram_max {} exceeds 8", self.char_ngram_max));
        }
        None
    }

    /// Number of distinct feature ids (both groups).
    pub fn num_feature_ids(&self) -> usize {
        2usize << self.hash_bits
    }

    /// The group of a feature id.
    pub fn group_of(&self, feature_id: u32) -> u32 {
        feature_id >> self.hash_bits
    }

    /// Appends the feature ids of `normalized` (words separated by single spaces) to `out`,
    /// one per occurrence; `chars` is a reusable scratch buffer.
    pub fn extract(&self, normalized: &str, chars: &mut Vec<char>, out: &mut Vec<u32>) {
        let mask = (1u64 << self.hash_bits) - 1;
        let word_base = WORD_GROUP << self.hash_bits;
        let char_base = CHAR_GROUP << self.hash_bits;
        let bucket = |hash: u64| -> u32 {
            // Fold the high half in: FNV's low bits alone mix poorly for short inputs.
            ((hash ^ (hash >> 32)) & mask) as u32
        };
        let tokens: Vec<&str> = normalized
            .split(' ')
            .filter(|token| !token.is_empty())
            .take(MAX_TOKENS)
            .collect();
        for (index, token) in tokens.iter().enumerate() {
            out.push(word_base | bucket(Fnv::new().bytes(b"w\x00").bytes(token.as_bytes()).0));
            for n in 2..=usize::from(self.word_ngram_max) {
                if index + 1 < n {
                    continue;
                }
                let mut hash = Fnv::new().bytes(b"n\x00");
                for (position, part) in tokens[index + 1 - n..=index].iter().enumerate() {
                    if position > 0 {
                        hash = hash.bytes(b" ");
                    }
                    hash = hash.bytes(part.as_bytes());
                }
                out.push(word_base | bucket(hash.0));
            }
            if self.char_ngram_max == 0 {
                continue;
            }
            chars.clear();
            chars.push(' ');
            chars.extend(token.chars().take(MAX_WORD_CHARS));
            chars.push(' ');
            for n in usize::from(self.char_ngram_min)..=usize::from(self.char_ngram_max) {
                for window in chars.windows(n) {
                    let mut hash = Fnv::new().bytes(b"c\x00");
                    let mut utf8 = [0u8; 4];
                    for ch in window {
                        hash = hash.bytes(ch.encode_utf8(&mut utf8).as_bytes());
                    }
                    out.push(char_base | bucket(hash.0));
                }
            }
        }
    }
}

/// 64-bit FNV-1a of `bytes`: the stable hash of features, lexicon phrases and data splits.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    Fnv::new().bytes(bytes).0
}

/// Streaming FNV-1a 64.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fnv(pub(crate) u64);

impl Fnv {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    pub(crate) fn new() -> Self {
        Self(Self::OFFSET)
    }

    pub(crate) fn bytes(self, bytes: &[u8]) -> Self {
        let mut hash = self.0;
        for byte in bytes {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(Self::PRIME);
        }
        Self(hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(spec: &FeatureSpec, text: &str) -> Vec<u32> {
        let mut out = Vec::new();
        spec.extract(text, &mut Vec::new(), &mut out);
        out
    }

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        // Published FNV-1a 64 test vectors; the Python baseline split uses the same function.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn counts_word_bigram_and_char_ngrams() {
        let spec = FeatureSpec::default();
        // "ab cd": 2 unigrams + 1 bigram; each padded word " ab " has 4 chars: 2 trigrams,
        // 1 four-gram, no five-gram.
        assert_eq!(features(&spec, "ab cd").len(), 2 + 1 + 2 * 3);
        let words_only = FeatureSpec {
            char_ngram_max: 0,
            ..spec
        };
        assert_eq!(features(&words_only, "ab cd ef").len(), 3 + 2);
    }

    #[test]
    fn ids_are_stable_and_inside_their_group() {
        let spec = FeatureSpec::default();
        let first = features(&spec, "saya mau pesan dua pasang");
        assert_eq!(first, features(&spec, "saya mau pesan dua pasang"));
        let limit = u32::try_from(spec.num_feature_ids()).expect("fits u32");
        assert!(first.iter().all(|id| *id < limit));
        assert!(first.iter().any(|id| spec.group_of(*id) == CHAR_GROUP));
        assert!(first.iter().any(|id| spec.group_of(*id) == WORD_GROUP));
    }

    #[test]
    fn empty_text_has_no_features_and_long_text_is_bounded() {
        let spec = FeatureSpec::default();
        assert!(features(&spec, "").is_empty());
        let long = "word ".repeat(10 * MAX_TOKENS);
        let per_word = 1 + 1 + 4 + 3 + 2;
        assert!(features(&spec, long.trim()).len() <= MAX_TOKENS * per_word);
    }

    #[test]
    fn invalid_specs_are_named() {
        let spec = FeatureSpec {
            hash_bits: 40,
            ..FeatureSpec::default()
        };
        assert!(
            spec.problem()
                .is_some_and(|problem| problem.contains("hash_bits"))
        );
        assert!(FeatureSpec::default().problem().is_none());
    }
}
