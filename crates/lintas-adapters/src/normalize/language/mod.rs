//! `language`: the ISO 639-1 code of `text`, from the source when it says, detected otherwise.
//!
//! Detection runs in two stages, and `language` is only set when one of them is confident;
//! otherwise it stays empty rather than guessing:
//!
//! 1. **Pre-pass for the languages the classifier serves** ([`PREFERRED_LANGUAGES`], English and
//!    Indonesian), one scan over the text, no allocation: if the text is Latin script without
//!    diacritics, its words are looked up in short lists of English and Indonesian function and
//!    chat words ([`words`]) and of frequent words of other Latin-script languages. Enough hits
//!    for one of the two, clearly more than for the other, and none for a third language decide
//!    the answer. This covers nearly all customer chat and costs about a microsecond, where
//!    whatlang's trigram scoring costs tens (it was 80 % of the gateway's CPU per event).
//! 2. **whatlang** for everything else: first against every language whatlang knows, a
//!    reliable answer taken as is. Then, only for Latin text without diacritics and without a
//!    third language's words (too few hits, a close call), against [`PREFERRED_LANGUAGES`]:
//!    short, informal chat ("Kak, ongkir ke Makassar berapa ya?") is where the first step
//!    wavers between Indonesian, Javanese and Tagalog; between the two candidates the answer is
//!    clear. Text that shows another script, diacritics or a third language's words never gets
//!    that second step, so an unreliable Spanish or French text stays undetected instead of
//!    being forced into English.
//!
//! The pre-pass never answers for a language other than `en` or `id`: Spanish, French, German,
//! Japanese and the rest are detected by whatlang exactly as before. Its accuracy on the shared
//! dev set is checked against whatlang alone by `tests/language_eval.rs`.

mod words;

use whatlang::{Detector, Lang};

use self::words::{EN, ID, OTHER};

/// Languages the classifier serves, decided by the pre-pass and used by the second whatlang step.
pub const PREFERRED_LANGUAGES: [Lang; 2] = [Lang::Eng, Lang::Ind];

/// Function-word hits the pre-pass needs before it names a language.
const MIN_HITS: u32 = 2;
/// The winner needs at least `MARGIN * loser + 1` hits: mixed chat ("thanks kak, sudah sampai")
/// is decided by the language that dominates, a close call goes to whatlang.
const MARGIN: u32 = 2;
/// At least one word in `WORDS_PER_HIT` must be a hit of the winner: a long text with a stray
/// "the" among product names or an unknown language is not English.
const WORDS_PER_HIT: u32 = 6;

/// The detected ISO 639-1 code of `text`, `None` when detection is not reliable.
pub fn detect_language(text: &str) -> Option<&'static str> {
    if text.trim().is_empty() {
        return None;
    }
    match pre_pass(text) {
        PrePass::Decided(code) => Some(code),
        PrePass::Undecided => detect_language_whatlang(text),
        // Words of a third language: whatlang's answer over every language, or nothing. Its
        // en/id step would otherwise force "Hola, mi pedido no ha llegado" into English.
        PrePass::ThirdLanguage => whatlang_reliable(text),
    }
}

/// whatlang over every language it knows, when reliable.
fn whatlang_reliable(text: &str) -> Option<&'static str> {
    whatlang::detect(text)
        .filter(whatlang::Info::is_reliable)
        .and_then(|info| iso_639_1(info.lang()))
}

/// Detection by whatlang alone (stage 2 of [`detect_language`]): every language first, then the
/// [`PREFERRED_LANGUAGES`] when the first answer is not reliable. Public so the benchmark and the
/// accuracy test can compare the two.
pub fn detect_language_whatlang(text: &str) -> Option<&'static str> {
    if text.trim().is_empty() {
        return None;
    }
    if let Some(code) = whatlang_reliable(text) {
        return Some(code);
    }
    let preferred = Detector::with_allowlist(PREFERRED_LANGUAGES.to_vec());
    preferred
        .detect(text)
        .filter(whatlang::Info::is_reliable)
        .and_then(|info| iso_639_1(info.lang()))
}

