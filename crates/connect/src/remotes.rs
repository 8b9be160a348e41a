//! Each account's remote, kept from one sync to the next so that its
//! session (OMFLOW security code, GEVER token) stays alive; rebuilt when
//! the account's settings change or after the server refused the login.

use std::collections::HashMap;

use tasklane_core::model::Account;
use tasklane_core::remote::Remote;
use tasklane_dialects::Password;

use crate::{ConnectError, Connector};

pub struct Remotes {
    connector: std::sync::Arc<Connector>,
    /// Overrides the keychain for every account (`--password-env`).
    password: Option<Password>,
    by_account: HashMap<i64, (Account, Box<dyn Remote>)>,
}

impl std::fmt::Debug for Remotes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remotes")
            .field("accounts", &self.by_account.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Remotes {
    pub fn new(connector: std::sync::Arc<Connector>, password: Option<Password>) -> Self {
        Remotes {
            connector,
            password,
            by_account: HashMap::new(),
        }
    }

    /// The remote for `account`, built on first use or when the account
    /// changed since.
    pub fn get(&mut self, account: &Account) -> Result<&dyn Remote, ConnectError> {
        let stale = self
            .by_account
            .get(&account.id)
            .is_none_or(|(built_for, _)| built_for != account);
        if stale {
            let remote = self.connector.remote(account, self.password.clone())?;
            self.by_account
                .insert(account.id, (account.clone(), remote));
        }
        Ok(self.by_account[&account.id].1.as_ref())
    }

    /// Drops an account's remote: the next `get` builds it again, reading
    /// the password anew (it may have been changed meanwhile).
    pub fn forget(&mut self, account_id: i64) {
        self.by_account.remove(&account_id);
    }
}
