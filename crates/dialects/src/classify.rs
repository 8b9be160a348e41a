//! How failures are classified for the sync engine, whatever the dialect.
//!
//! The question behind every class is "what may the server have done?":
//! - nothing could be sent (no route, DNS, refused) → `Offline`;
//! - nothing was applied (a connect timeout, a 5xx or 429 answer) → `Transient`;
//! - the request was sent and the answer was lost (a timeout or reset after
//!   sending a write; a gateway timeout for a write) → `Uncertain`;
//! - the server refused for good → `Permanent`, with the server's message;
//! - the answer cannot be understood → `Protocol`.
//!
//! reqwest does not say whether a request body had been written when a
//! connection broke. An established connection that fails is therefore
//! `Uncertain` for a write and `Transient` for a read; hyper itself resends
//! a request only when a pooled connection closed before it was written.

use std::error::Error as _;
use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use tasklane_core::remote::{RemoteError, RemoteErrorKind};

/// Whether a request may change server state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    Read,
    Write,
}

pub(crate) fn transient(retry_after: Option<Duration>) -> RemoteErrorKind {
    RemoteErrorKind::Transient { retry_after }
}

pub(crate) fn protocol(message: impl Into<String>) -> RemoteError {
    RemoteError::new(RemoteErrorKind::Protocol, message)
}

pub(crate) fn permanent(message: impl Into<String>) -> RemoteError {
    RemoteError::new(RemoteErrorKind::Permanent, message)
}

/// A failure before any answer arrived.
pub(crate) fn from_reqwest(err: &reqwest::Error, effect: Effect) -> RemoteError {
    let detail = chain(err);
    if err.is_builder() {
        return permanent(format!("the request could not be built: {detail}"));
    }
    if let Some(tls) = source_of::<rustls::Error>(err) {
        // Nothing was sent; sending again will meet the same certificate.
        return permanent(format!("TLS failed, nothing was sent: {tls}"));
    }
    if err.is_connect() {
        if err.is_timeout() || io_kind_is(err, &[std::io::ErrorKind::TimedOut]) {
            return RemoteError::new(
                transient(None),
                format!("connecting timed out, nothing was sent: {detail}"),
            );
        }
        if io_kind_is(
            err,
            &[
                std::io::ErrorKind::ConnectionReset,
                std::io::ErrorKind::ConnectionAborted,
            ],
        ) {
            return RemoteError::new(
                transient(None),
                format!("the connection was reset before the request was sent: {detail}"),
            );
        }
        return RemoteError::new(
            RemoteErrorKind::Offline,
            format!("the server cannot be reached: {detail}"),
        );
    }
    if err.is_decode() || err.is_body() {
        return protocol(format!("the answer could not be read: {detail}"));
    }
    let what = if err.is_timeout() {
        "the request timed out"
    } else {
        "the connection failed"
    };
    match effect {
        Effect::Read => RemoteError::new(transient(None), format!("{what}: {detail}")),
        Effect::Write => RemoteError::new(
            RemoteErrorKind::Uncertain,
            format!("{what} after the request was sent; it may have been applied: {detail}"),
        ),
    }
}

/// The class of an HTTP error status, for dialects without their own rule.
pub(crate) fn from_status(
    status: u16,
    headers: &HeaderMap,
    message: String,
    effect: Effect,
) -> RemoteError {
    let kind = match status {
        401 => RemoteErrorKind::Auth,
        408 => transient(None),
        429 => transient(retry_after(headers)),
        502 | 504 if effect == Effect::Write => RemoteErrorKind::Uncertain,
        500..=599 => transient(retry_after(headers)),
        _ => RemoteErrorKind::Permanent,
    };
    RemoteError::new(kind, message).with_status(status)
}

/// `Retry-After` as seconds or as an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let wait = at.as_second() - jiff::Timestamp::now().as_second();
    Some(Duration::from_secs(u64::try_from(wait).unwrap_or(0)))
}

fn chain(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

/// Every error below `err`, stepping into `io::Error`s: an io::Error hides
/// the error it wraps from `source()` (it reports the wrapped error's
/// source instead), and connectors nest them.
fn causes(err: &reqwest::Error) -> Vec<&(dyn std::error::Error + 'static)> {
    let mut found = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = err.source();
    while let Some(e) = next {
        found.push(e);
        next = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    found
}

fn source_of<T: std::error::Error + 'static>(err: &reqwest::Error) -> Option<&T> {
    causes(err).into_iter().find_map(|e| e.downcast_ref::<T>())
}

fn io_kind_is(err: &reqwest::Error, kinds: &[std::io::ErrorKind]) -> bool {
    causes(err).into_iter().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| kinds.contains(&io.kind()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn statuses_map_to_what_the_sync_engine_must_do() {
        let none = HeaderMap::new();
        let mut later = HeaderMap::new();
        later.insert(RETRY_AFTER, HeaderValue::from_static("120"));
        let cases = [
            (401, &none, Effect::Read, RemoteErrorKind::Auth),
            (400, &none, Effect::Write, RemoteErrorKind::Permanent),
            (403, &none, Effect::Write, RemoteErrorKind::Permanent),
            (404, &none, Effect::Read, RemoteErrorKind::Permanent),
            (408, &none, Effect::Write, transient(None)),
            (
                429,
                &later,
                Effect::Write,
                transient(Some(Duration::from_secs(120))),
            ),
            (500, &none, Effect::Write, transient(None)),
            (
                503,
                &later,
                Effect::Read,
                transient(Some(Duration::from_secs(120))),
            ),
            (504, &none, Effect::Read, transient(None)),
            (504, &none, Effect::Write, RemoteErrorKind::Uncertain),
            (502, &none, Effect::Write, RemoteErrorKind::Uncertain),
        ];
        for (status, headers, effect, kind) in cases {
            let err = from_status(status, headers, "msg".into(), effect);
            assert_eq!(err.kind, kind, "{status} {effect:?}");
            assert_eq!(err.status, Some(status));
        }
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_as_a_date() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }
}
