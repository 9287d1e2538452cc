//! Phone numbers: every input is normalised to E.164 before anything else,
//! and every limit is keyed on one canonical form of it ([`subscriber_key`]),
//! so "+1 (415) 555-0123" and "+14155550123", or Argentina's "+54 9 11 …"
//! and "+54 11 …", share one verification and one set of counters.

use rlibphonenumber::{PhoneNumberFormat, PhoneNumberType};
use std::borrow::Cow;
use std::fmt;

/// Longest raw input worth parsing; E.164 itself is at most 16 characters,
/// the rest is room for spaces, dashes and brackets.
const MAX_INPUT_CHARS: usize = 40;

/// A valid number in E.164 form, with its ISO country when known.
#[derive(Clone, PartialEq, Eq)]
pub struct PhoneNumber {
    e164: String,
    country: Option<String>,
    /// A fixed line by its numbering plan (type FIXED_LINE; not the
    /// plans, like North America's, whose ranges are FIXED_LINE_OR_MOBILE).
    fixed_line: bool,
}

/// Masked, so a request or a target logged with `?` shows no full number.
impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneError {
    /// Not a phone number at all: letters, control characters, too long,
    /// an extension.
    Invalid,
    /// Digits without a leading `+` and country code: the country would be
    /// a guess.
    NoCountryCode,
    /// Well formed, but no number of its country's plan looks like this
    /// (`country` when the country code is known).
    NotInPlan { country: Option<String> },
    /// A valid number of a type that only costs money (premium rate, shared
    /// cost): refused to stop toll fraud.
    BlockedType,
}

impl PhoneNumber {
    pub fn parse(input: &str) -> Result<PhoneNumber, PhoneError> {
        let folded = fold(input)?;
        let parsed = parse_plan(&folded)?;
        let e164 = parsed.format_as(PhoneNumberFormat::E164).into_owned();
        // E.164 allows 15 digits; libphonenumber calls some longer German
        // numbers valid, which no SMS API takes and no report filter
        // ([`e164_spelling`]) matches (found by fuzz/).
        if e164.len() > 16 {
            return Err(PhoneError::Invalid);
        }
        if matches!(parsed.get_type(), PhoneNumberType::PremiumRate | PhoneNumberType::SharedCost) {
            return Err(PhoneError::BlockedType);
        }
        Ok(PhoneNumber {
            e164,
            country: parsed.get_region_code().map(|region| region.to_string()),
            fixed_line: parsed.get_type() == PhoneNumberType::FixedLine,
        })
    }

    /// Rebuilds a number read back from the store, already in E.164 form.
    /// Its line type is not kept: only a start (which parses) needs it.
    pub fn from_stored(e164: String, country: Option<String>) -> PhoneNumber {
        PhoneNumber { e164, country, fixed_line: false }
    }

    /// Whether the numbering plan says this is a fixed line (which cannot
    /// receive a text). Numbers of plans that do not tell fixed from mobile
    /// (US, Canada…) are not: they may well be mobiles.
    pub fn is_fixed_line(&self) -> bool {
        self.fixed_line
    }

    pub fn e164(&self) -> &str {
        &self.e164
    }

    /// What this number's records and limits are keyed on (see [`subscriber_key`]).
    pub fn key(&self) -> String {
        subscriber_key(&self.e164).into_owned()
    }

    /// ISO 3166 alpha-2 code, e.g. "US", when the number's region is known.
    pub fn country(&self) -> Option<&str> {
        self.country.as_deref()
    }

    /// The number with its last four digits hidden, for logs and events.
    pub fn masked(&self) -> String {
        mask_e164(&self.e164)
    }
}

/// An E.164 number (or subscriber key) with its last four digits hidden.
pub fn mask_e164(e164: &str) -> String {
    // By characters: what this service stores is ASCII, but events are
    // derived from whatever item the stream carries, and a byte cut inside
    // a character panicked (found by fuzz/stream).
    let keep = e164.chars().count().saturating_sub(4);
    let shown: String = e164.chars().take(keep).collect();
    format!("{shown}****")
}

/// Parses a folded `+…` number against the numbering plans. Mexico's
/// former mobile prefix (`+52 1` before the ten digits, dropped in 2019 and
/// no longer valid in the plan) is still what older apps send: it is read
/// as the same number without the `1`.
fn parse_plan(folded: &str) -> Result<rlibphonenumber::PhoneNumber, PhoneError> {
    let parse = |s: &str| rlibphonenumber::PhoneNumber::parse(s, None).map_err(|_| PhoneError::Invalid);
    let parsed = parse(folded)?;
    if parsed.extension.is_some() {
        return Err(PhoneError::Invalid);
    }
    if parsed.is_valid() {
        return Ok(parsed);
    }
    let digits: String = folded.chars().filter(char::is_ascii_digit).collect();
    if let Some(rest) = digits.strip_prefix("521").filter(|r| r.len() == 10) {
        let without = parse(&format!("+52{rest}"))?;
        if without.is_valid() {
            return Ok(without);
        }
    }
    let country = rlibphonenumber::PHONE_NUMBER_UTIL
        .get_region_for_country_code(parsed.country_code)
        .map(|r| r.to_string())
        .filter(|r| r != "ZZ" && r != "001");
    Err(PhoneError::NotInPlan { country })
}

