//! What each channel delivers, localised: the message templates. The SMS
//! text is "Your {service} verification code is: {code}"; the call reads the
//! same sentence and then the code again, digit by digit, slowly (SSML); the
//! e-mail has a subject, that sentence in plain text and in HTML (the name
//! escaped), and a line saying it can be ignored. The words of every
//! locale are in [`crate::locale`]'s table.

use crate::channel::Channel;
use crate::locale;
use crate::otp::Code;

/// What a template is given.
pub struct Params<'a> {
    /// A locale tag of the table ([`crate::locale::LOCALES`]), as
    /// [`language_for`] resolves it; anything else reads English.
    pub language: &'a str,
    /// The service's (or the request's custom) friendly name.
    pub name: &'a str,
    pub code: &'a Code,
}

/// What a channel delivers. It carries the code: never logged (its Debug
/// output is redacted).
#[derive(Clone, PartialEq, Eq)]
pub enum Content {
    /// A text message (SMS).
    Text(String),
    /// What a voice call says (SSML, for a text-to-speech engine), in
    /// `language` (the sender picks a voice that speaks it).
    Ssml { language: &'static str, ssml: String },
    /// An e-mail: subject and both bodies carry the code or the name.
    Email(Email),
    /// A WhatsApp authentication template's language and code.
    Whatsapp(crate::whatsapp::Whatsapp),
}

/// An e-mail's parts (SES v2 `Simple` content).
#[derive(Clone, PartialEq, Eq)]
pub struct Email {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// A sender other than the deployment's, asked for by the start's
    /// `ChannelConfiguration` and allowed by configuration.
    pub from: EmailFrom,
}

/// Who an e-mail is from, when a start chose it (`from`, `from_name` of
/// Twilio's `ChannelConfiguration`); `None` parts are the sender's own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EmailFrom {
    pub address: Option<String>,
    pub name: Option<String>,
}

impl std::fmt::Debug for Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Content::Text(_) => f.write_str("Text(<redacted>)"),
            Content::Email(e) => write!(f, "Email(<redacted>, from: {:?})", e.from),
            Content::Ssml { language, .. } => write!(f, "Ssml({language}, <redacted>)"),
            Content::Whatsapp(w) => write!(f, "Whatsapp({}, <redacted>)", w.language),
        }
    }
}

impl Content {
    /// The text a person reads (or hears), for the local outbox; a
    /// WhatsApp template's text is Meta's, so only its code.
    pub fn text(&self) -> &str {
        match self {
            Content::Text(t) => t,
            Content::Email(e) => &e.text,
            Content::Ssml { ssml, .. } => ssml,
            Content::Whatsapp(w) => &w.code,
        }
    }
}

/// A channel's message template.
pub type Template = fn(&Params<'_>) -> Content;

/// The SMS template.
pub fn sms(p: &Params<'_>) -> Content {
    Content::Text(sms_text(p.language, p.name, p.code))
}

/// The call template: SSML read by the call's voice, in the locale
/// [`locale::for_call`] picks (the asked-for one when it has a voice).
pub fn call(p: &Params<'_>) -> Content {
    let language = locale::for_call(locale::get(p.language)).tag;
    Content::Ssml { language, ssml: call_ssml(language, p.name, p.code) }
}

/// How often a call reads the code: a listener who missed a digit, or
/// picked up late, hears it again without calling back.
pub const CALL_READINGS: usize = 3;

/// The call's SSML: the SMS sentence, then the code read [`CALL_READINGS`]
/// times (the locale's "once again" before each repetition), each digit on
/// its own (`say-as digits`, so "12" is "one two", not "twelve") with a
/// pause after it, at a slow rate. Where a language puts words after the
/// code (Japanese "…です。"), they follow each reading.
pub fn call_ssml(language: &str, service_name: &str, code: &Code) -> String {
    let entry = locale::for_call(locale::get(language));
    // `for_call` gives a locale with a voice; English has one.
    let again = entry.voice.as_ref().or(locale::english().voice.as_ref()).map_or("", |v| v.again);
    let digits: String =
        code.reveal().chars().map(|d| format!("<say-as interpret-as=\"digits\">{d}</say-as><break time=\"600ms\"/>")).collect();
    let reading = format!("<prosody rate=\"slow\">{digits}</prosody>");
    let spoken = |template: &str| {
        let (before, after) = around_code(template);
        format!(
            "{}<break time=\"700ms\"/>{reading}{}",
            xml_escape(&with_name(before, service_name)),
            xml_escape(&with_name(after, service_name))
        )
    };
    let mut ssml = format!("<speak>{}", spoken(entry.sms));
    for _ in 1..CALL_READINGS {
        ssml.push_str(&format!("<break time=\"1s\"/>{}", spoken(again)));
    }
    ssml.push_str("</speak>");
    ssml
}

/// Text as SSML character data: a friendly name may hold `&` and `'`.
fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('\'', "&apos;").replace('"', "&quot;")
}

