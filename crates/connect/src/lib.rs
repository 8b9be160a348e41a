//! tasklane-connect: accounts made live. It keeps each account's password
//! in the OS keychain ([`secrets`]) and builds the [`Remote`] the sync
//! engine talks to: a dialect client for OMFLOW, GEVER and Hitachi CSCIW
//! accounts, or the embedded engine in-process for local accounts.
//!
//! The CLI and the desktop shell both go through here, so an account
//! behaves the same wherever it is used.

pub mod accounts;
pub mod desktop;
pub mod probe;
pub mod remotes;
pub mod secrets;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};
use tasklane_core::model::{Account, AccountKind};
use tasklane_core::remote::Remote;
use tasklane_dialects::{ConfigError, Password};
use tasklane_engine::{Engine, EngineError, LocalRemote, users};

pub use desktop::DesktopNotifier;
pub use probe::{Probe, probe};
pub use remotes::Remotes;
pub use secrets::{Keychain, MemorySecrets, SecretError, SecretStore};

/// The account setting that names the account's keychain entry. It is a
/// random id, not a secret: the password itself is only in the keychain.
pub const KEYCHAIN_ENTRY: &str = "keychain_entry";

/// The engine user a local account acts as unless told otherwise.
pub const DEFAULT_LOCAL_USER: &str = "me";

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(
        "no password for account {0:?}: the keychain holds none \
         (store one with `tasklane account passwd {0}`, or pass --password-env VAR)"
    )]
    NoPassword(String),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("the embedded engine: {0}")]
    Engine(#[from] EngineError),
}

/// Builds remotes for accounts; holds the embedded engine once opened.
#[derive(Debug)]
pub struct Connector {
    engine_dir: PathBuf,
    engine: Mutex<Option<Arc<Engine>>>,
    secrets: Arc<dyn SecretStore>,
}

impl Connector {
    /// `engine_dir` is where local accounts' engine lives (`<home>/engine`).
    pub fn new(engine_dir: impl Into<PathBuf>, secrets: Arc<dyn SecretStore>) -> Self {
        Connector {
            engine_dir: engine_dir.into(),
            engine: Mutex::new(None),
            secrets,
        }
    }

    /// A connector whose local accounts use `engine`, already open (the
    /// app's demo serves the same engine over HTTP).
    pub fn with_engine(
        engine_dir: impl Into<PathBuf>,
        engine: Arc<Engine>,
        secrets: Arc<dyn SecretStore>,
    ) -> Self {
        Connector {
            engine_dir: engine_dir.into(),
            engine: Mutex::new(Some(engine)),
            secrets,
        }
    }

    pub fn engine_dir(&self) -> &Path {
        &self.engine_dir
    }

    /// The embedded engine, opened on first use and shared after.
    pub fn engine(&self) -> Result<Arc<Engine>, ConnectError> {
        let mut slot = self.engine.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(engine) = slot.as_ref() {
            return Ok(engine.clone());
        }
        let engine = Arc::new(Engine::open(&self.engine_dir)?);
        *slot = Some(engine.clone());
        Ok(engine)
    }

    /// Makes sure a local account's engine user exists (without a password:
    /// it is reached in-process only, never over HTTP).
    pub fn prepare_local_user(&self, user: &str) -> Result<(), ConnectError> {
        let engine = self.engine()?;
        let exists = engine.db().read(|c| users::find_user(c, user))?.is_some();
        if !exists {
            engine
                .db()
                .write(|tx| users::add_user(tx, user, user, None, false).map(|_| ()))?;
        }
        Ok(())
    }

    /// Stores `password` in the keychain under a fresh entry and records
    /// the entry's name in `settings`. A previous entry is replaced.
    pub fn store_password(
        &self,
        settings: &mut Map<String, Value>,
        password: &str,
    ) -> Result<(), SecretError> {
        let entry = match settings.get(KEYCHAIN_ENTRY).and_then(Value::as_str) {
            Some(existing) => existing.to_string(),
            None => uuid::Uuid::new_v4().to_string(),
        };
        self.secrets.set(&entry, password)?;
        settings.insert(KEYCHAIN_ENTRY.into(), Value::String(entry));
        Ok(())
    }

