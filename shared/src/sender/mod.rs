//! Delivery of codes. The service talks to a [`Sender`]; Lambda uses SNS,
//! `verify-local` keeps messages in an [`outbox::Outbox`].

pub mod outbox;
pub mod sns;

use std::future::Future;

/// One text message to one number.
#[derive(Clone)]
pub struct Sms {
    pub to: String,
    pub body: String,
}

// The body carries the code: keep it out of any Debug output.
impl std::fmt::Debug for Sms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sms {{ to: {:?}, body: <redacted> }}", self.to)
    }
}

/// The message was not accepted for delivery. Safe to report: no code inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError(pub String);

pub trait Sender: Send + Sync {
    fn send(&self, sms: &Sms) -> impl Future<Output = Result<(), SendError>> + Send;
}
