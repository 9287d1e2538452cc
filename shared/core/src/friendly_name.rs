//! The rule for any name put into a message that carries a code: a
//! service's `friendly_name` or a start's `CustomFriendlyName`.
//!
//! The name sits next to the code ("Your {name} verification code is:
//! 123456"), so it must not be able to pass for a link or for a code:
//!
//! - letters, ASCII digits, spaces and `- _ ' & , !` only: no dots,
//!   slashes, colons or other punctuation, no digits of other scripts.
//!   Letters of other scripts are those Unicode allows in identifiers
//!   (UTS #39 General Security Profile: modern scripts, no obsolete or
//!   look-alike-prone ones), with the combining marks those scripts need
//!   (a Devanagari virama, Thai tone marks) only right after a letter;
//! - no letter that Unicode lists as confusable with a dot (UTS #39
//!   confusables: Lisu tone letters `ꓸ`, …), so "evilꓸcom" cannot be read
//!   as a domain;
//! - no run of 4 or more digits, counting letters confusable with digits
//!   (`З`, `б`, …) and ignoring separators between them, so "123456 is your
//!   code" cannot put a fake code ahead of the real one or fool one-time
//!   code autofill;
//! - no word that is a URL scheme or `www`.
//!
//! The two tables below are derived from Unicode's confusables data; a unit
//! test recomputes them from the `unicode-security` crate over every code
//! point, so they cannot drift silently when either side is updated.

/// Longest friendly name, Twilio's limit for the name shown in the SMS.
pub const MAX_FRIENDLY_NAME_CHARS: usize = 30;

/// Punctuation allowed besides letters, digits and spaces.
const ALLOWED_PUNCTUATION: &str = " -_'&,!";

/// Digits in a row (separators between them included) that could pass for a code.
const MAX_DIGIT_RUN: usize = 3;

/// Words that only appear in links. (Dots and colons are refused anyway;
/// everyday words that are also schemes, like "data" or "file", stay allowed.)
const URL_WORDS: &[&str] = &["http", "https", "www", "ftp", "ftps", "mailto", "javascript"];

/// Alphabetic characters whose UTS #39 skeleton contains a full stop.
const DOT_LIKE: &[(char, char)] = &[('\u{a4f8}', '\u{a4f8}'), ('\u{a4fa}', '\u{a4fb}')];

/// Alphabetic characters whose UTS #39 skeleton contains an ASCII digit.
const DIGIT_LIKE: &[(char, char)] = &[
    ('\u{1a7}', '\u{1a7}'),
    ('\u{1b7}', '\u{1b7}'),
    ('\u{1bb}', '\u{1bc}'),
    ('\u{1ee}', '\u{1ee}'),
    ('\u{21c}', '\u{21c}'),
    ('\u{222}', '\u{223}'),
    ('\u{3e8}', '\u{3e8}'),
    ('\u{3ec}', '\u{3ec}'),
    ('\u{417}', '\u{417}'),
    ('\u{431}', '\u{431}'),
    ('\u{498}', '\u{498}'),
    ('\u{4de}', '\u{4de}'),
    ('\u{4e0}', '\u{4e0}'),
    ('\u{545}', '\u{545}'),
    ('\u{b03}', '\u{b03}'),
    ('\u{10c7}', '\u{10c7}'),
    ('\u{13ce}', '\u{13ce}'),
    ('\u{13ee}', '\u{13ee}'),
    ('\u{14bf}', '\u{14bf}'),
    ('\u{152f}', '\u{1530}'),
    ('\u{1616}', '\u{1616}'),
    ('\u{1702}', '\u{1702}'),
    ('\u{172a}', '\u{172a}'),
    ('\u{1c84}', '\u{1c84}'),
    ('\u{1c95}', '\u{1c95}'),
    ('\u{1cb7}', '\u{1cb7}'),
    ('\u{2c9c}', '\u{2c9c}'),
    ('\u{2cc4}', '\u{2cc4}'),
    ('\u{2cca}', '\u{2ccc}'),
    ('\u{2cd2}', '\u{2cd3}'),
    ('\u{2cdc}', '\u{2cdc}'),
    ('\u{a543}', '\u{a543}'),
    ('\u{a589}', '\u{a589}'),
    ('\u{a644}', '\u{a644}'),
    ('\u{a6dd}', '\u{a6dd}'),
    ('\u{a6ef}', '\u{a6ef}'),
    ('\u{a728}', '\u{a728}'),
    ('\u{a75a}', '\u{a75a}'),
    ('\u{a76a}', '\u{a76a}'),
    ('\u{a76e}', '\u{a76f}'),
    ('\u{a7ab}', '\u{a7ab}'),
    ('\u{a8f6}', '\u{a8f6}'),
    ('\u{ab9e}', '\u{ab9e}'),
    ('\u{abbe}', '\u{abbe}'),
    ('\u{1031a}', '\u{1031a}'),
    ('\u{104d2}', '\u{104d2}'),
    ('\u{11445}', '\u{11445}'),
    ('\u{118ac}', '\u{118ac}'),
    ('\u{118af}', '\u{118af}'),
    ('\u{118bb}', '\u{118bb}'),
    ('\u{118c6}', '\u{118c6}'),
    ('\u{118ca}', '\u{118ca}'),
    ('\u{118cc}', '\u{118cc}'),
    ('\u{118d5}', '\u{118d6}'),
    ('\u{169c1}', '\u{169c1}'),
    ('\u{169fe}', '\u{169fe}'),
    ('\u{16f3b}', '\u{16f3b}'),
];

