//! Pumping protection (a service's `fraud_guard`): pure rules. SMS pumping
//! sends codes to ranges of adjacent numbers whose operator shares the
//! termination fee, and never checks one; so its signature is many sends to
//! one *prefix* with almost no approvals, while the service's other traffic
//! converts normally.
//!
//! - **Prefix**: the number's E.164 digits without the last four, i.e. a
//!   block of 10,000 consecutive numbers ([`prefix_of`]). Numbering plans
//!   hand numbers to operators in blocks of that size or larger (NANP's
//!   NPA-NXX, which this is exactly for +1; 10,000- to 100,000-number blocks
//!   in most national plans), so a sequential attack stays in one prefix,
//!   while one prefix is small enough that blocking it touches few
//!   legitimate users. No per-country table is needed.
//! - **Counters**: sends and approvals per (service, prefix) and per
//!   service, in [`BUCKET_MS`] buckets; the window is the current bucket and
//!   the [`WINDOW_BUCKETS`]` - 1` before it (45 to 60 minutes).
//! - **Rule** ([`decide`]): a prefix with at least the level's floor of
//!   sends in the window, whose approvals are below `ratio` × the normal
//!   conversion of the service's *other* prefixes, is blocked. The normal
//!   conversion is clamped to [`MIN_BASELINE`]..1 (an attack that drowns the
//!   service's own traffic cannot lower the bar to nothing) and is
//!   [`DEFAULT_BASELINE`] while the rest of the service has sent fewer than
//!   [`MIN_BASELINE_SENDS`].
//! - **Cool-down**: [`BASE_COOLDOWN_MS`], doubled for each block that
//!   follows the previous one within [`STRIKE_MEMORY_MS`] (the pattern
//!   persists), at most [`MAX_COOLDOWN_MS`] (Twilio's 12 hours). After a
//!   block only sends made since it ended count, so a prefix is blocked
//!   again only on new evidence.

use crate::clock::Millis;

pub const BUCKET_MS: Millis = 15 * 60 * 1000;
pub const WINDOW_BUCKETS: i64 = 4;
pub const BASE_COOLDOWN_MS: Millis = BUCKET_MS;
pub const MAX_COOLDOWN_MS: Millis = 12 * 3600 * 1000;
pub const STRIKE_MEMORY_MS: Millis = 24 * 3600 * 1000;
pub const DEFAULT_BASELINE: f64 = 0.5;
pub const MIN_BASELINE: f64 = 0.05;
pub const MIN_BASELINE_SENDS: u64 = 50;

/// How hard a service guards its prefixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Level {
    Off,
    /// Evaluates as `standard`, refuses nothing: what it would have blocked
    /// is recorded (a `verification.blocked` event, reason
    /// [`crate::store::blocked::reason::FRAUD_GUARD_MONITOR`]).
    Monitor,
    Basic,
    #[default]
    Standard,
    Max,
}

impl Level {
    pub const NAMES: &'static [&'static str] = &["off", "monitor", "basic", "standard", "max"];

    pub fn parse(raw: &str) -> Option<Level> {
        Some(match raw {
            "off" => Level::Off,
            "monitor" => Level::Monitor,
            "basic" => Level::Basic,
            "standard" => Level::Standard,
            "max" => Level::Max,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        Level::NAMES[self as usize]
    }

    /// The floor and ratio a level judges with (`None`: off). Each step up
    /// judges on fewer sends and a milder shortfall: earlier blocks, more
    /// false positives.
    pub fn thresholds(self) -> Option<Thresholds> {
        match self {
            Level::Off => None,
            Level::Basic => Some(Thresholds { min_sends: 60, ratio: 0.1 }),
            Level::Standard | Level::Monitor => Some(Thresholds { min_sends: 25, ratio: 0.25 }),
            Level::Max => Some(Thresholds { min_sends: 10, ratio: 0.5 }),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    /// Sends to a prefix in the window before it is judged at all.
    pub min_sends: u64,
    /// A prefix is pumped when its conversion is below `ratio` × normal.
    pub ratio: f64,
}

/// A service's setting: the level, and optionally its own floor
/// (`{"level": "max", "min_sends": 5}` in the services document).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct FraudGuard {
    pub level: Level,
    pub min_sends: Option<u64>,
}

impl FraudGuard {
    pub fn thresholds(&self) -> Option<Thresholds> {
        self.level.thresholds().map(|t| Thresholds { min_sends: self.min_sends.unwrap_or(t.min_sends), ..t })
    }
}

/// The prefix a number is counted and blocked under: its E.164 digits
/// (from the recipient key, so every spelling agrees) without the last
/// four; `None` for what is not a number.
pub fn prefix_of(key: &str) -> Option<String> {
    let digits = key.strip_prefix('+')?;
    if digits.len() < 7 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits[..digits.len() - 4].to_owned())
}

/// The bucket a time falls in.
pub fn bucket_of(ms: Millis) -> i64 {
    ms.div_euclid(BUCKET_MS)
}

/// The buckets the window at `now_ms` reads, oldest first.
pub fn window_buckets(now_ms: Millis) -> impl Iterator<Item = i64> {
    let now = bucket_of(now_ms);
    (now - WINDOW_BUCKETS + 1)..=now
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub sends: u64,
    pub approvals: u64,
}

impl Counts {
    fn plus(self, o: Counts) -> Counts {
        Counts { sends: self.sends + o.sends, approvals: self.approvals + o.approvals }
    }
}

/// One bucket's counts: the prefix's and the whole service's (which
/// include the prefix's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BucketCounts {
    pub bucket: i64,
    pub prefix: Counts,
    pub service: Counts,
}

