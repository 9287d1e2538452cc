//! How each request on a connection says where its body ends, read from
//! the bytes as they arrive, before hyper parses them.
//!
//! A request with both `Content-Length` and `Transfer-Encoding` is the
//! classic request-smuggling shape (two servers that disagree on where it
//! ends). hyper follows RFC 9112 by using `Transfer-Encoding` and closing
//! the connection afterwards, and it drops `Content-Length` from the
//! headers it hands over, so the handler cannot see the conflict. This
//! wrapper around the connection sees the header block as sent and queues
//! one [`Framing`] per request, in order, for the handler to refuse.
//!
//! It follows requests framed by length (or without a body) from one to
//! the next. After a chunked request it stops: that request's answer
//! closes the connection, so nothing follows it.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Largest header block followed; hyper refuses larger ones itself.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Most header lines followed (hyper's own limit is 100).
const MAX_HEADERS: usize = 128;

/// How one request's body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// By `Content-Length`, or no body.
    Length,
    /// `Transfer-Encoding: chunked` alone: answered, then the connection closes.
    Chunked,
    /// Both `Content-Length` and `Transfer-Encoding`, or a transfer coding
    /// other than a final `chunked`: refused.
    Ambiguous,
    /// A header block that could not be read: refused.
    Unreadable,
}

/// The framings of a connection's requests, oldest first.
#[derive(Clone, Default)]
pub struct Framings(Arc<Mutex<VecDeque<Framing>>>);

impl Framings {
    /// The framing of the request hyper has just handed over (each is
    /// queued before hyper sees its bytes); [`Framing::Unreadable`] when
    /// none is known.
    pub fn next(&self) -> Framing {
        self.0.lock().unwrap().pop_front().unwrap_or(Framing::Unreadable)
    }

    fn push(&self, framing: Framing) {
        self.0.lock().unwrap().push_back(framing);
    }
}

enum State {
    /// Reading a header block (what has arrived of it).
    Head(Vec<u8>),
    /// Skipping this many body bytes.
    Body(u64),
    /// Not following any more.
    Stopped,
}

/// A connection whose incoming bytes are followed as they are read.
pub struct Sniffed<IO> {
    inner: IO,
    state: State,
    framings: Framings,
}

impl<IO> Sniffed<IO> {
    pub fn new(inner: IO, framings: Framings) -> Sniffed<IO> {
        Sniffed { inner, state: State::Head(Vec::new()), framings }
    }

    fn observe(&mut self, bytes: &[u8]) {
        let mut pending = bytes.to_vec();
        while !pending.is_empty() {
            match &mut self.state {
                State::Stopped => return,
                State::Body(left) => {
                    let take = (*left).min(pending.len() as u64) as usize;
                    *left -= take as u64;
                    pending.drain(..take);
                    if *left == 0 {
                        self.state = State::Head(Vec::new());
                    }
                }
                State::Head(head) => {
                    head.append(&mut pending);
                    match read_head(head) {
                        Head::Partial if head.len() <= MAX_HEAD_BYTES => return,
                        Head::Partial | Head::Invalid => self.stop(Framing::Unreadable),
                        Head::Complete { len, .. } if len > MAX_HEAD_BYTES => self.stop(Framing::Unreadable),
                        Head::Complete { len, framing, body } => {
                            pending = head.split_off(len);
                            self.framings.push(framing);
                            self.state = match framing {
                                Framing::Length if body > 0 => State::Body(body),
                                Framing::Length => State::Head(Vec::new()),
                                _ => State::Stopped,
                            };
                        }
                    }
                }
            }
        }
    }

    fn stop(&mut self, framing: Framing) {
        self.framings.push(framing);
        self.state = State::Stopped;
    }
}

enum Head {
    Partial,
    Invalid,
    Complete { len: usize, framing: Framing, body: u64 },
}

/// Parses a request's header block (leading empty lines skipped, as
/// hyper does) and decides its framing.
fn read_head(bytes: &[u8]) -> Head {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Head::Partial,
        Err(_) => return Head::Invalid,
    };
    let mut lengths = Vec::new();
    let mut codings = Vec::new();
    for h in req.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            lengths.push(h.value);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            codings.push(h.value);
        }
    }
    let (framing, body) = framing(&lengths, &codings);
    Head::Complete { len, framing, body }
}

/// The framing `Content-Length` and `Transfer-Encoding` values give, and
/// the body's length when it is framed by length.
fn framing(lengths: &[&[u8]], codings: &[&[u8]]) -> (Framing, u64) {
    if !codings.is_empty() {
        let last = codings.last().and_then(|v| std::str::from_utf8(v).ok()).and_then(|v| v.rsplit(',').next());
        let chunked = last.is_some_and(|c| c.trim().eq_ignore_ascii_case("chunked"));
        return if chunked && lengths.is_empty() { (Framing::Chunked, 0) } else { (Framing::Ambiguous, 0) };
    }
    let parsed: Option<Vec<u64>> = lengths
        .iter()
        .map(|v| std::str::from_utf8(v).ok().filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))?.parse().ok())
        .collect();
    match parsed.as_deref() {
        Some([]) => (Framing::Length, 0),
        Some([first, rest @ ..]) if rest.iter().all(|l| l == first) => (Framing::Length, *first),
        _ => (Framing::Unreadable, 0),
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Sniffed<IO> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        if !matches!(this.state, State::Stopped) {
            this.observe(&buf.filled()[before..]);
        }
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Sniffed<IO> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The framings queued for `wire` fed in pieces of `step` bytes.
    fn framings_of(wire: &str, step: usize) -> Vec<Framing> {
        let framings = Framings::default();
        let mut sniffed = Sniffed::new((), framings.clone());
        for piece in wire.as_bytes().chunks(step) {
            sniffed.observe(piece);
        }
        framings.0.lock().unwrap().iter().copied().collect()
    }

    const FORM: &str = "POST /start-verify HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n\r\nto=%2B14155550123";

    #[test]
    fn requests_framed_by_length_are_followed_one_after_another() {
        let wire = format!("{FORM}\r\nGET /v2/Services HTTP/1.1\r\nHost: x\r\n\r\n{FORM}");
        for step in [1, 7, wire.len()] {
            assert_eq!(framings_of(&wire, step), vec![Framing::Length; 3], "step {step}");
        }
    }

    #[test]
    fn both_lengths_or_other_codings_are_ambiguous() {
        let both = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
        let te_first = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\ncontent-length: 5\r\n\r\n";
        let gzip = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n";
        let chunked_then_gzip = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n";
        for wire in [both, te_first, gzip, chunked_then_gzip] {
            assert_eq!(framings_of(wire, 3), vec![Framing::Ambiguous], "{wire}");
        }
        // A length-framed request, then the smuggling one: each gets its own.
        assert_eq!(framings_of(&format!("{FORM}{both}"), 5), vec![Framing::Length, Framing::Ambiguous]);
    }

    #[test]
    fn chunked_alone_is_served_and_following_stops() {
        let wire = format!("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n{FORM}");
        assert_eq!(framings_of(&wire, 4), vec![Framing::Chunked]);
    }

    #[test]
    fn unreadable_heads_are_marked() {
        assert_eq!(framings_of("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 9), vec![Framing::Unreadable]);
        assert_eq!(framings_of("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 9), vec![Framing::Unreadable]);
        assert_eq!(framings_of("NOT HTTP\0\r\n\r\n", 9), vec![Framing::Unreadable]);
        let huge = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD_BYTES + 1));
        assert_eq!(framings_of(&huge, 1024), vec![Framing::Unreadable]);
        assert_eq!(Framings::default().next(), Framing::Unreadable);
    }
}
