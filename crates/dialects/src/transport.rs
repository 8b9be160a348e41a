//! One bounded HTTP exchange: the shared reqwest client of an account, the
//! limits every answer is held to, and the `Idempotency-Key` every write
//! carries.
//!
//! Answers are read chunk by chunk up to `Limits::max_response_bytes`, so an
//! oversized answer is refused without being held in memory. Redirects are
//! not followed: a redirected API call is an answer to report (OMFLOW sends
//! a missing permission as a redirect), and following one could carry the
//! credentials to another host.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};
use reqwest::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use tasklane_core::remote::RemoteError;
use tokio::task::JoinHandle;
use url::Url;
use uuid::Uuid;

use crate::classify::{self, Effect};
use crate::config::{ClientConfig, ConfigError, Limits};

/// The header a write carries its op's UUID in.
pub(crate) const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
/// The header with which tasklane's own server says it honours those keys.
pub(crate) const IDEMPOTENCY_ANNOUNCE: &str = "X-Tasklane-Idempotency";

/// An account's HTTP client.
#[derive(Debug)]
pub(crate) struct Http {
    client: reqwest::Client,
    base: Url,
    limits: Limits,
    idempotency_keys: AtomicBool,
    /// Requests sent before their turn, oldest first ([`Http::read_ahead`]).
    ahead: Mutex<VecDeque<Ahead>>,
}

