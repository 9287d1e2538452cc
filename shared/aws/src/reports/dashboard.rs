//! The dashboard: one self-contained HTML page (inline data, script and
//! style; nothing loaded from the network) with two charts drawn as SVG:
//! verifications started vs approved over time, and the conversion rate per
//! country, for a period chosen in the page's form.

use verify_core::clock::Seconds;
use crate::counters::{Cell, Outcome};
use verify_core::time_fmt::iso8601;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Bucket {
    /// Start of the bucket (Unix seconds).
    pub t: Seconds,
    pub label: String,
    pub started: u64,
    pub approved: u64,
}

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Country {
    pub country: String,
    pub started: u64,
    pub approved: u64,
}

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct DashboardData {
    pub bucket_secs: Seconds,
    pub buckets: Vec<Bucket>,
    pub countries: Vec<Country>,
    pub started: u64,
    pub approved: u64,
    /// Starts refused (`verification.blocked` and `send_rate_limited`
    /// events), by reason.
    pub blocked: BTreeMap<String, u64>,
}

/// Counts per hour (periods up to two days) or per day, from the hourly
/// counters ([`crate::counters`]). A verification is started by its first
/// send (resends are not new verifications).
pub fn aggregate(cells: &BTreeMap<Cell, u64>, from: Seconds, to: Seconds) -> DashboardData {
    let bucket_secs = if to - from <= 2 * 86_400 { 3_600 } else { 86_400 };
    let first = from - from.rem_euclid(bucket_secs);
    let mut buckets: Vec<Bucket> = (0..)
        .map(|i| first + i * bucket_secs)
        .take_while(|t| *t < to)
        .take(2_000)
        .map(|t| {
            let iso = iso8601(t);
            let label = if bucket_secs == 3_600 { iso[5..16].replace('T', " ") } else { iso[..10].to_owned() };
            Bucket { t, label, ..Bucket::default() }
        })
        .collect();
    let mut countries: BTreeMap<String, Country> = BTreeMap::new();
    let mut data = DashboardData { bucket_secs, ..DashboardData::default() };
    for (cell, &n) in cells {
        let (started, approved) = match &cell.outcome {
            Outcome::Started => (n, 0),
            Outcome::Approved => (0, n),
            Outcome::Blocked(reason) => {
                *data.blocked.entry(reason.clone()).or_default() += n;
                continue;
            }
            _ => continue,
        };
        let i = (cell.hour - first).div_euclid(bucket_secs);
        if let Some(b) = usize::try_from(i).ok().and_then(|i| buckets.get_mut(i)) {
            b.started += started;
            b.approved += approved;
        }
        let name = if cell.country == "-" { "??".to_owned() } else { cell.country.clone() };
        let c = countries.entry(name.clone()).or_insert_with(|| Country { country: name, ..Country::default() });
        c.started += started;
        c.approved += approved;
        data.started += started;
        data.approved += approved;
    }
    data.buckets = buckets;
    let mut countries: Vec<Country> = countries.into_values().collect();
    countries.sort_by(|a, b| b.started.cmp(&a.started).then(a.country.cmp(&b.country)));
    data.countries = countries;
    data
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The page, data inline. JSON in a script element cannot close it: `<` is
/// written as `\u003c`.
/// `geo_permissions 3, max_sends 1`, or `none`.
fn blocked_by_reason(data: &DashboardData) -> String {
    if data.blocked.is_empty() {
        return "none".into();
    }
    data.blocked.iter().map(|(reason, n)| format!("{reason} {n}")).collect::<Vec<_>>().join(", ")
}

pub fn page(data: &DashboardData, from: Seconds, to: Seconds) -> String {
    let json = serde_json::to_string(data).unwrap_or_else(|_| "{}".into()).replace('<', "\\u003c");
    let rate = if data.started > 0 { format!("{:.1} %", data.approved as f64 * 100.0 / data.started as f64) } else { "–".into() };
    TEMPLATE
        .replace("{{DATA}}", &json)
        .replace("{{FROM}}", &html_escape(&iso8601(from)[..10]))
        .replace("{{TO}}", &html_escape(&iso8601(to - 1)[..10]))
        .replace("{{PERIOD}}", &html_escape(&format!("{} – {}", iso8601(from), iso8601(to))))
        .replace("{{STARTED}}", &data.started.to_string())
        .replace("{{APPROVED}}", &data.approved.to_string())
        .replace("{{RATE}}", &html_escape(&rate))
        .replace("{{BLOCKED}}", &data.blocked.values().sum::<u64>().to_string())
        .replace("{{BLOCKED_BY_REASON}}", &html_escape(&blocked_by_reason(data)))
}

const TEMPLATE: &str = r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Verifications dashboard</title>
<style>
  body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #1f2933; background: #f7f9fb; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  .period { color: #52606d; margin-bottom: 16px; }
  form { margin: 0 0 16px; display: flex; gap: 12px; align-items: end; }
  label { display: flex; flex-direction: column; font-size: 12px; color: #52606d; }
  .cards { display: flex; gap: 16px; margin-bottom: 16px; }
  .card { background: #fff; border-radius: 8px; padding: 12px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); min-width: 140px; }
  .card b { display: block; font-size: 24px; }
  section { background: #fff; border-radius: 8px; padding: 16px; margin-bottom: 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
  h2 { font-size: 15px; margin: 0 0 8px; }
  .legend span { display: inline-block; margin-right: 16px; }
  .sw { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; }
  svg text { font-size: 11px; fill: #52606d; }
  .empty { color: #9aa5b1; }
</style>
</head>
<body data-rendered="false">
<h1>Verifications</h1>
<div class="period">{{PERIOD}}</div>
<form method="get" action="">
  <label>From <input type="date" name="from" value="{{FROM}}"></label>
  <label>To <input type="date" name="to" value="{{TO}}"></label>
  <button type="submit">Show</button>
</form>
<div class="cards">
  <div class="card">Started<b id="total-started">{{STARTED}}</b></div>
  <div class="card">Approved<b id="total-approved">{{APPROVED}}</b></div>
  <div class="card">Conversion<b id="total-rate">{{RATE}}</b></div>
  <div class="card">Blocked starts<b id="total-blocked">{{BLOCKED}}</b><span id="blocked-by-reason">{{BLOCKED_BY_REASON}}</span></div>
</div>
<section>
  <h2>Started vs approved</h2>
  <div class="legend"><span><i class="sw" style="background:#3e7bfa"></i>started</span><span><i class="sw" style="background:#27ab83"></i>approved</span></div>
  <svg id="timeline" width="100%" height="260" viewBox="0 0 960 260" preserveAspectRatio="none" role="img" aria-label="Verifications started and approved over time"></svg>
</section>
<section>
  <h2>Conversion rate per country</h2>
  <svg id="countries" width="100%" height="40" viewBox="0 0 960 40" role="img" aria-label="Conversion rate per country"></svg>
</section>
<noscript>The charts need JavaScript; the totals above do not.</noscript>
<script type="application/json" id="data">{{DATA}}</script>
<script>
(function () {
  var data = JSON.parse(document.getElementById('data').textContent);
  var NS = 'http://www.w3.org/2000/svg';
  function el(name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  // Started vs approved: two bars per bucket.
  var svg = document.getElementById('timeline');
  var W = 960, H = 260, L = 40, B = 30, T = 10;
  var buckets = data.buckets || [];
  var max = 1, points = 0;
  buckets.forEach(function (b) { max = Math.max(max, b.started, b.approved); });
  var step = (W - L - 10) / Math.max(buckets.length, 1);
  var bw = Math.max(1, step * 0.4);
  for (var g = 0; g <= 4; g++) {
    var y = T + (H - T - B) * (1 - g / 4);
    svg.appendChild(el('line', {x1: L, x2: W, y1: y, y2: y, stroke: '#e4e7eb'}));
    svg.appendChild(el('text', {x: L - 6, y: y + 4, 'text-anchor': 'end'}, String(Math.round(max * g / 4))));
  }
  var every = Math.max(1, Math.ceil(buckets.length / 12));
  buckets.forEach(function (b, i) {
    var x = L + i * step + step * 0.1;
    [[b.started, '#3e7bfa', 'started'], [b.approved, '#27ab83', 'approved']].forEach(function (s, j) {
      var h = (H - T - B) * s[0] / max;
      if (s[0] > 0) points++;
      var r = el('rect', {x: x + j * bw, y: H - B - h, width: bw, height: h, fill: s[1], 'class': 'bar ' + s[2], 'data-value': s[0]});
      r.appendChild(el('title', {}, b.label + ': ' + s[0] + ' ' + s[2]));
      svg.appendChild(r);
    });
    if (i % every === 0) svg.appendChild(el('text', {x: x, y: H - B + 16}, b.label));
  });
  svg.setAttribute('data-points', points);
  // Conversion per country: one horizontal bar each.
  var cs = document.getElementById('countries');
  var rows = data.countries || [];
  var rh = 24, ch = Math.max(40, rows.length * rh + 10);
  cs.setAttribute('height', ch);
  cs.setAttribute('viewBox', '0 0 960 ' + ch);
  if (!rows.length) cs.appendChild(el('text', {x: 0, y: 24, 'class': 'empty'}, 'No verifications in this period.'));
  rows.forEach(function (c, i) {
    var rate = c.started ? Math.min(1, c.approved / c.started) : 0;
    var y = 5 + i * rh;
    cs.appendChild(el('text', {x: 0, y: y + 15}, c.country));
    cs.appendChild(el('rect', {x: 40, y: y, width: 700, height: rh - 6, fill: '#f0f4f8'}));
    cs.appendChild(el('rect', {x: 40, y: y, width: 700 * rate, height: rh - 6, fill: '#27ab83', 'class': 'rate', 'data-country': c.country, 'data-rate': rate.toFixed(3)}));
    cs.appendChild(el('text', {x: 750, y: y + 15}, (rate * 100).toFixed(1) + ' %  (' + c.approved + ' of ' + c.started + ')'));
  });
  cs.setAttribute('data-countries', rows.length);
  document.body.setAttribute('data-rendered', 'true');
})();
</script>
</body>
</html>
"##;

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(list: &[(Seconds, &str, Outcome, u64)]) -> BTreeMap<Cell, u64> {
        list.iter()
            .map(|(hour, country, outcome, n)| {
                let cell = Cell { hour: *hour, service: "VA1".into(), country: (*country).into(), channel: "sms".into(), outcome: outcome.clone() };
                (cell, *n)
            })
            .collect()
    }

    #[test]
    fn counts_starts_and_approvals_per_bucket_and_country() {
        let from = 1_700_000_000 - 1_700_000_000 % 3600;
        let data = cells(&[
            (from, "US", Outcome::Started, 1),
            (from, "US", Outcome::Sent, 2),
            (from, "US", Outcome::Approved, 1),
            (from + 3600, "GB", Outcome::Started, 1),
        ]);
        let d = aggregate(&data, from, from + 86_400);
        assert_eq!(d.bucket_secs, 3600);
        assert_eq!(d.buckets.len(), 24);
        assert_eq!((d.buckets[0].started, d.buckets[0].approved, d.buckets[1].started), (1, 1, 1));
        assert_eq!((d.started, d.approved), (2, 1));
        assert_eq!(d.countries.iter().map(|c| (c.country.as_str(), c.started, c.approved)).collect::<Vec<_>>(), [("GB", 1, 0), ("US", 1, 1)]);
        let blocked = cells(&[
            (from, "GB", Outcome::Blocked("geo_permissions".into()), 2),
            (from, "US", Outcome::Blocked("max_sends".into()), 1),
        ]);
        let with_blocked = aggregate(&blocked, from, from + 86_400);
        assert_eq!(with_blocked.blocked.iter().map(|(r, n)| (r.as_str(), *n)).collect::<Vec<_>>(), [("geo_permissions", 2), ("max_sends", 1)]);
        assert_eq!(with_blocked.started, 0, "a blocked start is not a started verification");
        let html = page(&with_blocked, from, from + 86_400);
        assert!(html.contains(">3</b>") && html.contains("geo_permissions 2, max_sends 1"), "the blocked card");
        let html = page(&d, from, from + 86_400);
        assert!(html.contains("\"started\":1") && !html.contains("http://") || html.contains("http://www.w3.org/2000/svg"));
        assert!(!html.contains("src=") && !html.contains("href="), "nothing is loaded from elsewhere");
        // Days for longer periods: the hours add up in their day.
        let week = aggregate(&data, from - from % 86_400, from - from % 86_400 + 7 * 86_400);
        assert_eq!(week.bucket_secs, 86_400);
        assert_eq!(week.buckets.iter().map(|b| b.started).sum::<u64>(), 2);
    }

    #[test]
    fn data_cannot_break_out_of_its_script() {
        let d = aggregate(&cells(&[(0, "</script><b>", Outcome::Started, 1)]), 0, 86_400);
        assert!(!page(&d, 0, 86_400).contains("</script><b>"));
    }
}
