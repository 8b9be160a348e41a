//! Adding, changing and removing accounts, the same way from the CLI and
//! the app: settings are checked before anything is stored, the password
//! goes to the keychain before the account goes to the replica, and a
//! failure leaves neither an orphaned secret nor an account without one.

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde_json::{Map, Value};
use tasklane_core::Replica;
use tasklane_core::model::{Account, AccountKind, NewAccount};
use tasklane_core::outbox::{self, OpState};
use tasklane_core::replica::accounts;
use tasklane_dialects::Password;

use crate::{ConnectError, Connector, DEFAULT_LOCAL_USER, KEYCHAIN_ENTRY, SecretError};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// A setting is wrong; nothing was stored.
    #[error("{0}")]
    Invalid(String),
    #[error("there is already an account named {0:?}")]
    Exists(String),
    #[error("{0:?} has {1} not yet on the server; sync first, or remove it anyway to drop them")]
    Unsent(String, String),
    #[error("cannot store the password: {0}")]
    Keychain(#[from] SecretError),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    Store(#[from] tasklane_core::Error),
}

/// Checks everything that can be checked without the network, so a bad
/// address or setting is refused before anything is stored.
pub fn check(new: &NewAccount) -> Result<(), AccountError> {
    if new.name.trim().is_empty() {
        return Err(AccountError::Invalid("an account needs a name".into()));
    }
    if new.kind == AccountKind::Local {
        if !new.base_url.is_empty() {
            return Err(AccountError::Invalid(
                "a local account has no server address".into(),
            ));
        }
        return Ok(());
    }
    if new.base_url.is_empty() {
        return Err(AccountError::Invalid(format!(
            "{} accounts need the server's address",
            new.kind.as_str()
        )));
    }
    if new.user_name.trim().is_empty() {
        return Err(AccountError::Invalid(format!(
            "{} accounts need a user name",
            new.kind.as_str()
        )));
    }
    // Building the client parses the address, the time zone, the CA
    // certificate and the body format; the password does not matter here.
    tasklane_dialects::remote_for(&draft(new), Password::new("-"))
        .map(|_| ())
        .map_err(|e| AccountError::Invalid(e.to_string()))
}

/// An account not (yet) in the replica, for checking and testing.
pub fn draft(new: &NewAccount) -> Account {
    Account {
        id: 0,
        name: new.name.clone(),
        kind: new.kind,
        base_url: new.base_url.clone(),
        user_name: new.user_name.clone(),
        settings: new.settings.clone(),
        created_at: None,
    }
}

/// How a new account's password is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// In the keychain; no keychain is an error.
    Keychain,
    /// In the keychain when there is one; otherwise the caller supplies the
    /// password on each use (headless machines, `--password-env`).
    KeychainIfAvailable,
}

/// Adds an account. `password` is needed for server accounts and ignored
/// for local ones. Returns the account and whether its password is in the
/// keychain.
pub fn add(
    replica: &mut Replica,
    connector: &Connector,
    mut new: NewAccount,
    password: Option<&str>,
    keep: Keep,
) -> Result<(Account, bool), AccountError> {
    check(&new)?;
    if accounts::find(replica.conn(), &new.name)?.is_some() {
        return Err(AccountError::Exists(new.name));
    }
    // Settings from outside never choose the keychain entry.
    new.settings.remove(KEYCHAIN_ENTRY);
    if new.kind == AccountKind::Local {
        if new.user_name.is_empty() {
            new.user_name = DEFAULT_LOCAL_USER.to_string();
        }
        connector.prepare_local_user(&new.user_name)?;
        let account = replica.write(|tx| accounts::add(tx, &new))?;
        return Ok((account, false));
    }
    let Some(password) = password.filter(|p| !p.is_empty()) else {
        return Err(AccountError::Invalid(format!(
            "{} accounts need a password",
            new.kind.as_str()
        )));
    };
    let stored = match connector.store_password(&mut new.settings, password) {
        Ok(()) => true,
        Err(SecretError::Unavailable(_)) if keep == Keep::KeychainIfAvailable => false,
        Err(e) => return Err(e.into()),
    };
    match replica.write(|tx| accounts::add(tx, &new)) {
        Ok(account) => Ok((account, stored)),
        Err(e) => {
            if stored {
                // Leave no orphaned secret behind.
                let _ = connector.forget(&new.settings);
            }
            Err(e.into())
        }
    }
}

/// Changes an account's settings and, when given, its password. The
/// keychain entry's name is kept whatever `settings` say.
pub fn update(
    replica: &mut Replica,
    connector: &Connector,
    name: &str,
    mut settings: Map<String, Value>,
    password: Option<&str>,
) -> Result<Account, AccountError> {
    let account = accounts::get(replica.conn(), name)?;
    settings.remove(KEYCHAIN_ENTRY);
    if let Some(entry) = account.settings.get(KEYCHAIN_ENTRY) {
        settings.insert(KEYCHAIN_ENTRY.into(), entry.clone());
    }
    let changed = NewAccount {
        name: account.name.clone(),
        kind: account.kind,
        base_url: account.base_url.clone(),
        user_name: account.user_name.clone(),
        settings: settings.clone(),
    };
    check(&changed)?;
    if let Some(password) = password.filter(|p| !p.is_empty()) {
        if account.kind == AccountKind::Local {
            return Err(AccountError::Invalid(format!(
                "{name:?} is a local account: it has no password"
            )));
        }
        connector.store_password(&mut settings, password)?;
    }
    if settings != account.settings {
        replica.write(|tx| accounts::update_settings(tx, account.id, &settings))?;
    }
    Ok(accounts::get(replica.conn(), name)?)
}

/// Ops not yet confirmed by a server (pending, sending, failed or in
/// conflict), by account id.
pub fn unsent_ops(conn: &Connection) -> Result<BTreeMap<i64, u64>, tasklane_core::Error> {
    let open = [
        OpState::Pending,
        OpState::Sending,
        OpState::Failed,
        OpState::Conflict,
    ];
    let mut counts = BTreeMap::new();
    for op in outbox::list(conn, &open)? {
        *counts.entry(op.account_id).or_insert(0) += 1;
    }
    Ok(counts)
}

/// Removes an account with its tasks; refused while it has unsent ops
/// unless `force`. The keychain entry goes after the replica row, so a
/// failed keychain removal leaves a harmless orphan, never an account
/// without its password. Returns the removed account and, if the keychain
/// entry could not be removed, why.
pub fn remove(
    replica: &mut Replica,
    connector: &Connector,
    name: &str,
    force: bool,
) -> Result<(Account, Option<SecretError>), AccountError> {
    let account = accounts::get(replica.conn(), name)?;
    let unsent = unsent_ops(replica.conn())?
        .get(&account.id)
        .copied()
        .unwrap_or(0);
    if unsent > 0 && !force {
        let what = if unsent == 1 {
            "1 action".to_string()
        } else {
            format!("{unsent} actions")
        };
        return Err(AccountError::Unsent(name.to_string(), what));
    }
    let removed = replica.write(|tx| accounts::remove(tx, name))?;
    let leftover = connector.forget(&removed.settings).err();
    Ok((removed, leftover))
}
