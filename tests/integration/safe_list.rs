//! The Safe List on every store (memory, dynoxide, moto): the store
//! contract of its entries, and the rule it relaxes: a listed number passes
//! a service's country restriction but never the per-number send limit. The
//! list is read only when the country rule would refuse.

use crate::support::*;
use verify_core::config::{Limits, Service, Services};
use verify_core::phone::PhoneNumber;
use verify_core::recipient::Recipient;
use verify_core::service::VerifyError;
use verify_core::store::StoreError;
use verify_core::store::safe_list::{SafeListEntry, SafeListStore};

const UK: &str = "+442079460958";

fn entry(number: &str) -> SafeListEntry {
    let r = Recipient::Phone(PhoneNumber::parse(number).unwrap());
    SafeListEntry { sid: verify_core::sid::new_sid("GN"), key: r.key(), phone_number: r.address().to_owned(), created_at: T0 }
}

async fn entries_are_added_once_read_and_removed(engine: Engine) {
    let store = backend(engine).await.store;
    let e = entry(UK);
    assert_eq!(store.safe_number(&e.key).await.unwrap(), None);
    store.add_safe_number(&e).await.unwrap();
    let again = SafeListEntry { sid: verify_core::sid::new_sid("GN"), ..e.clone() };
    assert!(matches!(store.add_safe_number(&again).await, Err(StoreError::Conflict(None))), "listed once");
    assert_eq!(store.safe_number(&e.key).await.unwrap(), Some(e.clone()), "the first entry is kept");
    assert!(store.remove_safe_number(&e.key).await.unwrap());
    assert!(!store.remove_safe_number(&e.key).await.unwrap(), "nothing left to remove");
    assert_eq!(store.safe_number(&e.key).await.unwrap(), None);
    assert!(matches!(store.broken().safe_number(&e.key).await, Err(StoreError::Unavailable(_))));
}

async fn listed_numbers_pass_the_country_rule_but_not_the_send_limit(engine: Engine) {
    let mut h = harness(engine, Limits::default()).await;
    let mut us_only = Service::new(SERVICE_SID.into(), "Acme".into(), Limits::default());
    us_only.countries = Some(vec!["US".into()]);
    h.verifier.services = Services::single(us_only).into();

    // Allowed traffic never reads the list.
    let us = fresh_number();
    h.verifier.store.take_calls();
    h.start(&start_request(&us)).await.unwrap();
    assert!(!h.verifier.store.take_calls().contains(&"safe_number"), "no Safe List read for an allowed country");

    assert_eq!(h.start(&start_request(UK)).await.unwrap_err(), VerifyError::CountryNotAllowed);
    assert!(h.outbox.messages(Some(UK)).is_empty());
    h.verifier.store.add_safe_number(&entry(UK)).await.unwrap();
    for _ in 0..h.limits().max_sends {
        h.start(&start_request(UK)).await.unwrap();
    }
    assert_eq!(h.outbox.messages(Some(UK)).len() as u32, h.limits().max_sends);
    assert!(matches!(h.start(&start_request(UK)).await, Err(VerifyError::SendsExhausted { .. })), "the send limit still holds");

    // Removed again: refused again, by the country rule.
    h.clock.advance(h.limits().send_window_secs + 1);
    h.verifier.store.remove_safe_number(&entry(UK).key).await.unwrap();
    assert_eq!(h.start(&start_request(UK)).await.unwrap_err(), VerifyError::CountryNotAllowed);
}

on_every_store!(entries_are_added_once_read_and_removed, listed_numbers_pass_the_country_rule_but_not_the_send_limit);
