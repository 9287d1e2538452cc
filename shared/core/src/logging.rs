//! Log setup for the Lambda functions, honouring Lambda's advanced logging
//! controls: `AWS_LAMBDA_LOG_LEVEL` (else `RUST_LOG`, else INFO) and
//! `AWS_LAMBDA_LOG_FORMAT=JSON`; and the phone-number mask every binary's
//! log output passes through.
//!
//! lambda_runtime's own initialiser does the same through tracing-subscriber's
//! `env-filter`, which links a regex engine (~0.3 MB of every bootstrap) to
//! read per-module directives nobody sets on a function. A plain level is
//! all Lambda's controls express, so that is all this reads.

use std::io::{self, Write};
use std::time::Instant;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;

/// One line per request or event handled: the route's name (never the
/// path: paths can hold phone numbers), its outcome (an HTTP status, and
/// the Twilio error code of a refusal) and the time spent in this process
/// from the decoded request to the response, store and SMS calls included.
pub fn served(route: &'static str, status: u16, code: Option<u32>, started: Instant) {
    let took_us = started.elapsed().as_micros() as u64;
    match code {
        Some(code) => tracing::info!(route, status, code, took_us, "served"),
        None => tracing::info!(route, status, took_us, "served"),
    }
}

/// Installs the process-wide subscriber: one line per event on stdout,
/// numbers masked. Text lines carry no timestamp (CloudWatch stamps every
/// line); JSON lines (`AWS_LAMBDA_LOG_FORMAT=JSON`, what the template's
/// `LogFormat: JSON` sets) carry `timestamp` (RFC 3339) and `level`, the
/// keys Lambda's log-level filtering reads, with the event's fields at the
/// top level.
pub fn init_for_lambda() {
    let get = |name: &str| std::env::var(name).ok();
    let level = level_from(get("AWS_LAMBDA_LOG_LEVEL").or_else(|| get("RUST_LOG")).as_deref());
    let json = get("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
    let subscriber = lambda_subscriber(level, json, io::stdout);
    tracing::subscriber::set_global_default(subscriber).expect("the log subscriber is installed once");
}

/// The Lambda functions' subscriber, writing through [`MaskNumbers`] to
/// `writer` (stdout, or a test's buffer).
fn lambda_subscriber<W>(level: LevelFilter, json: bool, writer: W) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt().with_target(false).with_ansi(false).with_max_level(level);
    if json {
        Box::new(builder.json().flatten_event(true).with_writer(MaskNumbersJson(writer)).finish())
    } else {
        Box::new(builder.without_time().with_writer(MaskNumbers(writer)).finish())
    }
}

/// A level name as Lambda spells it (TRACE … FATAL, any case); anything else,
/// such as a `RUST_LOG` directive list, falls back to INFO.
fn level_from(value: Option<&str>) -> LevelFilter {
    match value.map(str::trim).map(str::to_ascii_lowercase).as_deref() {
        Some("trace") => LevelFilter::TRACE,
        Some("debug") => LevelFilter::DEBUG,
        Some("warn") => LevelFilter::WARN,
        Some("error" | "fatal") => LevelFilter::ERROR,
        Some("off") => LevelFilter::OFF,
        _ => LevelFilter::INFO,
    }
}

/// Wraps a log destination so that everything written to it has phone
/// numbers masked ([`mask_numbers`]). Masking the output, rather than each
/// log statement's fields, also covers what dependencies log and any
/// path, error or `Debug` value that happens to hold a number.
pub struct MaskNumbers<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for MaskNumbers<M> {
    type Writer = MaskedWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        MaskedWriter(self.0.make_writer())
    }
}

/// A writer that masks each buffer it is given. tracing-subscriber formats
/// a whole event and writes it with one `write_all`, so a number is never
/// split between two writes.
pub struct MaskedWriter<W>(W);

