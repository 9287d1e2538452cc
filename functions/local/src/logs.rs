//! verify-local's log output, on stderr: `RUST_LOG` (default `info`),
//! phone numbers masked (the same mask as the Lambda functions'), colours
//! only on a terminal (and not with `NO_COLOR`).
//!
//! The embedded engine logs every error answer it gives at WARN, and the
//! store expects some of them in normal operation: a conditional write
//! that did not apply (a resend, a second check) or creating a table that
//! exists (a restart). Those WARN lines are left out; the engine's answer
//! body, logged just after at TRACE, is read instead, and any other error
//! is logged at WARN by [`EngineErrors`] with its type. (From a thread of
//! its own: tracing drops an event logged while another is being handled.)

use std::io::IsTerminal;
use std::sync::mpsc;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::filter::{EnvFilter, FilterExt, Targets, filter_fn};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use verify_core::logging::MaskNumbers;

const ENGINE_TARGET: &str = "dynoxide::server";
/// Error types the store handles as outcomes, not failures.
const EXPECTED_ENGINE_ERRORS: &[&str] = &["ConditionalCheckFailedException", "ResourceInUseException"];

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let (errors, received) = mpsc::channel::<EngineError>();
    subscriber(filter, ansi, std::io::stderr, errors).init();
    let logger = std::thread::Builder::new().name("engine-errors".into()).spawn(move || {
        for e in received {
            e.log();
        }
    });
    if let Err(e) = logger {
        eprintln!("verify-local: embedded engine errors will not be logged: {e}");
    }
}

/// The subscriber, writing to `writer` (stderr, or a test's buffer), and
/// sending unexpected engine errors to `errors`.
fn subscriber<W>(filter: EnvFilter, ansi: bool, writer: W, errors: mpsc::Sender<EngineError>) -> impl Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let output = tracing_subscriber::fmt::layer()
        .with_writer(MaskNumbers(writer))
        .with_ansi(ansi)
        .with_filter(filter.and(filter_fn(|meta| !is_engine_error_line(meta))));
    let engine = EngineErrors(errors).with_filter(Targets::new().with_target(ENGINE_TARGET, Level::TRACE));
    tracing_subscriber::registry().with(output).with(engine)
}

/// The engine's `WARN error response` line (operation and HTTP status only).
fn is_engine_error_line(meta: &Metadata<'_>) -> bool {
    meta.target() == ENGINE_TARGET
        && *meta.level() == Level::WARN
        && meta.fields().field("status").is_some()
        && meta.fields().field("operation").is_some()
}

/// Passes on the engine's unexpected error answers, read from its TRACE
/// `error response body` events.
struct EngineErrors(mpsc::Sender<EngineError>);

impl<S: Subscriber> Layer<S> for EngineErrors {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut answer = ErrorAnswer::default();
        event.record(&mut answer);
        let Some(body) = answer.body else { return };
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        let error_type = parsed["__type"].as_str().and_then(|t| t.rsplit('#').next()).unwrap_or("unknown");
        if EXPECTED_ENGINE_ERRORS.contains(&error_type) {
            return;
        }
        let message = parsed["message"].as_str().or_else(|| parsed["Message"].as_str()).unwrap_or("");
        let _ = self.0.send(EngineError {
            operation: answer.operation.unwrap_or_default(),
            error_type: error_type.to_owned(),
            message: message.to_owned(),
        });
    }
}

/// An error answer of the engine that the store did not expect.
struct EngineError {
    operation: String,
    error_type: String,
    message: String,
}

impl EngineError {
    fn log(&self) {
        tracing::warn!(
            target: "verify_local::engine",
            operation = self.operation,
            error = self.error_type,
            message = self.message,
            "embedded engine error"
        );
    }
}

/// The fields of an `error response body` event. The message comes first
/// (tracing puts it first), so other events' bodies are never formatted.
#[derive(Default)]
struct ErrorAnswer {
    is_error_body: bool,
    operation: Option<String>,
    body: Option<String>,
}

impl Visit for ErrorAnswer {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.is_error_body = value == "error response body",
            "operation" => self.operation = Some(value.to_owned()),
            "body" if self.is_error_body => self.body = Some(value.to_owned()),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.is_error_body = format!("{value:?}") == "error response body",
            "operation" => self.operation = Some(format!("{value:?}")),
            "body" if self.is_error_body => self.body = Some(format!("{value:?}")),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Buffer {
            self.clone()
        }
    }

    /// What the engine logs for one error answer.
    fn engine_answers(error_type: &str, status: &str) {
        let body = format!(r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{error_type}","message":"about +14155550123"}}"#);
        tracing::warn!(target: "dynoxide::server", operation = "PutItem", status = %status, "error response");
        tracing::trace!(target: "dynoxide::server", operation = "PutItem", body = %body, "error response body");
    }

    /// What `f` logs, engine errors passed on as `init`'s thread does.
    fn logged(f: impl FnOnce()) -> String {
        let buffer = Buffer::default();
        let (errors, received) = mpsc::channel();
        tracing::subscriber::with_default(subscriber(EnvFilter::new("info"), false, buffer.clone(), errors), || {
            f();
            received.try_iter().for_each(|e| e.log());
        });
        String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn expected_engine_refusals_are_quiet_and_real_errors_show() {
        let quiet = logged(|| {
            engine_answers("ConditionalCheckFailedException", "400 Bad Request");
            engine_answers("ResourceInUseException", "400 Bad Request");
        });
        assert_eq!(quiet, "");
        let loud = logged(|| {
            engine_answers("ValidationException", "400 Bad Request");
            engine_answers("InternalServerError", "500 Internal Server Error");
        });
        let lines: Vec<&str> = loud.lines().collect();
        assert_eq!(lines.len(), 2, "{loud}");
        assert!(lines[0].contains("WARN") && lines[0].contains("error=\"ValidationException\""), "{loud}");
        assert!(lines[1].contains("InternalServerError") && lines[1].contains("operation=\"PutItem\""), "{loud}");
        assert!(loud.contains("+1415555****") && !loud.contains("14155550123"), "masked: {loud}");
        assert!(!loud.contains("error response"), "{loud}");
    }

    #[test]
    fn no_colours_off_a_terminal_and_other_logs_pass() {
        let out = logged(|| tracing::info!(target: "verify_core::service", to = "+14155550123", "code sent"));
        assert!(out.contains("INFO") && out.contains("code sent") && out.contains("+1415555****"), "{out}");
        assert!(!out.contains('\u{1b}'), "no escape codes: {out:?}");
        let quiet = logged(|| tracing::trace!(target: "dynoxide::server", operation = "GetItem", body = %"{}", "request body"));
        assert_eq!(quiet, "");
    }
}
