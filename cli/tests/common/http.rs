//! A small HTTP/1.1 client over a plain TCP socket, for the console's
//! routes: one request per connection, every step bounded in time, chunked
//! bodies decoded; and a reader of server-sent events.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long one read or write may take.
const STEP: Duration = Duration::from_secs(30);

/// An answer.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers, names in lower case.
    pub headers: BTreeMap<String, String>,
    /// The body.
    pub body: String,
}

impl Response {
    /// The body as JSON; panics if it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }
}

/// A request to send.
pub struct Request<'a> {
    /// `GET`, `POST`, ….
    pub method: &'a str,
    /// The path and query.
    pub path: &'a str,
    /// Extra headers.
    pub headers: Vec<(&'a str, String)>,
    /// A JSON body.
    pub body: Option<String>,
}

impl<'a> Request<'a> {
    /// `METHOD PATH` without headers or body.
    pub fn new(method: &'a str, path: &'a str) -> Self {
        Request {
            method,
            path,
            headers: Vec::new(),
            body: None,
        }
    }

    /// With `Authorization: Bearer TOKEN`.
    pub fn token(mut self, token: &str) -> Self {
        self.headers
            .push(("Authorization", format!("Bearer {token}")));
        self
    }

    /// With a header.
    pub fn header(mut self, name: &'a str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    /// With a JSON body.
    pub fn json(mut self, body: &Value) -> Self {
        self.body = Some(body.to_string());
        self
    }
}

fn open(addr: SocketAddr, request: &Request<'_>) -> BufReader<TcpStream> {
    let mut stream = TcpStream::connect_timeout(&addr, STEP).unwrap();
    stream.set_read_timeout(Some(STEP)).unwrap();
    stream.set_write_timeout(Some(STEP)).unwrap();
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n",
        request.method,
        request.path,
        addr.port()
    );
    let has_host = request
        .headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("host"));
    if has_host {
        head = format!(
            "{} {} HTTP/1.1\r\nConnection: close\r\n",
            request.method, request.path
        );
    }
    for (name, value) in &request.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = request.body.as_deref().unwrap_or("");
    if request.body.is_some() {
        head.push_str("Content-Type: application/json\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    BufReader::new(stream)
}

fn read_head(reader: &mut BufReader<TcpStream>) -> (u16, BTreeMap<String, String>) {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {line:?}"));
    let mut headers = BTreeMap::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    (status, headers)
}

/// Sends `request` to the server at `addr` and reads the whole answer.
pub fn send(addr: SocketAddr, request: Request<'_>) -> Response {
    let mut reader = open(addr, &request);
    let (status, headers) = read_head(&mut reader);
    let mut body = Vec::new();
    if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.contains("chunked"))
    {
        while let Some(chunk) = read_chunk(&mut reader) {
            body.extend(chunk);
        }
    } else if let Some(length) = headers.get("content-length").and_then(|l| l.parse().ok()) {
        body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
    } else {
        reader.read_to_end(&mut body).unwrap();
    }
    Response {
        status,
        headers,
        body: String::from_utf8(body).unwrap(),
    }
}

/// One chunk of a chunked body; `None` at its end.
fn read_chunk(reader: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut size = String::new();
    if reader.read_line(&mut size).ok()? == 0 {
        return None;
    }
    let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
    let mut chunk = vec![0; size + 2];
    reader.read_exact(&mut chunk).ok()?;
    chunk.truncate(size);
    (size > 0).then_some(chunk)
}

/// `GET path`.
pub fn get(addr: SocketAddr, path: &str) -> Response {
    send(addr, Request::new("GET", path))
}

/// One server-sent event.
#[derive(Clone, Debug, Default)]
pub struct SseEvent {
    /// Its `event:` name.
    pub event: String,
    /// Its `id:`.
    pub id: Option<String>,
    /// Its `data:` lines, joined.
    pub data: String,
}

impl SseEvent {
    /// The data as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap()
    }
}

/// An open event stream: a thread reads its chunks (blocking, so a chunk
/// is never cut by a time-out) and hands them over.
pub struct Sse {
    chunks: std::sync::mpsc::Receiver<Vec<u8>>,
    socket: TcpStream,
    buffer: String,
    /// The answer's status.
    pub status: u16,
    /// The answer's headers.
    pub headers: BTreeMap<String, String>,
}

impl Drop for Sse {
    fn drop(&mut self) {
        let _ = self.socket.shutdown(std::net::Shutdown::Both);
    }
}

impl Sse {
    /// Opens `path` on `addr` (with a `Last-Event-ID` if given).
    pub fn open(addr: SocketAddr, path: &str, last_event_id: Option<&str>) -> Sse {
        let mut request = Request::new("GET", path).header("Accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        let mut reader = open(addr, &request);
        let (status, headers) = read_head(&mut reader);
        let socket = reader.get_ref().try_clone().unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(120)))
            .unwrap();
        let (tx, chunks) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            while let Some(chunk) = read_chunk(&mut reader) {
                if tx.send(chunk).is_err() {
                    break;
                }
            }
        });
        Sse {
            chunks,
            socket,
            buffer: String::new(),
            status,
            headers,
        }
    }

    /// The next event (keep-alive comments skipped), waiting at most
    /// `limit`.
    pub fn next(&mut self, limit: Duration) -> Option<SseEvent> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(at) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..at + 2).collect();
                let mut event = SseEvent::default();
                let mut lines = 0;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event.event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("id:") {
                        event.id = Some(v.trim().to_owned());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        if lines > 0 {
                            event.data.push('\n');
                        }
                        event.data.push_str(v.strip_prefix(' ').unwrap_or(v));
                        lines += 1;
                    }
                }
                if !event.event.is_empty() || lines > 0 {
                    return Some(event);
                }
                continue;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(chunk) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                Err(_) => return None,
            }
        }
    }

    /// Waits at most `limit` for an event that `want` accepts; returns it
    /// and every event seen before it.
    pub fn until(
        &mut self,
        limit: Duration,
        mut want: impl FnMut(&SseEvent) -> bool,
    ) -> (Option<SseEvent>, Vec<SseEvent>) {
        let deadline = Instant::now() + limit;
        let mut seen = Vec::new();
        while let Some(e) = self.next(deadline.saturating_duration_since(Instant::now())) {
            if want(&e) {
                return (Some(e), seen);
            }
            seen.push(e);
        }
        (None, seen)
    }
}
