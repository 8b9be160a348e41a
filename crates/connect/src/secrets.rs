//! Passwords live in the OS keychain and nowhere else: the Secret Service
//! on Linux (GNOME Keyring, KWallet), the Keychain on macOS, the Credential
//! Manager on Windows. The replica stores only the entry's name (a random
//! id in the account's settings), so a copied database reveals nothing and
//! two tasklane homes never share an entry by accident.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

/// The keychain service name every tasklane entry is filed under.
pub const SERVICE: &str = "tasklane";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// There is no keychain to use (no Secret Service on this session bus,
    /// a locked keychain that cannot be unlocked, a headless machine).
    #[error("no keychain is available: {0}")]
    Unavailable(String),
    /// The keychain answered with an error.
    #[error("the keychain failed: {0}")]
    Failed(String),
}

/// Where passwords are kept.
pub trait SecretStore: Send + Sync + fmt::Debug {
    /// The secret stored under `entry`, if any.
    fn get(&self, entry: &str) -> Result<Option<String>, SecretError>;
    /// Stores (or replaces) the secret under `entry`.
    fn set(&self, entry: &str, secret: &str) -> Result<(), SecretError>;
    /// Removes `entry`; removing what is not there is fine.
    fn delete(&self, entry: &str) -> Result<(), SecretError>;
}

/// The OS keychain, through the keyring crate.
#[derive(Debug, Default, Clone, Copy)]
pub struct Keychain;

fn classify(e: keyring::Error) -> SecretError {
    match e {
        keyring::Error::NoDefaultStore => SecretError::Unavailable(
            "the system keychain could not be opened (on Linux: no Secret Service, \
             such as GNOME Keyring, on the session D-Bus)"
                .into(),
        ),
        keyring::Error::NoStorageAccess(inner) => SecretError::Unavailable(inner.to_string()),
        other => SecretError::Failed(other.to_string()),
    }
}

impl Keychain {
    fn entry(entry: &str) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new(SERVICE, entry).map_err(classify)
    }
}

impl SecretStore for Keychain {
    fn get(&self, entry: &str) -> Result<Option<String>, SecretError> {
        match Self::entry(entry)?.get_password() {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(classify(e)),
        }
    }

    fn set(&self, entry: &str, secret: &str) -> Result<(), SecretError> {
        Self::entry(entry)?.set_password(secret).map_err(classify)
    }

    fn delete(&self, entry: &str) -> Result<(), SecretError> {
        match Self::entry(entry)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }
}

/// Secrets held in memory only, for tests and for one process's lifetime
/// (a password given through the environment is never written anywhere).
#[derive(Default)]
pub struct MemorySecrets {
    secrets: Mutex<HashMap<String, String>>,
}

impl fmt::Debug for MemorySecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.secrets.lock().map(|s| s.len()).unwrap_or(0);
        write!(f, "MemorySecrets({n} entries)")
    }
}

impl SecretStore for MemorySecrets {
    fn get(&self, entry: &str) -> Result<Option<String>, SecretError> {
        let secrets = self.secrets.lock().unwrap_or_else(|p| p.into_inner());
        Ok(secrets.get(entry).cloned())
    }

    fn set(&self, entry: &str, secret: &str) -> Result<(), SecretError> {
        let mut secrets = self.secrets.lock().unwrap_or_else(|p| p.into_inner());
        secrets.insert(entry.to_string(), secret.to_string());
        Ok(())
    }

    fn delete(&self, entry: &str) -> Result<(), SecretError> {
        let mut secrets = self.secrets.lock().unwrap_or_else(|p| p.into_inner());
        secrets.remove(entry);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_secrets_never_show_in_debug_output() {
        let s = MemorySecrets::default();
        s.set("e1", "hunter2").unwrap();
        assert_eq!(s.get("e1").unwrap().as_deref(), Some("hunter2"));
        assert!(!format!("{s:?}").contains("hunter2"));
        s.delete("e1").unwrap();
        s.delete("e1").unwrap();
        assert_eq!(s.get("e1").unwrap(), None);
    }
}
