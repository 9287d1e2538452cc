//! bench-fraud: SMS pumping mixed with legitimate traffic against
//! verify-local over HTTP (`--memory`: the DynamoDB store on embedded
//! dynoxide, console outbox), one service per fraud-guard level, all driven
//! at once on the real clock, so every level sees the same traffic:
//!
//! - legitimate: `--legit-rate` starts a second for `--seconds`, one in four
//!   to one busy prefix (+1 212 555 xxxx), the rest to fresh numbers spread
//!   over ~2,000 prefixes (20 area codes × 100 exchanges); six in seven checked with
//!   the right code 5 to 40 s after the start (read from the outbox);
//! - attack: from `--attack-after` seconds, `--attack-rate` starts a second
//!   to sequential numbers in three prefixes (two British mobile blocks, one
//!   US exchange) until `--seconds`, never checked.
//!
//! Reported per level: attack sends delivered (share, and how many before
//! each prefix's first refusal), legitimate sends blocked (share). Writes
//! `--out` (JSON); bench/fraud.sh turns it into bench/results/fraud.md.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use verify_bench::{Flags, code_in};

const LEVELS: &[&str] = &["off", "monitor", "basic", "standard", "max"];
const AREAS: &[u32] = &[201, 202, 206, 212, 213, 303, 305, 312, 404, 415, 503, 512, 602, 614, 617, 646, 702, 713, 718, 801];

fn sid(i: usize) -> String {
    format!("VA{:032x}", 0xf00du128 + i as u128)
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}={}", v.replace('+', "%2B"))).collect::<Vec<_>>().join("&")
}

/// A tiny deterministic generator (xorshift), so runs are repeatable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[derive(Default, Debug)]
struct Tally {
    legit: u64,
    legit_blocked: u64,
    legit_checked: u64,
    attack: u64,
    attack_delivered: u64,
    /// Per attacked prefix: sends delivered before its first refusal.
    before_block: BTreeMap<String, u64>,
    blocked_prefixes: BTreeMap<String, bool>,
    other_errors: u64,
}

/// 201 (sent), 403/60410 (blocked), or anything else.
async fn start(client: &reqwest::Client, base: &str, service: &str, to: &str, risk: bool) -> Result<bool, String> {
    let mut pairs = vec![("To", to), ("Channel", "sms")];
    if !risk {
        pairs.push(("RiskCheck", "disable"));
    }
    let r = client
        .post(format!("{base}/v2/Services/{service}/Verifications"))
        .basic_auth("AC00000000000000000000000000000000", Some("bench-token-0123456789abcdef0123"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&pairs))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status().as_u16();
    let body: serde_json::Value = r.json().await.map_err(|e| e.to_string())?;
    match (status, body["code"].as_u64()) {
        (201, _) => Ok(true),
        (403, Some(60410)) => Ok(false),
        _ => Err(format!("{status} {body}")),
    }
}

/// The code just texted to `to` (read at once: the console outbox keeps
/// only the most recent messages, and the attack floods it).
async fn code_for(client: &reqwest::Client, base: &str, to: &str) -> Result<String, String> {
    let messages: serde_json::Value = client
        .get(format!("{base}/_local/messages?to={}", to.replace('+', "%2B")))
        .basic_auth("AC00000000000000000000000000000000", Some("bench-token-0123456789abcdef0123"))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    messages.as_array().and_then(|m| m.last()).and_then(|m| m["body"].as_str()).and_then(code_in).ok_or_else(|| "no code".to_owned())
}

async fn check(client: &reqwest::Client, base: &str, service: &str, to: &str, code: &str) -> Result<(), String> {
    let r = client
        .post(format!("{base}/v2/Services/{service}/VerificationCheck"))
        .basic_auth("AC00000000000000000000000000000000", Some("bench-token-0123456789abcdef0123"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("To", to), ("Code", code)]))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let body: serde_json::Value = r.json().await.map_err(|e| e.to_string())?;
    if body["status"] != "approved" {
        return Err(format!("check: {body}"));
    }
    Ok(())
}

struct Plan {
    seconds: f64,
    legit_rate: f64,
    attack_rate: f64,
    attack_after: f64,
}

