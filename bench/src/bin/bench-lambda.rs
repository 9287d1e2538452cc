//! bench-lambda: cold start and warm latency of the Lambda function binaries.
//!
//! Each binary runs exactly as on Lambda: a process whose `main` initialises
//! and then polls the Lambda Runtime API. The Runtime API here is a minimal
//! emulator inside this process (the same protocol `cargo lambda watch` and
//! Lambda serve), so every timestamp is taken on one clock with no extra
//! process in the path:
//!
//! - ready: process spawn → its first `GET …/invocation/next` (init done),
//!   with the warm-up off, on, and on with the secrets read from Secrets
//!   Manager (moto's, behind a timing proxy) instead of the environment,
//!   and that again with init's answers replayed from memory (captured from
//!   the real backends by one untimed start: ready without the backends'
//!   time);
//! - first response: spawn → the response to an event queued before spawn;
//! - warm latency: event handed out → response received, per invocation;
//! - peak RSS: the process's VmHWM;
//! - own overhead: warm latency minus the time spent inside DynamoDB and SNS,
//!   measured by timing proxies in front of them (so it is everything the
//!   function does itself: runtime client, lambda_http, our handler, the
//!   SDK's serialisation and signing, loopback hops).
//!
//! DynamoDB is embedded dynoxide served on loopback (the table made by
//! `ensure_table`); SNS and Secrets Manager are moto's server (`--sns URL`).

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::response::Response;
use axum::routing::{get, post};
use bytes::Bytes;
use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, mpsc, oneshot};
use verify_bench::{Flags, Numbers, Summary, code_in, ms, peak_rss_kib};

// --- Runtime API emulator ---------------------------------------------------

struct Job {
    event: Bytes,
    done: oneshot::Sender<Outcome>,
}

struct Outcome {
    body: Bytes,
    error: bool,
    elapsed: Duration,
    backend: Duration,
}

struct InFlight {
    handed: Instant,
    backend_before: u64,
    done: oneshot::Sender<Outcome>,
}

/// One function process's view of the Runtime API. A new process gets a new
/// generation, so a request left behind by a killed process takes nothing.
struct Generation {
    jobs: Mutex<mpsc::Receiver<Job>>,
    first_poll: std::sync::Mutex<Option<Instant>>,
    in_flight: std::sync::Mutex<HashMap<String, InFlight>>,
    init_error: std::sync::Mutex<Option<String>>,
}

struct Emulator {
    generations: std::sync::Mutex<HashMap<u64, Arc<Generation>>>,
    next_id: AtomicU64,
    backend: Arc<Busy>,
}

impl Emulator {
    fn generation(&self, id: u64) -> Option<Arc<Generation>> {
        self.generations.lock().unwrap().get(&id).cloned()
    }
}

async fn next(State(emu): State<Arc<Emulator>>, Path(gen_id): Path<u64>) -> Response {
    let Some(generation) = emu.generation(gen_id) else { return status(410) };
    generation.first_poll.lock().unwrap().get_or_insert_with(Instant::now);
    let job = generation.jobs.lock().await.recv().await;
    let Some(job) = job else { return status(410) };
    let id = format!("{:016x}", emu.next_id.fetch_add(1, Ordering::Relaxed));
    generation
        .in_flight
        .lock()
        .unwrap()
        .insert(id.clone(), InFlight { handed: Instant::now(), backend_before: emu.backend.nanos(), done: job.done });
    let deadline = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap() + Duration::from_secs(30);
    Response::builder()
        .header("lambda-runtime-aws-request-id", &id)
        .header("lambda-runtime-deadline-ms", deadline.as_millis().to_string())
        .header("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:123456789012:function:bench")
        .header("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000;Sampled=0")
        .header("content-type", "application/json")
        .body(Body::from(job.event))
        .unwrap()
}

async fn respond(emu: &Emulator, gen_id: u64, id: &str, body: Bytes, error: bool) -> Response {
    let now = Instant::now();
    let Some(generation) = emu.generation(gen_id) else { return status(410) };
    let Some(f) = generation.in_flight.lock().unwrap().remove(id) else { return status(404) };
    let backend = Duration::from_nanos(emu.backend.nanos() - f.backend_before);
    let _ = f.done.send(Outcome { body, error, elapsed: now - f.handed, backend });
    status(202)
}