/// A prefix's block: until when, and how many blocks in a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    pub until_ms: Millis,
    pub strikes: u32,
}

/// What a start reads: the window's buckets and the prefix's block, if any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Window {
    pub buckets: Vec<BucketCounts>,
    pub block: Option<Block>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Blocked by a block already stored.
    Blocked(Block),
    /// Pumped now: store this block (in place of `previous`, if any).
    NewBlock {
        block: Block,
        previous: Option<Block>,
    },
}

impl Decision {
    pub fn block(&self) -> Option<Block> {
        match self {
            Decision::Allow => None,
            Decision::Blocked(b) | Decision::NewBlock { block: b, .. } => Some(*b),
        }
    }
}

/// The rule: see the module's documentation.
pub fn decide(t: &Thresholds, window: &Window, now_ms: Millis) -> Decision {
    if let Some(b) = window.block
        && now_ms < b.until_ms
    {
        return Decision::Blocked(b);
    }
    // After a block, only what was sent since it ended is evidence: the
    // bucket it ended in holds nothing older, as cool-downs last at least
    // a bucket and nothing is sent while blocked.
    let since = window.block.map_or(i64::MIN, |b| bucket_of(b.until_ms));
    let (prefix, service) = window
        .buckets
        .iter()
        .filter(|b| b.bucket >= since)
        .fold((Counts::default(), Counts::default()), |(p, s), b| (p.plus(b.prefix), s.plus(b.service)));
    if !pumped(t, prefix, service) {
        return Decision::Allow;
    }
    let strikes = match window.block {
        Some(b) if now_ms - b.until_ms < STRIKE_MEMORY_MS => b.strikes.saturating_add(1),
        _ => 1,
    };
    Decision::NewBlock { block: Block { until_ms: now_ms + cooldown_ms(strikes), strikes }, previous: window.block }
}

/// Whether a prefix's counts look pumped against the rest of the service.
pub fn pumped(t: &Thresholds, prefix: Counts, service: Counts) -> bool {
    if prefix.sends < t.min_sends.max(1) {
        return false;
    }
    let others =
        Counts { sends: service.sends.saturating_sub(prefix.sends), approvals: service.approvals.saturating_sub(prefix.approvals) };
    let baseline = if others.sends < MIN_BASELINE_SENDS {
        DEFAULT_BASELINE
    } else {
        (others.approvals as f64 / others.sends as f64).clamp(MIN_BASELINE, 1.0)
    };
    (prefix.approvals as f64) < t.ratio * baseline * prefix.sends as f64
}

