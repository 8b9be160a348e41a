//! OMFLOW's security code and the envelope every call answers with.
//!
//! The code comes from `GET /accounts/api/security/get/` with HTTP Basic
//! auth and dies after five minutes without use (every call slides the
//! window); it also dies with a server restart, and a multi-process server
//! may not know another worker's code. So the code is kept alive by asking
//! for it again after four idle minutes (the server then returns the same
//! code, refreshed), and a call answered 403 is retried once with a code
//! fetched anew. Failures arrive inside HTTP 200 answers; [`check`] turns an
//! envelope's `status` into the sync engine's error classes.

use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::Method;
use reqwest::header::AUTHORIZATION;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tasklane_core::remote::{RemoteError, RemoteErrorKind};
use tokio::sync::Mutex;
use uuid::Uuid;

use super::wire::{Envelope, SecurityResult, paths, status};
use crate::classify::{self, Effect};
use crate::config::Password;
use crate::transport::{Http, Reply};

/// Ask for the code again after this long without a call (it dies after 5).
const KEEP_ALIVE: Duration = Duration::from_secs(4 * 60);

/// The text of OMFLOW's "ticket is running" refusal (還在執行, try later).
const TICKET_RUNNING: &str = "目前為執行狀態";
/// The exact failure OMFLOW 1.1 gives for an empty my-mission list.
pub(crate) const EMPTY_LIST_QUIRK: &str = "'NoneType' object has no attribute 'objects'";
/// Texts of the router's security-code refusals (zh-Hant, the default
/// locale, and English). Only used to tell "still not logged in" from "not
/// permitted" after a fresh login was also refused.
const SECURITY_CODE_TEXTS: [&str; 2] = ["安全碼", "security code"];

#[derive(Debug)]
struct Code {
    value: Password,
    used: Instant,
}

/// A logged-in OMFLOW user.
#[derive(Debug)]
pub(crate) struct Session {
    user: String,
    password: Password,
    code: Mutex<Option<Code>>,
}

impl Session {
    pub fn new(user: String, password: Password) -> Self {
        Session {
            user,
            password,
            code: Mutex::new(None),
        }
    }

    /// The current code; a fresh one when `renew` or after the idle limit.
    async fn code(&self, http: &Http, renew: bool) -> Result<String, RemoteError> {
        let mut guard = self.code.lock().await;
        if !renew
            && let Some(code) = guard.as_ref()
            && code.used.elapsed() < KEEP_ALIVE
        {
            return Ok(code.value.expose().to_string());
        }
        let value = self.log_in(http).await?;
        *guard = Some(Code {
            value: Password::new(value.clone()),
            used: Instant::now(),
        });
        Ok(value)
    }

    async fn touch(&self) {
        if let Some(code) = self.code.lock().await.as_mut() {
            code.used = Instant::now();
        }
    }

    async fn log_in(&self, http: &Http) -> Result<String, RemoteError> {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            self.user,
            self.password.expose()
        ));
        let req = http
            .request(Method::GET, http.url(paths::SECURITY_GET)?)
            .header(AUTHORIZATION, format!("Basic {basic}"));
        let reply = http.send(req, Effect::Read, None).await?;
        if !reply.is_success() {
            return Err(reply.unexpected("logging in to OMFLOW", Effect::Read));
        }
        let env: Envelope = reply.json("logging in to OMFLOW")?;
        match env.status.code() {
            Some(status::OK) => {
                let result: SecurityResult = serde_json::from_value(env.result.unwrap_or_default())
                    .map_err(|e| {
                        classify::protocol(format!("OMFLOW login: no security code ({e})"))
                    })?;
                if result.security.trim().is_empty() {
                    return Err(classify::protocol("OMFLOW login: an empty security code"));
                }
                Ok(result.security)
            }
            // Wrong password (403), user unknown or not enabled (404, 500):
            // all mean these credentials do not get a code.
            Some(code) => Err(RemoteError::new(
                RemoteErrorKind::Auth,
                format!("OMFLOW refused the login: {}", env.message),
            )
            .with_status(code_as_status(code))),
            None => Err(classify::protocol(format!(
                "OMFLOW login: status {:?} is not a number",
                env.status
            ))),
        }
    }

    /// POSTs `make(code)` as JSON to `path` and returns the envelope,
    /// logging in again and retrying once when it is refused with 403.
    pub async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        http: &Http,
        path: &str,
        make: impl Fn(String) -> B,
        effect: Effect,
        op: Option<Uuid>,
    ) -> Result<Envelope<T>, RemoteError> {
        self.exchange(http, path, make, effect, op, None).await
    }

    /// [`Self::call`] for a read that may have been sent ahead of its turn
    /// ([`Self::read_ahead`] with the same `path` and `make`): its answer
    /// is used if it came.
    pub async fn read<B: Serialize, T: DeserializeOwned>(
        &self,
        http: &Http,
        path: &str,
        make: impl Fn(String) -> B,
    ) -> Result<Envelope<T>, RemoteError> {
        let ahead = match ahead_key(path, &make) {
            Ok(key) => http.claim(&key).await,
            Err(_) => None,
        };
        self.exchange(http, path, make, Effect::Read, None, ahead)
            .await
    }

    /// Sends the read `make(code)` to `path` now, for [`Self::read`] to
    /// claim (`Http::read_ahead`).
    pub async fn read_ahead<B: Serialize>(
        &self,
        http: &Http,
        path: &str,
        make: impl Fn(String) -> B,
    ) {
        let (Ok(url), Ok(key)) = (http.url(path), ahead_key(path, &make)) else {
            return;
        };
        // Without a code at hand the read is sent in turn.
        let Ok(code) = self.code(http, false).await else {
            return;
        };
        http.read_ahead(key, http.request(Method::POST, url).json(&make(code)));
    }

    async fn exchange<B: Serialize, T: DeserializeOwned>(
        &self,
        http: &Http,
        path: &str,
        make: impl Fn(String) -> B,
        effect: Effect,
        op: Option<Uuid>,
        mut ahead: Option<Reply>,
    ) -> Result<Envelope<T>, RemoteError> {
        let url = http.url(path)?;
        let mut renew = false;
        loop {
            let reply = match ahead.take() {
                Some(reply) => reply,
                None => {
                    let code = self.code(http, renew).await?;
                    let req = http.request(Method::POST, url.clone()).json(&make(code));
                    http.send(req, effect, op).await?
                }
            };
            if !reply.is_success() {
                return Err(reply.unexpected("OMFLOW", effect));
            }
            let env: Envelope<T> = reply.json("OMFLOW")?;
            if env.status.code() == Some(status::FORBIDDEN) && !renew {
                renew = true;
                continue;
            }
            if env.status.code() != Some(status::FORBIDDEN) {
                self.touch().await;
            }
            return Ok(env);
        }
    }
}