async fn response(State(emu): State<Arc<Emulator>>, Path((gen_id, id)): Path<(u64, String)>, body: Bytes) -> Response {
    respond(&emu, gen_id, &id, body, false).await
}

async fn error(State(emu): State<Arc<Emulator>>, Path((gen_id, id)): Path<(u64, String)>, body: Bytes) -> Response {
    respond(&emu, gen_id, &id, body, true).await
}

async fn init_error(State(emu): State<Arc<Emulator>>, Path(gen_id): Path<u64>, body: Bytes) -> Response {
    if let Some(generation) = emu.generation(gen_id) {
        *generation.init_error.lock().unwrap() = Some(String::from_utf8_lossy(&body).into_owned());
    }
    status(202)
}

fn status(code: u16) -> Response {
    Response::builder().status(code).body(Body::empty()).unwrap()
}

// --- Timing proxy -------------------------------------------------------------

struct Proxy {
    upstream: String,
    client: reqwest::Client,
    busy: Arc<Busy>,
    /// `Some` on a replaying proxy: init's calls answered from memory.
    replay: Option<Replay>,
}

/// The answers to the calls a function makes during init (its warm-up
/// calls and the secrets read), captured from the real backend the first
/// time and replayed from memory after that: the same bytes, without the
/// backend's time. Init asks the same questions on every cold start, so
/// after one priming start none of init's time is spent in a backend.
#[derive(Default)]
struct Replay {
    answers: std::sync::Mutex<HashMap<String, Captured>>,
}

#[derive(Clone)]
struct Captured {
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    body: Bytes,
}

impl Replay {
    /// The calls init makes: DynamoDB's and SNS's warm-up calls and the
    /// secrets read. Anything else (the request itself) goes to the backend.
    fn key(target: Option<&str>, body: &[u8]) -> Option<String> {
        let init_call = match target {
            Some(t) => ["DynamoDB_20120810.DescribeTable", "secretsmanager.BatchGetSecretValue"].contains(&t),
            None => body.starts_with(b"Action=GetSMSAttributes"),
        };
        init_call.then(|| format!("{}\n{}", target.unwrap_or(""), String::from_utf8_lossy(body)))
    }

    fn answer(c: &Captured) -> Response {
        let mut builder = Response::builder().status(c.status);
        for (name, value) in &c.headers {
            builder = builder.header(name.as_str(), value.as_slice());
        }
        builder.body(Body::from(c.body.clone())).unwrap()
    }
}

/// Wall time with at least one backend call in flight: calls a function
/// makes concurrently (a report querying many buckets) count once, so the
/// time left over is never negative.
#[derive(Default)]
struct Busy {
    state: std::sync::Mutex<BusyState>,
}

#[derive(Default)]
struct BusyState {
    in_flight: u32,
    since: Option<Instant>,
    total_nanos: u64,
}

impl Busy {
    fn enter(&self) {
        let mut s = self.state.lock().unwrap();
        if s.in_flight == 0 {
            s.since = Some(Instant::now());
        }
        s.in_flight += 1;
    }

    fn exit(&self) {
        let mut s = self.state.lock().unwrap();
        s.in_flight -= 1;
        if s.in_flight == 0
            && let Some(since) = s.since.take()
        {
            s.total_nanos += since.elapsed().as_nanos() as u64;
        }
    }

    fn nanos(&self) -> u64 {
        self.state.lock().unwrap().total_nanos
    }
}

