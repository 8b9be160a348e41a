//! A proxy between a dialect client and `tasklane serve` that breaks
//! exchanges the way networks and overloaded servers do: connections reset
//! before or after the request reached the server, answers later than the
//! client waits, 500 / 502 / 503 / 429 answers, truncated and malformed
//! bodies.
//!
//! It speaks just enough HTTP/1.1 to do that: one request per connection
//! (every answer it relays says `Connection: close`), bodies by
//! `Content-Length`. In vendor mode it also removes tasklane's idempotency
//! headers in both directions, so the server behaves like a vendor's, which
//! applies a repeated request twice, and the client has to find out by
//! asking whether an op in doubt took effect.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does to one exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// The connection is reset once the request arrived; the server never
    /// sees it.
    ResetBeforeForward,
    /// The server applies the request; the connection is reset instead of
    /// the answer.
    ResetAfterForward,
    /// The proxy answers with this status itself (with `Retry-After: 1`
    /// for 429 and 503); the server never sees the request.
    Status(u16),
    /// The server applies the request; its answer comes after the client's
    /// timeout.
    Stall,
    /// The server applies the request; half of the answer's body arrives.
    Truncate,
    /// The server applies the request; its body is replaced by garbage.
    Malformed,
}

/// The faults in the order they are dealt, separately to reads and to
/// writes, so that a few broken writes already cover every way an applied
/// write's answer gets lost.
const FAULTS: [Fault; 9] = [
    Fault::ResetAfterForward,
    Fault::Stall,
    Fault::Truncate,
    Fault::Malformed,
    Fault::ResetBeforeForward,
    Fault::Status(503),
    Fault::Status(502),
    Fault::Status(429),
    Fault::Status(500),
];

/// One request that passed through, and what was done to it.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub method: String,
    pub path: String,
    pub fault: Option<Fault>,
}

impl Exchange {
    pub fn is_write(&self) -> bool {
        !matches!(self.method.as_str(), "GET" | "HEAD" | "OPTIONS")
    }
}

struct Plan {
    rng: fastrand::Rng,
    /// The share of exchanges that get a fault.
    rate: f64,
    /// The next fault dealt to a read, and to a write.
    next: [usize; 2],
    /// Writes seen so far, and faults for given writes (by that count).
    writes: usize,
    scripted: Vec<(usize, Fault)>,
    log: Vec<Exchange>,
}

struct Shared {
    upstream: SocketAddr,
    vendor: bool,
    stall: Duration,
    plan: Mutex<Plan>,
}

pub struct FaultyProxy {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl FaultyProxy {
    /// A proxy on 127.0.0.1 to `upstream`, faults off. `stall` is how long
    /// a stalled answer is held: longer than the client's timeout.
    pub fn start(upstream: SocketAddr, vendor: bool, seed: u64, stall: Duration) -> Self {
        let shared = Arc::new(Shared {
            upstream,
            vendor,
            stall,
            plan: Mutex::new(Plan {
                rng: fastrand::Rng::with_seed(seed),
                rate: 0.0,
                next: [0, 0],
                writes: 0,
                scripted: Vec::new(),
                log: Vec::new(),
            }),
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("proxy runtime");
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("proxy address");
        let serving = shared.clone();
        runtime.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let shared = serving.clone();
                tokio::spawn(async move {
                    // A client that hangs up mid-exchange is one of the
                    // cases under test, not an error of the proxy.
                    let _ = relay(&shared, client).await;
                });
            }
        });
        FaultyProxy {
            addr,
            shared,
            runtime: Some(runtime),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// From now on, this share of exchanges gets a fault.
    pub fn set_rate(&self, rate: f64) {
        self.shared.plan.lock().expect("plan").rate = rate;
    }

    /// The `n`th write from now (0: the next one) gets `fault`, whatever
    /// the rate.
    pub fn break_write(&self, n: usize, fault: Fault) {
        let mut plan = self.shared.plan.lock().expect("plan");
        let at = plan.writes + n;
        plan.scripted.push((at, fault));
    }

    /// Every exchange so far.
    pub fn log(&self) -> Vec<Exchange> {
        self.shared.plan.lock().expect("plan").log.clone()
    }
}

impl Drop for FaultyProxy {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Shared {
    fn decide(&self, method: &str, path: &str) -> Option<Fault> {
        let mut plan = self.plan.lock().expect("plan");
        let exchange = Exchange {
            method: method.to_string(),
            path: path.to_string(),
            fault: None,
        };
        let scripted = if exchange.is_write() {
            let at = plan.writes;
            plan.writes += 1;
            plan.scripted
                .iter()
                .position(|(n, _)| *n == at)
                .map(|i| plan.scripted.remove(i).1)
        } else {
            None
        };
        let fault = if scripted.is_some() {
            scripted
        } else if plan.rng.f64() < plan.rate {
            let deck = usize::from(exchange.is_write());
            let fault = FAULTS[plan.next[deck] % FAULTS.len()];
            plan.next[deck] += 1;
            Some(fault)
        } else {
            None
        };
        plan.log.push(Exchange { fault, ..exchange });
        fault
    }

