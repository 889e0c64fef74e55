//! A small reader of the server's event stream (server-sent events), written
//! by hand so the tests see exactly the bytes a browser's `EventSource` sees.
//!
//! [`Parser`] turns bytes into SSE messages (`event:`, `id:`, `data:` lines
//! ended by a blank line); [`EventStream`] feeds it from an HTTP body and
//! decodes each message into the protocol's types. [`Unread`] is a viewer
//! that connected and then stopped reading, with a deliberately tiny socket
//! buffer so the server feels it at once.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use futures_util::{Stream, StreamExt, stream};
use shared::{Batch, Cursor, Lagged, Removed, RunSnapshot};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::error::Elapsed;

use super::{PATIENCE, excerpt, within};

/// One SSE message as it was on the wire.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawMessage {
    /// The `event:` field; `message` when absent, as in `EventSource`.
    pub event: String,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
    /// The `id:` field of this message, if it had one.
    pub id: Option<String>,
}

/// Incremental SSE parser: push bytes in any split, take whole messages out.
#[derive(Debug, Default)]
pub struct Parser {
    buffer: Vec<u8>,
    event: Option<String>,
    data: Option<String>,
    id: Option<String>,
}

impl Parser {
    /// Adds bytes and returns every message they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<RawMessage> {
        self.buffer.extend_from_slice(bytes);
        let mut done = Vec::new();
        while let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.buffer.drain(..=end).collect();
            let line = line.strip_suffix(b"\n").unwrap_or(&line);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let line = String::from_utf8_lossy(line);
            if let Some(message) = self.line(&line) {
                done.push(message);
            }
        }
        done
    }

    fn line(&mut self, line: &str) -> Option<RawMessage> {
        if line.is_empty() {
            let event = self.event.take();
            let id = self.id.take();
            // As in `EventSource`: a message without data is not dispatched.
            let data = self.data.take()?;
            return Some(RawMessage {
                event: event.unwrap_or_else(|| "message".into()),
                data,
                id,
            });
        }
        if line.starts_with(':') {
            return None; // a comment, e.g. a keep-alive
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => self.event = Some(value.to_owned()),
            "id" => self.id = Some(value.to_owned()),
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            _ => {} // `retry:` and unknown fields do not matter here
        }
        None
    }
}

/// One decoded message of the stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Snapshot(Box<RunSnapshot>),
    Batch(Vec<Batch>),
    Lagged(Lagged),
    Removed(Removed),
}

impl Message {
    /// Decodes a raw message; anything outside the protocol fails the test.
    pub fn decode(raw: &RawMessage) -> Message {
        fn json<T: serde::de::DeserializeOwned>(raw: &RawMessage) -> T {
            serde_json::from_str(&raw.data).unwrap_or_else(|e| {
                panic!(
                    "a `{}` message that does not parse ({e}): {}",
                    raw.event,
                    excerpt(&raw.data)
                )
            })
        }
        match raw.event.as_str() {
            "snapshot" => Message::Snapshot(Box::new(json(raw))),
            "batch" => Message::Batch(json(raw)),
            "lagged" => Message::Lagged(json(raw)),
            "removed" => Message::Removed(json(raw)),
            other => panic!(
                "an SSE message of unknown type {other:?}: {}",
                excerpt(&raw.data)
            ),
        }
    }

    /// The events of `run` in this message, if it is a batch.
    pub fn envelopes<'a>(
        &'a self,
        run: &'a str,
    ) -> impl Iterator<Item = &'a shared::Envelope> + 'a {
        let batches = match self {
            Message::Batch(batches) => batches.as_slice(),
            _ => &[],
        };
        batches
            .iter()
            .filter(move |b| b.run == run)
            .flat_map(|b| &b.events)
    }
}

/// A message with the SSE id it came with.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub id: Option<String>,
    pub message: Message,
}

impl Received {
    /// The id parsed as the cursor it must be; fails the test if absent.
    pub fn cursor(&self) -> Cursor {
        let id = self
            .id
            .as_deref()
            .unwrap_or_else(|| panic!("a message without an SSE id: {:?}", self.message));
        Cursor::parse(id)
    }
}

type Body = Pin<Box<dyn Stream<Item = io::Result<Vec<u8>>> + Send>>;

