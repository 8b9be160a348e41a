//! Accounts: the servers the user works with.

use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use crate::error::{Error, Result};
use crate::model::{Account, AccountSettings, NewAccount};
use crate::time::{format_ts, now, parse_ts};

/// Setting names that smell of a secret. Secrets belong in the OS keychain;
/// refusing them here keeps a careless caller from writing one to disk.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "credential",
    "apikey",
    "api_key",
];

/// Adds an account. Names are unique.
pub fn add(tx: &Transaction<'_>, new: &NewAccount) -> Result<Account> {
    validate(new)?;
    if find(tx, &new.name)?.is_some() {
        return Err(Error::AccountExists(new.name.clone()));
    }
    let created = now();
    tx.execute(
        "INSERT INTO accounts (name, kind, base_url, user_name, settings, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            new.name,
            new.kind.as_str(),
            new.base_url,
            new.user_name,
            serde_json::Value::Object(new.settings.clone()).to_string(),
            format_ts(created),
        ],
    )?;
    Ok(Account {
        id: tx.last_insert_rowid(),
        name: new.name.clone(),
        kind: new.kind,
        base_url: new.base_url.clone(),
        user_name: new.user_name.clone(),
        settings: new.settings.clone(),
        created_at: Some(created),
    })
}

/// Replaces an account's settings (never its name or kind, which the
/// replica's tasks are keyed on).
pub fn update_settings(
    tx: &Transaction<'_>,
    id: i64,
    settings: &serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    check_settings(settings)?;
    tx.execute(
        "UPDATE accounts SET settings = ?2 WHERE id = ?1",
        params![id, serde_json::Value::Object(settings.clone()).to_string()],
    )?;
    Ok(())
}

/// Moves an account to another address of the same server (a new port,
/// a renamed host); its tasks and ops stay, keyed on the account.
pub fn set_base_url(tx: &Transaction<'_>, id: i64, base_url: &str) -> Result<()> {
    let changed = tx.execute(
        "UPDATE accounts SET base_url = ?2 WHERE id = ?1",
        params![id, base_url],
    )?;
    if changed == 0 {
        return Err(Error::AccountNotFound(id.to_string()));
    }
    Ok(())
}

/// Removes an account and, through the foreign keys, its tasks and ops.
pub fn remove(tx: &Transaction<'_>, name: &str) -> Result<Account> {
    let account = get(tx, name)?;
    // The search index is reached by no foreign key: clear it first.
    tx.execute(
        "DELETE FROM task_search WHERE rowid IN (SELECT id FROM tasks WHERE account_id = ?1)",
        [account.id],
    )?;
    tx.execute(
        "DELETE FROM search_backlog WHERE task_id IN (SELECT id FROM tasks WHERE account_id = ?1)",
        [account.id],
    )?;
    tx.execute("DELETE FROM accounts WHERE id = ?1", [account.id])?;
    Ok(account)
}

pub fn find(conn: &Connection, name: &str) -> Result<Option<Account>> {
    Ok(conn
        .query_row(&format!("{SELECT} WHERE name = ?1"), [name], from_row)
        .optional()?)
}

pub fn get(conn: &Connection, name: &str) -> Result<Account> {
    find(conn, name)?.ok_or_else(|| Error::AccountNotFound(name.to_string()))
}

pub fn by_id(conn: &Connection, id: i64) -> Result<Account> {
    conn.query_row(&format!("{SELECT} WHERE id = ?1"), [id], from_row)
        .optional()?
        .ok_or_else(|| Error::AccountNotFound(format!("#{id}")))
}

pub fn list(conn: &Connection) -> Result<Vec<Account>> {
    let mut stmt = conn.prepare(&format!("{SELECT} ORDER BY name"))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

const SELECT: &str =
    "SELECT id, name, kind, base_url, user_name, settings, created_at FROM accounts";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Account> {
    let kind: String = row.get(2)?;
    let settings: String = row.get(5)?;
    let created: String = row.get(6)?;
    Ok(Account {
        id: row.get(0)?,
        name: row.get(1)?,
        kind: kind.parse().map_err(|e: String| conversion_error(2, e))?,
        base_url: row.get(3)?,
        user_name: row.get(4)?,
        settings: serde_json::from_str(&settings)
            .map_err(|e| conversion_error(5, e.to_string()))?,
        created_at: parse_ts(&created),
    })
}

pub(crate) fn conversion_error(column: usize, message: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, message.into())
}