impl<W: Write> Write for MaskedWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_all(&mask_numbers(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// As [`MaskNumbers`], for a destination of JSON lines: each line that
/// parses is masked value by value ([`mask_json_line`]), so it still parses.
pub struct MaskNumbersJson<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for MaskNumbersJson<M> {
    type Writer = MaskedJsonWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        MaskedJsonWriter(self.0.make_writer())
    }
}

pub struct MaskedJsonWriter<W>(W);

impl<W: Write> Write for MaskedJsonWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_all(&mask_json_line(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// A JSON log line with numbers masked in its values: every string as
/// [`mask_numbers`] masks text, and a JSON number long enough to be a phone
/// number (nine digits or more) replaced by its masked form as a string,
/// where masking the bytes would leave `1415555****` in a number's place
/// and a line that no longer parses. Unchanged lines are passed through as
/// they are; one that does not parse is masked as text.
pub fn mask_json_line(line: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let body = line.strip_suffix(b"\n").unwrap_or(line);
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(body) else { return mask_numbers(line) };
    if !mask_json_value(&mut value) {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut out = value.to_string().into_bytes();
    if body.len() < line.len() {
        out.push(b'\n');
    }
    std::borrow::Cow::Owned(out)
}

/// Masks `value` in place; whether anything changed.
fn mask_json_value(value: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) => match mask_numbers(s.as_bytes()) {
            std::borrow::Cow::Borrowed(_) => false,
            std::borrow::Cow::Owned(masked) => {
                *s = String::from_utf8_lossy(&masked).into_owned();
                true
            }
        },
        Value::Number(n) => {
            let digits = n.to_string();
            match mask_numbers(digits.as_bytes()) {
                std::borrow::Cow::Borrowed(_) => false,
                std::borrow::Cow::Owned(masked) => {
                    *value = Value::String(String::from_utf8_lossy(&masked).into_owned());
                    true
                }
            }
        }
        Value::Array(items) => items.iter_mut().fold(false, |changed, v| mask_json_value(v) | changed),
        Value::Object(map) => map.values_mut().fold(false, |changed, v| mask_json_value(v) | changed),
        Value::Bool(_) | Value::Null => false,
    }
}

/// Fewest digits masked after a `+` (or `%2B`): the shortest E.164
/// numbers (some territories') have seven.
const MIN_DIGITS_AFTER_PLUS: usize = 7;
/// Fewest digits masked without a `+`: a number written without it has at
/// least nine with its country code in all but a few territories, and
/// shorter runs in logs are counts and durations.
const MIN_DIGITS_BARE: usize = 9;
/// How many digits are hidden, as `PhoneNumber::masked` does.
const HIDDEN_DIGITS: usize = 4;

/// `text` with everything that looks like a phone number shown as
/// `PhoneNumber::masked` shows one: `+14155550123`, `%2B14155550123`,
/// `+1 (415) 555-0123` and `14155550123` become `+1415555****` (or
/// `1415555****`), separators dropped. A number is a run of digits with
/// single separators (space, `-`, `.`, brackets, `%20`) between them:
/// seven or more after a `+`, nine or more without one. A bare run must
/// stand alone (no letter, digit or `_` right before or after it), so the
/// digits inside `VE…` sids and hex ids stay; and a dotted quad is an IPv4
/// address, not a number.
pub fn mask_numbers(text: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let mut out: Option<Vec<u8>> = None;
    let mut i = 0;
    let mut copied = 0;
    while i < text.len() {
        if !matches!(text[i], b'+' | b'%' | b'0'..=b'9') {
            i += 1;
            continue;
        }
        match number_at(text, i) {
            Ok(number) => {
                let out = out.get_or_insert_with(|| Vec::with_capacity(text.len()));
                out.extend_from_slice(&text[copied..i]);
                number.write_masked(out);
                i = number.end;
                copied = i;
            }
            Err(next) => i = next,
        }
    }
    match out {
        None => std::borrow::Cow::Borrowed(text),
        Some(mut out) => {
            out.extend_from_slice(&text[copied..]);
            std::borrow::Cow::Owned(out)
        }
    }
}

/// A phone number found in log text.
struct Number {
    plus: bool,
    digits: Vec<u8>,
    /// Just past its last digit.
    end: usize,
}

impl Number {
    fn write_masked(&self, out: &mut Vec<u8>) {
        if self.plus {
            out.push(b'+');
        }
        let keep = self.digits.len() - HIDDEN_DIGITS;
        out.extend_from_slice(&self.digits[..keep]);
        out.extend_from_slice(&[b'*'; HIDDEN_DIGITS]);
    }
}

const PLUS_SPELLINGS: [&[u8]; 5] = [b"+", b"%2B", b"%2b", b"%252B", b"%252b"];

/// The number starting at `start`, or where to look next: past the whole
/// run when it is not one, so no tail of it is taken for a number.
fn number_at(text: &[u8], start: usize) -> Result<Number, usize> {
    let prefix = PLUS_SPELLINGS.into_iter().find(|p| text[start..].starts_with(p));
    let plus = prefix.is_some();
    if !plus && (!text[start].is_ascii_digit() || start > 0 && is_word(text[start - 1])) {
        return Err(start + 1);
    }
    let (digits, end, dots, other_separators) = digit_run(text, start + prefix.map_or(0, <[u8]>::len));
    let min = if plus { MIN_DIGITS_AFTER_PLUS } else { MIN_DIGITS_BARE };
    let glued = !plus && text.get(end).is_some_and(|&b| is_word(b));
    let dotted_quad = !plus && dots == 3 && other_separators == 0 && is_ipv4(&text[start..end]);
    if digits.len() < min || glued || dotted_quad {
        return Err(end.max(start + 1));
    }
    Ok(Number { plus, digits, end })
}

/// From `i`: the digits of a run with up to two separators in a row
/// between them (`) ` in `(415) 555`), where it ends (past its last digit),
/// and how many separators were dots and how many something else.
fn digit_run(text: &[u8], mut i: usize) -> (Vec<u8>, usize, usize, usize) {
    let (mut digits, mut end, mut dots, mut others) = (Vec::new(), i, 0, 0);
    loop {
        if let Some(d) = text.get(i).filter(|d| d.is_ascii_digit()) {
            digits.push(*d);
            i += 1;
            end = i;
            continue;
        }
        let (mut j, mut seps, mut seen_dots) = (i, 0, 0);
        while seps < 2 {
            let Some(n) = separator_len(&text[j..]) else { break };
            seen_dots += usize::from(text[j] == b'.');
            j += n;
            seps += 1;
        }
        if seps == 0 || digits.is_empty() || !text.get(j).is_some_and(u8::is_ascii_digit) {
            return (digits, end, dots, others);
        }
        dots += seen_dots;
        others += seps - seen_dots;
        i = j;
    }
}

fn separator_len(text: &[u8]) -> Option<usize> {
    match text.first()? {
        b' ' | b'-' | b'.' | b'(' | b')' => Some(1),
        b'%' if text.starts_with(b"%20") => Some(3),
        _ => None,
    }
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_ipv4(text: &[u8]) -> bool {
    let parts: Vec<&[u8]> = text.split(|&b| b == b'.').collect();
    parts.len() == 4 && parts.iter().all(|p| (1..=3).contains(&p.len()) && p.iter().all(u8::is_ascii_digit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn masked(text: &str) -> String {
        String::from_utf8(mask_numbers(text.as_bytes()).into_owned()).unwrap()
    }

    #[test]
    fn lambda_level_names_map_to_filters() {
        assert_eq!(level_from(Some("DEBUG")), LevelFilter::DEBUG);
        assert_eq!(level_from(Some(" warn ")), LevelFilter::WARN);
        assert_eq!(level_from(Some("FATAL")), LevelFilter::ERROR);
        assert_eq!(level_from(Some("verify_core=debug")), LevelFilter::INFO);
        assert_eq!(level_from(None), LevelFilter::INFO);
    }

    #[test]
    fn numbers_in_every_spelling_are_masked_like_phone_number_masked() {
        let full = crate::phone::PhoneNumber::parse("+14155550123").unwrap();
        assert_eq!(masked("+14155550123"), full.masked());
        for (text, want) in [
            ("path=/v2/Services/VA1/Verifications/+14155550123", "path=/v2/Services/VA1/Verifications/+1415555****"),
            ("path=/v2/Services/VA1/Verifications/%2B14155550123 x", "path=/v2/Services/VA1/Verifications/+1415555**** x"),
            ("to=%2b447911123456&code=1", "to=+44791112****&code=1"),
            ("double %252B14155550123", "double +1415555****"),
            ("to: \"+1 (415) 555-0123\"", "to: \"+1415555****\""),
            ("+1.415.555.0123.", "+1415555****."),
            ("to=%2B1%20415%20555%200123", "to=+1415555****"),
            ("bare 14155550123 and 447911123456,", "bare 1415555**** and 44791112****,"),
            ("(415) 555-0123", "(415555****"),
            ("+6831234", "+683****"),
            ("{\"to\":\"+14155550123\",\"n\":\"+442079460958\"}", "{\"to\":\"+1415555****\",\"n\":\"+44207946****\"}"),
            ("a+14155550123b", "a+1415555****b"),
        ] {
            assert_eq!(masked(text), want, "{text}");
        }
    }

    #[test]
    fn what_is_not_a_number_is_left_alone() {
        for text in [
            "served route=create_verification status=201 took_us=1234567",
            "sid=VE0123456789abcdef0123456789abcdef service=VA1234567890123456789012345678abcd",
            "id 0123456789abcdef_x 9876543210abc",
            "listening on http://127.0.0.1:8080 and 192.168.100.200",
            "date 2026-11-22T03:11:28Z count=42 +123456 short",
            "code=20404 status=404 deleted=3",
            "é日本 ünïcode 漢字",
            "",
        ] {
            assert_eq!(masked(text), text);
            assert!(matches!(mask_numbers(text.as_bytes()), std::borrow::Cow::Borrowed(_)));
        }
    }

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Buffer {
            self.clone()
        }
    }

    #[test]
    fn json_log_lines_parse_carry_level_and_timestamp_and_keep_numbers_masked() {
        let buffer = Buffer::default();
        let subscriber = lambda_subscriber(LevelFilter::INFO, true, buffer.clone());
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(path = "/v2/Services/VA1/Verifications/%2B14155550123", "request refused");
            tracing::info!(to = "+447911123456", bare = 14155550123u64, small = 42, "code sent");
            tracing::error!(cause = ?("+44 7911 123456",), "dependency failed to reach +14155550123");
            super::served("fetch_verification", 401, Some(20003), Instant::now());
        });
        let out = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> =
            out.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect();
        assert_eq!(lines.len(), 4, "{out}");
        for line in &lines {
            assert!(matches!(line["level"].as_str(), Some("INFO" | "WARN" | "ERROR")), "{line}");
            let ts = line["timestamp"].as_str().unwrap_or_else(|| panic!("no timestamp: {line}"));
            assert!(ts.len() >= 20 && ts.as_bytes()[10] == b'T' && ts.ends_with('Z'), "not RFC 3339: {ts}");
        }
        assert_eq!(lines[1]["message"], "code sent");
        assert_eq!(lines[1]["to"], "+44791112****");
        assert_eq!(lines[1]["bare"], "1415555****", "a number-valued field is masked as a string");
        assert_eq!(lines[1]["small"], 42);
        assert_eq!(lines[3]["route"], "fetch_verification");
        assert_eq!(lines[3]["code"], 20003);
        for full in ["14155550123", "447911123456", "7911 123456"] {
            assert!(!out.contains(full), "{full} in {out}");
        }
    }

    #[test]
    fn a_json_line_that_does_not_parse_is_masked_as_text() {
        assert_eq!(mask_json_line(b"not json +14155550123\n").as_ref(), b"not json +1415555****\n");
        assert!(matches!(mask_json_line(b"{\"a\":1}\n"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn the_lambda_log_output_is_masked_in_text_and_json() {
        for json in [false, true] {
            let buffer = Buffer::default();
            let subscriber = lambda_subscriber(LevelFilter::INFO, json, buffer.clone());
            tracing::subscriber::with_default(subscriber, || {
                tracing::warn!(path = "/v2/Services/VA1/Verifications/%2B14155550123", "request refused");
                tracing::error!(cause = ?("+44 7911 123456",), "dependency failed");
                super::served("fetch_verification", 401, Some(20003), Instant::now());
            });
            let out = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
            assert!(out.contains("+1415555****") && out.contains("+44791112****"), "{out}");
            assert!(!out.contains("14155550123") && !out.contains("7911 123456"), "{out}");
            assert!(out.contains("fetch_verification") && out.contains("20003"), "{out}");
        }
    }
}