/// Forwards a request to the upstream service and adds the time it took
/// (request received → response ready) to the backend's busy time.
async fn forward(State(p): State<Arc<Proxy>>, req: Request) -> Response {
    p.busy.enter();
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 16 << 20).await.unwrap_or_default();
    let target = parts.headers.get("x-amz-target").and_then(|t| t.to_str().ok());
    let replay_key = p.replay.as_ref().and_then(|_| Replay::key(target, &body));
    if let (Some(replay), Some(key)) = (&p.replay, &replay_key)
        && let Some(captured) = replay.answers.lock().unwrap().get(key).cloned()
    {
        p.busy.exit();
        return Replay::answer(&captured);
    }
    let url = format!("{}{}", p.upstream, parts.uri.path_and_query().map(|q| q.as_str()).unwrap_or("/"));
    let mut out = p.client.request(parts.method, url).body(body);
    for (name, value) in &parts.headers {
        if !matches!(name.as_str(), "host" | "content-length" | "connection" | "transfer-encoding") {
            out = out.header(name, value);
        }
    }
    let resp = match out.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            let headers = r
                .headers()
                .iter()
                .filter(|(name, _)| !matches!(name.as_str(), "content-length" | "connection" | "transfer-encoding"))
                .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
                .collect();
            let captured = Captured { status, headers, body: r.bytes().await.unwrap_or_default() };
            if let (Some(replay), Some(key)) = (&p.replay, replay_key)
                && status == 200
            {
                replay.answers.lock().unwrap().insert(key, captured.clone());
            }
            Replay::answer(&captured)
        }
        Err(e) => Response::builder().status(502).body(Body::from(e.to_string())).unwrap(),
    };
    p.busy.exit();
    resp
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("127.0.0.1:{}", addr.port())
}

// --- Function processes -------------------------------------------------------------

struct Harness {
    emu: Arc<Emulator>,
    runtime_addr: String,
    base_env: Vec<(String, String)>,
    log_dir: std::path::PathBuf,
    next_gen: AtomicU64,
}

struct Running {
    child: tokio::process::Child,
    generation: Arc<Generation>,
    gen_id: u64,
    jobs: Option<mpsc::Sender<Job>>,
    spawned: Instant,
}

#[derive(Clone, Copy)]
enum Log {
    Fresh,
    Cold,
}

impl Harness {
    /// `log`: where its output goes. Warm runs write `{name}.log` afresh
    /// (its "served" lines are counted); cold starts append to
    /// `{name}-cold.log`, so every init's own timing lines ("secrets read",
    /// "warmed up") are kept.
    async fn spawn(&self, name: &str, binary: &str, extra: &[(&str, &str)], log: Log) -> Running {
        let gen_id = self.next_gen.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(1);
        let generation = Arc::new(Generation {
            jobs: Mutex::new(rx),
            first_poll: std::sync::Mutex::new(None),
            in_flight: std::sync::Mutex::new(HashMap::new()),
            init_error: std::sync::Mutex::new(None),
        });
        self.emu.generations.lock().unwrap().insert(gen_id, generation.clone());
        let log = match log {
            Log::Fresh => std::fs::File::create(self.log_dir.join(format!("{name}.log"))),
            Log::Cold => std::fs::File::options().create(true).append(true).open(self.log_dir.join(format!("{name}-cold.log"))),
        }
        .unwrap();
        let mut cmd = tokio::process::Command::new(binary);
        cmd.env_clear()
            .envs(self.base_env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(extra.iter().copied())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_RUNTIME_API", format!("http://{}/{gen_id}", self.runtime_addr))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .kill_on_drop(true);
        let spawned = Instant::now();
        let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
        Running { child, generation, gen_id, jobs: Some(tx), spawned }
    }
}

impl Running {
    /// Queues an event and waits for its outcome.
    async fn invoke(&mut self, event: Bytes) -> Outcome {
        let (done, rx) = oneshot::channel();
        self.jobs.as_ref().unwrap().send(Job { event, done }).await.expect("emulator gone");
        match tokio::time::timeout(Duration::from_secs(30), rx).await {
            Ok(Ok(outcome)) => outcome,
            _ => {
                let init = self.generation.init_error.lock().unwrap().clone();
                panic!("no response within 30 s (init error: {init:?}; process: {:?})", self.child.try_wait());
            }
        }
    }

    fn ready_after(&self) -> Option<Duration> {
        self.generation.first_poll.lock().unwrap().map(|t| t - self.spawned)
    }

