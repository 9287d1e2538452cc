//! What each channel delivers, localised: the message templates. The SMS
//! text is "Your {service} verification code is: {code}"; the call reads the
//! same sentence and then the code again, digit by digit, slowly (SSML); the
//! e-mail has a subject, that sentence in plain text and in HTML (the name
//! escaped), and a line saying it can be ignored.

use crate::otp::Code;

/// What a template is given.
pub struct Params<'a> {
    /// One of the languages [`language_for`] resolves to.
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

/// The call template: SSML read by the call's voice.
pub fn call(p: &Params<'_>) -> Content {
    let language = TEMPLATES.iter().find(|t| t.0 == p.language).map_or("en", |t| t.0);
    Content::Ssml { language, ssml: call_ssml(language, p.name, p.code) }
}

/// What a call says besides the code: the SMS sentence first, then "once
/// again" before each repetition.
const CALL_AGAIN: &[(&str, &str)] = &[
    ("en", "Once again, your code is:"),
    ("es", "Repito, su código es:"),
    ("fr", "Je répète, votre code est :"),
    ("de", "Noch einmal, Ihr Code lautet:"),
    ("pt", "Repetindo, seu código é:"),
];

/// How often a call reads the code: a listener who missed a digit, or
/// picked up late, hears it again without calling back.
pub const CALL_READINGS: usize = 3;

/// The call's SSML: the sentence, then the code read [`CALL_READINGS`]
/// times, each digit on its own (`say-as digits`, so "12" is "one two", not
/// "twelve") with a pause after it, at a slow rate. The code's last reading
/// ends the text, so nothing follows the final digit but closing tags.
pub fn call_ssml(language: &str, service_name: &str, code: &Code) -> String {
    let (_, before, after) = TEMPLATES.iter().find(|t| t.0 == language).unwrap_or(&TEMPLATES[0]);
    let again = CALL_AGAIN.iter().find(|t| t.0 == language).unwrap_or(&CALL_AGAIN[0]).1;
    let digits: String = code
        .reveal()
        .chars()
        .map(|d| format!("<say-as interpret-as=\"digits\">{d}</say-as><break time=\"600ms\"/>"))
        .collect();
    let reading = format!("<prosody rate=\"slow\">{digits}</prosody>");
    let mut ssml = format!("<speak>{}<break time=\"700ms\"/>{reading}", xml_escape(&format!("{before}{service_name}{after}")));
    for _ in 1..CALL_READINGS {
        ssml.push_str(&format!("<break time=\"1s\"/>{}<break time=\"700ms\"/>{reading}", xml_escape(again)));
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

/// Languages we have a template for, with the text around the name and code.
const TEMPLATES: &[(&str, &str, &str)] = &[
    ("en", "Your ", " verification code is: "),
    ("es", "Tu código de verificación de ", " es: "),
    ("fr", "Votre code de vérification ", " est : "),
    ("de", "Ihr ", " Bestätigungscode lautet: "),
    ("pt", "Seu código de verificação do ", " é: "),
];

/// Which language to use for a country when the request names none.
const COUNTRY_LANGUAGE: &[(&str, &[&str])] = &[
    ("es", &["ES", "MX", "AR", "CO", "CL", "PE", "VE", "EC", "GT", "CU", "BO", "DO", "HN", "PY", "SV", "NI", "CR", "PA", "UY"]),
    ("fr", &["FR", "BE", "LU", "MC", "SN", "CI", "CM", "ML", "BF", "NE", "TG", "BJ", "MG", "HT"]),
    ("de", &["DE", "AT", "LI"]),
    ("pt", &["PT", "BR", "AO", "MZ", "CV"]),
];

/// Resolves the request's `Locale` (e.g. `pt-BR`, `es`, `en_GB`) to one of our
/// languages; `None` means we have no template for it (a 400, not a silent
/// switch to English, so a misspelt locale is noticed).
pub fn language_for(locale: &str) -> Option<&'static str> {
    let primary = locale.split(['-', '_']).next()?.to_ascii_lowercase();
    TEMPLATES.iter().map(|t| t.0).find(|l| *l == primary)
}

/// The language for a number's country when no locale was asked for.
pub fn language_for_country(country: Option<&str>) -> &'static str {
    country
        .and_then(|c| COUNTRY_LANGUAGE.iter().find(|(_, cs)| cs.contains(&c)).map(|(l, _)| *l))
        .unwrap_or("en")
}

/// The e-mail's own words per language: the subject around the name, and
/// the line telling a person who did not ask for the code what to do. The
/// sentence with the code is the SMS text ([`TEMPLATES`]).
const EMAIL_TEMPLATES: &[(&str, &str, &str, &str)] = &[
    ("en", "Your ", " verification code", "If you did not request this code, you can ignore this email."),
    ("es", "Tu código de verificación de ", "", "Si no has solicitado este código, puedes ignorar este correo."),
    ("fr", "Votre code de vérification ", "", "Si vous n'avez pas demandé ce code, vous pouvez ignorer cet e-mail."),
    ("de", "Ihr ", " Bestätigungscode", "Wenn Sie diesen Code nicht angefordert haben, können Sie diese E-Mail ignorieren."),
    ("pt", "Seu código de verificação do ", "", "Se você não solicitou este código, pode ignorar este e-mail."),
];

