//! Word lists of the detection pre-pass: lowercase ASCII words, at most
//! [`MAX_WORD`](super::MAX_WORD) bytes.
//!
//! - [`EN_WORDS`], [`ID_WORDS`]: function words (pronouns, articles, prepositions, auxiliaries,
//!   negation, question words) and the politeness and chat words of customer messages
//!   ("thanks", "kak", "tolong", "gak", "yg"). Function words make up a third or more of any
//!   sentence, so even short chat has several hits.
//! - [`OTHER_WORDS`]: frequent words of other Latin-script languages written without diacritics
//!   (Spanish, Portuguese, French, Italian, German, Dutch, Tagalog, Javanese, Malay). One hit
//!   sends the text to whatlang, so a Spanish or Tagalog message that happens to contain "a",
//!   "no" or "di" is never named English or Indonesian by the pre-pass. Words shared with
//!   English or Indonesian ("in", "die", "was", "di", "ada") are deliberately absent from it:
//!   they would send ordinary English and Indonesian to whatlang.
//!
//! A word may sit in several lists; it then counts for each.

use std::collections::HashMap;
use std::sync::LazyLock;

pub(super) const EN: u8 = 1;
pub(super) const ID: u8 = 2;
pub(super) const OTHER: u8 = 4;

pub(super) const EN_WORDS: &[&str] = &[
    "a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "are", "aren", "as",
    "at", "be", "because", "been", "before", "being", "but", "by", "can", "cannot", "could",
    "couldn", "did", "didn", "do", "does", "doesn", "don", "done", "down", "each", "either",
    "every", "for", "from", "get", "got", "had", "has", "hasn", "have", "haven", "having", "he",
    "hello", "her", "here", "hers", "hey", "hi", "him", "his", "how", "i", "if", "im", "in",
    "into", "is", "isn", "it", "its", "just", "ll", "me", "might", "more", "most", "much", "must",
    "my", "myself", "need", "never", "no", "not", "now", "of", "off", "on", "only", "or", "our",
    "ours", "out", "over", "please", "pls", "re", "really", "same", "she", "should", "shouldn",
    "since", "so", "some", "still", "such", "than", "thank", "thanks", "thx", "that", "the",
    "their", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too",
    "under", "until", "up", "us", "ve", "very", "want", "was", "wasn", "we", "were", "weren",
    "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "won",
    "would", "wouldn", "yes", "yet", "you", "your", "yours", "yourself",
];

pub(super) const ID_WORDS: &[&str] = &[
    "ada",
    "adalah",
    "agak",
    "agar",
    "aja",
    "akan",
    "aku",
    "anda",
    "apa",
    "apakah",
    "atas",
    "atau",
    "bagaimana",
    "bagus",
    "baik",
    "banget",
    "bang",
    "banyak",
    "baru",
    "begitu",
    "belum",
    "benar",
    "berapa",
    "bersama",
    "bgt",
    "bisa",
    "blm",
    "bukan",
    "cuma",
    "dalam",
    "dan",
    "dapat",
    "dari",
    "deh",
    "dengan",
    "dgn",
    "di",
    "dia",
    "dimana",
    "dong",
    "enggak",
    "engga",
    "gak",
    "ga",
    "gan",
    "gimana",
    "harus",
    "hanya",
    "ini",
    "itu",
    "jadi",
    "jangan",
    "jd",
    "jika",
    "juga",
    "kak",
    "kakak",
    "kalau",
    "kalo",
    "kami",
    "kamu",
    "kapan",
    "karena",
    "karna",
    "kasih",
    "ke",
    "kenapa",
    "kita",
    "kok",
    "krn",
    "kurang",
    "lagi",
    "lebih",
    "lah",
    "maaf",
    "makasih",
    "mana",
    "masih",
    "mau",
    "mengapa",
    "mereka",
    "mohon",
    "nggak",
    "ngga",
    "nih",
    "nya",
    "oleh",
    "pada",
    "para",
    "pun",
    "saat",
    "saja",
    "sama",
    "sampai",
    "sampe",
    "sangat",
    "saya",
    "sdh",
    "sebelum",
    "sedang",
    "sehingga",
    "sekali",
    "selalu",
    "semua",
    "sendiri",
    "sesuai",
    "setelah",
    "seperti",
    "siapa",
    "sih",
    "silakan",
    "sudah",
    "sy",
    "tak",
    "tapi",
    "telah",
    "terima",
    "tersebut",
    "tetapi",
    "tidak",
    "tdk",
    "tolong",
    "tp",
    "udah",
    "untuk",
    "utk",
    "ya",
    "yang",
    "yg",
];