/// What tells a read apart from others: its path and its body without
/// the security code.
fn ahead_key<B: Serialize>(path: &str, make: impl Fn(String) -> B) -> serde_json::Result<String> {
    Ok(format!(
        "{path} {}",
        serde_json::to_string(&make(String::new()))?
    ))
}

/// The result of a successful envelope, or the classified failure.
pub(crate) fn check(env: Envelope, what: &str) -> Result<Value, RemoteError> {
    check_as(env, what).map(Option::unwrap_or_default)
}

/// [`check`] for an envelope whose result was read as `T` (`None` when
/// the server left it out).
pub(crate) fn check_as<T>(env: Envelope<T>, what: &str) -> Result<Option<T>, RemoteError> {
    let message = if env.message.is_empty() {
        format!("{what} failed")
    } else {
        format!("{what}: {}", env.message)
    };
    match env.status.code() {
        Some(status::OK) => Ok(env.result),
        Some(status::FORBIDDEN) => {
            // This answer already came after a fresh login.
            let kind = if SECURITY_CODE_TEXTS.iter().any(|t| env.message.contains(t)) {
                RemoteErrorKind::Auth
            } else {
                RemoteErrorKind::Permanent
            };
            Err(RemoteError::new(kind, message).with_status(403))
        }
        Some(code) if env.message.contains(TICKET_RUNNING) => {
            Err(RemoteError::new(classify::transient(None), message)
                .with_status(code_as_status(code)))
        }
        Some(code) => {
            Err(RemoteError::new(RemoteErrorKind::Permanent, message)
                .with_status(code_as_status(code)))
        }
        None => Err(classify::protocol(format!(
            "{what}: status {:?} is not a number",
            env.status
        ))),
    }
}

fn code_as_status(code: i64) -> u16 {
    u16::try_from(code).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::omflow::wire::Status;

    fn env(status: Status, message: &str) -> Envelope {
        Envelope {
            status,
            message: message.into(),
            result: None,
        }
    }

    #[test]
    fn envelope_statuses_are_classified() {
        let cases = [
            (Status::Number(200), "ok", None),
            (Status::Text("200".into()), "推單成功", None),
            (
                Status::Number(403),
                "安全碼錯誤，請確認安全碼或重新取得新的安全碼。",
                Some(RemoteErrorKind::Auth),
            ),
            (
                Status::Number(403),
                "您沒有權限進行此操作。",
                Some(RemoteErrorKind::Permanent),
            ),
            (
                Status::Number(404),
                "該單目前為執行狀態，無法進行更新/刪除。",
                Some(classify::transient(None)),
            ),
            (
                Status::Number(404),
                "缺少必填欄位。",
                Some(RemoteErrorKind::Permanent),
            ),
            (
                Status::Number(500),
                "'type'",
                Some(RemoteErrorKind::Permanent),
            ),
            (
                Status::Text("two hundred".into()),
                "?",
                Some(RemoteErrorKind::Protocol),
            ),
        ];
        for (status, message, kind) in cases {
            let got = check(env(status.clone(), message), "push");
            match kind {
                None => assert!(got.is_ok(), "{status:?}"),
                Some(kind) => {
                    let err = got.unwrap_err();
                    assert_eq!(err.kind, kind, "{status:?} {message}");
                    if kind != RemoteErrorKind::Protocol {
                        assert!(err.message.contains(message), "{}", err.message);
                    }
                }
            }
        }
    }
}