    async fn stop(mut self, harness: &Harness) -> Option<u64> {
        let rss = self.child.id().and_then(peak_rss_kib);
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        self.jobs.take(); // ends any /next left waiting in this generation
        harness.emu.generations.lock().unwrap().remove(&self.gen_id);
        rss
    }
}

// --- Events ---------------------------------------------------------------------

/// A function-URL event from events/ with its body replaced.
fn event_with_body(template: &serde_json::Value, body: &str) -> Bytes {
    let mut ev = template.clone();
    ev["body"] = serde_json::Value::String(body.to_owned());
    ev["isBase64Encoded"] = serde_json::Value::Bool(false);
    Bytes::from(serde_json::to_vec(&ev).unwrap())
}

const BATCH_OK: u16 = 0;

fn http_status(outcome: &Outcome) -> (u16, serde_json::Value) {
    let v: serde_json::Value = serde_json::from_slice(&outcome.body).unwrap_or_default();
    let status = v["statusCode"].as_u64().unwrap_or(0) as u16;
    let body = v["body"].as_str().and_then(|b| serde_json::from_str(b).ok()).unwrap_or_default();
    (status, body)
}

/// Checks an outcome: `want` is the HTTP status of a function-URL response,
/// or [`BATCH_OK`] for a stream batch answered with no item failures.
fn expect(outcome: &Outcome, want: u16, what: &str) -> serde_json::Value {
    if want == BATCH_OK {
        let v: serde_json::Value = serde_json::from_slice(&outcome.body).unwrap_or_default();
        let failures = v["batchItemFailures"].as_array().map(Vec::len);
        assert!(!outcome.error && failures == Some(0), "{what}: expected no batch item failures, got {v}");
        return v;
    }
    let (status, body) = http_status(outcome);
    assert!(!outcome.error && status == want, "{what}: expected {want}, got {status}: {}", String::from_utf8_lossy(&outcome.body));
    body
}

// --- Scenarios ----------------------------------------------------------------------

struct ColdResult {
    ready: Vec<f64>,
    first_response: Vec<f64>,
    rss_kib: Vec<f64>,
}

impl ColdResult {
    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "ready": Summary::of(&self.ready).json(),
            "first_response": Summary::of(&self.first_response).json(),
            "peak_rss_kib_max": self.rss_kib.iter().cloned().fold(0.0, f64::max),
        })
    }
}

/// The cold-start modes: the variables each adds to the base environment.
const WARM_UP_OFF: &[(&str, &str)] = &[("VERIFY_WARM_UP", "false")];
const WARM_UP_ON: &[(&str, &str)] = &[("VERIFY_WARM_UP", "true")];

/// The secrets mode: warm-up on, the code key, number key and API keys
/// stored in moto's Secrets Manager and named by `*_SECRET_ID` (as
/// template.yaml passes them), their values emptied (empty = unset).
async fn secrets_mode(moto: &str, secrets_proxy: &str, api_keys: &str, run: u64) -> Vec<(String, String)> {
    let mut env = vec![
        ("VERIFY_WARM_UP".to_owned(), "true".to_owned()),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER".to_owned(), format!("http://{secrets_proxy}")),
    ];
    for (var, value) in
        [("VERIFY_CODE_KEY", CODE_KEY.to_owned()), ("VERIFY_NUMBER_KEY", NUMBER_KEY.to_owned()), ("VERIFY_API_KEYS", api_keys.to_owned())]
    {
        let name = format!("bench-{run}/{var}");
        let resp = reqwest::Client::new()
            .post(moto)
            .header("x-amz-target", "secretsmanager.CreateSecret")
            .header("content-type", "application/x-amz-json-1.1")
            // moto's default server reads the service from the credential scope; it checks no signature.
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0",
            )
            .body(serde_json::json!({"Name": name, "SecretString": value}).to_string())
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "CreateSecret {name}: {}", resp.text().await.unwrap_or_default());
        env.push((var.to_owned(), String::new()));
        env.push((format!("{var}_SECRET_ID"), name));
    }
    env
}