fn in_table(c: char, table: &[(char, char)]) -> bool {
    table.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// Whether `c` may appear in a name after `previous` (`None` at the start).
fn allowed_char(c: char, previous: Option<char>) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || ALLOWED_PUNCTUATION.contains(c);
    }
    use unicode_security::GeneralSecurityProfile;
    if !c.identifier_allowed() || c.is_numeric() || in_table(c, DOT_LIKE) {
        return false;
    }
    let mark = unicode_normalization::char::is_combining_mark(c);
    let after_letter = previous.is_some_and(|p| p.is_alphabetic() || unicode_normalization::char::is_combining_mark(p));
    c.is_alphabetic() || (mark && after_letter)
}

fn digit_like(c: char) -> bool {
    c.is_ascii_digit() || in_table(c, DIGIT_LIKE)
}

/// The longest run of digit-like characters, separators in between included.
fn longest_digit_run(name: &str) -> usize {
    let (mut longest, mut run) = (0, 0);
    for c in name.chars() {
        if digit_like(c) {
            run += 1;
            longest = longest.max(run);
        } else if c.is_alphanumeric() || c == '&' || c == '!' {
            run = 0;
        }
    }
    longest
}

/// Checks and trims a name; the error says what is wrong with it.
pub fn check_friendly_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_FRIENDLY_NAME_CHARS {
        return Err(format!("must be 1 to {MAX_FRIENDLY_NAME_CHARS} characters"));
    }
    let previous = std::iter::once(None).chain(name.chars().map(Some));
    if let Some((bad, _)) = name.chars().zip(previous).find(|(c, p)| !allowed_char(*c, *p)) {
        return Err(format!("{bad:?} is not allowed (letters, digits, spaces and - _ ' & , ! only)"));
    }
    if longest_digit_run(name) > MAX_DIGIT_RUN {
        return Err(format!("must not hold more than {MAX_DIGIT_RUN} digits in a row (it could pass for a code)"));
    }
    let words = name.split(|c: char| !c.is_alphanumeric()).map(str::to_lowercase);
    if let Some(word) = words.into_iter().find(|w| URL_WORDS.contains(&w.as_str())) {
        return Err(format!("must not contain {word:?} (it could pass for a link)"));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_in_any_script_pass() {
        for ok in [
            "Acme Bank",
            "Zürich Café-Bar_1",
            "Studio 54",
            "Route 66 Diner",
            "3M",
            "A&B, Co!",
            "株式会社ノジマ",
            "Зенит",
            "नमस्ते",
            "שלום",
            "بنك",
            "สวัสดี",
            "Ελλάδα",
            "한국은행",
        ] {
            assert_eq!(check_friendly_name(ok).as_deref(), Ok(ok), "{ok:?}");
        }
        assert_eq!(check_friendly_name(" Acme Bank ").unwrap(), "Acme Bank");
    }

    #[test]
    fn nothing_that_passes_for_a_link() {
        for bad in [
            "http://x",
            "a/b",
            "x.io",
            "evil\u{a4f8}com",
            "evil\u{0660}com",
            "evil\u{06f0}com",
            "evil·com",
            "evil．com",
            "https evil",
            "www evil com",
            "x:y",
        ] {
            assert!(check_friendly_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn nothing_that_passes_for_a_code() {
        for bad in ["123456 is your code", "1234", "12 34", "1-2-3-4", "Code 9999", "१२३४", "１２３４", "З4З4", "12З4"] {
            assert!(check_friendly_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_friendly_name("123 Main").is_ok());
        assert!(check_friendly_name("12 Ab 34").is_ok(), "letters break a run");
    }

    #[test]
    fn other_bad_names() {
        for bad in [
            "",
            "a".repeat(31).as_str(),
            "line\nbreak",
            "tab\tname",
            "zero\u{200b}width",
            "rtl\u{202e}x",
            "\u{301}Acme",
            "Acme \u{307}",
            "ꓸ",
        ] {
            assert!(check_friendly_name(bad).is_err(), "{bad:?}");
        }
    }

    /// The tables are exactly the alphabetic characters that Unicode's
    /// confusables data maps to something holding a dot or a digit.
    #[test]
    fn confusable_tables_match_unicode_data() {
        let (mut dots, mut digits) = (Vec::new(), Vec::new());
        for c in (0x80u32..=0x10FFFF).filter_map(char::from_u32).filter(|c| c.is_alphabetic()) {
            let skeleton: String = unicode_security::skeleton(&c.to_string()).collect();
            if skeleton.contains('.') {
                dots.push(c);
            } else if skeleton.chars().any(|s| s.is_ascii_digit()) {
                digits.push(c);
            }
        }
        let listed = |table: &[(char, char)]| -> Vec<char> { table.iter().flat_map(|&(lo, hi)| lo..=hi).collect() };
        assert_eq!(listed(DOT_LIKE), dots, "DOT_LIKE is out of date");
        assert_eq!(listed(DIGIT_LIKE), digits, "DIGIT_LIKE is out of date");
    }
}