/// The event stream of one connection, decoded.
pub struct EventStream {
    body: Body,
    parser: Parser,
    ready: std::collections::VecDeque<RawMessage>,
    /// Body bytes read so far.
    pub bytes: usize,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("bytes", &self.bytes)
            .finish_non_exhaustive()
    }
}

impl EventStream {
    pub fn from_response(response: reqwest::Response) -> EventStream {
        let body = response
            .bytes_stream()
            .map(|chunk| chunk.map(|b| b.to_vec()).map_err(io::Error::other));
        EventStream::from_body(Box::pin(body))
    }

    fn from_body(body: Body) -> EventStream {
        EventStream {
            body,
            parser: Parser::default(),
            ready: Default::default(),
            bytes: 0,
        }
    }

    /// The next message within `limit`: `Ok(None)` when the server ended the
    /// stream, `Err` when nothing came in time.
    pub async fn next_within(&mut self, limit: Duration) -> Result<Option<Received>, Elapsed> {
        tokio::time::timeout(limit, async {
            loop {
                if let Some(raw) = self.ready.pop_front() {
                    let message = Message::decode(&raw);
                    return Some(Received {
                        id: raw.id,
                        message,
                    });
                }
                match self.body.next().await {
                    Some(Ok(bytes)) => {
                        self.bytes += bytes.len();
                        self.ready.extend(self.parser.push(&bytes));
                    }
                    Some(Err(e)) => panic!("the event stream broke: {e}"),
                    None => return None,
                }
            }
        })
        .await
    }

    /// The next message; the test fails if none comes within [`PATIENCE`] or
    /// the stream ends.
    pub async fn recv(&mut self) -> Received {
        match self.next_within(PATIENCE).await {
            Ok(Some(received)) => received,
            Ok(None) => panic!("the event stream ended unexpectedly"),
            Err(_) => panic!("no message on the event stream for {PATIENCE:?}"),
        }
    }
}

/// A viewer that sent its request and then stopped reading.
///
/// Its socket is made to hold little: a receive buffer of a few KiB and a
/// small maximum segment size, which also keeps the server's send buffer for
/// this connection small (Linux sizes it in segments). Otherwise the kernels
/// would quietly absorb megabytes and the server would never notice.
#[derive(Debug)]
pub struct Unread {
    socket: TcpStream,
    server: SocketAddr,
}

impl Unread {
    pub async fn connect(server: SocketAddr, path: &str) -> Unread {
        let socket = TcpSocket::new_v4().expect("a TCP socket");
        socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
        socket2::SockRef::from(&socket)
            .set_tcp_mss(536)
            .expect("TCP_MAXSEG");
        let mut socket = within("connect", PATIENCE, socket.connect(server))
            .await
            .expect("connect");
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {server}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
        );
        within(
            "send the request",
            PATIENCE,
            socket.write_all(request.as_bytes()),
        )
        .await
        .expect("send the request");
        Unread { socket, server }
    }

    /// Bytes the server has written to this connection that it has not got
    /// rid of yet (its side's `tx_queue` in `/proc/net/tcp`).
    pub fn server_backlog(&self) -> u64 {
        let here = self.socket.local_addr().expect("the local address").port();
        let tcp = std::fs::read_to_string("/proc/net/tcp").expect("read /proc/net/tcp");
        let port = |address: &str| {
            address
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
        };
        tcp.lines()
            .skip(1)
            .find_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let (local, remote, queues) = (fields.get(1)?, fields.get(2)?, fields.get(4)?);
                if port(local)? != self.server.port() || port(remote)? != here {
                    return None;
                }
                u64::from_str_radix(queues.split_once(':')?.0, 16).ok()
            })
            .expect("the server's end of the stalled connection in /proc/net/tcp")
    }

    /// Waits until the server's backlog for this viewer stops growing while
    /// the run is busy: every buffer on the way is full, and the server can
    /// write to it no more. Returns the backlog.
    pub async fn wait_until_full(&self, limit: Duration) -> u64 {
        let deadline = tokio::time::Instant::now() + limit;
        let mut last = self.server_backlog();
        let mut steady = 0;
        while steady < 5 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the server's buffers for a viewer that does not read still grow after {limit:?} ({last} bytes)"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
            let now = self.server_backlog();
            steady = if now == last && now > 0 {
                steady + 1
            } else {
                0
            };
            last = now;
        }
        last
    }

    /// Starts reading at last: checks the response head, then decodes the
    /// (usually chunked) body as an event stream.
    pub async fn resume(mut self) -> EventStream {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            let n = within("the response head", PATIENCE, self.socket.read(&mut byte))
                .await
                .expect("read the response head");
            assert_eq!(
                n,
                1,
                "the connection closed before the response head: {:?}",
                String::from_utf8_lossy(&head)
            );
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 200"), "response head: {head}");
        let chunked = head.contains("transfer-encoding: chunked");
        let state = (self.socket, Dechunk::new(chunked), [0u8; 16 * 1024]);
        let body = stream::unfold(state, |(mut socket, mut dechunk, mut buf)| async move {
            loop {
                if dechunk.done {
                    return None;
                }
                let n = match socket.read(&mut buf).await {
                    Ok(0) => return None,
                    Ok(n) => n,
                    Err(e) => return Some((Err(e), (socket, dechunk, buf))),
                };
                match dechunk.push(&buf[..n]) {
                    Ok(bytes) if bytes.is_empty() => continue,
                    result => return Some((result, (socket, dechunk, buf))),
                }
            }
        });
        EventStream::from_body(Box::pin(body))
    }
}

