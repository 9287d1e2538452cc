//! Locales: which language a message is written in. One table
//! ([`table::LOCALES`]) holds every locale Twilio Verify lists, with the
//! words of each channel's message and the voice that reads the call; one
//! lookup ([`resolve`]) turns a request's `Locale` into an entry of it, and
//! every channel takes its words from the entry it gets.
//!
//! The fallback rule, in order: an alias (`fil` is `tl`, `zh-Hant` is
//! `zh-TW`, …), the tag itself (`pt-BR`), its language (`fr-CA` is `fr`,
//! `es-419` is `es`), then English. Tags match case-insensitively, with `-`
//! or `_`. Only a tag that is not a language tag at all (`12`, `e n`,
//! `fr--CA`) is refused; Twilio's own description of `Locale` says a
//! translation it lacks falls back to English, so a well-formed tag never
//! fails a start.

mod table;

pub use table::LOCALES;

/// One locale and the words of its messages. `{name}` stands for the
/// friendly name, `{code}` for the code; both appear exactly once where
/// they appear (a unit test checks every entry).
#[derive(Debug)]
pub struct Locale {
    /// The tag as Twilio spells it (`en`, `pt-BR`, `zh-HK`): what the
    /// verification's `locale` field says and what the record stores.
    pub tag: &'static str,
    /// The language's English name, for the README and logs.
    pub name: &'static str,
    /// Written right to left (Arabic, Hebrew, Persian, Urdu): the e-mail's
    /// HTML says `dir="rtl"`.
    pub rtl: bool,
    /// The SMS text, with `{name}` and `{code}`; the call reads it too,
    /// and the e-mail's plain text opens with it.
    pub sms: &'static str,
    /// The e-mail's subject and heading, with `{name}` and no code.
    pub subject: &'static str,
    /// The e-mail's line for a person who did not ask for the code.
    pub ignore: &'static str,
    /// The call's voice, where the voice API has one for the language.
    pub voice: Option<Voice>,
}

/// How a call is read in a locale.
#[derive(Debug)]
pub struct Voice {
    /// The Amazon Polly voice as End User Messaging's `SendVoiceMessage`
    /// names it (`VoiceId`, upper case on the wire).
    pub id: &'static str,
    /// What the call says before each repetition of the code, with `{code}`.
    pub again: &'static str,
}

/// Other spellings of a locale: older or broader codes Twilio's lists use
/// for the same texts (`fil` in its WhatsApp list is the `tl` of its SMS
/// list), and script subtags that pick between the Chinese entries.
const ALIASES: &[(&str, &str)] = &[
    ("fil", "tl"),
    ("no", "nb"),
    ("nn", "nb"),
    ("iw", "he"),
    ("in", "id"),
    ("pt-pt", "pt"),
    ("zh-cn", "zh"),
    ("zh-sg", "zh"),
    ("zh-hans", "zh"),
    ("zh-mo", "zh-HK"),
    ("zh-hant", "zh-TW"),
    ("zh-hant-hk", "zh-HK"),
    ("zh-hant-mo", "zh-HK"),
    ("zh-hant-tw", "zh-TW"),
];

/// The locale every fallback ends at.
pub fn english() -> &'static Locale {
    &LOCALES[0]
}

/// A `Locale` value that is not a language tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidTag;

/// The request's `Locale` resolved by the fallback rule (module docs);
/// `Err` only for a value that is not a language tag.
pub fn resolve(raw: &str) -> Result<&'static Locale, InvalidTag> {
    let tag = normalize(raw).ok_or(InvalidTag)?;
    let alias = |t: &str| ALIASES.iter().find(|(a, _)| *a == t).map(|(_, to)| by_tag(to));
    // The longest prefix that is an alias or a locale, subtag by subtag:
    // `zh-hant-tw` is an alias, `pt-br-x` is `pt-BR`, `fr-ca` is `fr`.
    let mut end = tag.len();
    loop {
        let prefix = &tag[..end];
        if let Some(found) = alias(prefix).flatten().or_else(|| by_tag(prefix)) {
            return Ok(found);
        }
        match prefix.rfind('-') {
            Some(cut) => end = cut,
            None => return Ok(english()),
        }
    }
}

/// The entry whose tag is `tag`, any case; `None` if there is none.
pub fn by_tag(tag: &str) -> Option<&'static Locale> {
    LOCALES.iter().find(|l| l.tag.eq_ignore_ascii_case(tag))
}

/// The entry for a tag this service stored or chose itself (a record's
/// `locale`, a message's language): English for anything else, so an item
/// written by an older version still reads.
pub fn get(tag: &str) -> &'static Locale {
    by_tag(tag).unwrap_or_else(english)
}

