//! A service's daily budget: at most so many sends a UTC day, in all and
//! per destination country, and at most so much estimated spend, from a
//! price table the owner configures. The owner's last line against a bill
//! run up by SMS pumping or a bug: once a cap is reached, starts answer 429
//! until midnight UTC, and each refusal is a `verification.blocked` event
//! (`reason: budget`).
//!
//! ```json
//! "daily_budget": {
//!   "max_sends": 10000,
//!   "max_spend_usd": 50,
//!   "max_sends_by_country": { "ID": 200, "NG": 100 },
//!   "price_usd": { "*": 0.05, "US": 0.00883, "GB": 0.0463 }
//! }
//! ```
//!
//! Every field is optional. A price is per send, in US dollars, by the
//! recipient's country (`*` for the others, else 0); e-mail is not priced
//! (SES costs $0.0001 a message). Calls and WhatsApp messages are priced
//! from the same table: set it to what your dearest channel costs.
//!
//! Counting is by [`crate::store::counters`]: one counter a day for the
//! service (sends and spend, both capped, one write) and one a day for a
//! capped country; a send that does not happen (refused later, failed) is
//! given back.

use crate::clock::Seconds;
use crate::store::counters::{Add, Counter};
use serde_json::{Map, Value};

const DAY: i64 = 86_400;
/// Spend is counted in millionths of a dollar.
const MICROS_PER_USD: f64 = 1_000_000.0;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DailyBudget {
    pub max_sends: Option<u64>,
    pub max_spend_micros: Option<u64>,
    /// ISO country code → its cap of sends a day.
    pub max_sends_by_country: Vec<(String, u64)>,
    /// ISO country code (or `*`) → the price of one send, in micro-dollars.
    pub prices: Vec<(String, u64)>,
}

/// Which cap refused a start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BudgetCap {
    /// The service's sends or spend for the day.
    Service,
    /// The sends to one country for the day.
    Country(String),
}

impl DailyBudget {
    /// The price of one send to `country`, in micro-dollars.
    pub fn price(&self, country: Option<&str>, priced: bool) -> u64 {
        if !priced {
            return 0;
        }
        let of = |cc: &str| self.prices.iter().find(|(c, _)| c == cc).map(|(_, p)| *p);
        country.and_then(of).or_else(|| of("*")).unwrap_or(0)
    }

    /// The counters one send takes at `now`, with the cap each stands for.
    /// `priced` is false for channels without a per-message price (e-mail).
    pub fn counters(&self, service_sid: &str, country: Option<&str>, priced: bool, now: Seconds) -> Vec<(Counter, BudgetCap)> {
        let day = now.div_euclid(DAY);
        let expires_at = (day + 1) * DAY;
        let mut out = Vec::new();
        if self.max_sends.is_some() || self.max_spend_micros.is_some() {
            let adds = vec![
                Add { name: "n", amount: 1, cap: self.max_sends },
                Add { name: "spend", amount: self.price(country, priced), cap: self.max_spend_micros },
            ];
            out.push((Counter { key: format!("BUD#{service_sid}#{day}"), adds, expires_at }, BudgetCap::Service));
        }
        if let Some(cc) = country
            && let Some((_, cap)) = self.max_sends_by_country.iter().find(|(c, _)| c == cc)
        {
            let adds = vec![Add { name: "n", amount: 1, cap: Some(*cap) }];
            out.push((Counter { key: format!("BUD#{service_sid}#{day}#{cc}"), adds, expires_at }, BudgetCap::Country(cc.to_owned())));
        }
        out
    }
}

/// Seconds until the next midnight UTC, when every daily cap resets.
pub fn until_midnight(now: Seconds) -> Seconds {
    (now.div_euclid(DAY) + 1) * DAY - now
}