/// Decodes HTTP/1.1 chunked transfer encoding (or passes bytes through).
#[derive(Debug)]
struct Dechunk {
    chunked: bool,
    buffer: Vec<u8>,
    /// Bytes still to come of the current chunk, then its CRLF.
    remaining: usize,
    in_chunk: bool,
    /// The last (empty) chunk came: the server ended the stream.
    done: bool,
}

impl Dechunk {
    fn new(chunked: bool) -> Dechunk {
        Dechunk {
            chunked,
            buffer: Vec::new(),
            remaining: 0,
            in_chunk: false,
            done: false,
        }
    }

    fn push(&mut self, bytes: &[u8]) -> io::Result<Vec<u8>> {
        if !self.chunked {
            return Ok(bytes.to_vec());
        }
        if self.done {
            return Ok(Vec::new());
        }
        self.buffer.extend_from_slice(bytes);
        let mut out = Vec::new();
        loop {
            if self.in_chunk {
                let take = self.remaining.min(self.buffer.len());
                out.extend(self.buffer.drain(..take));
                self.remaining -= take;
                if self.remaining > 0 || self.buffer.len() < 2 {
                    return Ok(out);
                }
                if &self.buffer[..2] != b"\r\n" {
                    return Err(io::Error::other("a chunk not followed by CRLF"));
                }
                self.buffer.drain(..2);
                self.in_chunk = false;
            }
            let Some(end) = self.buffer.windows(2).position(|w| w == b"\r\n") else {
                return Ok(out);
            };
            let line: Vec<u8> = self.buffer.drain(..end + 2).collect();
            let size = String::from_utf8_lossy(&line[..end]);
            let size = size.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size, 16)
                .map_err(|_| io::Error::other(format!("a bad chunk size {size:?}")))?;
            if size == 0 {
                self.done = true;
                return Ok(out);
            }
            self.remaining = size;
            self.in_chunk = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_survive_any_split_of_the_bytes() {
        let wire = "event: snapshot\nid: a:1\ndata: {\"x\":\ndata: 1}\n\n: keep-alive\n\nevent: batch\r\nid: a:2\r\ndata: []\r\n\r\n";
        for split in 0..wire.len() {
            let mut parser = Parser::default();
            let mut got = parser.push(&wire.as_bytes()[..split]);
            got.extend(parser.push(&wire.as_bytes()[split..]));
            assert_eq!(
                got,
                [
                    RawMessage {
                        event: "snapshot".into(),
                        data: "{\"x\":\n1}".into(),
                        id: Some("a:1".into())
                    },
                    RawMessage {
                        event: "batch".into(),
                        data: "[]".into(),
                        id: Some("a:2".into())
                    },
                ],
                "split at {split}"
            );
        }
    }

    #[test]
    fn chunked_bodies_decode_across_any_split() {
        let wire = b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n";
        for split in 0..wire.len() {
            let mut dechunk = Dechunk::new(true);
            let mut out = dechunk.push(&wire[..split]).unwrap();
            out.extend(dechunk.push(&wire[split..]).unwrap());
            assert_eq!(out, b"hello, world", "split at {split}");
            assert!(dechunk.done, "split at {split}");
        }
    }
}