#[derive(Debug, PartialEq, Eq)]
enum PrePass {
    /// Clearly English or Indonesian.
    Decided(&'static str),
    /// Latin script, at most a stray word of a third language, but no clear winner: whatlang,
    /// then en/id.
    Undecided,
    /// Another script, diacritics or a third language's words: whatlang over every language.
    ThirdLanguage,
}

/// Longest word the lists hold; longer words cannot be hits and are only counted.
const MAX_WORD: usize = 12;

/// Hits per list over the words of `text`.
#[derive(Debug, Default)]
struct Tally {
    words: u32,
    en: u32,
    id: u32,
    other: u32,
}

impl Tally {
    fn add(&mut self, word: &[u8], too_long: bool) {
        if word.is_empty() && !too_long {
            return;
        }
        self.words += 1;
        if too_long {
            return;
        }
        // Lowercase ASCII letters and digits only (see `pre_pass`), so the bytes are UTF-8.
        let Ok(word) = std::str::from_utf8(word) else {
            return;
        };
        let class = words::class(word);
        self.en += u32::from(class & EN != 0);
        self.id += u32::from(class & ID != 0);
        self.other += u32::from(class & OTHER != 0);
    }

    fn decide(&self) -> PrePass {
        // Short words of other languages also occur in informal Indonesian ("y", "pas", "ko",
        // "se"): only several of them, at least as many as English and Indonesian hits together,
        // make a third language; fewer only stop the pre-pass from deciding.
        if self.other >= MIN_HITS && self.other >= self.en + self.id {
            return PrePass::ThirdLanguage;
        }
        if self.other > 0 {
            return PrePass::Undecided;
        }
        let wins = |winner: u32, loser: u32| {
            winner >= MIN_HITS
                && winner > MARGIN * loser
                && winner.saturating_mul(WORDS_PER_HIT) >= self.words
        };
        if wins(self.en, self.id) {
            PrePass::Decided("en")
        } else if wins(self.id, self.en) {
            PrePass::Decided("id")
        } else {
            PrePass::Undecided
        }
    }
}

/// Stage 1 of [`detect_language`]: one pass over the characters, words lowercased into a stack
/// buffer. Any non-ASCII letter (another script, or diacritics, which English and Indonesian
/// chat hardly use but most other Latin-script languages do) hands the text to whatlang.
fn pre_pass(text: &str) -> PrePass {
    let mut tally = Tally::default();
    let mut word = [0_u8; MAX_WORD];
    let mut len = 0_usize;
    let mut too_long = false;
    for ch in text.chars() {
        if ch.is_ascii_alphabetic() {
            if len < MAX_WORD {
                word[len] = ch.to_ascii_lowercase() as u8;
                len += 1;
            } else {
                too_long = true;
            }
        } else if ch.is_ascii_digit() {
            // Digits end a word and are not words themselves ("42", "INV-20931").
            tally.add(&word[..len], too_long);
            len = 0;
            too_long = false;
        } else if ch.is_ascii() || !ch.is_alphabetic() {
            // Spaces, punctuation, emoji, curly quotes.
            tally.add(&word[..len], too_long);
            len = 0;
            too_long = false;
        } else {
            return PrePass::ThirdLanguage;
        }
    }
    tally.add(&word[..len], too_long);
    tally.decide()
}

/// A language tag given by a source (`en`, `EN`, `en-US`, `id_ID`) as an ISO 639-1 code;
/// `None` when it is not one.
pub fn normalize_language_tag(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    let is_code = primary.len() == 2 && primary.bytes().all(|byte| byte.is_ascii_lowercase());
    if is_code {
        return Some(primary);
    }
    // Some sources send ISO 639-3 (`ind`); map the ones whatlang knows.
    Lang::from_code(primary.as_str())
        .and_then(iso_639_1)
        .map(str::to_owned)
}

/// ISO 639-1 code of a whatlang language (whatlang speaks ISO 639-3).
fn iso_639_1(lang: Lang) -> Option<&'static str> {
    let code = match lang {
        Lang::Epo => "eo",
        Lang::Eng => "en",
        Lang::Rus => "ru",
        Lang::Cmn => "zh",
        Lang::Spa => "es",
        Lang::Por => "pt",
        Lang::Ita => "it",
        Lang::Ben => "bn",
        Lang::Fra => "fr",
        Lang::Deu => "de",
        Lang::Ukr => "uk",
        Lang::Kat => "ka",
        Lang::Ara => "ar",
        Lang::Hin => "hi",
        Lang::Jpn => "ja",
        Lang::Heb => "he",
        Lang::Yid => "yi",
        Lang::Pol => "pl",
        Lang::Amh => "am",
        Lang::Jav => "jv",
        Lang::Kor => "ko",
        Lang::Nob => "nb",
        Lang::Dan => "da",
        Lang::Swe => "sv",
        Lang::Fin => "fi",
        Lang::Tur => "tr",
        Lang::Nld => "nl",
        Lang::Hun => "hu",
        Lang::Ces => "cs",
        Lang::Ell => "el",
        Lang::Bul => "bg",
        Lang::Bel => "be",
        Lang::Mar => "mr",
        Lang::Kan => "kn",
        Lang::Ron => "ro",
        Lang::Slv => "sl",
        Lang::Hrv => "hr",
        Lang::Srp => "sr",
        Lang::Mkd => "mk",
        Lang::Lit => "lt",
        Lang::Lav => "lv",
        Lang::Est => "et",
        Lang::Tam => "ta",
        Lang::Vie => "vi",
        Lang::Urd => "ur",
        Lang::Tha => "th",
        Lang::Guj => "gu",
        Lang::Uzb => "uz",
        Lang::Pan => "pa",
        Lang::Aze => "az",
        Lang::Ind => "id",
        Lang::Tel => "te",
        Lang::Pes => "fa",
        Lang::Mal => "ml",
        Lang::Ori => "or",
        Lang::Mya => "my",
        Lang::Nep => "ne",
        Lang::Sin => "si",
        Lang::Khm => "km",
        Lang::Tuk => "tk",
        Lang::Aka => "ak",
        Lang::Zul => "zu",
        Lang::Sna => "sn",
        Lang::Afr => "af",
        Lang::Lat => "la",
        Lang::Slk => "sk",
        Lang::Cat => "ca",
        Lang::Tgl => "tl",
        Lang::Hye => "hy",
        Lang::Cym => "cy",
        #[allow(unreachable_patterns)]
        _ => return None,
    };
    Some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn informal_indonesian_chat_is_detected_as_id() {
        for text in [
            "Halo kak, sepatu lari ukuran 42 warna hitam masih ready? Mau pesan 2 pasang 🙏",
            "Barangnya sudah sampai, mantap! 👍🔥",
            "Kak, ongkir ke Makassar berapa ya? 📦",
            "Kak, saya sudah transfer Rp 349.000 tadi pagi tapi status pesanan INV-20931 masih 'menunggu pembayaran'. Tolong dicek ya 🙏",
        ] {
            assert_eq!(detect_language(text), Some("id"), "{text}");
        }
    }

