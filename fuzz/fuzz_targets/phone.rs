//! Phone numbers as every route reads them (`To`, a path's number, the
//! `ChannelData.To` report filter). Input: the raw text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use verify_core::phone::{PhoneNumber, e164_spelling};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let spelled = e164_spelling(input);
    if let Some(s) = &spelled {
        // Always "+" and 1 to 15 ASCII digits, and a fixed point.
        assert!(s.len() >= 2 && s.len() <= 16 && s[1..].bytes().all(|b| b.is_ascii_digit()), "{s:?}");
        assert_eq!(e164_spelling(s).as_deref(), Some(s.as_str()));
    }
    if let Ok(n) = PhoneNumber::parse(input) {
        // What is stored parses back to itself: one number, one key.
        let again = PhoneNumber::parse(n.e164()).expect("an E.164 number we produced must parse");
        assert_eq!(again.e164(), n.e164());
        assert_eq!(e164_spelling(n.e164()).as_deref(), Some(n.e164()));
        let masked = n.masked();
        let keep = n.e164().len() - 4;
        assert_eq!((&masked[..keep], &masked[keep..]), (&n.e164()[..keep], "****"));
    }
});
