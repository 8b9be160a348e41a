//! One bounded HTTP exchange: the shared reqwest client of an account, the
//! limits every answer is held to, and the `Idempotency-Key` every write
//! carries.
//!
//! Answers are read chunk by chunk up to `Limits::max_response_bytes`, so an
//! oversized answer is refused without being held in memory. Redirects are
//! not followed: a redirected API call is an answer to report (OMFLOW sends
//! a missing permission as a redirect), and following one could carry the
//! credentials to another host.

use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};
use reqwest::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use tasklane_core::remote::RemoteError;
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
        let mut resp = req
            .send()
            .await
            .map_err(|e| classify::from_reqwest(&e, effect))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        if headers
            .get(IDEMPOTENCY_ANNOUNCE)
            .is_some_and(|v| v.as_bytes().trim_ascii() == b"1")
        {
            self.idempotency_keys.store(true, Ordering::Relaxed);
        }
        let max = self.limits.max_response_bytes;
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