    #[test]
    fn english_is_detected_as_en() {
        let text = "Please cancel my subscription at the end of this billing period. Thanks.";
        assert_eq!(detect_language(text), Some("en"));
    }

    #[test]
    fn a_clear_third_language_is_detected_as_itself() {
        let german = "Wo ist meine Bestellung? Ich habe sie vor einer Woche gekauft und sie ist immer noch nicht angekommen.";
        assert_eq!(detect_language(german), Some("de"));
        assert_eq!(
            detect_language("注文した商品がまだ届いていません。"),
            Some("ja")
        );
    }

    #[test]
    fn spanish_and_french_are_detected_as_themselves_not_as_en_or_id() {
        let spanish = "Hola, ¿dónde está mi pedido? Lo compré hace una semana y todavía no llega.";
        assert_eq!(detect_language(spanish), Some("es"));
        // Without accents the pre-pass still sees Spanish words and leaves it to whatlang.
        let plain_spanish = "Hola, mi pedido no ha llegado todavia, por favor revisen el estado";
        assert_eq!(pre_pass(plain_spanish), PrePass::ThirdLanguage);
        // whatlang is not sure of it: unknown, as documented, never English.
        assert!(
            matches!(detect_language(plain_spanish), None | Some("es")),
            "{plain_spanish}"
        );
        let long_spanish = "Hola, mi pedido no ha llegado todavia y ya pasaron dos semanas desde \
                            que lo pague, por favor revisen el estado del envio y me avisan";
        assert_eq!(detect_language(long_spanish), Some("es"));
        let french = "Bonjour, je n'ai toujours pas reçu ma commande passée il y a deux \
                      semaines. Pourriez-vous vérifier où elle se trouve et quand elle arrivera ?";
        assert_eq!(detect_language(french), Some("fr"));
        let plain_french =
            "Bonjour je voudrais savoir pourquoi ma commande est toujours en attente";
        assert_eq!(pre_pass(plain_french), PrePass::ThirdLanguage);
        assert!(
            matches!(detect_language(plain_french), None | Some("fr")),
            "{plain_french}"
        );
    }