    /// The account's password from the keychain, if it has one.
    pub fn password(&self, account: &Account) -> Result<Option<Password>, ConnectError> {
        let Some(entry) = account.settings.get(KEYCHAIN_ENTRY).and_then(Value::as_str) else {
            return Ok(None);
        };
        Ok(self.secrets.get(entry)?.map(Password::new))
    }

    /// Removes the password that `settings` name from the keychain.
    pub fn forget(&self, settings: &Map<String, Value>) -> Result<(), SecretError> {
        match settings.get(KEYCHAIN_ENTRY).and_then(Value::as_str) {
            Some(entry) => self.secrets.delete(entry),
            None => Ok(()),
        }
    }

    /// The remote for `account`. `password` overrides the keychain (for
    /// headless use through an environment variable).
    pub fn remote(
        &self,
        account: &Account,
        password: Option<Password>,
    ) -> Result<Box<dyn Remote>, ConnectError> {
        if account.kind == AccountKind::Local {
            let user = if account.user_name.is_empty() {
                DEFAULT_LOCAL_USER
            } else {
                &account.user_name
            };
            self.prepare_local_user(user)?;
            return Ok(Box::new(LocalRemote::new(self.engine()?, user)));
        }
        let password = match password {
            Some(p) => p,
            None => self
                .password(account)?
                .ok_or_else(|| ConnectError::NoPassword(account.name.clone()))?,
        };
        Ok(tasklane_dialects::remote_for(account, password)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(kind: AccountKind, settings: Map<String, Value>) -> Account {
        Account {
            id: 1,
            name: "work".into(),
            kind,
            base_url: "http://127.0.0.1:9/".into(),
            user_name: "hans".into(),
            settings,
            created_at: None,
        }
    }

    #[test]
    fn a_password_goes_to_the_secret_store_and_only_its_entry_name_to_the_settings() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = Arc::new(MemorySecrets::default());
        let c = Connector::new(dir.path().join("engine"), secrets.clone());
        let mut settings = Map::new();
        c.store_password(&mut settings, "pa55-wörd").unwrap();
        let text = Value::Object(settings.clone()).to_string();
        assert!(!text.contains("pa55"), "{text}");
        let acc = account(AccountKind::Gever, settings.clone());
        assert_eq!(c.password(&acc).unwrap().unwrap().expose(), "pa55-wörd");
        // Replacing keeps the entry name.
        let mut again = settings.clone();
        c.store_password(&mut again, "new").unwrap();
        assert_eq!(again, settings);
        assert_eq!(c.password(&acc).unwrap().unwrap().expose(), "new");
        c.forget(&acc.settings).unwrap();
        assert!(matches!(
            c.remote(&acc, None),
            Err(ConnectError::NoPassword(name)) if name == "work"
        ));
        // A password from the environment needs no keychain.
        assert!(c.remote(&acc, Some(Password::new("x"))).is_ok());
    }

    #[test]
    fn a_local_account_opens_the_engine_and_its_user_without_a_password() {
        let dir = tempfile::tempdir().unwrap();
        let c = Connector::new(
            dir.path().join("engine"),
            Arc::new(MemorySecrets::default()),
        );
        let mut acc = account(AccountKind::Local, Map::new());
        acc.user_name = String::new();
        let remote = c.remote(&acc, None).unwrap();
        assert!(remote.capabilities().idempotency_keys);
        let engine = c.engine().unwrap();
        let me = engine
            .db()
            .read(|conn| users::find_user(conn, DEFAULT_LOCAL_USER))
            .unwrap()
            .unwrap();
        assert!(!me.has_password);
        assert!(dir.path().join("engine/engine.sqlite3").exists());
    }
}
