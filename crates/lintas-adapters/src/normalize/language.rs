//! `language`: the ISO 639-1 code of `text`, from the source when it says, detected otherwise.
//!
//! Detection (whatlang, trigram based) runs in two steps, and `language` is only set when one of
//! them is reliable; otherwise it stays empty rather than guessing:
//! 1. against every language whatlang knows: a reliable answer is taken as is;
//! 2. against the languages the classifier serves ([`PREFERRED_LANGUAGES`], English and
//!    Indonesian). Short, informal chat ("Kak, ongkir ke Makassar berapa ya?") is where step 1
//!    wavers between Indonesian, Javanese and Tagalog; between the two candidates the answer is
//!    clear. Text in a third language scores low against both and stays undetected.

use whatlang::{Detector, Lang};

/// Languages the classifier serves, used by the second detection step.
pub const PREFERRED_LANGUAGES: [Lang; 2] = [Lang::Eng, Lang::Ind];

/// The detected ISO 639-1 code of `text`, `None` when detection is not reliable.
pub fn detect_language(text: &str) -> Option<&'static str> {
    if text.trim().is_empty() {
        return None;
    }
    if let Some(info) = whatlang::detect(text)
        && info.is_reliable()
        && let Some(code) = iso_639_1(info.lang())
    {
        return Some(code);
    }
    let preferred = Detector::with_allowlist(PREFERRED_LANGUAGES.to_vec());
    preferred
        .detect(text)
        .filter(whatlang::Info::is_reliable)
        .and_then(|info| iso_639_1(info.lang()))
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