/// Spanish.
const SPANISH: &[&str] = &[
    "el", "la", "los", "las", "del", "que", "y", "por", "con", "una", "uno", "es", "esta", "este",
    "pero", "como", "muy", "mi", "mis", "tengo", "estoy", "gracias", "hola", "pedido", "donde",
    "cuando", "porque", "se", "su", "lo", "al", "le", "les", "hasta",
];

/// Portuguese.
const PORTUGUESE: &[&str] = &[
    "o", "os", "meu", "minha", "nao", "obrigado", "obrigada", "voce", "ola", "tudo", "bom",
    "muito", "ainda", "foi",
];

/// French.
const FRENCH: &[&str] = &[
    "et", "est", "je", "ne", "pas", "vous", "il", "elle", "nous", "des", "du", "avec", "ma", "mes",
    "ce", "cette", "qui", "sur", "au", "aux", "bonjour", "merci", "commande", "suis", "avez", "j",
    "c", "qu",
];

/// Italian.
const ITALIAN: &[&str] = &[
    "il", "che", "della", "sono", "gli", "questo", "ho", "ciao", "grazie", "ordine",
];

/// German.
const GERMAN: &[&str] = &[
    "der", "das", "und", "ist", "ich", "nicht", "ein", "eine", "einer", "mit", "auf", "sie", "wir",
    "zu", "den", "dem", "von", "noch", "wie", "bei", "meine", "mein", "ihr", "aber", "oder",
    "sind", "habe", "bitte", "danke", "wann", "warum", "wo", "keine", "kein",
];

/// Dutch.
const DUTCH: &[&str] = &[
    "het", "een", "niet", "dat", "op", "te", "ik", "zijn", "voor", "maar", "ook", "wel", "hoe",
    "wat", "mijn", "graag", "bedankt", "nog",
];

/// Tagalog.
const TAGALOG: &[&str] = &[
    "ang", "ng", "mga", "ako", "ko", "po", "hindi", "naman", "lang", "siya", "ito", "sa", "ay",
    "na", "ba", "salamat", "kayo", "niyo", "yung", "ninyo",
];

/// Javanese.
const JAVANESE: &[&str] = &[
    "ora", "iki", "kuwi", "wis", "opo", "piye", "karo", "kowe", "ning", "nang", "mboten", "nggih",
    "sampeyan", "sing",
];

/// Malay (close to Indonesian; whatlang decides).
const MALAY: &[&str] = &["nak", "boleh", "macam", "awak"];

/// Frequent words of other Latin-script languages, one list per language.
pub(super) const OTHER_WORDS: [&[&str]; 9] = [
    SPANISH, PORTUGUESE, FRENCH, ITALIAN, GERMAN, DUTCH, TAGALOG, JAVANESE, MALAY,
];

/// Bit set of the lists `word` (lowercase ASCII) is in, 0 when none.
pub(super) fn class(word: &str) -> u8 {
    static CLASSES: LazyLock<HashMap<&'static str, u8>> = LazyLock::new(|| {
        let mut classes = HashMap::new();
        let others = OTHER_WORDS.iter().flat_map(|list| list.iter());
        let lists = EN_WORDS
            .iter()
            .map(|word| (word, EN))
            .chain(ID_WORDS.iter().map(|word| (word, ID)))
            .chain(others.map(|word| (word, OTHER)));
        for (word, bit) in lists {
            *classes.entry(*word).or_insert(0) |= bit;
        }
        classes
    });
    CLASSES.get(word).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lowercase_ascii_and_fit_the_buffer() {
        for word in EN_WORDS
            .iter()
            .chain(ID_WORDS)
            .chain(OTHER_WORDS.iter().copied().flatten())
        {
            assert!(
                !word.is_empty()
                    && word.len() <= super::super::MAX_WORD
                    && word.bytes().all(|byte| byte.is_ascii_lowercase()),
                "{word:?}"
            );
        }
    }

    #[test]
    fn other_languages_share_no_word_with_english_or_indonesian() {
        for word in OTHER_WORDS.iter().copied().flatten() {
            assert_eq!(class(word), OTHER, "{word:?} is also an en/id word");
        }
    }
}