/// The locale a call is read in: the asked-for one when the voice API has
/// a voice for it, else the first along the same fallback that has one
/// (`zh-HK` is read by the Mandarin voice, a language with no voice at all
/// in English). What the call used is what the verification reports.
pub fn for_call(locale: &'static Locale) -> &'static Locale {
    if locale.voice.is_some() {
        return locale;
    }
    let language = locale.tag.split('-').next().unwrap_or(locale.tag);
    by_tag(language).filter(|l| l.voice.is_some()).unwrap_or_else(english)
}

/// `raw` lower-cased with `-` between subtags, if it is a language tag:
/// a primary language of 2 or 3 letters, then subtags of 1 to 8 letters or
/// digits (BCP 47's shape, without checking the registry, so a region or
/// script Twilio has not heard of still falls back instead of failing).
fn normalize(raw: &str) -> Option<String> {
    let tag = raw.trim().replace('_', "-").to_ascii_lowercase();
    let mut parts = tag.split('-');
    let primary = parts.next()?;
    let primary_ok = (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_lowercase());
    let rest_ok = parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    (primary_ok && rest_ok).then_some(tag)
}

/// Countries whose numbers get a locale other than English when a start
/// names none (ISO 3166 alpha-2, as the phone number parser gives them).
/// One official or dominant language per country, among ours; countries
/// with several (Switzerland, Belgium, India, South Africa) get the one
/// most of their numbers read, or English where none is.
const COUNTRY_LOCALE: &[(&str, &[&str])] = &[
    ("es", &["ES", "MX", "AR", "CO", "CL", "PE", "VE", "EC", "GT", "CU", "BO", "DO", "HN", "PY", "SV", "NI", "CR", "PA", "UY", "GQ"]),
    (
        "fr",
        &[
            "FR", "BE", "LU", "MC", "SN", "CI", "CM", "ML", "BF", "NE", "TG", "BJ", "MG", "HT", "GA", "CG", "CD", "GN", "TD", "CF", "DJ",
            "KM", "RE", "GP", "MQ", "GF", "PF", "NC", "PM", "YT", "WF", "BL", "MF",
        ],
    ),
    ("de", &["DE", "AT", "LI", "CH"]),
    ("pt", &["PT", "AO", "MZ", "CV", "GW", "ST"]),
    ("pt-BR", &["BR"]),
    ("it", &["IT", "SM", "VA"]),
    ("nl", &["NL", "SR", "AW", "CW", "SX", "BQ"]),
    ("ca", &["AD"]),
    ("da", &["DK", "GL", "FO"]),
    ("nb", &["NO", "SJ"]),
    ("sv", &["SE", "AX"]),
    ("fi", &["FI"]),
    ("et", &["EE"]),
    ("lv", &["LV"]),
    ("lt", &["LT"]),
    ("pl", &["PL"]),
    ("cs", &["CZ"]),
    ("sk", &["SK"]),
    ("hu", &["HU"]),
    ("ro", &["RO", "MD"]),
    ("bg", &["BG"]),
    ("el", &["GR", "CY"]),
    ("hr", &["HR"]),
    ("sl", &["SI"]),
    ("sr", &["RS", "ME"]),
    ("mk", &["MK"]),
    ("sq", &["AL", "XK"]),
    ("ru", &["RU", "BY"]),
    ("uk", &["UA"]),
    ("kk", &["KZ"]),
    ("ky", &["KG"]),
    ("uz", &["UZ"]),
    ("az", &["AZ"]),
    ("ka", &["GE"]),
    ("tr", &["TR"]),
    ("he", &["IL"]),
    ("ar", &["SA", "AE", "EG", "IQ", "JO", "KW", "LB", "LY", "MA", "DZ", "TN", "OM", "QA", "BH", "YE", "SY", "PS", "SD", "MR"]),
    ("fa", &["IR", "AF"]),
    ("ur", &["PK"]),
    ("hi", &["IN"]),
    ("bn", &["BD"]),
    ("th", &["TH"]),
    ("lo", &["LA"]),
    ("vi", &["VN"]),
    ("id", &["ID"]),
    ("ms", &["MY", "BN"]),
    ("zh", &["CN"]),
    ("zh-HK", &["HK", "MO"]),
    ("zh-TW", &["TW"]),
    ("ja", &["JP"]),
    ("ko", &["KR"]),
    ("sw", &["TZ"]),
    ("rw", &["RW"]),
];

/// The locale for a number's country when the start names none.
pub fn for_country(country: Option<&str>) -> &'static Locale {
    country.and_then(|c| COUNTRY_LOCALE.iter().find(|(_, cs)| cs.contains(&c))).map_or_else(english, |(tag, _)| get(tag))
}

#[cfg(test)]
mod tests;