/// `runs` cold starts: spawn with an event already queued, measure, kill.
async fn cold_starts(
    h: &Harness,
    name: &str,
    binary: &str,
    mode: &[(&str, &str)],
    runs: usize,
    mut event: impl FnMut() -> (Bytes, u16),
) -> ColdResult {
    let mut r = ColdResult { ready: vec![], first_response: vec![], rss_kib: vec![] };
    for _ in 0..runs {
        let (ev, want) = event();
        let mut p = h.spawn(name, binary, mode, Log::Cold).await;
        let outcome = p.invoke(ev).await;
        let first = p.spawned.elapsed();
        expect(&outcome, want, name);
        r.ready.push(ms(p.ready_after().expect("polled")));
        r.first_response.push(ms(first));
        r.rss_kib.push(p.stop(h).await.unwrap_or(0) as f64);
    }
    r
}

/// [`cold_starts`] with init's answers replayed: one untimed start first
/// captures them.
async fn cold_starts_replayed(
    h: &Harness,
    name: &str,
    binary: &str,
    mode: &[(&str, &str)],
    runs: usize,
    mut event: impl FnMut() -> (Bytes, u16),
) -> ColdResult {
    cold_starts(h, name, binary, mode, 1, &mut event).await;
    cold_starts(h, name, binary, mode, runs, event).await
}

struct WarmResult {
    total: Vec<f64>,
    backend: Vec<f64>,
    overhead: Vec<f64>,
    /// The function's own account of each request ("served … took_us"),
    /// and that minus the backend time: our code without the Runtime API
    /// exchange around it.
    handled: Vec<f64>,
    handled_overhead: Vec<f64>,
    rss_kib: u64,
}

impl WarmResult {
    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "total": Summary::of(&self.total).json(),
            "backend": Summary::of(&self.backend).json(),
            "own_overhead": Summary::of(&self.overhead).json(),
            "handled": Summary::of(&self.handled).json(),
            "handled_own_overhead": Summary::of(&self.handled_overhead).json(),
            "peak_rss_kib": self.rss_kib,
        })
    }
}

