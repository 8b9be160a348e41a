//! `tasklane serve`: the engine over HTTP, in three dialects on one port.
//!
//! - OMFLOW at its documented paths (`/accounts/api/security/get/`, `/rest/...`);
//! - OneGov GEVER below a site root (default `/gever`);
//! - Hitachi CSCIW below `/csciwws/v1`.
//!
//! Every request is authenticated (OMFLOW's security code, GEVER basic auth
//! or an `@login` token, Hitachi basic auth), every answer shows only what
//! the dialect's rules let that user see, request bodies are limited to
//! 1 MiB, and every answer announces `X-Tasklane-Idempotency: 1`: a
//! mutating request carrying an `Idempotency-Key` is applied at most once.
//! The router takes its listener and a shutdown future, so tests bind
//! `127.0.0.1:0` and stop it cleanly.

mod auth;
mod background;
mod gever;
mod hitachi;
mod listings;
mod omflow;
mod times;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::Engine;
use crate::error::EngineError;
use crate::idempotency::{self, Stored};
use crate::users::Principal;

pub use background::Background;
pub use omflow::Sessions;
pub use times::Zones;

/// The largest request body accepted; larger ones get 413.
pub const BODY_LIMIT: usize = 1024 * 1024;
/// The header announcing that idempotency keys are honoured.
pub const IDEMPOTENCY_ANNOUNCE: &str = "x-tasklane-idempotency";
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// How the server presents itself.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// GEVER's site root, e.g. `/gever`.
    pub gever_root: String,
    /// GEVER's admin unit, the first part of every oguid.
    pub admin_unit: String,
    /// The zones naive datetimes are written in.
    pub zones: Zones,
    /// How long a GEVER `@login` token is valid, in seconds.
    pub gever_token_lifetime_secs: i64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            gever_root: "/gever".into(),
            admin_unit: "tl".into(),
            zones: Zones::default(),
            gever_token_lifetime_secs: auth::TOKEN_LIFETIME_SECS,
        }
    }
}

/// What every handler can reach.
#[derive(Debug)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub config: ServerConfig,
    pub sessions: omflow::Sessions,
    pub tokens: auth::TokenKey,
    pub listings: listings::Listings,
}

type State = Arc<AppState>;

/// A configured server: its state (sessions, token key) and its router.
/// Cloning shares the state.
#[derive(Debug, Clone)]
pub struct Server {
    state: State,
}

impl Server {
    pub fn new(engine: Arc<Engine>, config: ServerConfig) -> Self {
        Server {
            state: Arc::new(AppState {
                engine,
                sessions: omflow::Sessions::default(),
                tokens: auth::TokenKey::random(),
                listings: listings::Listings::default(),
                config,
            }),
        }
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.state.engine
    }

    /// OMFLOW's live security codes (tests age them to prove expiry).
    pub fn sessions(&self) -> &omflow::Sessions {
        &self.state.sessions
    }

    /// The full router: three dialects, limits, request ids and tracing.
    pub fn router(&self) -> Router {
        Router::new()
            .merge(omflow::routes())
            .merge(hitachi::routes())
            .nest(&self.state.config.gever_root, gever::routes())
            .with_state(self.state.clone())
            .layer(axum::middleware::map_response(announce_idempotency))
            .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
            .layer(axum::middleware::map_response(close_after_too_large))
            .layer(PropagateRequestIdLayer::x_request_id())
            // Logs request id, method, path, status and latency — never
            // bodies, queries or headers, which carry passwords, security
            // codes and tokens.
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(request_span)
                    .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
            )
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
    }

    /// Serves on `listener` until `shutdown` completes, then lets requests
    /// in flight finish (each write is one transaction, so nothing
    /// committed is lost and nothing half-applied remains).
    pub async fn serve(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }
}

fn request_span(request: &axum::http::Request<Body>) -> tracing::Span {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        id,
        method = %request.method(),
        path = request.uri().path(),
    )
}

/// A 413 is answered before the body is read, so the connection cannot
/// carry another request; saying so keeps clients from sending their next
/// request on it while the server closes it.
async fn close_after_too_large(mut response: Response) -> Response {
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

async fn announce_idempotency(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(IDEMPOTENCY_ANNOUNCE, HeaderValue::from_static("1"));
    response
}

/// An answer built inside a transaction, so that it can be stored for an
/// idempotency key in the same transaction as the change it reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

impl Answer {
    pub fn json(status: u16, value: &impl serde::Serialize) -> Self {
        Answer {
            status,
            content_type: "application/json".into(),
            body: serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec()),
            headers: Vec::new(),
        }
    }

    pub fn text(status: u16, content_type: &str, body: String) -> Self {
        Answer {
            status,
            content_type: content_type.into(),
            body: body.into_bytes(),
            headers: Vec::new(),
        }
    }

    pub fn empty(status: u16) -> Self {
        Answer {
            status,
            content_type: String::new(),
            body: Vec::new(),
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    fn stored(&self) -> Stored {
        Stored {
            status: self.status,
            content_type: self.content_type.clone(),
            body: self.body.clone(),
        }
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::from(self.body));
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if !self.content_type.is_empty()
            && let Ok(v) = HeaderValue::from_str(&self.content_type)
        {
            response.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        for (name, value) in self.headers {
            if let (Ok(n), Ok(v)) = (
                header::HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                response.headers_mut().insert(n, v);
            }
        }
        response
    }
}

/// Identifies a request for its idempotency record: method, path and body.
pub(crate) fn fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(body);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The request's `Idempotency-Key`, if it carries a valid one.
pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, EngineError> {
    match headers.get(IDEMPOTENCY_KEY) {
        None => Ok(None),
        Some(v) => {
            let key = v
                .to_str()
                .map_err(|_| EngineError::invalid("Idempotency-Key must be visible ASCII"))?
                .to_string();
            idempotency::validate(&key)?;
            Ok(Some(key))
        }
    }
}

/// Runs one mutating request in one write transaction. With a key, a
/// repeat gets the stored answer (marked `Idempotent-Replayed: true`) and
/// nothing is applied again; `succeeded` says which answers are worth
/// storing (failures changed nothing and may be retried).
pub(crate) fn mutate(
    state: &AppState,
    principal: &Principal,
    key: Option<&str>,
    fingerprint: &str,
    succeeded: impl Fn(&Answer) -> bool,
    f: impl FnOnce(&crate::db::Tx<'_>) -> Result<Answer, EngineError>,
) -> Result<Answer, EngineError> {
    state.engine.db().write(|tx| {
        if let Some(key) = key
            && let Some(stored) = idempotency::lookup(tx, &principal.user, key, fingerprint)?
        {
            return Ok(Answer {
                status: stored.status,
                content_type: stored.content_type,
                body: stored.body,
                headers: vec![("Idempotent-Replayed".into(), "true".into())],
            });
        }
        let answer = f(tx)?;
        if let Some(key) = key
            && succeeded(&answer)
        {
            idempotency::store(tx, &principal.user, key, fingerprint, &answer.stored())?;
        }
        Ok(answer)
    })
}

/// Runs blocking engine work (SQLite, argon2) off the async executor.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, EngineError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| EngineError::Database(format!("a worker failed: {e}")))
}

/// The absolute base URL of this server as the client reached it.
pub(crate) fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-' | '[' | ']'))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}
