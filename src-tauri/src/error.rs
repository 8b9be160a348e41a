//! The one error every command rejects with: a stable `kind` the UI can
//! branch on and a message for the user. Internal details stay in the log.

use serde::Serialize;
use tasklane_connect::accounts::AccountError;
use tasklane_connect::{ConnectError, SecretError};
use tasklane_core::ErrorKind;
use tasklane_core::remote::{RemoteError, RemoteErrorKind};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum AppErrorKind {
    Invalid,
    NotFound,
    Conflict,
    Corrupt,
    Storage,
    Auth,
    Offline,
    Remote,
    Keychain,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub kind: AppErrorKind,
    pub message: String,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(kind: AppErrorKind, message: impl Into<String>) -> Self {
        AppError {
            kind,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(AppErrorKind::Invalid, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(AppErrorKind::NotFound, message)
    }
}

impl From<tasklane_core::Error> for AppError {
    fn from(e: tasklane_core::Error) -> Self {
        let kind = match e.kind() {
            ErrorKind::Invalid => AppErrorKind::Invalid,
            ErrorKind::NotFound => AppErrorKind::NotFound,
            ErrorKind::Conflict => AppErrorKind::Conflict,
            ErrorKind::Corrupt => AppErrorKind::Corrupt,
            ErrorKind::Storage => {
                tracing::error!("replica: {e:?}");
                AppErrorKind::Storage
            }
        };
        AppError::new(kind, e.to_string())
    }
}

impl From<RemoteError> for AppError {
    fn from(e: RemoteError) -> Self {
        let kind = match e.kind {
            RemoteErrorKind::Auth => AppErrorKind::Auth,
            RemoteErrorKind::Offline => AppErrorKind::Offline,
            _ => AppErrorKind::Remote,
        };
        AppError::new(kind, e.to_string())
    }
}

impl From<SecretError> for AppError {
    fn from(e: SecretError) -> Self {
        AppError::new(AppErrorKind::Keychain, e.to_string())
    }
}

impl From<ConnectError> for AppError {
    fn from(e: ConnectError) -> Self {
        match e {
            ConnectError::NoPassword(_) => AppError::new(AppErrorKind::Auth, e.to_string()),
            ConnectError::Secret(e) => e.into(),
            ConnectError::Config(_) => AppError::invalid(e.to_string()),
            ConnectError::Engine(_) => AppError::new(AppErrorKind::Storage, e.to_string()),
        }
    }
}

impl From<AccountError> for AppError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Invalid(_) => AppError::invalid(e.to_string()),
            AccountError::Exists(_) | AccountError::Unsent(..) => {
                AppError::new(AppErrorKind::Conflict, e.to_string())
            }
            AccountError::Keychain(e) => e.into(),
            AccountError::Connect(e) => e.into(),
            AccountError::Store(e) => e.into(),
        }
    }
}
