//! The dashboard: one self-contained HTML page (inline data, script and
//! style; nothing loaded from the network) for a period chosen in its form,
//! from the hourly counters ([`crate::counters`]), never from events:
//!
//! - verifications started and approved over time;
//! - wrong codes, lockouts, expiries and blocked starts over time;
//! - blocked starts over time by country, and the fraud guard's blocks by
//!   prefix (the only refusals counted by prefix: see [`Outcome::BlockedPrefix`]);
//! - every figure per country.
//!
//! Series are hourly for periods up to two days, daily beyond. Two
//! conversions are shown, each named for what it counts: per verification
//! (approved ÷ started: what a user who asked for a code went on to do;
//! a resend does not lower it) and per send (the Summary API's
//! `conversion_rate_percentage`, Twilio's definition, kept as it is for
//! wire compatibility). Errors are an HTML page ([`error_page`]).

use crate::counters::{Cell, Outcome};
use http::{HeaderValue, Response, StatusCode, header};
use serde::Serialize;
use std::collections::BTreeMap;
use verify_core::api::handlers::HttpResponse;
use verify_core::clock::Seconds;
use verify_core::time_fmt::iso8601;

/// Periods up to this long are charted per hour.
pub const HOURLY_UP_TO: Seconds = 2 * 86_400;
/// Countries and prefixes charted by name; the rest are summed as `other`.
const NAMED_SERIES: usize = 6;

/// What one bucket, country or period counts. Serialized as an array in
/// field order (the page's script reads them by position; field names in
/// every bucket would cost page and binary more).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    /// Verifications started (first sends; resends are not new verifications).
    pub started: u64,
    pub approved: u64,
    /// Codes sent, resends included: the Summary API's attempts.
    pub sent: u64,
    /// Sends of approved verifications, in the hour of the approval.
    pub converted: u64,
    /// Wrong codes entered.
    pub failed: u64,
    /// Verifications locked by their last wrong code.
    pub lockouts: u64,
    pub expired: u64,
    /// Starts refused, whatever the reason.
    pub blocked: u64,
}

impl Serialize for Figures {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        [self.started, self.approved, self.sent, self.converted, self.failed, self.lockouts, self.expired, self.blocked].serialize(s)
    }
}

impl Figures {
    pub fn add(&mut self, outcome: &Outcome, n: u64) {
        let field = match outcome {
            Outcome::Started => &mut self.started,
            Outcome::Approved => &mut self.approved,
            Outcome::Sent => &mut self.sent,
            Outcome::Converted => &mut self.converted,
            Outcome::FailedCheck => &mut self.failed,
            Outcome::MaxAttempts => &mut self.lockouts,
            Outcome::Expired => &mut self.expired,
            Outcome::Blocked(_) => &mut self.blocked,
            Outcome::Canceled | Outcome::BlockedPrefix(_) => return,
        };
        *field += n;
    }

    /// Converted attempts as the Summary API counts them: capped at the
    /// attempts (a period can cut a verification's sends from its approval).
    pub fn converted_attempts(&self) -> u64 {
        self.converted.min(self.sent)
    }
}

/// A country's figures (`??` when the number's country is unknown),
/// serialized as `[country, figures]` (a flattened struct would cost the
/// binary more).
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Country(pub String, pub Figures);

/// One line of a chart: a name and a count per bucket.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Series {
    pub name: String,
    pub total: u64,
    pub values: Vec<u64>,
}

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct DashboardData {
    pub bucket_secs: Seconds,
    /// Each bucket's start (Unix seconds) and label. (The page's script
    /// reads what is not skipped; the cards are written in the page.)
    #[serde(skip)]
    pub t: Vec<Seconds>,
    pub labels: Vec<String>,
    pub buckets: Vec<Figures>,
    pub countries: Vec<Country>,
    pub blocked_by_country: Vec<Series>,
    pub blocked_by_prefix: Vec<Series>,
    #[serde(skip)]
    pub totals: Figures,
    /// Starts refused, by reason.
    #[serde(skip)]
    pub blocked_by_reason: BTreeMap<String, u64>,
}