/// `daily_budget` from a service's configuration.
pub fn parse(v: &Value) -> Result<DailyBudget, String> {
    let Value::Object(map) = v else { return Err("daily_budget: must be an object".into()) };
    const KEYS: &[&str] = &["max_sends", "max_spend_usd", "max_sends_by_country", "price_usd"];
    if let Some(k) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!("daily_budget: unknown key {k:?} (known: {})", KEYS.join(", ")));
    }
    let count = |v: &Value, what: &str| v.as_u64().ok_or_else(|| format!("daily_budget: {what} must be a whole number"));
    let usd = |v: &Value, what: &str| match v.as_f64() {
        Some(d) if d >= 0.0 && d.is_finite() => Ok((d * MICROS_PER_USD).round() as u64),
        _ => Err(format!("daily_budget: {what} must be an amount of US dollars, 0 or more")),
    };
    let mut budget = DailyBudget::default();
    if let Some(v) = map.get("max_sends") {
        budget.max_sends = Some(count(v, "max_sends")?);
    }
    if let Some(v) = map.get("max_spend_usd") {
        budget.max_spend_micros = Some(usd(v, "max_spend_usd")?);
    }
    for (cc, v) in countries(map.get("max_sends_by_country"), "max_sends_by_country", false)? {
        budget.max_sends_by_country.push((cc.clone(), count(v, &format!("max_sends_by_country.{cc}"))?));
    }
    for (cc, v) in countries(map.get("price_usd"), "price_usd", true)? {
        budget.prices.push((cc.clone(), usd(v, &format!("price_usd.{cc}"))?));
    }
    Ok(budget)
}

/// An object keyed by ISO 3166 alpha-2 codes (upper-cased), and `*` where
/// `wildcard`.
fn countries<'v>(v: Option<&'v Value>, what: &str, wildcard: bool) -> Result<Vec<(String, &'v Value)>, String> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let map: &Map<String, Value> = v.as_object().ok_or_else(|| format!("daily_budget: {what} must be an object"))?;
    map.iter()
        .map(|(k, v)| {
            let ok = (wildcard && k == "*") || (k.len() == 2 && k.bytes().all(|b| b.is_ascii_alphabetic()));
            if ok {
                Ok((k.to_ascii_uppercase(), v))
            } else {
                Err(format!("daily_budget: {what}: {k:?} is not an ISO 3166 alpha-2 code such as \"US\""))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget() -> DailyBudget {
        parse(&serde_json::json!({
            "max_sends": 100, "max_spend_usd": 2.5,
            "max_sends_by_country": {"id": 10},
            "price_usd": {"*": 0.05, "US": 0.00883}
        }))
        .unwrap()
    }

    #[test]
    fn the_configuration_reads_as_written() {
        let b = budget();
        assert_eq!((b.max_sends, b.max_spend_micros), (Some(100), Some(2_500_000)));
        assert_eq!(b.max_sends_by_country, vec![("ID".to_owned(), 10)]);
        assert_eq!(b.price(Some("US"), true), 8_830);
        assert_eq!(b.price(Some("FR"), true), 50_000, "the * price");
        assert_eq!(b.price(Some("US"), false), 0, "e-mail is not priced");
        assert_eq!(DailyBudget::default().price(Some("US"), true), 0);
        for bad in [
            serde_json::json!({"max_sends": -1}),
            serde_json::json!({"max_spend_usd": "10"}),
            serde_json::json!({"max_sends_by_country": {"USA": 1}}),
            serde_json::json!({"max_sends_by_country": {"*": 1}}),
            serde_json::json!({"prices": {}}),
            serde_json::json!([]),
        ] {
            assert!(parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_send_takes_the_days_service_counter_and_its_countrys() {
        let b = budget();
        let now = 20_000 * DAY + 3_600;
        let taken = b.counters("VA1", Some("ID"), true, now);
        assert_eq!(taken.len(), 2);
        let (service, cap) = &taken[0];
        assert_eq!((service.key.as_str(), cap), ("BUD#VA1#20000", &BudgetCap::Service));
        assert_eq!(service.adds[1], Add { name: "spend", amount: 50_000, cap: Some(2_500_000) });
        assert_eq!(service.expires_at, 20_001 * DAY);
        assert_eq!(taken[1].0.key, "BUD#VA1#20000#ID");
        assert_eq!(taken[1].1, BudgetCap::Country("ID".into()));
        assert_eq!(b.counters("VA1", Some("US"), true, now).len(), 1, "US has no cap of its own");
        assert!(DailyBudget::default().counters("VA1", Some("US"), true, now).is_empty(), "no budget, no counter");
        assert_eq!(until_midnight(now), DAY - 3_600);
    }
}
