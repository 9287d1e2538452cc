//! verify-local: every function's routes in one process, for development.
//!
//! By default state lives in an embedded DynamoDB engine (dynoxide, SQLite
//! underneath) served on a loopback port, so the very same DynamoDB store
//! code as on Lambda runs here; codes are printed and listed at
//! `/_local/messages` instead of being sent. With the standard AWS
//! environment it uses that DynamoDB and SNS instead.

mod backend;
mod engine_connector;
mod files;
mod framing;
mod host;
mod logs;
mod memory_engine;
mod messages;
mod routes;
mod serve;
mod stream;
mod stream_history;

/// mimalloc instead of the system allocator (see Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(name = "verify-local", version, about = "Phone verification service, all routes in one local process")]
pub struct Args {
    /// Port to listen on (0: any free port, printed at start).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to listen on; loopback by default so nothing outside this machine can reach it.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Keep state in memory only (nothing written under --data-dir).
    #[arg(long)]
    memory: bool,
    /// Where the embedded store, the generated code and number keys and the
    /// texted messages are kept: created 0700, files 0600; an existing
    /// directory that others can access is refused.
    #[arg(long, default_value = ".verify-local")]
    data_dir: PathBuf,
    /// Use DynamoDB and SNS from the standard AWS environment instead of the
    /// embedded engine and the console (implied by AWS_ENDPOINT_URL or
    /// AWS_ENDPOINT_URL_DYNAMODB).
    #[arg(long)]
    aws: bool,
    /// With --aws: create the table if it does not exist (for DynamoDB Local
    /// or moto; on AWS the SAM template creates it).
    #[arg(long)]
    create_table: bool,
    /// Seconds between sweeps of expired items in the embedded engine.
    #[arg(long, default_value_t = 60)]
    ttl_sweep_secs: u64,
    /// Seconds between expiry sweeps (webhook-report's, every minute on
    /// AWS): how soon `verification.expired` follows a code's expiry.
    #[arg(long, default_value_t = 5)]
    expiry_sweep_secs: u64,
    /// Accept HTTP Basic credentials KEY_ID:SECRET (e.g. SKxxx:secret or
    /// ACxxx:authtoken); repeatable. Adds to VERIFY_API_KEYS. With no
    /// credentials at all the server is open to anyone who can reach it.
    #[arg(long = "api-key", value_name = "KEY_ID:SECRET")]
    api_keys: Vec<String>,
    /// Allow cross-origin requests from this browser origin (e.g.
    /// http://localhost:3000, or * for any); repeatable. Adds to VERIFY_CORS_ORIGINS.
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    cors_origins: Vec<String>,
    /// Deliver the default service's events to this URL (repeatable);
    /// loopback receivers are allowed here.
    #[arg(long, value_name = "URL")]
    webhook: Vec<String>,
    /// Signing secret for --webhook (whsec_…; a random one is printed if
    /// omitted) and for the webhooks created over the API (none without it
    /// or --webhook, unless VERIFY_SERVICE_WEBHOOK_SECRETS is set).
    #[arg(long, value_name = "whsec_…")]
    webhook_secret: Option<String>,
    /// Milliseconds between reads of the embedded engine's stream.
    #[arg(long, default_value_t = 250)]
    stream_poll_ms: u64,
    /// Seconds between runs of the webhook retry schedule.
    #[arg(long, default_value_t = 5)]
    retry_secs: u64,
    /// Seconds a client has to send a request's headers, counted from the
    /// connection's opening or the end of its previous request; then the
    /// connection is closed (idle connections too).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    header_timeout_secs: u64,
    /// Seconds a client has to send a request's body once its headers are in;
    /// then it gets 408 and the connection is closed.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    body_timeout_secs: u64,
}

#[tokio::main]
async fn main() {
    logs::init();
    let args = Args::parse();
    if let Err(e) = run(args).await {
        eprintln!("verify-local: {e}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), String> {
    let local = backend::Local::open(&args).await?;
    let addr = SocketAddr::new(args.bind, args.port);
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let api = &local.api;
    let default = api.verifier.services.seeded().default_service();
    eprintln!("verify-local");
    eprintln!("  store:    {}", local.store_description);
    eprintln!("  sms:      {}", local.sender_description);
    eprintln!("  service:  {} ({}) default", default.sid, default.friendly_name);
    for other in api.verifier.services.seeded().all().iter().filter(|s| s.sid != default.sid) {
        eprintln!("  service:  {} ({})", other.sid, other.friendly_name);
    }
    for s in api.verifier.services.seeded().all().iter().filter(|s| !s.test_recipients.is_empty()) {
        let masked: Vec<String> = s.test_recipients.iter().map(|t| verify_core::recipient::mask_address(&t.key)).collect();
        eprintln!("  TEST MODE: {} sends nothing to, and has fixed codes for: {}", s.sid, masked.join(", "));
    }
    eprintln!("  account:  {}", api.account_sid);
    if api.credentials.is_empty() {
        eprintln!("  auth:     NONE: open, anyone who can reach this port can send codes (add --api-key KEY_ID:SECRET)");
        if !args.bind.is_loopback() {
            eprintln!("  WARNING:  open and bound to {}, not loopback", args.bind);
        }
    } else {
        let keys: Vec<&str> = api.credentials.key_ids().collect();
        eprintln!(
            "  auth:     HTTP Basic with {} key(s) [{}], {} auth token(s) for X-Twilio-Signature",
            keys.len(),
            keys.join(", "),
            api.credentials.token_count()
        );
    }
    if api.cors.is_enabled() {
        eprintln!("  cors:     {}", api.cors.describe());
    }
    eprintln!("  routes:   POST /start-verify, POST /check-verify, GET /_local/messages?to=%2B1... (same credentials)");
    eprintln!("            /v2/Services[/{{sid}}[/Verifications[/{{sid|number}}] | /VerificationCheck]] (Twilio Verify v2)");
    eprintln!(
        "  reports:  GET /v2/Attempts, /v2/Attempts/Summary, /events, /dashboard ({})",
        if local.report.reports.auth.is_empty() { "open, like the API" } else { "same credentials as the API" }
    );
    if local.embedded.is_none() {
        eprintln!("  events:   not derived with --aws (the stream is read by the deployed webhook-report)");
    }
    for url in &local.webhook_urls {
        eprintln!("  webhook:  {url}");
    }
    // Printed last: tests and scripts wait for this line as the ready signal.
    eprintln!("verify-local listening on http://{addr}");
    let hosts = host::AllowedHosts::new(args.bind, local.api.public_base_url.as_deref());
    let edge = serve::Edge {
        router: routes::router(local),
        hosts,
        header_timeout: Duration::from_secs(args.header_timeout_secs),
        body_timeout: Duration::from_secs(args.body_timeout_secs),
    };
    serve::serve(listener, edge, shutdown_signal()).await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    eprintln!("verify-local: shutting down");
}