/// Whether `code` (upper case) is an ISO 3166 alpha-2 country of the
/// numbering plans: one a parsed number can be in.
pub fn is_region(code: &str) -> bool {
    code.len() == 2 && rlibphonenumber::PHONE_NUMBER_UTIL.get_supported_regions().any(|r| r.to_string() == code)
}

/// The one form a subscriber's records and limits are keyed on, where a
/// numbering plan gives the same subscriber two international spellings:
///
/// - Argentina (+54): mobiles are dialled from abroad with a `9` after the
///   country code (`+54 9 11 2345 6789`), but the same subscriber is often
///   written without it (`+54 11 2345 6789`), and libphonenumber calls both
///   valid. Argentine area codes never begin with 9, so the key drops it.
/// - Mexico (+52): the former mobile `1` (`+52 1 55 …`); [`PhoneNumber::parse`]
///   already drops it, and so does the key, for numbers spelt so elsewhere
///   (report filters).
///
/// Every other number is its own key. Pure string work on an E.164 number,
/// without the plans' metadata, so any binary can compute it.
pub fn subscriber_key(e164: &str) -> Cow<'_, str> {
    let national = |cc: &str| e164.strip_prefix('+').and_then(|d| d.strip_prefix(cc));
    if let Some(rest) = national("549") {
        return Cow::Owned(format!("+54{rest}"));
    }
    if let Some(rest) = national("521").filter(|r| r.len() == 10) {
        return Cow::Owned(format!("+52{rest}"));
    }
    Cow::Borrowed(e164)
}

/// The input with every accepted character in ASCII form. Checks spelling
/// only; validity against the numbering plans is [`PhoneNumber::parse`]'s job.
fn fold(input: &str) -> Result<String, PhoneError> {
    let input = input.trim();
    if input.is_empty() || input.chars().count() > MAX_INPUT_CHARS || input.chars().any(char::is_control) {
        return Err(PhoneError::Invalid);
    }
    // ASCII digits (full-width and Arabic-Indic ones folded to them) and
    // the usual separators only. libphonenumber would also read letters
    // as keypad digits ("CALL NOW"), which no caller of this API means.
    let folded: String = input.chars().map(fold_char).collect::<Option<_>>().ok_or(PhoneError::Invalid)?;
    // Without a leading `+` the country is a guess; Twilio refuses such
    // numbers too, and guessing would let one number hide behind two keys.
    if !folded.starts_with('+') {
        return Err(if folded.chars().any(|c| c.is_ascii_digit()) { PhoneError::NoCountryCode } else { PhoneError::Invalid });
    }
    Ok(folded)
}

/// The E.164 form a number written in international format would have,
/// without checking it against the numbering plans: for matching input
/// against numbers already stored (report filters), where an invalid number
/// simply matches nothing. Keeps libphonenumber's metadata out of binaries
/// that never accept a new number.
pub fn e164_spelling(input: &str) -> Option<String> {
    let digits: String = fold(input).ok()?.chars().filter(char::is_ascii_digit).collect();
    (1..=15).contains(&digits.len()).then(|| format!("+{digits}"))
}