/// A complete answer, body read within the limit.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Http {
    pub fn new(config: &ClientConfig, accept: &'static str) -> Result<Self, ConfigError> {
        let tls = crate::tls::client_config(config.settings.ca_cert.as_deref())?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static(accept));
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(config.limits.connect_timeout)
            .timeout(config.limits.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .user_agent(concat!("tasklane/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError::Client(e.to_string()))?;
        let mut base = config.base_url.clone();
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        Ok(Http {
            client,
            base,
            limits: config.limits.clone(),
            idempotency_keys: AtomicBool::new(false),
            ahead: Mutex::new(VecDeque::new()),
        })
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// `path` below the account's base URL.
    pub fn url(&self, path: &str) -> Result<Url, RemoteError> {
        self.base
            .join(path.trim_start_matches('/'))
            .map_err(|e| classify::permanent(format!("invalid path {path:?}: {e}")))
    }

    /// Refuses URLs the server handed us that point to another origin:
    /// credentials are only ever sent to the configured server.
    pub fn same_origin(&self, url: &Url) -> Result<(), RemoteError> {
        if url.origin() == self.base.origin() {
            Ok(())
        } else {
            Err(classify::permanent(format!(
                "the server refers to {url}, which is not on {}; tasklane sends credentials to the configured server only",
                self.base.origin().ascii_serialization()
            )))
        }
    }

    pub fn request(&self, method: Method, url: Url) -> RequestBuilder {
        self.client.request(method, url)
    }

    /// Whether the server said it applies each idempotency key at most once.
    pub fn idempotency_keys(&self) -> bool {
        self.idempotency_keys.load(Ordering::Relaxed)
    }

    /// Sends `req` and reads the whole answer within the size limit. A
    /// write carries `Idempotency-Key: <op>`. HTTP error statuses are not
    /// errors here: each dialect reads its own error bodies.
    pub async fn send(
        &self,
        req: RequestBuilder,
        effect: Effect,
        op: Option<Uuid>,
    ) -> Result<Reply, RemoteError> {
        let req = match op {
            Some(id) => req.header(IDEMPOTENCY_KEY, id.to_string()),
            None => req,
        };
        let resp = req
            .send()
            .await
            .map_err(|e| classify::from_reqwest(&e, effect))?;
        if resp
            .headers()
            .get(IDEMPOTENCY_ANNOUNCE)
            .is_some_and(|v| v.as_bytes().trim_ascii() == b"1")
        {
            self.idempotency_keys.store(true, Ordering::Relaxed);
        }
        receive(resp, self.limits.max_response_bytes, effect).await
    }

    /// Sends the read `req` now, before its turn, for [`Self::claim`] to
    /// pick up under `key`: the next pages of a long listing travel (and
    /// the server prepares them) while this one is decoded and merged.
    /// Requests wait in the order sent, at most
    /// [`Limits::pages_ahead`](crate::config::Limits) of them: a newer one
    /// pushes out the oldest, and one whose key is already waiting is not
    /// sent again. Without a tokio runtime to run it on, nothing is sent
    /// and the claim sends as usual.
    pub fn read_ahead(&self, key: String, req: RequestBuilder) {
        let room = usize::try_from(self.limits.pages_ahead()).unwrap_or(0);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        // Held from the check to the push: two calls for one key send once.
        let mut ahead = self.ahead();
        if room == 0 || ahead.iter().any(|a| a.key == key) {
            return;
        }
        let max = self.limits.max_response_bytes;
        let reply = runtime.spawn(async move {
            let resp = req
                .send()
                .await
                .map_err(|e| classify::from_reqwest(&e, Effect::Read))?;
            receive(resp, max, Effect::Read).await
        });
        ahead.push_back(Ahead { key, reply });
        while ahead.len() > room {
            ahead.pop_front();
        }
    }

    /// The answer to the request read ahead under `key`, if there is one
    /// and it succeeded (2xx). `None` (no such request waiting, or one
    /// that failed, was refused or was cancelled) means: send it now. A
    /// failed read ahead is not reported, because sending again tells the
    /// same or better, through the dialect's own handling (a renewed
    /// login, its error bodies). Requests sent before the one claimed are
    /// dropped: the listing went past them. With none under `key`, all
    /// are dropped: the listing they anticipated went elsewhere or
    /// stopped, and a later one must not be answered with what the server
    /// said back then.
    pub async fn claim(&self, key: &str) -> Option<Reply> {
        let mut waiting = {
            let mut ahead = self.ahead();
            let Some(at) = ahead.iter().position(|a| a.key == key) else {
                ahead.clear();
                return None;
            };
            ahead.drain(..at);
            ahead.pop_front()?
        };
        // Dropped while waiting here (the claim cancelled), `waiting`
        // cancels the request too.
        let reply = (&mut waiting.reply).await.ok()?.ok()?;
        reply.is_success().then_some(reply)
    }

    fn ahead(&self) -> std::sync::MutexGuard<'_, VecDeque<Ahead>> {
        self.ahead.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A request read ahead; dropped unclaimed, it is cancelled.
#[derive(Debug)]
struct Ahead {
    key: String,
    reply: JoinHandle<Result<Reply, RemoteError>>,
}

impl Drop for Ahead {
    fn drop(&mut self) {
        // Does nothing to a request that has finished.
        self.reply.abort();
    }
}

/// Reads the whole answer within `max` bytes.
async fn receive(
    mut resp: reqwest::Response,
    max: usize,
    effect: Effect,
) -> Result<Reply, RemoteError> {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    if resp.content_length().is_some_and(|len| len > max as u64) {
        return Err(oversized(max).with_status(status));
    }
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > max {
                    return Err(oversized(max).with_status(status));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) if e.is_timeout() => {
                return Err(classify::from_reqwest(&e, effect).with_status(status));
            }
            Err(e) => {
                return Err(classify::protocol(format!(
                    "the answer broke off after {} bytes: {e}",
                    body.len()
                ))
                .with_status(status));
            }
        }
    }
    tracing::debug!(status, bytes = body.len(), "answer read");
    Ok(Reply {
        status,
        headers,
        body,
    })
}

fn oversized(max: usize) -> RemoteError {
    classify::protocol(format!("the answer is larger than {max} bytes"))
}

impl Reply {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as text for messages, shortened.
    pub fn snippet(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let text = text.trim();
        match text.char_indices().nth(500) {
            Some((cut, _)) => format!("{}…", &text[..cut]),
            None => text.to_string(),
        }
    }

    /// Whether the answer is XML (by content type, or by its first byte
    /// for servers that label it wrongly).
    pub fn is_xml(&self) -> bool {
        let labelled = self
            .headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.contains("xml"));
        labelled || self.body.trim_ascii_start().first() == Some(&b'<')
    }

    /// The body as JSON of type `T`; anything else is a protocol error.
    pub fn json<T: DeserializeOwned>(&self, what: &str) -> Result<T, RemoteError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            classify::protocol(format!("{what}: unexpected answer ({e})")).with_status(self.status)
        })
    }

    /// An error for an unexpected status, with the body as the message.
    pub fn unexpected(&self, what: &str, effect: Effect) -> RemoteError {
        let snippet = self.snippet();
        let message = if snippet.is_empty() {
            format!("{what}: the server answered HTTP {}", self.status)
        } else {
            format!("{what}: {snippet}")
        };
        classify::from_status(self.status, &self.headers, message, effect)
    }
}