/// The e-mail template. Its sender is the deployment's until the start
/// sets [`Email::from`].
pub fn email(p: &Params<'_>) -> Content {
    Content::Email(email_parts(p.language, p.name, p.code))
}

/// The WhatsApp template: the code, in the template language Meta names
/// for the verification's locale (the words are Meta's preset text).
pub fn whatsapp(p: &Params<'_>) -> Content {
    let language = crate::whatsapp::locale::whatsapp_language(p.language);
    Content::Whatsapp(crate::whatsapp::Whatsapp { language, code: p.code.reveal().to_owned() })
}

/// Resolves the request's `Locale` (e.g. `pt-BR`, `fr-CA`, `en_GB`) to the
/// tag of the locale whose texts are used ([`locale::resolve`]: region, then
/// language, then English); `None` only for a value that is not a language
/// tag (a 400).
pub fn language_for(locale: &str) -> Option<&'static str> {
    locale::resolve(locale).ok().map(|l| l.tag)
}

/// The locale for a number's country when no locale was asked for.
pub fn language_for_country(country: Option<&str>) -> &'static str {
    locale::for_country(country).tag
}

/// The locale a channel's message is really written in, for `language`:
/// what the verification's `locale` says. A call falls back to a locale
/// with a voice ([`locale::for_call`]); the other channels have every one.
pub fn language_used(channel: Channel, language: &'static str) -> &'static str {
    match channel {
        Channel::Call => locale::for_call(locale::get(language)).tag,
        _ => language,
    }
}

/// Subject, plain text and HTML of the e-mail in `language`. The HTML
/// escapes the name and isolates it (`<bdi>`), so a Latin name keeps its
/// order inside a right-to-left text; the document says `dir="rtl"` for
/// Arabic, Hebrew, Persian and Urdu, and the code stays left to right.
pub fn email_parts(language: &str, service_name: &str, code: &Code) -> Email {
    let entry = locale::get(language);
    let subject = with_name(entry.subject, service_name);
    let text = format!("{}\n\n{}\n", sms_text(entry.tag, service_name, code), entry.ignore);
    let e = html_escape;
    let (before, after) = entry.subject.split_once(NAME).unwrap_or((entry.subject, ""));
    let dir = if entry.rtl { " dir=\"rtl\"" } else { "" };
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"{dir}><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n\
         <p>{}<bdi>{}</bdi>{}</p>\n<p style=\"font-size:28px;font-weight:bold;letter-spacing:6px;font-family:monospace\"><bdi dir=\"ltr\">{}</bdi></p>\n\
         <p>{}</p>\n</body></html>\n",
        e(&subject),
        e(before),
        e(service_name),
        e(after),
        code.reveal(),
        e(entry.ignore),
        lang = entry.tag,
    );
    Email { subject, text, html, from: EmailFrom::default() }
}

/// Text made safe to place in HTML, inside elements or attribute values.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The placeholders of the locale table's texts.
pub const NAME: &str = "{name}";
pub const CODE: &str = "{code}";