    #[test]
    fn the_pre_pass_decides_clear_english_and_indonesian_chat() {
        let cases = [
            ("When will I get my card?", "en"),
            ("My card isn't working", "en"),
            (
                "Where is my package? Order 10442 was supposed to arrive yesterday.",
                "en",
            ),
            ("Kak, paket saya belum sampai, bisa dicek?", "id"),
            ("Terima kasih sudah menghubungi kami 🙏", "id"),
            ("kamarnya bersih tapi ac kurang dingin", "id"),
        ];
        for (text, code) in cases {
            assert_eq!(pre_pass(text), PrePass::Decided(code), "{text}");
            assert_eq!(detect_language(text), Some(code), "{text}");
        }
    }

    #[test]
    fn the_texts_of_the_load_tool_are_decided_by_the_pre_pass() {
        // `lintas-loadgen`'s customer, agent and NPS texts: BENCHMARKS.md's figure without
        // `language` assumes none of them reaches whatlang.
        let cases = [
            (
                "Hi, my order 10442 arrived damaged. Can I get a replacement?",
                "en",
            ),
            ("Do you ship to Surabaya, and how long does it take?", "en"),
            ("Is the black running shoe in size 42 back in stock?", "en"),
            (
                "I am sorry about that. A replacement for order 10442 ships tomorrow.",
                "en",
            ),
            (
                "The duplicate charge for order 10442 has been refunded; allow 5-10 business days.",
                "en",
            ),
            (
                "Fast delivery and the support team answered within minutes!",
                "en",
            ),
            (
                "Min, saya mau tukar ukuran sepatu dari 42 ke 43, caranya bagaimana?",
                "id",
            ),
            ("Apakah bisa COD untuk area Jakarta Selatan?", "id"),
            ("Promo diskon 20% ini berlaku sampai kapan kak?", "id"),
            (
                "Mohon maaf atas ketidaknyamanannya, refund untuk pesanan 10442 sudah kami proses.",
                "id",
            ),
            ("Pengiriman lambat sekali, dua minggu baru sampai.", "id"),
        ];
        for (text, code) in cases {
            assert_eq!(pre_pass(text), PrePass::Decided(code), "{text}");
        }
    }

    #[test]
    fn close_calls_and_foreign_scripts_go_to_whatlang() {
        for text in [
            // As many English as Indonesian words.
            "thanks kak, ok ya",
            // One hit is not enough.
            "Card payment declined?",
            // A stray English word among many unknown ones.
            "the Sepatu Lari X1 Hitam Ukuran 42 Original Garansi Resmi Distributor Jakarta Pusat",
        ] {
            assert_eq!(pre_pass(text), PrePass::Undecided, "{text}");
        }
        // Another script, diacritics, a third language's words.
        for text in [
            "注文した商品がまだ届いていません。",
            "Où est ma commande",
            "Wo ist meine Bestellung",
        ] {
            assert_eq!(pre_pass(text), PrePass::ThirdLanguage, "{text}");
        }
    }

    #[test]
    fn unreliable_detection_leaves_the_language_empty() {
        for text in ["", "   ", "Ok", "csat:5", "🙏🙏"] {
            assert_eq!(detect_language(text), None, "{text:?}");
        }
    }

    #[test]
    fn source_tags_are_reduced_to_iso_639_1() {
        assert_eq!(normalize_language_tag("en-US").as_deref(), Some("en"));
        assert_eq!(normalize_language_tag("ID").as_deref(), Some("id"));
        assert_eq!(normalize_language_tag("id_ID").as_deref(), Some("id"));
        assert_eq!(normalize_language_tag("ind").as_deref(), Some("id"));
        assert_eq!(normalize_language_tag("klingon"), None);
        assert_eq!(normalize_language_tag(""), None);
    }
}