/// Subject, plain text and HTML of the e-mail in `language`. The name is
/// escaped in the HTML (the code is digits only).
pub fn email_parts(language: &str, service_name: &str, code: &Code) -> Email {
    let (lang, before, after, ignore) = EMAIL_TEMPLATES.iter().find(|t| t.0 == language).unwrap_or(&EMAIL_TEMPLATES[0]);
    let (_, sms_before, sms_after) = TEMPLATES.iter().find(|t| t.0 == *lang).unwrap_or(&TEMPLATES[0]);
    let subject = format!("{before}{service_name}{after}");
    let text = format!("{}\n\n{ignore}\n", sms_text(lang, service_name, code));
    let e = html_escape;
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n\
         <p>{}{}{}</p>\n<p style=\"font-size:28px;font-weight:bold;letter-spacing:6px;font-family:monospace\">{}</p>\n\
         <p>{}</p>\n</body></html>\n",
        e(&subject),
        e(sms_before),
        e(service_name),
        e(sms_after.trim_end()),
        code.reveal(),
        e(ignore),
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

pub fn sms_text(language: &str, service_name: &str, code: &Code) -> String {
    let (_, before, after) = TEMPLATES.iter().find(|t| t.0 == language).unwrap_or(&TEMPLATES[0]);
    format!("{before}{service_name}{after}{}", code.reveal())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_carries_name_and_code() {
        let code = Code::parse("123456", 6).unwrap();
        for (lang, _, _) in TEMPLATES {
            let text = sms_text(lang, "Acme", &code);
            assert!(text.contains("Acme") && text.ends_with("123456"), "{lang}: {text}");
        }
        assert_eq!(sms_text("en", "Acme", &code), "Your Acme verification code is: 123456");
    }

    /// The digits a listener hears, in order: the text of every `say-as`.
    fn spoken_digits(ssml: &str) -> Vec<String> {
        ssml.split("<say-as interpret-as=\"digits\">").skip(1).map(|s| s.split('<').next().unwrap().to_owned()).collect()
    }

    #[test]
    fn a_call_reads_each_digit_on_its_own_and_repeats_the_code() {
        let code = Code::parse("904217", 6).unwrap();
        for (lang, _, _) in TEMPLATES {
            let ssml = call_ssml(lang, "Acme", &code);
            assert!(ssml.starts_with("<speak>") && ssml.ends_with("</prosody></speak>"), "{lang}: {ssml}");
            assert!(ssml.contains("Acme"), "{lang}: {ssml}");
            let heard = spoken_digits(&ssml).concat();
            assert_eq!(heard, "904217".repeat(CALL_READINGS), "{lang}: {ssml}");
            assert_eq!(ssml.matches("<break time=\"600ms\"/>").count(), 6 * CALL_READINGS);
            // With the tags taken away the code is the text's last word.
            let text: String = ssml.split('<').map(|s| s.split_once('>').map_or(s, |(_, t)| t)).collect();
            assert!(text.ends_with("904217"), "{lang}: {text}");
        }
        assert!(call_ssml("de", "Acme", &code).contains("Noch einmal"));
        assert!(call_ssml("xx", "Acme", &code).contains("Once again"), "an unknown language reads English");
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
    fn every_language_has_an_email_with_name_and_code_and_the_name_escaped() {
        let code = Code::parse("123456", 6).unwrap();
        for (lang, _, _) in TEMPLATES {
            let m = email_parts(lang, "Tom & Jerry's", &code);
            assert!(m.subject.contains("Tom & Jerry's") && !m.subject.contains("123456"), "{lang}: {}", m.subject);
            assert!(m.text.contains("Tom & Jerry's") && m.text.contains("123456"), "{lang}: {}", m.text);
            assert!(m.html.contains("Tom &amp; Jerry&#39;s") && m.html.contains(">123456<"), "{lang}: {}", m.html);
            assert!(!m.html.contains("Tom & Jerry"), "{lang}: the name is escaped");
            assert!(m.html.contains(&format!("lang=\"{lang}\"")));
            assert!(EMAIL_TEMPLATES.iter().any(|t| t.0 == *lang), "{lang} has e-mail words");
        }
        let en = email_parts("en", "Acme", &code);
        assert_eq!(en.subject, "Your Acme verification code");
        assert!(en.text.starts_with("Your Acme verification code is: 123456\n\n"));
        assert_eq!(email_parts("de", "Acme", &code).subject, "Ihr Acme Bestätigungscode");
        assert_eq!(html_escape("<a href=\"x\">"), "&lt;a href=&quot;x&quot;&gt;");
        let content = email(&Params { language: "en", name: "Acme", code: &code });
        assert!(!format!("{content:?}").contains("123456"), "Debug is redacted");
        assert_eq!(content.text(), en.text);
    }

    #[test]
    fn locales_resolve_to_languages() {
        assert_eq!(language_for("pt-BR"), Some("pt"));
        assert_eq!(language_for("en_GB"), Some("en"));
        assert_eq!(language_for("ES"), Some("es"));
        assert_eq!(language_for("xx"), None);
        assert_eq!(language_for_country(Some("MX")), "es");
        assert_eq!(language_for_country(Some("US")), "en");
        assert_eq!(language_for_country(None), "en");
    }
}
