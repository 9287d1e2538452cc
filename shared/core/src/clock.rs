//! Time as the service sees it: whole Unix seconds for every rule, and the
//! same moment in milliseconds where writes must be ordered within a second
//! (the events they become). Injectable for tests.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Unix time in whole seconds. Every expiry and window is compared in these.
pub type Seconds = i64;

/// Unix time in milliseconds: when a write happened, so the events it
/// becomes can be ordered within a second. No rule compares these.
pub type Millis = i64;

/// The whole second a moment falls in.
pub fn secs_of(ms: Millis) -> Seconds {
    ms.div_euclid(1000)
}

pub trait Clock: Send + Sync {
    fn now(&self) -> Seconds;

    /// The same clock in milliseconds; `secs_of(now_ms())` is `now()`.
    fn now_ms(&self) -> Millis {
        self.now() * 1000
    }
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Seconds {
        secs_of(self.now_ms())
    }

    fn now_ms(&self) -> Millis {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as Millis).unwrap_or(0)
    }
}

/// A clock that moves only when told to, so expiry boundaries can be tested
/// exactly (a check at T+599 s versus T+601 s) against a real store. It
/// keeps milliseconds, so tests can also place writes within one second.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn at(now: Seconds) -> Self {
        Self(AtomicI64::new(now * 1000))
    }
    pub fn advance(&self, secs: Seconds) {
        self.0.fetch_add(secs * 1000, Ordering::SeqCst);
    }
    pub fn advance_ms(&self, ms: Millis) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
    pub fn set(&self, now: Seconds) {
        self.0.store(now * 1000, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Seconds {
        secs_of(self.now_ms())
    }

    fn now_ms(&self) -> Millis {
        self.0.load(Ordering::SeqCst)
    }
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> Seconds {
        (**self).now()
    }

    fn now_ms(&self) -> Millis {
        (**self).now_ms()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_fall_in_their_second() {
        assert_eq!(secs_of(1_700_000_000_999), 1_700_000_000);
        assert_eq!(secs_of(-1), -1);
        let c = ManualClock::at(10);
        c.advance_ms(1_500);
        assert_eq!((c.now(), c.now_ms()), (11, 11_500));
        c.advance(1);
        assert_eq!(c.now_ms(), 12_500);
        let s = SystemClock;
        let (ms, secs) = (s.now_ms(), s.now());
        assert!(secs - secs_of(ms) <= 1);
    }
}