/// Maps an accepted character to its ASCII form; `None` rejects the input.
fn fold_char(c: char) -> Option<char> {
    let digit = |zero: char| char::from_digit(c as u32 - zero as u32, 10);
    match c {
        '0'..='9' | '+' | ' ' | '-' | '.' | '(' | ')' => Some(c),
        '\u{FF10}'..='\u{FF19}' => digit('\u{FF10}'), // full-width
        '\u{0660}'..='\u{0669}' => digit('\u{0660}'), // Arabic-Indic
        '\u{06F0}'..='\u{06F9}' => digit('\u{06F0}'), // Extended Arabic-Indic
        '\u{FF0B}' => Some('+'),
        _ => None,
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.e164)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_number_share_one_key() {
        for input in ["+14155550123", "+1 (415) 555-0123", "+1-415-555-0123", " +1 415 555 0123 ", "+1.415.555.0123"] {
            let n = PhoneNumber::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e:?}"));
            assert_eq!(n.e164(), "+14155550123", "{input:?}");
            assert_eq!(n.country(), Some("US"));
        }
    }

    #[test]
    fn other_countries_normalise_too() {
        let n = PhoneNumber::parse("+44 20 7946 0958").unwrap();
        assert_eq!(n.e164(), "+442079460958");
        assert_eq!(n.country(), Some("GB"));
        assert_eq!(PhoneNumber::parse("+49 151 23456789").unwrap().country(), Some("DE"));
    }

    #[test]
    fn digits_of_other_scripts_fold_to_the_same_key() {
        for input in ["+１４１５５５５０１２３", "+١٤١٥٥٥٥٠١٢٣", "＋1 415 555 0123"] {
            assert_eq!(PhoneNumber::parse(input).map(|n| n.e164().to_owned()), Ok("+14155550123".to_owned()), "{input:?}");
        }
    }

    // Regression (found by fuzz/): libphonenumber accepts this German
    // number with 16 digits, longer than E.164 allows.
    #[test]
    fn numbers_longer_than_e164_are_rejected() {
        assert_eq!(PhoneNumber::parse("+49 234155559 49234"), Err(PhoneError::Invalid));
        assert_eq!(e164_spelling("+49 234155559 49234"), None);
        assert_eq!(PhoneNumber::parse("+49 151 23456789").unwrap().e164(), "+4915123456789");
    }

    #[test]
    fn masking_hides_the_last_four_characters_of_anything_stored() {
        assert_eq!(PhoneNumber::from_stored("+14155550123".into(), None).masked(), "+1415555****");
        assert_eq!(PhoneNumber::from_stored("+1415é€12".into(), None).masked(), "+1415****");
        assert_eq!(PhoneNumber::from_stored("12".into(), None).masked(), "****");
    }

    #[test]
    fn garbage_is_rejected() {
        let long = "+1".to_owned() + &"5".repeat(10_000);
        for input in ["", "+", "hello", "+1 415 CALL NOW", "+1415555\u{0}0123", "+1 415 555 0123 ext 5", long.as_str()] {
            assert_eq!(PhoneNumber::parse(input), Err(PhoneError::Invalid), "{input:?}");
        }
        for input in ["4155550123", "00 1 415 555 0123", "(415) 555-0123"] {
            assert_eq!(PhoneNumber::parse(input), Err(PhoneError::NoCountryCode), "{input:?}");
        }
        for input in ["+0123456789", "+1415555012345678"] {
            assert!(matches!(PhoneNumber::parse(input), Err(PhoneError::Invalid | PhoneError::NotInPlan { .. })), "{input:?}");
        }
    }

    #[test]
    fn numbers_outside_their_plan_name_the_country() {
        // US numbers never have an area code starting with 1.
        assert_eq!(PhoneNumber::parse("+1 115 555 0123"), Err(PhoneError::NotInPlan { country: Some("US".into()) }));
        assert_eq!(PhoneNumber::parse("+44 20 7946 095"), Err(PhoneError::NotInPlan { country: Some("GB".into()) }));
    }

    #[test]
    fn one_subscriber_one_key_in_argentina() {
        // The mobile 9, without it, and the domestic "15" form: one subscriber.
        let spellings = ["+54 9 11 2345 6789", "+54 11 2345 6789", "+54 11 15 2345 6789"];
        let keys: Vec<String> = spellings.iter().map(|s| PhoneNumber::parse(s).unwrap().key()).collect();
        assert!(keys.iter().all(|k| k == "+541123456789"), "{keys:?}");
        // Numbers are still delivered as written.
        assert_eq!(PhoneNumber::parse(spellings[0]).unwrap().e164(), "+5491123456789");
        // Another area is another subscriber.
        assert_ne!(PhoneNumber::parse("+54 9 341 234 5678").unwrap().key(), keys[0]);
    }

    #[test]
    fn mexicos_former_mobile_one_is_the_same_number() {
        let old = PhoneNumber::parse("+52 1 55 1234 5678").unwrap();
        let new = PhoneNumber::parse("+52 55 1234 5678").unwrap();
        assert_eq!((old.e164(), old.country()), ("+525512345678", Some("MX")));
        assert_eq!(old.key(), new.key());
        assert_eq!(subscriber_key("+5215512345678"), "+525512345678");
    }

    #[test]
    fn other_numbers_are_their_own_key() {
        for n in ["+14155550123", "+442079460958", "+5255123456789", "+52155"] {
            assert_eq!(subscriber_key(n), n);
        }
    }

    #[test]
    fn e164_spelling_matches_what_parse_stores() {
        for input in ["+1 (415) 555-0123", "+１４１５５５５０１２３", " +1.415.555.0123 "] {
            assert_eq!(e164_spelling(input).as_deref(), Some(PhoneNumber::parse(input).unwrap().e164()), "{input:?}");
        }
        for input in ["4155550123", "+", "+1 415 CALL NOW", "+1415555012345678"] {
            assert_eq!(e164_spelling(input), None, "{input:?}");
        }
    }

    #[test]
    fn fixed_lines_are_told_by_their_plan() {
        // London (020) and Paris (01) are fixed lines; UK 07 and French 06
        // numbers are mobiles; North American ranges can be either.
        for fixed in ["+442079460000", "+33142685300"] {
            assert!(PhoneNumber::parse(fixed).unwrap().is_fixed_line(), "{fixed}");
        }
        for not_fixed in ["+447400123456", "+33612345678", "+14155550123", "+16135550123"] {
            assert!(!PhoneNumber::parse(not_fixed).unwrap().is_fixed_line(), "{not_fixed}");
        }
    }

    #[test]
    fn premium_rate_numbers_are_blocked() {
        // UK 09 numbers are premium rate.
        assert_eq!(PhoneNumber::parse("+44 909 8790000"), Err(PhoneError::BlockedType));
    }

    #[test]
    fn masking_hides_the_last_four_digits() {
        assert_eq!(PhoneNumber::parse("+14155550123").unwrap().masked(), "+1415555****");
    }
}