/// One process, one untimed first invocation, then `events` timed ones.
async fn warm_run(h: &Harness, name: &str, binary: &str, first: (Bytes, u16), events: Vec<(Bytes, u16)>) -> WarmResult {
    let mut p = h.spawn(name, binary, &[("VERIFY_WARM_UP", "true")], Log::Fresh).await;
    let outcome = p.invoke(first.0).await;
    expect(&outcome, first.1, name);
    let mut r = WarmResult { total: vec![], backend: vec![], overhead: vec![], handled: vec![], handled_overhead: vec![], rss_kib: 0 };
    let mut backends = vec![];
    for (ev, want) in events {
        let o = p.invoke(ev).await;
        expect(&o, want, name);
        r.total.push(ms(o.elapsed));
        r.backend.push(ms(o.backend));
        r.overhead.push(ms(o.elapsed.saturating_sub(o.backend)));
        backends.push(o.backend);
    }
    r.rss_kib = p.stop(h).await.unwrap_or(0);
    // The function logs one "served" line per request; the first is the
    // untimed invocation.
    let log = std::fs::read_to_string(h.log_dir.join(format!("{name}.log"))).unwrap_or_default();
    let took: Vec<Duration> = log
        .lines()
        .filter(|l| l.contains("served"))
        .filter_map(|l| l.split("took_us=").nth(1)?.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
        .map(Duration::from_micros)
        .skip(1)
        .collect();
    assert_eq!(took.len(), backends.len(), "{name}: one \"served\" log line per request");
    for (t, b) in took.iter().zip(&backends) {
        r.handled.push(ms(*t));
        r.handled_overhead.push(ms(t.saturating_sub(*b)));
    }
    r
}

/// Codes texted so far, by number (from moto's record of sent SMS).
async fn codes_from_moto(sns: &str) -> HashMap<String, String> {
    let data: serde_json::Value = reqwest::get(format!("{sns}/moto-api/data.json")).await.unwrap().json().await.unwrap();
    let mut codes = HashMap::new();
    for m in data["sns"]["SMS"].as_array().cloned().unwrap_or_default() {
        if let (Some(to), Some(text)) = (m["phone_number"].as_str(), m["message"].as_str())
            && let Some(code) = code_in(text)
        {
            codes.insert(to.to_owned(), code);
        }
    }
    codes
}

#[tokio::main]
async fn main() {
    let flags = Flags::parse();
    let sns = flags.required("sns");
    let events_dir = std::path::PathBuf::from(flags.get("events").unwrap_or_else(|| "events".into()));
    let out = flags.required("out");
    let log_dir = std::path::PathBuf::from(flags.get("logs").unwrap_or_else(|| "target/bench-logs".into()));
    std::fs::create_dir_all(&log_dir).unwrap();
    let cold_runs: usize = flags.number("cold", 20);
    let warm: usize = flags.number("warm", 1000);
    let bins: HashMap<String, String> =
        flags.all("bin").iter().map(|b| b.split_once('=').map(|(n, p)| (n.to_owned(), p.to_owned())).expect("--bin NAME=PATH")).collect();
    for name in bins.keys() {
        let _ = std::fs::remove_file(log_dir.join(format!("{name}-cold.log")));
    }

    // DynamoDB: embedded dynoxide on loopback, with the table the code defines.
    let db = dynoxide::Database::memory().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dynamo_upstream = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(dynoxide::server::serve_on(listener, db.clone()));
    let table = "bench";
    verify_aws::store::ensure_table(&verify_aws::clients::dynamodb_at(&dynamo_upstream), table).await.unwrap();

    // Timing proxies in front of DynamoDB and SNS, one shared busy clock.
    let backend = Arc::new(Busy::default());
    let client = reqwest::Client::builder().pool_max_idle_per_host(16).build().unwrap();
    let proxy_with = |upstream: String, replay: Option<Replay>| {
        Router::new().fallback(forward).with_state(Arc::new(Proxy { upstream, client: client.clone(), busy: backend.clone(), replay }))
    };
    let proxy = |upstream: String| proxy_with(upstream, None);
    let dynamo_proxy = serve(proxy(dynamo_upstream.clone())).await;
    let sns_proxy = serve(proxy(sns.trim_end_matches('/').to_owned())).await;

    let emu =
        Arc::new(Emulator { generations: std::sync::Mutex::new(HashMap::new()), next_id: AtomicU64::new(1), backend: backend.clone() });
    let runtime = Router::new()
        .route("/{gen}/2018-06-01/runtime/invocation/next", get(next))
        .route("/{gen}/2018-06-01/runtime/invocation/{id}/response", post(response))
        .route("/{gen}/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/{gen}/2018-06-01/runtime/init/error", post(init_error))
        .with_state(emu.clone());
    let runtime_addr = serve(runtime).await;

    let base_env: Vec<(String, String)> = [
        ("PATH", "/usr/bin:/bin".to_owned()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "bench".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "bench".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("AWS_ENDPOINT_URL_DYNAMODB", format!("http://{dynamo_proxy}")),
        ("AWS_ENDPOINT_URL_SNS", format!("http://{sns_proxy}")),
        ("VERIFY_TABLE", table.to_owned()),
        ("VERIFY_CODE_KEY", CODE_KEY.to_owned()),
        ("VERIFY_NUMBER_KEY", NUMBER_KEY.to_owned()),
        ("NO_COLOR", "1".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .chain(flags.all("env").iter().map(|kv| {
        let (k, v) = kv.split_once('=').expect("--env KEY=VALUE");
        (k.to_owned(), v.to_owned())
    }))
    .collect();
    let api_keys = base_env.iter().rev().find(|(k, _)| k == "VERIFY_API_KEYS").map(|(_, v)| v.clone()).expect("--env VERIFY_API_KEYS=…");
    let h = Harness { emu, runtime_addr, base_env, log_dir, next_gen: AtomicU64::new(1) };

    let read_event = |file: &str| -> serde_json::Value { serde_json::from_slice(&std::fs::read(events_dir.join(file)).unwrap()).unwrap() };
    let start_tpl = read_event("start-verify-json.json");
    let check_tpl = read_event("check-verify-by-sid.json");
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let secrets_proxy = serve(proxy(sns.trim_end_matches('/').to_owned())).await;
    let secrets_env = secrets_mode(sns.trim_end_matches('/'), &secrets_proxy, &api_keys, seed).await;
    let secrets: Vec<(&str, &str)> = secrets_env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    // The same, with init's answers replayed from memory: ready without
    // the backends' time (moto answers in milliseconds, busier when init
    // asks two things of it at once).
    let moto = sns.trim_end_matches('/').to_owned();
    let replaying = [
        ("AWS_ENDPOINT_URL_DYNAMODB", serve(proxy_with(dynamo_upstream.clone(), Some(Replay::default()))).await),
        ("AWS_ENDPOINT_URL_SNS", serve(proxy_with(moto.clone(), Some(Replay::default()))).await),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", serve(proxy_with(moto, Some(Replay::default()))).await),
    ]
    .map(|(var, addr)| (var.to_owned(), format!("http://{addr}")));
    let replayed_env: Vec<(String, String)> = secrets_env.iter().cloned().chain(replaying).collect();
    let replayed: Vec<(&str, &str)> = replayed_env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let numbers = Numbers::starting_at(seed * 1000);
    let start_event = |to: &str| event_with_body(&start_tpl, &serde_json::json!({"To": to, "Channel": "sms"}).to_string());
    let check_event = |to: &str, code: &str| event_with_body(&check_tpl, &serde_json::json!({"To": to, "Code": code}).to_string());

    let mut results = serde_json::Map::new();
    let started_all = Instant::now();

    if let Some(bin) = bins.get("start-verify") {
        let name = "start-verify";
        eprintln!(
            "bench-lambda: {name}: {cold_runs} cold starts without and with warm-up, with secrets, and with init's answers replayed, {warm} warm invocations"
        );
        let off = cold_starts(&h, name, bin, WARM_UP_OFF, cold_runs, || (start_event(&numbers.next()), 201)).await;
        let on = cold_starts(&h, name, bin, WARM_UP_ON, cold_runs, || (start_event(&numbers.next()), 201)).await;
        let sec = cold_starts(&h, name, bin, &secrets, cold_runs, || (start_event(&numbers.next()), 201)).await;
        let rep = cold_starts_replayed(&h, name, bin, &replayed, cold_runs, || (start_event(&numbers.next()), 201)).await;
        let mut started = vec![];
        let evs: Vec<(Bytes, u16)> = (0..warm)
            .map(|_| {
                let to = numbers.next();
                let ev = start_event(&to);
                started.push(to);
                (ev, 201)
            })
            .collect();
        let w = warm_run(&h, name, bin, (start_event(&numbers.next()), 201), evs).await;
        results.insert(
            name.into(),
            serde_json::json!({"cold": off.json(), "cold_warm_up": on.json(), "cold_secrets": sec.json(), "cold_secrets_replayed": rep.json(), "warm": w.json()}),
        );

        if let Some(bin) = bins.get("check-verify") {
            let name = "check-verify";
            let codes = codes_from_moto(&sns).await;
            let wrong = |code: &str| if code == "000000" { "111111".to_owned() } else { "000000".to_owned() };
            // Each started number is checked once: cold runs and the wrong-code
            // run with a wrong code (200 pending), the right-code run with the
            // texted code (200 approved); each a read, then one write.
            let mut pool = started.into_iter();
            let mut take_wrong = || {
                let to = pool.next().expect("enough started numbers");
                let code = wrong(codes.get(&to).map(String::as_str).unwrap_or(""));
                (check_event(&to, &code), 200)
            };
            eprintln!(
                "bench-lambda: {name}: {cold_runs} cold starts without and with warm-up, with secrets, and with init's answers replayed, {} warm invocations",
                warm / 2 * 2
            );
            let off = cold_starts(&h, name, bin, WARM_UP_OFF, cold_runs, &mut take_wrong).await;
            let on = cold_starts(&h, name, bin, WARM_UP_ON, cold_runs, &mut take_wrong).await;
            let sec = cold_starts(&h, name, bin, &secrets, cold_runs, &mut take_wrong).await;
            let rep = cold_starts_replayed(&h, name, bin, &replayed, cold_runs, &mut take_wrong).await;
            let half = (warm - 4 * cold_runs - 3) / 2;
            let first = take_wrong();
            let wrong_evs: Vec<_> = (0..half).map(|_| take_wrong()).collect();
            let w_wrong = warm_run(&h, name, bin, first, wrong_evs).await;
            let rest: Vec<String> = pool.collect();
            let right_evs: Vec<_> = rest.iter().filter_map(|to| codes.get(to).map(|c| (check_event(to, c), 200))).take(half + 1).collect();
            let mut right_evs = right_evs.into_iter();
            let first = right_evs.next().expect("codes read back from moto");
            let w_right = warm_run(&h, name, bin, first, right_evs.collect()).await;
            results.insert(
                name.into(),
                serde_json::json!({"cold": off.json(), "cold_warm_up": on.json(), "cold_secrets": sec.json(), "cold_secrets_replayed": rep.json(), "warm": w_wrong.json(), "warm_right_code": w_right.json()}),
            );
        }
    }

    // Our own code in process, with instant canned DynamoDB/SNS answers.
    eprintln!("bench-lambda: in process: {warm} requests per kind");
    // `--in-process off`: cold starts only (its canned answers know one service, not a --env VERIFY_SERVICES).
    let in_process = if flags.get("in-process").as_deref() == Some("off") {
        serde_json::Value::Null
    } else {
        verify_bench::in_process::measure(&dynamo_upstream, table, &events_dir, warm).await
    };

    // webhook-report: a reporting request (function URL) and a stream batch
    // (three records: events stored, no webhook configured).
    if let Some(bin) = bins.get("webhook-report") {
        let name = "webhook-report";
        let summary = Bytes::from(std::fs::read(events_dir.join("webhook-report/function-url-summary.json")).unwrap());
        let batch = Bytes::from(std::fs::read(events_dir.join("webhook-report/stream-batch.json")).unwrap());
        eprintln!(
            "bench-lambda: {name}: {cold_runs} cold starts without and with warm-up, with secrets, and with init's answers replayed, {warm} warm invocations per trigger"
        );
        let off = cold_starts(&h, name, bin, WARM_UP_OFF, cold_runs, || (summary.clone(), 200)).await;
        let on = cold_starts(&h, name, bin, WARM_UP_ON, cold_runs, || (summary.clone(), 200)).await;
        let sec = cold_starts(&h, name, bin, &secrets, cold_runs, || (summary.clone(), 200)).await;
        let rep = cold_starts_replayed(&h, name, bin, &replayed, cold_runs, || (summary.clone(), 200)).await;
        let repeat = |ev: &Bytes, want, n| (0..n).map(|_| (ev.clone(), want)).collect::<Vec<_>>();
        // A summary reads every bucket of its range (here 90 days × 8
        // shards): a fifth as many of those.
        let w_summary = warm_run(&h, name, bin, (summary.clone(), 200), repeat(&summary, 200, warm / 5)).await;
        let w_batch = warm_run(&h, name, bin, (batch.clone(), BATCH_OK), repeat(&batch, BATCH_OK, warm)).await;
        results.insert(
            name.into(),
            serde_json::json!({"cold": off.json(), "cold_warm_up": on.json(), "cold_secrets": sec.json(), "cold_secrets_replayed": rep.json(), "warm_summary": w_summary.json(), "warm_stream_batch": w_batch.json()}),
        );
    }

    let report = serde_json::json!({
        "kind": "lambda",
        "dynamodb": "embedded dynoxide on loopback (ensure_table)",
        "sns": "moto server",
        "secrets_manager": "moto server",
        "cold_runs": cold_runs,
        "warm_invocations": warm,
        "seconds": round1(started_all.elapsed().as_secs_f64()),
        "functions": results,
        "in_process": in_process,
    });
    std::fs::write(&out, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    eprintln!("bench-lambda: wrote {out}");
    drop(db);
}

const CODE_KEY: &str = "bench-code-key-0123456789abcdef0123456789";
const NUMBER_KEY: &str = "bench-number-key-0123456789abcdef0123456789";

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