    /// A fault that turned out not to apply (garbage for an answer that
    /// has no body) is recorded as none.
    fn undo(&self) {
        if let Some(last) = self.plan.lock().expect("plan").log.last_mut() {
            last.fault = None;
        }
    }
}

/// One HTTP message's head (up to and without the blank line) and what was
/// read of the body with it.
struct Head {
    lines: Vec<String>,
    rest: Vec<u8>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.lines.iter().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// The head with `drop` headers removed and `Connection: close`.
    fn rewrite(&self, drop: &[&str], extra: &[(&str, String)]) -> Vec<u8> {
        let mut out = String::new();
        for (i, line) in self.lines.iter().enumerate() {
            let name = line
                .split_once(':')
                .map(|(n, _)| n.trim().to_ascii_lowercase());
            let dropped = i > 0
                && name.as_deref().is_some_and(|n| {
                    n == "connection" || drop.iter().any(|d| d.eq_ignore_ascii_case(n))
                });
            if !dropped {
                out.push_str(line);
                out.push_str("\r\n");
            }
        }
        out.push_str("connection: close\r\n");
        for (name, value) in extra {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str("\r\n");
        out.into_bytes()
    }
}

async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<Head>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let text = String::from_utf8_lossy(&buf[..end]).into_owned();
            return Ok(Some(Head {
                lines: text.split("\r\n").map(str::to_string).collect(),
                rest: buf[end + 4..].to_vec(),
            }));
        }
        if buf.len() > 1 << 20 {
            return Err(std::io::Error::other("head too large"));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn read_body(stream: &mut TcpStream, head: &Head) -> std::io::Result<Vec<u8>> {
    let len: usize = head
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if head
        .header("transfer-encoding")
        .is_some_and(|v| v.contains("chunked"))
    {
        return Err(std::io::Error::other("chunked requests are not relayed"));
    }
    let mut body = head.rest.clone();
    if body.len() < len {
        let mut more = vec![0u8; len - body.len()];
        stream.read_exact(&mut more).await?;
        body.extend_from_slice(&more);
    }
    Ok(body)
}

fn reset(stream: TcpStream) {
    // RST rather than FIN, as a broken network or a crashed gateway does.
    let _ = stream.set_zero_linger();
    drop(stream);
}

async fn relay(shared: &Shared, mut client: TcpStream) -> std::io::Result<()> {
    let Some(request) = read_head(&mut client).await? else {
        return Ok(());
    };
    let body = read_body(&mut client, &request).await?;
    let mut first = request.lines[0].split(' ');
    let method = first.next().unwrap_or_default().to_string();
    let path = first.next().unwrap_or_default().to_string();
    let fault = shared.decide(&method, &path);

    match fault {
        Some(Fault::ResetBeforeForward) => {
            reset(client);
            return Ok(());
        }
        Some(Fault::Status(code)) => {
            let reason = match code {
                429 => "Too Many Requests",
                502 => "Bad Gateway",
                503 => "Service Unavailable",
                _ => "Internal Server Error",
            };
            let text = format!("{code} {reason} (injected by the test proxy)");
            let retry = if matches!(code, 429 | 503) {
                "retry-after: 1\r\n"
            } else {
                ""
            };
            let answer = format!(
                "HTTP/1.1 {code} {reason}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n{retry}connection: close\r\n\r\n{text}",
                text.len()
            );
            client.write_all(answer.as_bytes()).await?;
            client.shutdown().await?;
            return Ok(());
        }
        _ => {}
    }

    let idempotency: &[&str] = if shared.vendor {
        &["idempotency-key"]
    } else {
        &[]
    };
    let mut upstream = TcpStream::connect(shared.upstream).await?;
    upstream
        .write_all(&request.rewrite(idempotency, &[]))
        .await?;
    upstream.write_all(&body).await?;
    let Some(answer) = read_head(&mut upstream).await? else {
        return Err(std::io::Error::other("the server closed without answering"));
    };
    let mut answer_body = answer.rest.clone();
    upstream.read_to_end(&mut answer_body).await?;
    let announce: &[&str] = if shared.vendor {
        &["x-tasklane-idempotency"]
    } else {
        &[]
    };

    match fault {
        Some(Fault::ResetAfterForward) => {
            reset(client);
            Ok(())
        }
        Some(Fault::Stall) => {
            tokio::time::sleep(shared.stall).await;
            // The client has given up by now; what it does with a late
            // answer on a dead connection does not matter.
            let _ = client.write_all(&answer.rewrite(announce, &[])).await;
            let _ = client.write_all(&answer_body).await;
            Ok(())
        }
        Some(Fault::Truncate) if answer_body.len() > 1 => {
            client.write_all(&answer.rewrite(announce, &[])).await?;
            client
                .write_all(&answer_body[..answer_body.len() / 2])
                .await?;
            reset(client);
            Ok(())
        }
        Some(Fault::Malformed) if !answer_body.is_empty() => {
            let garbage = b"{\"items\": [ <html><body>Proxy Error</bo".to_vec();
            let mut drop = vec!["content-length", "transfer-encoding"];
            drop.extend_from_slice(announce);
            client
                .write_all(&answer.rewrite(&drop, &[("content-length", garbage.len().to_string())]))
                .await?;
            client.write_all(&garbage).await?;
            client.shutdown().await?;
            Ok(())
        }
        other => {
            if other.is_some() {
                // Truncating or garbling an empty body changes nothing.
                shared.undo();
            }
            client.write_all(&answer.rewrite(announce, &[])).await?;
            client.write_all(&answer_body).await?;
            client.shutdown().await?;
            Ok(())
        }
    }
}