/// The entry named `name`, made if new. A list, not a map: there are a
/// few countries and prefixes, and a map of each kind costs binary size.
fn slot<'a, T>(list: &'a mut Vec<(String, T)>, name: &str, make: impl FnOnce() -> T) -> &'a mut T {
    let i = list.iter().position(|(n, _)| n == name).unwrap_or_else(|| {
        list.push((name.to_owned(), make()));
        list.len() - 1
    });
    &mut list[i].1
}

/// The named series with the largest totals, the rest summed as `other`.
fn top_series(by_name: CountsByName, buckets: usize) -> Vec<Series> {
    let mut all: Vec<Series> = by_name.into_iter().map(|(name, values)| Series { name, total: values.iter().sum(), values }).collect();
    all.sort_by(|a, b| b.total.cmp(&a.total).then(a.name.cmp(&b.name)));
    if all.len() > NAMED_SERIES {
        let mut other = Series { name: "other".into(), total: 0, values: vec![0; buckets] };
        for s in all.drain(NAMED_SERIES - 1..) {
            other.total += s.total;
            other.values.iter_mut().zip(&s.values).for_each(|(o, v)| *o += v);
        }
        all.push(other);
    }
    all
}

/// Whether `[from, to)` is charted per hour (and so must be read from the
/// hour counters, not the day roll-ups).
pub fn hourly(from: Seconds, to: Seconds) -> bool {
    to - from <= HOURLY_UP_TO
}

/// The period's figures per bucket (an hour up to [`HOURLY_UP_TO`], else
/// a day), per country, and its blocks by country and by prefix.
pub fn aggregate(cells: &BTreeMap<Cell, u64>, from: Seconds, to: Seconds) -> DashboardData {
    let bucket_secs = if hourly(from, to) { 3_600 } else { 86_400 };
    let first = from - from.rem_euclid(bucket_secs);
    let t: Vec<Seconds> = (0..).map(|i| first + i * bucket_secs).take_while(|t| *t < to).take(2_000).collect();
    let labels = t
        .iter()
        .map(|&t| {
            let iso = iso8601(t);
            if bucket_secs == 3_600 { iso[5..16].replace('T', " ") } else { iso[..10].to_owned() }
        })
        .collect();
    let mut data = DashboardData { bucket_secs, buckets: vec![Figures::default(); t.len()], labels, ..DashboardData::default() };
    let mut countries: Vec<(String, Figures)> = Vec::new();
    let (mut by_country, mut by_prefix): (CountsByName, CountsByName) = Default::default();
    let zeros = || vec![0; t.len()];
    for (cell, &n) in cells {
        let Some(i) = usize::try_from((cell.hour - first).div_euclid(bucket_secs)).ok().filter(|i| *i < t.len()) else { continue };
        let country = if cell.country == "-" { "??" } else { cell.country.as_str() };
        match &cell.outcome {
            Outcome::BlockedPrefix(prefix) => {
                slot(&mut by_prefix, &format!("+{prefix}"), zeros)[i] += n;
                continue;
            }
            Outcome::Blocked(reason) => {
                *data.blocked_by_reason.entry(reason.clone()).or_default() += n;
                slot(&mut by_country, country, zeros)[i] += n;
            }
            _ => {}
        }
        data.buckets[i].add(&cell.outcome, n);
        slot(&mut countries, country, Figures::default).add(&cell.outcome, n);
        data.totals.add(&cell.outcome, n);
    }
    let mut countries: Vec<Country> = countries.into_iter().map(|(country, figures)| Country(country, figures)).collect();
    countries.sort_by(|Country(a, x), Country(b, y)| (y.started + y.blocked).cmp(&(x.started + x.blocked)).then(a.cmp(b)));
    data.countries = countries;
    data.blocked_by_country = top_series(by_country, t.len());
    data.blocked_by_prefix = top_series(by_prefix, t.len());
    data.t = t;
    data
}