/// The cool-down of the `strikes`-th block in a row.
pub fn cooldown_ms(strikes: u32) -> Millis {
    let doublings = strikes.saturating_sub(1).min(16);
    (BASE_COOLDOWN_MS << doublings).min(MAX_COOLDOWN_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STANDARD: Thresholds = Thresholds { min_sends: 25, ratio: 0.25 };
    const NOW: Millis = 1_800_000_000_000;

    fn window(prefix: (u64, u64), service: (u64, u64)) -> Window {
        let c = |(sends, approvals)| Counts { sends, approvals };
        Window { buckets: vec![BucketCounts { bucket: bucket_of(NOW), prefix: c(prefix), service: c(service) }], block: None }
    }

    #[test]
    fn a_prefix_is_a_block_of_ten_thousand_numbers() {
        assert_eq!(prefix_of("+14155550123").as_deref(), Some("1415555"), "NANP: NPA-NXX");
        assert_eq!(prefix_of("+447400123456").as_deref(), Some("44740012"));
        assert_eq!(prefix_of("+14155559999"), prefix_of("+14155550000"));
        assert_ne!(prefix_of("+14155560000"), prefix_of("+14155550000"));
        assert_eq!(prefix_of("a@b.example"), None);
        assert_eq!(prefix_of("+123"), None);
    }

    #[test]
    fn below_the_floor_nothing_is_judged() {
        assert_eq!(decide(&STANDARD, &window((24, 0), (1000, 800)), NOW), Decision::Allow);
        assert!(matches!(decide(&STANDARD, &window((25, 0), (1000, 800)), NOW), Decision::NewBlock { .. }));
    }

    #[test]
    fn conversion_far_below_the_services_is_pumped_and_normal_conversion_is_not() {
        // Others convert at 80 %: the bar is 20 % at standard.
        let service = (1000 + 100, 800 + 19);
        assert!(pumped(&STANDARD, Counts { sends: 100, approvals: 19 }, Counts { sends: service.0, approvals: service.1 }));
        assert!(!pumped(&STANDARD, Counts { sends: 100, approvals: 21 }, Counts { sends: 1121, approvals: 821 }));
        // A busy prefix converting like the rest is never judged pumped.
        assert!(!pumped(&STANDARD, Counts { sends: 5000, approvals: 3900 }, Counts { sends: 6000, approvals: 4700 }));
    }

    #[test]
    fn the_baseline_has_a_default_and_a_floor() {
        // A new service: 50 % assumed, so the bar is 12.5 %.
        assert!(pumped(&STANDARD, Counts { sends: 40, approvals: 4 }, Counts { sends: 40, approvals: 4 }));
        assert!(!pumped(&STANDARD, Counts { sends: 40, approvals: 6 }, Counts { sends: 40, approvals: 6 }));
        // Others converting at 1 % (an attack elsewhere): the bar stays 0.25 × 5 %.
        let mostly_attack = Counts { sends: 10_040, approvals: 100 };
        assert!(pumped(&STANDARD, Counts { sends: 40, approvals: 0 }, mostly_attack));
        assert!(!pumped(&STANDARD, Counts { sends: 40, approvals: 1 }, Counts { sends: 10_040, approvals: 101 }));
    }

    #[test]
    fn levels_trade_false_positives_for_protection() {
        let c = |s, a| Counts { sends: s, approvals: a };
        let service = c(10_000, 8_000);
        let judge = |l: Level, p: Counts| pumped(&l.thresholds().unwrap(), p, service);
        // 12 sends, none approved: only max acts.
        assert!(judge(Level::Max, c(12, 0)) && !judge(Level::Standard, c(12, 0)) && !judge(Level::Basic, c(12, 0)));
        // 40 sends at 30 % conversion: max calls it pumped, standard does not.
        assert!(judge(Level::Max, c(40, 12)) && !judge(Level::Standard, c(40, 12)));
        assert_eq!(Level::Off.thresholds(), None);
        assert_eq!(Level::Monitor.thresholds(), Level::Standard.thresholds());
        let tuned = FraudGuard { level: Level::Max, min_sends: Some(3) };
        assert_eq!(tuned.thresholds().unwrap().min_sends, 3);
        for name in Level::NAMES {
            assert_eq!(Level::parse(name).unwrap().as_str(), *name);
        }
        assert_eq!(Level::default(), Level::Standard);
    }

    #[test]
    fn a_block_holds_for_its_cool_down_which_grows_while_the_pattern_persists() {
        let pumped_now = window((30, 0), (1000, 800));
        let Decision::NewBlock { block: first, previous: None } = decide(&STANDARD, &pumped_now, NOW) else { panic!() };
        assert_eq!(first, Block { until_ms: NOW + BASE_COOLDOWN_MS, strikes: 1 });
        let mut w = pumped_now.clone();
        w.block = Some(first);
        assert_eq!(decide(&STANDARD, &w, NOW + BASE_COOLDOWN_MS - 1), Decision::Blocked(first));
        // Ended: the sends before it are no evidence any more.
        let after = first.until_ms;
        assert_eq!(decide(&STANDARD, &w, after), Decision::Allow);
        // New pumped sends since it ended: blocked again, twice as long.
        w.buckets = vec![BucketCounts {
            bucket: bucket_of(after),
            prefix: Counts { sends: 25, approvals: 0 },
            service: Counts { sends: 500, approvals: 400 },
        }];
        let Decision::NewBlock { block: second, previous } = decide(&STANDARD, &w, after + 1000) else { panic!() };
        assert_eq!((second.strikes, second.until_ms, previous), (2, after + 1000 + 2 * BASE_COOLDOWN_MS, Some(first)));
        assert_eq!(cooldown_ms(3), 4 * BASE_COOLDOWN_MS);
        assert_eq!(cooldown_ms(40), MAX_COOLDOWN_MS);
        // A day later the strikes are forgotten.
        let Decision::NewBlock { block: fresh, .. } = decide(&STANDARD, &w, after + STRIKE_MEMORY_MS) else { panic!() };
        assert_eq!(fresh.strikes, 1);
    }

    #[test]
    fn the_window_is_the_current_bucket_and_three_before() {
        let b: Vec<i64> = window_buckets(NOW).collect();
        assert_eq!(b.len() as i64, WINDOW_BUCKETS);
        assert_eq!(*b.last().unwrap(), bucket_of(NOW));
        assert_eq!(bucket_of(NOW + BUCKET_MS), bucket_of(NOW) + 1);
    }
}