/// A text's parts before and after `{code}` (all of it before, if none).
fn around_code(template: &str) -> (&str, &str) {
    template.split_once(CODE).unwrap_or((template, ""))
}

/// A text with the friendly name in place of `{name}`. The code goes in
/// separately ([`around_code`]), so a name can never add a placeholder.
fn with_name(text: &str, name: &str) -> String {
    text.replacen(NAME, name, 1)
}

/// The SMS text in `language`: the locale's sentence with name and code.
pub fn sms_text(language: &str, service_name: &str, code: &Code) -> String {
    let (before, after) = around_code(locale::get(language).sms);
    format!("{}{}{}", with_name(before, service_name), code.reveal(), with_name(after, service_name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locale::LOCALES;

    #[test]
    fn every_locale_carries_name_and_code() {
        let code = Code::parse("123456", 6).unwrap();
        for l in LOCALES {
            let text = sms_text(l.tag, "Acme", &code);
            assert!(text.contains("Acme") && text.contains("123456"), "{}: {text}", l.tag);
            assert!(!text.contains('{'), "{}: every placeholder is filled: {text}", l.tag);
        }
        assert_eq!(sms_text("en", "Acme", &code), "Your Acme verification code is: 123456");
        assert_eq!(sms_text("ja", "Acme", &code), "Acmeの認証コードは123456です。");
        assert_eq!(sms_text("xx", "Acme", &code), sms_text("en", "Acme", &code), "a tag not in the table reads English");
    }

    /// The digits a listener hears, in order: the text of every `say-as`.
    fn spoken_digits(ssml: &str) -> Vec<String> {
        ssml.split("<say-as interpret-as=\"digits\">").skip(1).map(|s| s.split('<').next().unwrap().to_owned()).collect()
    }

    /// The words a listener hears, the tags taken away.
    fn spoken_text(ssml: &str) -> String {
        ssml.split('<').map(|s| s.split_once('>').map_or(s, |(_, t)| t)).collect()
    }

    #[test]
    fn a_call_reads_each_digit_on_its_own_and_repeats_the_code() {
        let code = Code::parse("904217", 6).unwrap();
        for l in LOCALES {
            let ssml = call_ssml(l.tag, "Acme", &code);
            assert!(ssml.starts_with("<speak>") && ssml.ends_with("</speak>"), "{}: {ssml}", l.tag);
            assert!(ssml.contains("Acme"), "{}: {ssml}", l.tag);
            let heard = spoken_digits(&ssml).concat();
            assert_eq!(heard, "904217".repeat(CALL_READINGS), "{}: {ssml}", l.tag);
            assert_eq!(ssml.matches("<break time=\"600ms\"/>").count(), 6 * CALL_READINGS);
            // Where the sentence ends with the code, nothing follows its
            // last reading; otherwise only the sentence's own ending does.
            let last = locale::for_call(l).voice.as_ref().unwrap().again;
            let tail = last.split_once(CODE).unwrap().1;
            assert!(spoken_text(&ssml).ends_with(&format!("904217{tail}")), "{}: {ssml}", l.tag);
        }
        assert!(call_ssml("de", "Acme", &code).contains("Noch einmal"));
        assert!(call_ssml("xx", "Acme", &code).contains("Once again"), "an unknown language reads English");
        assert!(call_ssml("hi", "Acme", &code).contains("Once again"), "no Hindi voice: English");
        assert!(call_ssml("zh-HK", "Acme", &code).contains("验证码"), "Cantonese has no voice: Mandarin");
        assert!(call_ssml("ja", "Acme", &code).contains("認証コードは<break"), "{}", call_ssml("ja", "Acme", &code));
    }

    #[test]
    fn a_call_is_in_the_locale_it_can_be_read_in() {
        let code = Code::parse("123456", 6).unwrap();
        for (asked, read) in [("fr", "fr"), ("pt-BR", "pt-BR"), ("en-GB", "en-GB"), ("hi", "en"), ("zh-HK", "zh"), ("ca", "en")] {
            let content = call(&Params { language: asked, name: "Acme", code: &code });
            assert!(matches!(&content, Content::Ssml { language, .. } if *language == read), "{asked}: {content:?}");
            assert_eq!(language_used(Channel::Call, asked_tag(asked)), read);
            assert_eq!(language_used(Channel::Sms, asked_tag(asked)), asked);
        }
    }

    fn asked_tag(tag: &str) -> &'static str {
        locale::by_tag(tag).unwrap().tag
    }

    #[test]
    fn a_call_escapes_the_name_and_never_shows_the_code_in_debug() {
        let code = Code::parse("123456", 6).unwrap();
        let ssml = call_ssml("en", "Tom & Jerry's", &code);
        assert!(ssml.contains("Tom &amp; Jerry&apos;s"), "{ssml}");
        let content = call(&Params { language: "fr", name: "Acme", code: &code });
        assert!(matches!(&content, Content::Ssml { language: "fr", .. }));
        assert_eq!(format!("{content:?}"), "Ssml(fr, <redacted>)");
        assert_eq!(content.text(), call_ssml("fr", "Acme", &code));
    }

    #[test]
    fn every_locale_has_an_email_with_name_and_code_and_the_name_escaped() {
        let code = Code::parse("123456", 6).unwrap();
        for l in LOCALES {
            let lang = l.tag;
            let m = email_parts(lang, "Tom & Jerry's", &code);
            assert!(m.subject.contains("Tom & Jerry's") && !m.subject.contains("123456"), "{lang}: {}", m.subject);
            assert!(m.text.contains("Tom & Jerry's") && m.text.contains("123456") && m.text.contains(l.ignore), "{lang}: {}", m.text);
            assert!(m.html.contains("<bdi>Tom &amp; Jerry&#39;s</bdi>"), "{lang}: {}", m.html);
            assert!(m.html.contains("<bdi dir=\"ltr\">123456</bdi>"), "{lang}: {}", m.html);
            assert!(!m.html.contains("Tom & Jerry"), "{lang}: the name is escaped");
            assert!(m.html.contains(&html_escape(l.ignore)), "{lang}: {}", m.html);
            assert!(m.html.contains(&format!("lang=\"{lang}\"")));
            assert_eq!(m.html.contains("dir=\"rtl\""), l.rtl, "{lang}: right to left exactly when the script is");
        }
        let en = email_parts("en", "Acme", &code);
        assert_eq!(en.subject, "Your Acme verification code");
        assert!(en.text.starts_with("Your Acme verification code is: 123456\n\n"));
        assert_eq!(email_parts("de", "Acme", &code).subject, "Ihr Bestätigungscode für Acme");
        assert!(email_parts("ar", "Acme", &code).html.starts_with("<!DOCTYPE html>\n<html lang=\"ar\" dir=\"rtl\">"));
        assert_eq!(html_escape("<a href=\"x\">"), "&lt;a href=&quot;x&quot;&gt;");
        let content = email(&Params { language: "en", name: "Acme", code: &code });
        assert!(!format!("{content:?}").contains("123456"), "Debug is redacted");
        assert_eq!(content.text(), en.text);
    }

    #[test]
    fn locales_resolve_to_the_texts_used() {
        assert_eq!(language_for("pt-BR"), Some("pt-BR"));
        assert_eq!(language_for("pt_br"), Some("pt-BR"));
        assert_eq!(language_for("pt-PT"), Some("pt"));
        assert_eq!(language_for("en_GB"), Some("en-GB"));
        assert_eq!(language_for("ES"), Some("es"));
        assert_eq!(language_for("fr-CA"), Some("fr"));
        assert_eq!(language_for("xx"), Some("en"));
        assert_eq!(language_for("1x"), None);
        assert_eq!(language_for_country(Some("MX")), "es");
        assert_eq!(language_for_country(Some("BR")), "pt-BR");
        assert_eq!(language_for_country(Some("JP")), "ja");
        assert_eq!(language_for_country(Some("US")), "en");
        assert_eq!(language_for_country(None), "en");
    }
}