/// One line of counts per bucket for each name (a country, a prefix).
type CountsByName = Vec<(String, Vec<u64>)>;

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `1,234,567`, as the charts' legends write counts.
fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `12.5 %` of a part, `–` of nothing.
fn percent(part: u64, whole: u64) -> String {
    if whole == 0 { "–".into() } else { format!("{:.1} %", part.min(whole) as f64 * 100.0 / whole as f64) }
}

/// `geo_permissions 3, max_sends 1`, or `none`.
fn blocked_by_reason(data: &DashboardData) -> String {
    if data.blocked_by_reason.is_empty() {
        return "none".into();
    }
    data.blocked_by_reason.iter().map(|(reason, n)| format!("{reason} {}", count(*n))).collect::<Vec<_>>().join(", ")
}

/// An HTML response; everything is inline, nothing may be loaded from elsewhere.
fn html(status: StatusCode, body: String) -> HttpResponse {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; form-action 'self'"),
    );
    resp
}

/// The page, data inline. JSON in a script element cannot close it: `<` is
/// written as `\u003c`.
pub fn page(data: &DashboardData, from: Seconds, to: Seconds) -> HttpResponse {
    let json = serde_json::to_string(data).unwrap_or_else(|_| "{}".into()).replace('<', "\\u003c");
    let f = &data.totals;
    let body = TEMPLATE
        .replace("{{DATA}}", &json)
        .replace("{{FROM}}", &html_escape(&iso8601(from)[..10]))
        .replace("{{TO}}", &html_escape(&iso8601(to - 1)[..10]))
        .replace("{{PERIOD}}", &html_escape(&format!("{} – {}", iso8601(from), iso8601(to))))
        .replace("{{STEP}}", if data.bucket_secs == 3_600 { "hour" } else { "day" })
        .replace("{{STARTED}}", &count(f.started))
        .replace("{{APPROVED}}", &count(f.approved))
        .replace("{{RATE}}", &html_escape(&percent(f.approved, f.started)))
        .replace("{{SENT}}", &count(f.sent))
        .replace("{{SEND_RATE}}", &html_escape(&percent(f.converted_attempts(), f.sent)))
        .replace("{{FAILED}}", &count(f.failed))
        .replace("{{LOCKOUTS}}", &count(f.lockouts))
        .replace("{{EXPIRED}}", &count(f.expired))
        .replace("{{BLOCKED}}", &count(f.blocked))
        .replace("{{BLOCKED_BY_REASON}}", &html_escape(&blocked_by_reason(data)));
    html(StatusCode::OK, body)
}

/// An error response (JSON, Twilio-shaped) as a page a browser shows: the
/// same status and headers, its message and code in words.
pub fn error_page(resp: HttpResponse) -> HttpResponse {
    let (parts, body) = resp.into_parts();
    let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let message = json["message"].as_str().unwrap_or("The request failed.");
    let code = json["code"].as_u64().map(|c| format!(" (error {c})")).unwrap_or_default();
    let retry = if parts.headers.contains_key(header::RETRY_AFTER) { " Please retry in a moment." } else { "" };
    let text = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Dashboard: {status}</title>\
         <style>body{{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1f2933}}</style></head>\
         <body><h1>The dashboard could not be shown</h1><p id=\"error\" data-status=\"{status}\">{message}{code}.{retry}</p>\
         <p><a href=\"?\">Back to the last 7 days</a></p></body></html>\n",
        status = parts.status.as_u16(),
        message = html_escape(message.trim_end_matches('.')),
    );
    let mut out = html(parts.status, text);
    for name in [header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(v) = parts.headers.get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}

