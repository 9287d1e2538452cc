//! What verify-local "texted", listed at `/_local/messages`: kept in the
//! data directory (`messages.jsonl`, one JSON message a line, 0600) so the
//! list survives a restart as the verifications do, or in memory only with
//! `--memory`. The newest messages are kept, up to a bound.

use crate::files;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use verify_core::sender::outbox::OutboxMessage;

/// Messages kept (the outbox's own bound).
const KEPT: usize = 1000;

pub struct LocalMessages {
    state: Mutex<State>,
}

struct State {
    kept: Vec<OutboxMessage>,
    file: Option<PathBuf>,
    /// Lines in the file; it is rewritten with only the kept ones when it
    /// holds twice as many.
    lines: usize,
}

impl LocalMessages {
    pub fn in_memory() -> LocalMessages {
        LocalMessages { state: Mutex::new(State { kept: Vec::new(), file: None, lines: 0 }) }
    }

    /// The list kept in `path`, read back when it exists. Lines that do not
    /// read as a message (a write cut short) are skipped.
    pub fn persisted(path: &Path) -> Result<LocalMessages, String> {
        files::private_file(path)?;
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let lines = text.lines().count();
        let mut kept: Vec<OutboxMessage> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
        kept.drain(..kept.len().saturating_sub(KEPT));
        let state = State { kept, file: Some(path.to_owned()), lines };
        Ok(LocalMessages { state: Mutex::new(state) })
    }

    /// Keeps one message. A failed write is logged, not fatal: the message
    /// was delivered (printed) and stays listed until a restart.
    pub fn record(&self, message: &OutboxMessage) {
        let mut state = self.state.lock().unwrap();
        state.kept.push(message.clone());
        if state.kept.len() > KEPT {
            state.kept.remove(0);
        }
        if let Err(e) = state.save(message) {
            tracing::warn!(error = %e, "could not keep the message in the data directory");
        }
    }

    /// Messages to `to` (all when `None`), oldest first; an e-mail address
    /// in any case (limits treat it so too).
    pub fn list(&self, to: Option<&str>) -> Vec<OutboxMessage> {
        let state = self.state.lock().unwrap();
        let wanted = |m: &&OutboxMessage| match to {
            None => true,
            Some(t) if t.contains('@') => m.to.eq_ignore_ascii_case(t),
            Some(t) => m.to == t,
        };
        state.kept.iter().filter(wanted).cloned().collect()
    }
}

impl State {
    fn save(&mut self, message: &OutboxMessage) -> std::io::Result<()> {
        let Some(path) = self.file.clone() else { return Ok(()) };
        if self.lines >= 2 * KEPT {
            return self.rewrite(&path);
        }
        let mut f = std::fs::OpenOptions::new().append(true).open(&path)?;
        f.write_all(format!("{}\n", serde_json::to_string(message)?).as_bytes())?;
        self.lines += 1;
        Ok(())
    }

    /// Replaces the file with the kept messages, through a new 0600 file
    /// renamed over it.
    fn rewrite(&mut self, path: &Path) -> std::io::Result<()> {
        let fresh = path.with_extension("jsonl.new");
        let _ = std::fs::remove_file(&fresh);
        let mut text = String::new();
        for m in &self.kept {
            text.push_str(&serde_json::to_string(m)?);
            text.push('\n');
        }
        files::write_new_private(&fresh, &text)?;
        std::fs::rename(&fresh, path)?;
        self.lines = self.kept.len();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn message(to: &str, n: usize) -> OutboxMessage {
        OutboxMessage {
            to: to.into(),
            channel: "sms".into(),
            body: format!("code {n}"),
            date_created: "2026-01-01T00:00:00Z".into(),
            subject: None,
            html: None,
            from: None,
            messaging_service_sid: None,
            template: None,
            language: None,
            message: None,
        }
    }

    #[test]
    fn the_list_survives_a_reopen_and_stays_bounded() {
        let dir = std::env::temp_dir().join(format!("verify-local-messages-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        files::private_dir(&dir).unwrap();
        let path = dir.join("messages.jsonl");
        let first = LocalMessages::persisted(&path).unwrap();
        first.record(&message("+14155550100", 0));
        first.record(&message("+14155550101", 1));
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let again = LocalMessages::persisted(&path).unwrap();
        assert_eq!(again.list(Some("+14155550101")), vec![message("+14155550101", 1)]);
        assert_eq!(again.list(None).len(), 2);
        for n in 0..(2 * KEPT + 5) {
            again.record(&message("+14155550102", n));
        }
        let reread = LocalMessages::persisted(&path).unwrap();
        let all = reread.list(None);
        assert_eq!(all.len(), KEPT);
        assert_eq!(all.last().unwrap().body, format!("code {}", 2 * KEPT + 4));
        assert!(std::fs::read_to_string(&path).unwrap().lines().count() <= 2 * KEPT + 1);
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
