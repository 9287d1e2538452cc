use super::*;
use crate::friendly_name::MAX_FRIENDLY_NAME_CHARS;
use crate::message::{CODE, NAME, sms_text};
use crate::otp::Code;

#[test]
fn fallback_goes_from_region_to_language_to_english() {
    let tag = |raw: &str| resolve(raw).map(|l| l.tag);
    // Exact, any case, `-` or `_`.
    assert_eq!(tag("pt-BR"), Ok("pt-BR"));
    assert_eq!(tag("PT_br"), Ok("pt-BR"));
    assert_eq!(tag("zh-hk"), Ok("zh-HK"));
    assert_eq!(tag(" ja "), Ok("ja"));
    // An unknown region: its language.
    assert_eq!(tag("fr-CA"), Ok("fr"));
    assert_eq!(tag("es-419"), Ok("es"));
    assert_eq!(tag("es_MX"), Ok("es"));
    assert_eq!(tag("en-US"), Ok("en"));
    assert_eq!(tag("de-CH-1996"), Ok("de"));
    assert_eq!(tag("pt-BR-x-private"), Ok("pt-BR"));
    // Aliases: Twilio's other spellings, and Chinese scripts.
    assert_eq!(tag("fil"), Ok("tl"));
    assert_eq!(tag("no"), Ok("nb"));
    assert_eq!(tag("pt-PT"), Ok("pt"));
    assert_eq!(tag("zh-CN"), Ok("zh"));
    assert_eq!(tag("zh-Hans-CN"), Ok("zh"));
    assert_eq!(tag("zh-Hant"), Ok("zh-TW"));
    assert_eq!(tag("zh-Hant-HK"), Ok("zh-HK"));
    assert_eq!(tag("zh-MO"), Ok("zh-HK"));
    assert_eq!(tag("zh-TW"), Ok("zh-TW"));
    // An unknown language: English.
    assert_eq!(tag("xx"), Ok("en"));
    assert_eq!(tag("yue"), Ok("en"));
    assert_eq!(tag("xx-FR"), Ok("en"));
}

#[test]
fn only_what_is_not_a_language_tag_is_refused() {
    for bad in ["", " ", "e", "english", "12", "e1", "fr--CA", "fr-", "-fr", "fr CA", "fr-toolongsubtag", "fr-C@", "ü", "fr.CA"] {
        assert_eq!(resolve(bad).map(|l| l.tag), Err(InvalidTag), "{bad:?}");
    }
}

#[test]
fn stored_tags_read_back_and_old_or_unknown_ones_read_english() {
    for l in LOCALES {
        assert!(std::ptr::eq(get(l.tag), l), "{}", l.tag);
        assert_eq!(resolve(l.tag).unwrap().tag, l.tag, "every table tag resolves to itself");
    }
    assert_eq!(get("xx").tag, "en");
    assert_eq!(get("").tag, "en");
}

#[test]
fn countries_pick_their_language() {
    let tag = |c| for_country(Some(c)).tag;
    assert_eq!(tag("MX"), "es");
    assert_eq!(tag("BR"), "pt-BR");
    assert_eq!(tag("PT"), "pt");
    assert_eq!(tag("HK"), "zh-HK");
    assert_eq!(tag("TW"), "zh-TW");
    assert_eq!(tag("CN"), "zh");
    assert_eq!(tag("EG"), "ar");
    assert_eq!(tag("IN"), "hi");
    assert_eq!(tag("RU"), "ru");
    assert_eq!(tag("US"), "en");
    assert_eq!(tag("GB"), "en");
    assert_eq!(for_country(None).tag, "en");
    for (tag, countries) in COUNTRY_LOCALE {
        assert!(by_tag(tag).is_some(), "{tag} is a table entry");
        for c in *countries {
            assert!(c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()), "{c}");
            let owners = COUNTRY_LOCALE.iter().filter(|(_, cs)| cs.contains(c)).count();
            assert_eq!(owners, 1, "{c} has one locale");
        }
    }
}

#[test]
fn calls_fall_back_to_a_locale_with_a_voice() {
    let call = |t| for_call(get(t)).tag;
    assert_eq!(call("fr"), "fr");
    assert_eq!(call("en-GB"), "en-GB");
    assert_eq!(call("pt-BR"), "pt-BR");
    assert_eq!(call("zh-HK"), "zh");
    assert_eq!(call("zh-TW"), "zh");
    assert_eq!(call("hi"), "en");
    assert_eq!(call("ar"), "ar");
    for l in LOCALES {
        assert!(for_call(l).voice.is_some(), "{}", l.tag);
    }
}

/// Twilio's lists (reference, channels-fraud-ops.md 1.8): every tag of its
/// default SMS templates, its voice templates and its WhatsApp copy-code
/// templates resolves to an entry of its own language, not to English.
#[test]
fn every_tag_twilio_lists_has_its_own_texts() {
    let sms =
        "af ar ca zh-HK zh hr cs da nl en et fi fr de el he hi hu id it ja kn ko lt ms mr nb pl pt pt-BR ro ru sk es sv tl te th tr uk vi";
    let voice = "ca zh-HK zh da nl en en-GB fi fr de it ja ko nb pl pt pt-BR ru es sv";
    let whatsapp = "af sq ar az bn bg ca zh-CN zh-HK zh-TW hr cs da nl en en-GB en-US et fil fi fr ka de el gu ha he hi hu id ga it ja kn kk rw ko ky lo lv lt mk ms ml mr nb fa pl pt-BR pt-PT pa ro ru sr sk sl es es-AR es-ES es-MX sw sv ta te th tr uk ur uz vi zu";
    for tag in sms.split(' ').chain(voice.split(' ')).chain(whatsapp.split(' ')) {
        let l = resolve(tag).unwrap_or_else(|_| panic!("{tag} is a tag"));
        let language = |t: &str| {
            ALIASES.iter().find(|(a, _)| *a == t.to_ascii_lowercase()).map_or(t, |(_, to)| to).split('-').next().unwrap().to_owned()
        };
        assert_eq!(language(l.tag), language(tag), "{tag} is read as {}", l.tag);
    }
    assert_eq!(sms.split(' ').count(), 41);
}