const TEMPLATE: &str = r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Verifications dashboard</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1f2933;background:#f7f9fb}
h1{font-size:20px;margin:0 0 4px}
.period,.what{color:#52606d}
.what{font-size:12px;margin:0 0 8px}
form{margin:12px 0 16px;display:flex;gap:12px;align-items:end;flex-wrap:wrap}
form>label{display:flex;flex-direction:column;font-size:12px;color:#52606d}
.cards{display:flex;gap:12px;margin-bottom:16px;flex-wrap:wrap}
.card{background:#fff;border-radius:8px;padding:10px 14px;box-shadow:0 1px 2px rgba(0,0,0,.08);min-width:120px;max-width:230px}
.card b{display:block;font-size:22px}
.card small{display:block;color:#52606d;font-size:11px}
section{background:#fff;border-radius:8px;padding:16px;margin-bottom:16px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{font-size:15px;margin:0 0 4px}
.legend span{display:inline-block;margin-right:16px}
.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px}
svg{display:block;width:100%;height:auto}
svg text{font-size:11px;fill:#52606d}
table{border-collapse:collapse;width:100%}
td,th{padding:3px 8px;text-align:right;border-bottom:1px solid #e4e7eb}
td:first-child,th:first-child{text-align:left}
.empty{color:#9aa5b1}
</style>
</head>
<body data-rendered="false">
<h1>Verifications</h1>
<div class="period">{{PERIOD}} (UTC), per {{STEP}}</div>
<form method="get" action="">
<label>From <input type="date" name="from" value="{{FROM}}"></label>
<label>To <input type="date" name="to" value="{{TO}}"></label>
<button type="submit">Show</button>
<label style="flex-direction:row;gap:4px;align-items:center"><input type="checkbox" id="refresh"> Auto-refresh every minute</label>
</form>
<div class="cards">
<div class="card">Verifications started<b id="total-started">{{STARTED}}</b><small>first codes sent (resends not counted)</small></div>
<div class="card">Approved<b id="total-approved">{{APPROVED}}</b><small>verifications whose code was checked right</small></div>
<div class="card">Conversion per verification<b id="total-rate">{{RATE}}</b><small>approved ÷ started</small></div>
<div class="card">Conversion per send<b id="send-rate">{{SEND_RATE}}</b><small>of {{SENT}} codes sent, resends included: the Summary API's conversion_rate_percentage</small></div>
<div class="card">Wrong codes<b id="total-failed">{{FAILED}}</b><small>checks with a wrong code</small></div>
<div class="card">Lockouts<b id="total-lockouts">{{LOCKOUTS}}</b><small>verifications locked by too many wrong codes</small></div>
<div class="card">Expired<b id="total-expired">{{EXPIRED}}</b><small>codes that expired unchecked</small></div>
<div class="card">Blocked starts<b id="total-blocked">{{BLOCKED}}</b><small id="blocked-by-reason">{{BLOCKED_BY_REASON}}</small></div>
</div>
<section><h2>Verifications started and approved</h2><p class="what">Per {{STEP}}: verifications started (first code sent) and approved.</p><div class="legend" id="l-conv"></div><svg id="conv"></svg></section>
<section><h2>Wrong codes, lockouts, expiries and blocked starts</h2><p class="what">Per {{STEP}}: each wrong code entered; each verification locked by its last wrong code; each code expired unchecked; each start refused (any reason).</p><div class="legend" id="l-sec"></div><svg id="sec"></svg></section>
<section><h2>Blocked starts by country</h2><p class="what">Per {{STEP}}: starts refused for any reason, by the number's country (the six largest; the rest as other).</p><div class="legend" id="l-bc"></div><svg id="bc"></svg></section>
<section><h2>Fraud guard blocks by prefix</h2><p class="what">Per {{STEP}}: starts the fraud guard refused, by the blocked prefix (the number without its last four digits). Other refusals are not counted by prefix.</p><div class="legend" id="l-bp"></div><svg id="bp"></svg></section>
<section><h2>Per country</h2><p class="what">Over the whole period. Conversion is per verification (approved ÷ started).</p><table id="countries"></table></section>
<noscript>The charts need JavaScript; the totals above do not.</noscript>
<script type="application/json" id="data">{{DATA}}</script>
<script>
(function(){
var D=JSON.parse(document.getElementById('data').textContent),NS='http://www.w3.org/2000/svg',
C=['#3e7bfa','#27ab83','#e12d39','#f0b429','#8719e0','#0b6e99','#9aa5b1'];
function $(id){return document.getElementById(id)}
function el(n,a,t,p){var e=document.createElementNS(NS,n);for(var k in a)e.setAttribute(k,a[k]);if(t!==undefined)e.textContent=t;if(p)p.appendChild(e);return e}
function fmt(v){return v.toLocaleString('en-US')}
// A step of 1, 2 or 5 × 10^k (at least 1: counts are whole) giving at most 5 intervals.
function niceStep(max){var s=1;while(max/s>5)s*=(String(s)[0]==='2'?2.5:2);return s}
function chart(id,series){
var svg=$(id),W=960,H=240,T=10,B=24,R=8,n=D.labels.length,max=0;
svg.setAttribute('viewBox','0 0 '+W+' '+H);
var lg=$('l-'+id);
series.forEach(function(s,j){max=Math.max.apply(null,[max].concat(s.values));
var sp=document.createElement('span');sp.innerHTML='<i class="sw" style="background:'+C[j%7]+'"></i>';sp.appendChild(document.createTextNode(s.name+' ('+fmt(s.total)+')'));lg.appendChild(sp)});
if(!series.length){lg.textContent='None in this period.';lg.className='legend empty'}
var step=niceStep(max),top=Math.max(step,Math.ceil(max/step)*step),L=0,ys=[];
for(var v=0;v<=top;v+=step){var t=el('text',{'text-anchor':'end','class':'ytick','data-value':v},fmt(v),svg);ys.push(t);L=Math.max(L,t.getComputedTextLength())}
L=Math.ceil(L)+12;var pw=W-L-R,ph=H-T-B,dx=pw/Math.max(n,1);
ys.forEach(function(t){var v=+t.getAttribute('data-value'),y=T+ph*(1-v/top);t.setAttribute('x',L-6);t.setAttribute('y',y+4);svg.insertBefore(el('line',{x1:L,x2:W-R,y1:y,y2:y,stroke:'#e4e7eb'}),svg.firstChild)});
// X labels every k buckets, k the first of these whose labels do not overlap.
var probe=el('text',{},D.labels[0]||'',svg),lw=probe.getComputedTextLength()+10;svg.removeChild(probe);
var ks=D.bucket_secs===3600?[1,2,3,4,6,12,24]:[1,2,7,14,28,56,91,182];
var k=ks.filter(function(k){return k*dx>=lw})[0]||ks[ks.length-1];
for(var i=0;i<n;i+=k){var x=L+dx*(i+.5),t=el('text',{'class':'xtick','text-anchor':'middle','data-i':i},D.labels[i],svg),w=t.getComputedTextLength();
t.setAttribute('x',Math.min(Math.max(x,w/2+1),W-w/2-1));t.setAttribute('y',H-6);el('line',{x1:x,x2:x,y1:T+ph,y2:T+ph+4,stroke:'#9aa5b1'},undefined,svg)}
el('line',{x1:L,x2:W-R,y1:T+ph,y2:T+ph,stroke:'#9aa5b1'},undefined,svg);
var pts=0;series.forEach(function(s,j){var p=s.values.map(function(v,i){return (L+dx*(i+.5)).toFixed(1)+','+(T+ph*(1-v/top)).toFixed(1)}).join(' ');
el('polyline',{points:p,fill:'none',stroke:C[j%7],'stroke-width':1.5,'class':'series','data-name':s.name},undefined,svg);
s.values.forEach(function(v,i){if(!v)return;pts++;var c=el('circle',{cx:L+dx*(i+.5),cy:T+ph*(1-v/top),r:n>100?1.5:2.5,fill:C[j%7]},undefined,svg);el('title',{},D.labels[i]+': '+fmt(v)+' '+s.name,c)})});
svg.setAttribute('data-points',pts);svg.setAttribute('data-buckets',n)}
// A bucket's figures by position: started, approved, sent, converted, wrong codes, lockouts, expired, blocked.
function of(names){return names.map(function(k){var v=D.buckets.map(function(b){return b[k[0]]});return{name:k[1],values:v,total:v.reduce(function(a,b){return a+b},0)}})}
chart('conv',of([[0,'started'],[1,'approved']]));
chart('sec',of([[4,'wrong codes'],[5,'lockouts'],[6,'expired'],[7,'blocked starts']]));
chart('bc',D.blocked_by_country);chart('bp',D.blocked_by_prefix);
var tb=$('countries'),h='<tr><th>Country</th><th>Started</th><th>Approved</th><th>Conversion</th><th>Codes sent</th><th>Wrong codes</th><th>Lockouts</th><th>Expired</th><th>Blocked starts</th></tr>';
D.countries.forEach(function(r){var c=r[1];h+='<tr data-country="'+r[0].replace(/[^A-Z?]/g,'')+'"><td></td><td>'+[c[0],c[1]].map(fmt).join('</td><td>')+'</td><td>'+(c[0]?(100*Math.min(1,c[1]/c[0])).toFixed(1)+' %':'–')+'</td><td>'+[c[2],c[4],c[5],c[6],c[7]].map(fmt).join('</td><td>')+'</td></tr>'});
tb.innerHTML=D.countries.length?h:'<tr><td class="empty">Nothing in this period.</td></tr>';
tb.querySelectorAll('tr[data-country]').forEach(function(r,i){r.firstChild.textContent=D.countries[i][0]});
// Auto-refresh: off unless asked for; #refresh in the address keeps it on across reloads.
var rf=$('refresh'),timer;
function arm(){clearTimeout(timer);if(rf.checked){timer=setTimeout(function(){location.reload()},60000);document.body.setAttribute('data-refresh','60')}else document.body.removeAttribute('data-refresh')}
function keep(){document.forms[0].setAttribute('action',rf.checked?'#refresh':'')}
rf.checked=location.hash==='#refresh';rf.onchange=function(){history.replaceState(null,'',rf.checked?'#refresh':location.pathname+location.search);keep();arm()};keep();arm();
document.body.setAttribute('data-rendered','true')})();
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
                let cell = Cell {
                    hour: *hour,
                    service: "VA1".into(),
                    country: (*country).into(),
                    channel: "sms".into(),
                    outcome: outcome.clone(),
                };
                (cell, *n)
            })
            .collect()
    }

    #[test]
    fn counts_every_figure_per_bucket_and_country() {
        let from = 1_700_000_000 - 1_700_000_000 % 3600;
        let data = cells(&[
            (from, "US", Outcome::Started, 1),
            (from, "US", Outcome::Sent, 2),
            (from, "US", Outcome::Approved, 1),
            (from, "US", Outcome::Converted, 2),
            (from, "US", Outcome::FailedCheck, 3),
            (from + 3600, "GB", Outcome::Started, 1),
            (from + 3600, "GB", Outcome::Sent, 1),
            (from + 3600, "GB", Outcome::MaxAttempts, 1),
            (from + 7200, "GB", Outcome::Expired, 1),
        ]);
        let d = aggregate(&data, from, from + 86_400);
        assert_eq!((d.bucket_secs, d.buckets.len(), d.labels.len(), d.t.len()), (3600, 24, 24, 24));
        assert_eq!((d.buckets[0].started, d.buckets[0].approved, d.buckets[0].failed, d.buckets[1].started), (1, 1, 3, 1));
        assert_eq!((d.buckets[1].lockouts, d.buckets[2].expired), (1, 1));
        let t = &d.totals;
        assert_eq!((t.started, t.approved, t.sent, t.converted_attempts(), t.failed, t.lockouts, t.expired), (2, 1, 3, 2, 3, 1, 1));
        assert_eq!(
            d.countries.iter().map(|Country(c, f)| (c.as_str(), f.started, f.approved)).collect::<Vec<_>>(),
            [("GB", 1, 0), ("US", 1, 1)]
        );
        let html = page(&d, from, from + 86_400).into_body();
        assert!(html.contains(">50.0 %</b>") && html.contains(">66.7 %</b>"), "both conversions, per verification and per send");
        assert!(!html.contains("src=") && !html.contains("href="), "nothing is loaded from elsewhere");
        // Days for longer periods: the hours add up in their day.
        let week = aggregate(&data, from - from % 86_400, from - from % 86_400 + 7 * 86_400);
        assert_eq!((week.bucket_secs, week.buckets.len()), (86_400, 7));
        assert_eq!(week.buckets.iter().map(|b| b.started).sum::<u64>(), 2);
    }

    #[test]
    fn blocks_by_reason_country_and_prefix() {
        let from = 1_700_000_000 - 1_700_000_000 % 3600;
        let mut list = vec![
            (from, "GB", Outcome::Blocked("geo_permissions".into()), 2),
            (from, "US", Outcome::Blocked("fraud_guard".into()), 1),
            (from + 3600, "US", Outcome::BlockedPrefix("1415555".into()), 1),
        ];
        // More prefixes than are charted by name: the smallest are summed.
        for p in 0..8 {
            list.push((from, "US", Outcome::BlockedPrefix(format!("4477009{p}")), 10 - p));
        }
        let d = aggregate(&cells(&list), from, from + 86_400);
        assert_eq!(
            d.blocked_by_reason.iter().map(|(r, n)| (r.as_str(), *n)).collect::<Vec<_>>(),
            [("fraud_guard", 1), ("geo_permissions", 2)]
        );
        assert_eq!(d.totals.blocked, 3, "a prefix count is the same refusal again, not another");
        assert_eq!(d.totals.started, 0, "a blocked start is not a started verification");
        assert_eq!(
            d.blocked_by_country.iter().map(|s| (s.name.as_str(), s.total, s.values[0])).collect::<Vec<_>>(),
            [("GB", 2, 2), ("US", 1, 1)]
        );
        let names: Vec<&str> = d.blocked_by_prefix.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["+44770090", "+44770091", "+44770092", "+44770093", "+44770094", "other"]);
        let other = d.blocked_by_prefix.last().unwrap();
        assert_eq!((other.total, other.values[0], other.values[1]), (5 + 4 + 3 + 1, 5 + 4 + 3, 1));
        let html = page(&d, from, from + 86_400).into_body();
        assert!(html.contains(">3</b>") && html.contains("fraud_guard 1, geo_permissions 2"), "the blocked card");
        assert_eq!([count(0), count(999), count(1_000), count(1_234_567)], ["0", "999", "1,000", "1,234,567"]);
    }

    #[test]
    fn data_cannot_break_out_of_its_script() {
        let d = aggregate(&cells(&[(0, "</script><b>", Outcome::Started, 1)]), 0, 86_400);
        assert!(!page(&d, 0, 86_400).into_body().contains("</script><b>"));
    }

    #[test]
    fn errors_are_a_page_with_their_status_and_headers() {
        let e = verify_core::api::ApiError::new(503, 20503, "Store <down>").retry_after(1);
        let page = error_page(verify_core::api::handlers::error_response(&e));
        assert_eq!((page.status().as_u16(), page.headers()["content-type"].to_str().unwrap()), (503, "text/html; charset=utf-8"));
        assert!(page.headers().contains_key(header::RETRY_AFTER));
        assert!(page.body().contains("Store &lt;down&gt; (error 20503). Please retry"), "{}", page.body());
    }
}
