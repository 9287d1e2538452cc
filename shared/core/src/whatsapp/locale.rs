//! Which WhatsApp template language a verification's locale is sent in.
//! Meta names template languages its own way (`pt_BR`, `zh_CN`, `en`), and
//! an authentication template must be sent in a language it was approved
//! in. The table is Twilio Verify's list for its WhatsApp copy-code
//! template (Verify tag, then Meta's code), from
//! `../shared/reference/channels-fraud-ops.md` §1.8 (TW-LANG).

/// Verify tags (lower case, `-`) and Meta's language code for each.
const TABLE: &[(&str, &str)] = &[
    ("af", "af"),
    ("sq", "sq"),
    ("ar", "ar"),
    ("az", "az"),
    ("bn", "bn"),
    ("bg", "bg"),
    ("ca", "ca"),
    ("zh-cn", "zh_CN"),
    ("zh-hk", "zh_HK"),
    ("zh-tw", "zh_TW"),
    ("hr", "hr"),
    ("cs", "cs"),
    ("da", "da"),
    ("nl", "nl"),
    ("en", "en"),
    ("en-gb", "en_GB"),
    ("en-us", "en_US"),
    ("et", "et"),
    ("fil", "fil"),
    ("fi", "fi"),
    ("fr", "fr"),
    ("ka", "ka"),
    ("de", "de"),
    ("el", "el"),
    ("gu", "gu"),
    ("ha", "ha"),
    ("he", "he"),
    ("hi", "hi"),
    ("hu", "hu"),
    ("id", "id"),
    ("ga", "ga"),
    ("it", "it"),
    ("ja", "ja"),
    ("kn", "kn"),
    ("kk", "kk"),
    ("rw", "rw_RW"),
    ("ko", "ko"),
    ("ky", "ky_KG"),
    ("lo", "lo"),
    ("lv", "lv"),
    ("lt", "lt"),
    ("mk", "mk"),
    ("ms", "ms"),
    ("ml", "ml"),
    ("mr", "mr"),
    ("nb", "nb"),
    ("fa", "fa"),
    ("pl", "pl"),
    ("pt-br", "pt_BR"),
    ("pt-pt", "pt_PT"),
    ("pa", "pa"),
    ("ro", "ro"),
    ("ru", "ru"),
    ("sr", "sr"),
    ("sk", "sk"),
    ("sl", "sl"),
    ("es", "es"),
    ("es-ar", "es_AR"),
    ("es-es", "es_ES"),
    ("es-mx", "es_MX"),
    ("sw", "sw"),
    ("sv", "sv"),
    ("ta", "ta"),
    ("te", "te"),
    ("th", "th"),
    ("tr", "tr"),
    ("uk", "uk"),
    ("ur", "ur"),
    ("uz", "uz"),
    ("vi", "vi"),
    ("zu", "zu"),
];

/// A language alone, where Meta has the language only with a region or by
/// another name: Twilio's `zh` is `zh-CN`; this project's `pt` is the
/// Portuguese of Portugal (`pt-BR` is Brazil's); Twilio's SMS list says `tl` for the
/// Tagalog that Meta calls Filipino; `no` is Norwegian Bokmål.
const ALIASES: &[(&str, &str)] = &[("zh", "zh_CN"), ("pt", "pt_PT"), ("tl", "fil"), ("no", "nb")];

/// Meta's language code for a locale (`pt-BR`, `en_GB`, `fr`, `zh`): the
/// tag itself when Meta has it, else its language, else English (Twilio
/// sends English where it has no template in the language).
pub fn whatsapp_language(locale: &str) -> &'static str {
    let tag = locale.trim().replace('_', "-").to_ascii_lowercase();
    let exact = |t: &str| TABLE.iter().chain(ALIASES).find(|(v, _)| *v == t).map(|(_, m)| *m);
    exact(&tag).or_else(|| exact(tag.split('-').next().unwrap_or_default())).unwrap_or("en")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_map_to_metas_codes() {
        assert_eq!(whatsapp_language("pt-BR"), "pt_BR");
        assert_eq!(whatsapp_language("pt_PT"), "pt_PT");
        assert_eq!(whatsapp_language("pt"), "pt_PT");
        assert_eq!(whatsapp_language("zh-HK"), "zh_HK");
        assert_eq!(whatsapp_language("zh"), "zh_CN");
        assert_eq!(whatsapp_language("en-GB"), "en_GB");
        assert_eq!(whatsapp_language("en"), "en");
        assert_eq!(whatsapp_language("es-MX"), "es_MX");
        assert_eq!(whatsapp_language("rw"), "rw_RW");
        assert_eq!(whatsapp_language("ky"), "ky_KG");
        assert_eq!(whatsapp_language("tl"), "fil");
        assert_eq!(whatsapp_language("DE"), "de");
    }

    #[test]
    fn an_unknown_region_falls_back_to_its_language_then_english() {
        assert_eq!(whatsapp_language("fr-CA"), "fr");
        assert_eq!(whatsapp_language("es-CO"), "es");
        assert_eq!(whatsapp_language("de-AT"), "de");
        assert_eq!(whatsapp_language("xx"), "en");
        assert_eq!(whatsapp_language(""), "en");
    }

    #[test]
    fn every_code_is_metas_form() {
        for (tag, code) in TABLE.iter().chain(ALIASES) {
            let ok = match code.split_once('_') {
                None => code.chars().all(|c| c.is_ascii_lowercase()),
                Some((l, r)) => l.chars().all(|c| c.is_ascii_lowercase()) && r.len() == 2 && r.chars().all(|c| c.is_ascii_uppercase()),
            };
            assert!(ok, "{tag} -> {code}");
            assert_eq!(tag.to_ascii_lowercase(), *tag);
        }
        for (i, (a, _)) in TABLE.iter().enumerate() {
            assert!(TABLE[i + 1..].iter().chain(ALIASES).all(|(b, _)| b != a), "{a} listed twice");
        }
    }
}
