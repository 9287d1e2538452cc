//! One subscriber, one set of limits, however the number is spelt: the
//! numbering plans where one phone has two international forms.

use crate::support::*;
use verify_core::config::Limits;
use verify_core::otp::Code;
use verify_core::phone::PhoneNumber;
use verify_core::service::{CheckTarget, VerifyError};

async fn one_send_cap_for_every_spelling(engine: Engine, spellings: &[&str]) {
    let h = harness(engine, Limits::default()).await;
    let mut sent = 0;
    for i in 0..10 {
        match h.start(&start_request(spellings[i % spellings.len()])).await {
            Ok(_) => sent += 1,
            Err(VerifyError::SendsExhausted { .. }) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(sent, 5, "{spellings:?} must share one send window");
}

async fn a_code_sent_to_one_spelling_checks_under_another(engine: Engine, sent_to: &str, checked_as: &str) {
    let h = harness(engine, Limits::default()).await;
    let record = h.start(&start_request(sent_to)).await.unwrap();
    let delivered_to = PhoneNumber::parse(sent_to).unwrap();
    assert_eq!(record.to, delivered_to.e164(), "the code goes where it was asked to go");
    let code = Code::parse(&last_code(&h.outbox, delivered_to.e164()), 6).unwrap();
    let target = CheckTarget::To(PhoneNumber::parse(checked_as).unwrap().into());
    assert!(h.check(&target, &code).await.unwrap().approved);
}

#[tokio::test]
async fn argentinian_mobiles_with_and_without_the_9() {
    for engine in [Engine::Dynoxide, Engine::Moto] {
        one_send_cap_for_every_spelling(engine, &["+54 9 11 2345 6789", "+54 11 2345 6789", "+54 11 15 2345 6789"]).await;
        a_code_sent_to_one_spelling_checks_under_another(engine, "+54 9 11 3456 7890", "+54 11 3456 7890").await;
    }
}

#[tokio::test]
async fn mexican_mobiles_with_and_without_the_former_1() {
    for engine in [Engine::Dynoxide, Engine::Moto] {
        one_send_cap_for_every_spelling(engine, &["+52 1 55 1234 5678", "+52 55 1234 5678"]).await;
        a_code_sent_to_one_spelling_checks_under_another(engine, "+52 1 55 2345 6789", "+52 55 2345 6789").await;
    }
}