fn validate(new: &NewAccount) -> Result<()> {
    let name = new.name.trim();
    if name.is_empty() || name != new.name {
        return Err(Error::Invalid(
            "an account name must be non-empty and must not start or end with spaces".into(),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::Invalid(
            "an account name must not contain control characters".into(),
        ));
    }
    check_settings(&new.settings)
}

/// No secrets, and values the typed settings accept (a wrong inbox id is
/// refused here, whichever front end sent it).
fn check_settings(settings: &serde_json::Map<String, serde_json::Value>) -> Result<()> {
    check_no_secrets(settings)?;
    AccountSettings::from_map(settings)
        .and_then(|s| s.check())
        .map_err(Error::Invalid)
}

fn check_no_secrets(settings: &serde_json::Map<String, serde_json::Value>) -> Result<()> {
    for key in settings.keys() {
        let lower = key.to_lowercase();
        if SECRET_WORDS.iter().any(|w| lower.contains(w)) {
            return Err(Error::Invalid(format!(
                "account setting {key:?} looks like a secret; secrets are kept in the OS keychain, never in the replica"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Replica;
    use crate::model::AccountKind;

    fn new(name: &str) -> NewAccount {
        NewAccount {
            name: name.into(),
            kind: AccountKind::Gever,
            base_url: "https://gever.example/".into(),
            user_name: "hans.muster".into(),
            settings: serde_json::Map::new(),
        }
    }

    #[test]
    fn accounts_round_trip_and_names_are_unique() {
        let mut r = Replica::open_in_memory().unwrap();
        let a = r.write(|tx| add(tx, &new("work"))).unwrap();
        assert_eq!(get(r.conn(), "work").unwrap(), a);
        let again = r.write(|tx| add(tx, &new("work"))).unwrap_err();
        assert!(matches!(again, Error::AccountExists(_)));
        assert_eq!(list(r.conn()).unwrap().len(), 1);
    }

    #[test]
    fn settings_that_look_like_secrets_are_refused() {
        let mut r = Replica::open_in_memory().unwrap();
        let mut bad = new("work");
        bad.settings.insert("Password".into(), "hunter2".into());
        let err = r.write(|tx| add(tx, &bad)).unwrap_err();
        assert!(err.to_string().contains("keychain"), "{err}");
        assert!(list(r.conn()).unwrap().is_empty());
    }

    #[test]
    fn inboxes_must_name_org_units_when_added_or_changed() {
        let mut r = Replica::open_in_memory().unwrap();
        let mut bad = new("work");
        bad.settings
            .insert("inboxes".into(), serde_json::json!(["fd", "f/d?x"]));
        let err = r.write(|tx| add(tx, &bad)).unwrap_err();
        assert!(matches!(err, Error::Invalid(_)), "{err}");
        assert!(err.to_string().contains("f/d?x"), "{err}");
        assert!(list(r.conn()).unwrap().is_empty());

        let a = r.write(|tx| add(tx, &new("work"))).unwrap();
        let good = AccountSettings {
            inboxes: vec!["fd".into(), "bau".into()],
            ..AccountSettings::default()
        };
        r.write(|tx| update_settings(tx, a.id, &good.to_map()))
            .unwrap();
        let err = r
            .write(|tx| update_settings(tx, a.id, &bad.settings))
            .unwrap_err();
        assert!(matches!(err, Error::Invalid(_)), "{err}");
        assert_eq!(get(r.conn(), "work").unwrap().settings, good.to_map());
    }

    #[test]
    fn blank_or_padded_names_are_refused() {
        let mut r = Replica::open_in_memory().unwrap();
        for name in ["", " work", "work ", "a\nb"] {
            assert!(r.write(|tx| add(tx, &new(name))).is_err(), "{name:?}");
        }
    }
}