#[test]
fn every_entry_is_complete() {
    assert_eq!(LOCALES[0].tag, "en", "English first: the fallback");
    for (i, l) in LOCALES.iter().enumerate() {
        let t = l.tag;
        assert!(LOCALES[..i].iter().all(|o| !o.tag.eq_ignore_ascii_case(t)), "{t} once");
        assert_eq!(normalize(t).as_deref(), Some(t.to_ascii_lowercase().as_str()), "{t} is a tag");
        assert!(ALIASES.iter().all(|(a, _)| *a != t.to_ascii_lowercase()), "{t} is no alias");
        for (what, text) in [("sms", l.sms), ("subject", l.subject), ("ignore", l.ignore), ("name", l.name)] {
            assert!(!text.trim().is_empty() && text.trim() == text, "{t} {what}: {text:?}");
            assert!(!text.contains("  ") && !text.chars().any(char::is_control), "{t} {what}: {text:?}");
        }
        assert_eq!(l.sms.matches(NAME).count(), 1, "{t}: sms has the name once");
        assert_eq!(l.sms.matches(CODE).count(), 1, "{t}: sms has the code once");
        assert_eq!(l.subject.matches(NAME).count(), 1, "{t}: subject has the name once");
        assert!(!l.subject.contains(CODE), "{t}: no code in a subject (mail previews show it)");
        assert!(!l.ignore.contains('{'), "{t}: the ignore line has no placeholder");
        // `{` only as the start of a placeholder.
        assert_eq!(l.sms.matches('{').count(), 2, "{t}");
        if let Some(v) = &l.voice {
            assert_eq!(v.again.matches(CODE).count(), 1, "{t}: again has the code once");
            assert!(!v.again.contains(NAME) && v.again.matches('{').count() == 1, "{t}");
            assert!(!v.id.is_empty() && v.id.bytes().all(|b| b.is_ascii_uppercase()), "{t}: {}", v.id);
        }
        // Written right to left exactly when the text is in such a script.
        let rtl_letters = l.sms.chars().any(|c| matches!(c, '\u{0590}'..='\u{08FF}'));
        assert_eq!(l.rtl, rtl_letters, "{t}");
    }
}

/// GSM 03.38: the default alphabet (one septet) and its extension table
/// (two: escape and the character). Anything else sends the whole text as
/// UCS-2 (UTF-16 units).
const GSM7_BASIC: &str =
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM7_EXTENSION: &str = "^{}\\[~]|€\u{c}";

/// How many SMS segments a text takes: 160 septets (153 each when split) in
/// GSM-7, 70 UTF-16 units (67 when split) in UCS-2.
fn segments(text: &str) -> usize {
    let septets: Option<usize> = text
        .chars()
        .map(|c| {
            if GSM7_BASIC.contains(c) {
                Some(1)
            } else if GSM7_EXTENSION.contains(c) {
                Some(2)
            } else {
                None
            }
        })
        .sum();
    let (len, single, part) = match septets {
        Some(n) => (n, 160, 153),
        None => (text.encode_utf16().count(), 70, 67),
    };
    if len <= single { 1 } else { len.div_ceil(part) }
}

#[test]
fn segments_are_counted_as_carriers_do() {
    assert_eq!(segments(&"a".repeat(160)), 1);
    assert_eq!(segments(&"a".repeat(161)), 2);
    assert_eq!(segments(&"€".repeat(80)), 1);
    assert_eq!(segments(&"€".repeat(81)), 2);
    assert_eq!(segments(&"ж".repeat(70)), 1);
    assert_eq!(segments(&"ж".repeat(71)), 2);
    assert_eq!(segments(&"ж".repeat(134)), 2);
    assert_eq!(segments(&"ж".repeat(135)), 3);
    assert_eq!(segments(&format!("{}ó", "a".repeat(69))), 1, "one letter outside GSM-7 makes it UCS-2");
}

/// The budget (README, "Locales"): with the longest friendly name (30
/// letters, in the text's alphabet or in another one, which turns a GSM-7
/// text into UCS-2) every SMS is one segment with a 6-digit code (Twilio's
/// default length) and at most two with a 10-digit code (the longest).
#[test]
fn sms_texts_fit_the_segment_budget() {
    let gsm_name = "W".repeat(MAX_FRIENDLY_NAME_CHARS);
    let other_name = "Ж".repeat(MAX_FRIENDLY_NAME_CHARS);
    let six = Code::parse("123456", 6).unwrap();
    let ten = Code::parse("1234567890", 10).unwrap();
    for l in LOCALES {
        for name in [&gsm_name, &other_name] {
            let short = sms_text(l.tag, name, &six);
            assert_eq!(segments(&short), 1, "{}: {short}", l.tag);
            let long = sms_text(l.tag, name, &ten);
            assert!(segments(&long) <= 2, "{}: {long}", l.tag);
        }
        // A GSM-7 text with a GSM-7 name stays one segment at any length.
        let text = sms_text(l.tag, &gsm_name, &ten);
        if text.chars().all(|c| GSM7_BASIC.contains(c)) {
            assert_eq!(segments(&text), 1, "{}: {text}", l.tag);
        }
    }
}