async fn drive(client: reqwest::Client, base: String, level: usize, plan: Arc<Plan>) -> Tally {
    let service = sid(level);
    let tally = Arc::new(Mutex::new(Tally::default()));
    let t0 = Instant::now();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ level as u64);
    let (mut next_legit, mut next_attack) = (0.0f64, plan.attack_after);
    let (mut legit_n, mut attack_n) = (0u64, 0u64);
    let mut checks = tokio::task::JoinSet::new();
    loop {
        let due = next_legit.min(next_attack);
        if due >= plan.seconds {
            break;
        }
        let wait = Duration::from_secs_f64(due).saturating_sub(t0.elapsed());
        tokio::time::sleep(wait).await;
        if next_legit <= next_attack {
            next_legit += 1.0 / plan.legit_rate;
            let i = legit_n;
            legit_n += 1;
            let to = if i % 4 == 0 {
                // One outbox serves every level: numbers differ by level.
                format!("+1212555{level}{:03}", i / 4 % 1_000)
            } else {
                let r = rng.next();
                let area = AREAS[(r % AREAS.len() as u64) as usize];
                let exchange = 200 + (r >> 8) % 100 * 7;
                // N11 codes (711) are not exchanges.
                let exchange = if exchange % 100 == 11 { exchange + 1 } else { exchange };
                format!("+1{area}{exchange}{level}{:03}", (r >> 20) % 1_000)
            };
            let sent = start(&client, &base, &service, &to, true).await;
            let code = match sent {
                Ok(true) if i % 7 != 0 => Some(code_for(&client, &base, &to).await),
                _ => None,
            };
            let mut t = tally.lock().await;
            t.legit += 1;
            match sent {
                Ok(true) if i % 7 != 0 => {
                    let code = code.unwrap();
                    let delay = 5.0 + (rng.next() % 35_000) as f64 / 1000.0;
                    let (client, base, service, tally) = (client.clone(), base.clone(), service.clone(), tally.clone());
                    checks.spawn(async move {
                        tokio::time::sleep(Duration::from_secs_f64(delay)).await;
                        let checked = match code {
                            Ok(code) => check(&client, &base, &service, &to, &code).await,
                            Err(e) => Err(e),
                        };
                        let mut t = tally.lock().await;
                        match checked {
                            Ok(()) => t.legit_checked += 1,
                            Err(e) => {
                                eprintln!("bench-fraud: {e}");
                                t.other_errors += 1;
                            }
                        }
                    });
                }
                Ok(true) => {}
                Ok(false) => t.legit_blocked += 1,
                Err(e) => {
                    eprintln!("bench-fraud: legitimate start: {e}");
                    t.other_errors += 1;
                }
            }
        } else {
            next_attack += 1.0 / plan.attack_rate;
            let j = attack_n;
            attack_n += 1;
            let (to, prefix) = match j % 3 {
                0 => (format!("+4474001{:05}", 10_000 + j / 3), "44740011"),
                1 => (format!("+4474002{:05}", 50_000 + j / 3), "44740025"),
                _ => (format!("+1415556{:04}", 3_000 + j / 3), "1415556"),
            };
            let sent = start(&client, &base, &service, &to, true).await;
            let mut t = tally.lock().await;
            t.attack += 1;
            match sent {
                Ok(true) => {
                    t.attack_delivered += 1;
                    if !t.blocked_prefixes.contains_key(prefix) {
                        *t.before_block.entry(prefix.to_owned()).or_default() += 1;
                    }
                }
                Ok(false) => {
                    t.blocked_prefixes.insert(prefix.to_owned(), true);
                }
                Err(e) => {
                    eprintln!("bench-fraud: attack start: {e}");
                    t.other_errors += 1;
                }
            }
        }
    }
    while checks.join_next().await.is_some() {}
    Arc::try_unwrap(tally).unwrap().into_inner()
}

#[tokio::main]
async fn main() {
    let flags = Flags::parse();
    let binary = flags.required("bin");
    let out = flags.required("out");
    let plan = Arc::new(Plan {
        seconds: flags.number("seconds", 90.0),
        legit_rate: flags.number("legit-rate", 8.0),
        attack_rate: flags.number("attack-rate", 30.0),
        attack_after: flags.number("attack-after", 20.0),
    });
    let services: Vec<serde_json::Value> = LEVELS
        .iter()
        .enumerate()
        .map(|(i, l)| serde_json::json!({"sid": sid(i), "friendly_name": format!("Bench {l}"), "fraud_guard": l}))
        .collect();
    // verify-local's log stays out of the results folder (bench/results is tracked).
    let log_dir = std::env::temp_dir().join("bench-fraud");
    let services = serde_json::json!({"services": services}).to_string();
    let (_child, base) = verify_bench::local::start_with(
        &binary,
        &log_dir,
        &["--api-key", "AC00000000000000000000000000000000:bench-token-0123456789abcdef0123"],
        &[("VERIFY_SERVICES", services)],
    )
    .await;
    let client = verify_bench::local::client();
    let runs: Vec<_> = (0..LEVELS.len()).map(|i| tokio::spawn(drive(client.clone(), base.clone(), i, plan.clone()))).collect();
    let mut levels = Vec::new();
    for (i, run) in runs.into_iter().enumerate() {
        let t = run.await.unwrap();
        let share = |a: u64, b: u64| if b == 0 { 0.0 } else { (a as f64 / b as f64 * 10_000.0).round() / 100.0 };
        println!(
            "{:>8}: attack delivered {}/{} ({} %), before the blocks {:?}; legitimate blocked {}/{} ({} %); checked {}; other errors {}",
            LEVELS[i],
            t.attack_delivered,
            t.attack,
            share(t.attack_delivered, t.attack),
            t.before_block,
            t.legit_blocked,
            t.legit,
            share(t.legit_blocked, t.legit),
            t.legit_checked,
            t.other_errors
        );
        levels.push(serde_json::json!({
            "level": LEVELS[i],
            "attack_sends": t.attack,
            "attack_delivered": t.attack_delivered,
            "attack_delivered_percent": share(t.attack_delivered, t.attack),
            "delivered_before_block": t.before_block,
            "legitimate_sends": t.legit,
            "legitimate_blocked": t.legit_blocked,
            "legitimate_blocked_percent": share(t.legit_blocked, t.legit),
            "legitimate_checked": t.legit_checked,
            "other_errors": t.other_errors,
        }));
    }
    let report = serde_json::json!({
        "seconds": plan.seconds, "legit_rate": plan.legit_rate, "attack_rate": plan.attack_rate, "attack_after": plan.attack_after,
        "levels": levels,
    });
    std::fs::write(&out, serde_json::to_string_pretty(&report).unwrap()).unwrap();
}
