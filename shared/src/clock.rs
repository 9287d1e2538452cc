//! Time as the service sees it: whole Unix seconds, injectable for tests.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Unix time in whole seconds. Every expiry and window is compared in these.
pub type Seconds = i64;

pub trait Clock: Send + Sync {
    fn now(&self) -> Seconds;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Seconds {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as Seconds)
            .unwrap_or(0)
    }
}

/// A clock that moves only when told to, so expiry boundaries can be tested
/// exactly (a check at T+599 s versus T+601 s) against a real store.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn at(now: Seconds) -> Self {
        Self(AtomicI64::new(now))
    }
    pub fn advance(&self, secs: Seconds) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
    pub fn set(&self, now: Seconds) {
        self.0.store(now, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Seconds {
        self.0.load(Ordering::SeqCst)
    }
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> Seconds {
        (**self).now()
    }
}