/// What `applied` answers on a server that honours idempotency keys: its
/// state need not be inspected, because sending the op again with the same
/// key cannot apply it twice.
pub(crate) const RESEND_SAFE: &str = "this server applies each Idempotency-Key at most once: \
     send the op again with the same key, and it takes effect exactly once";

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    use axum::Router;
    use axum::extract::{Query, State};
    use axum::routing::get;

    use super::*;
    use crate::config::Password;

    /// A loopback server answering `/page?n=N` with `page N`, counting the
    /// requests it answered; `/slow` answers after a second.
    async fn server() -> (Url, Arc<AtomicUsize>) {
        let answered = Arc::new(AtomicUsize::new(0));
        let app = Router::new()
            .route(
                "/page",
                get(
                    |State(count): State<Arc<AtomicUsize>>,
                     Query(q): Query<std::collections::HashMap<String, String>>| async move {
                        count.fetch_add(1, Ordering::SeqCst);
                        format!("page {}", q.get("n").map_or("?", String::as_str))
                    },
                ),
            )
            .route(
                "/slow",
                get(|State(count): State<Arc<AtomicUsize>>| async move {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    count.fetch_add(1, Ordering::SeqCst);
                    "slow"
                }),
            )
            .with_state(answered.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (Url::parse(&format!("http://{addr}/")).unwrap(), answered)
    }

    fn http(base: &Url) -> Http {
        let config = ClientConfig::new(base.as_str(), "amy", Password::new("pw")).unwrap();
        Http::new(&config, "text/plain").unwrap()
    }

    fn ahead(http: &Http, path: &str) -> String {
        let url = http.url(path).unwrap();
        http.read_ahead(url.to_string(), http.request(Method::GET, url.clone()));
        url.to_string()
    }

    #[tokio::test]
    async fn a_read_sent_ahead_is_answered_once_and_claimed_by_its_key_only() {
        let (base, answered) = server().await;
        let http = http(&base);

        // Sent before anyone asks: the server answers it meanwhile.
        let key = ahead(&http, "page?n=2");
        // It reaches the server without being claimed.
        answered_by(&answered, 1).await;
        let reply = http.claim(&key).await.expect("claimed by its key");
        assert_eq!((reply.status, reply.body.as_slice()), (200, &b"page 2"[..]));
        // Claimed once: the next claim finds nothing and sends again.
        assert!(http.claim(&key).await.is_none());
        assert_eq!(answered.load(Ordering::SeqCst), 1);

        // Another request's key does not get it; it is dropped.
        let key = ahead(&http, "page?n=3");
        assert!(
            http.claim(http.url("page?n=4").unwrap().as_str())
                .await
                .is_none()
        );
        assert!(
            http.claim(&key).await.is_none(),
            "dropped by the other claim"
        );

        // A later read ahead is claimed past an earlier one.
        ahead(&http, "page?n=5");
        let new = ahead(&http, "page?n=6");
        let reply = http.claim(&new).await.unwrap();
        assert_eq!(reply.body, b"page 6");

        // An answer that is an HTTP error is asked for again in turn,
        // where the dialect reads its error body (or logs in again).
        let key = ahead(&http, "no-such-page");
        assert!(http.claim(&key).await.is_none());
    }

    /// Waits until the server has answered `n` requests.
    async fn answered_by(answered: &AtomicUsize, n: usize) {
        tokio::time::timeout(Duration::from_secs(5), async {
            while answered.load(Ordering::SeqCst) < n {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("the reads ahead reach the server");
    }

    #[tokio::test]
    async fn pages_ahead_travel_at_once_and_are_claimed_in_turn() {
        let (base, answered) = server().await;
        let http = http(&base);
        assert_eq!(http.limits().pages_ahead(), 2);

        let first = ahead(&http, "page?n=1");
        let second = ahead(&http, "page?n=2");
        // Asked for again while waiting: not sent twice.
        ahead(&http, "page?n=1");
        answered_by(&answered, 2).await;
        assert_eq!(http.claim(&first).await.unwrap().body, b"page 1");
        assert_eq!(http.claim(&second).await.unwrap().body, b"page 2");
        assert_eq!(answered.load(Ordering::SeqCst), 2);

        // A third pushes out the oldest; claiming a later one drops those
        // before it, which the listing went past; claiming one that is not
        // waiting drops them all.
        let pushed_out = ahead(&http, "page?n=3");
        let skipped = ahead(&http, "page?n=4");
        let claimed = ahead(&http, "page?n=5");
        assert_eq!(http.claim(&claimed).await.unwrap().body, b"page 5");
        assert!(http.claim(&skipped).await.is_none());
        let abandoned = ahead(&http, "page?n=6");
        assert!(http.claim(&pushed_out).await.is_none());
        assert!(http.claim(&abandoned).await.is_none());

        // None ahead when the limits say so.
        let config = ClientConfig::new(base.as_str(), "amy", Password::new("pw"))
            .unwrap()
            .with_limits(Limits {
                pages_ahead: 0,
                ..Limits::default()
            });
        let none = Http::new(&config, "text/plain").unwrap();
        let before = answered.load(Ordering::SeqCst);
        let key = ahead(&none, "page?n=7");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(none.claim(&key).await.is_none());
        assert_eq!(answered.load(Ordering::SeqCst), before);
    }

    #[tokio::test]
    async fn a_read_ahead_left_unclaimed_is_cancelled_and_a_failed_one_is_sent_again() {
        let (base, answered) = server().await;
        let http = http(&base);
        let key = ahead(&http, "slow");
        tokio::time::sleep(Duration::from_millis(100)).await;
        // Dropping it (the listing stopped) cancels the request: the
        // server's handler never completes an answer for it.
        assert!(http.claim("another").await.is_none());
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(http.claim(&key).await.is_none());

        // Nothing listens: the read ahead fails, and the claim says "send
        // it yourself" rather than handing on a stale error.
        let refused = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        let dead = self::http(&Url::parse(&format!("http://{refused}/")).unwrap());
        let key = ahead(&dead, "page?n=1");
        assert!(dead.claim(&key).await.is_none());
        assert_eq!(answered.load(Ordering::SeqCst), 0);
    }
}
