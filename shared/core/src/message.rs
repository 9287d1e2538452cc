//! What each channel delivers, localised: the message templates. The SMS
//! text is "Your {service} verification code is: {code}".

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
}

impl std::fmt::Debug for Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Content::Text(_) => f.write_str("Text(<redacted>)"),
        }
    }
}

impl Content {
    /// The text a person reads (or hears), for the local outbox.
    pub fn text(&self) -> &str {
        match self {
            Content::Text(t) => t,
        }
    }
}

/// A channel's message template.
pub type Template = fn(&Params<'_>) -> Content;

/// The SMS template.
pub fn sms(p: &Params<'_>) -> Content {
    Content::Text(sms_text(p.language, p.name, p.code))
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
