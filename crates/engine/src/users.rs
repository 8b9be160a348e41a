//! Users, groups and membership, and the principal a request acts as.

use std::collections::BTreeSet;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::db::Tx;
use crate::error::{EngineError, Result};
use crate::model::GroupKind;
use tasklane_core::time::{format_ts, now};

/// The stored hash of a user who cannot log in over HTTP (the in-process
/// local user of the desktop app).
pub const NO_PASSWORD: &str = "!";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: String,
    pub num: i64,
    pub display_name: String,
    pub admin: bool,
    /// Whether the user can log in over HTTP.
    pub has_password: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub id: String,
    pub num: i64,
    pub display_name: String,
    pub kind: GroupKind,
}

/// Who a request acts as: a user, their groups, and whether they administer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: String,
    pub display_name: String,
    pub admin: bool,
    pub groups: BTreeSet<String>,
    /// The org units among `groups` (whose inboxes the user works for).
    pub org_units: BTreeSet<String>,
}

impl Principal {
    pub fn in_group(&self, group: Option<&str>) -> bool {
        group.is_some_and(|g| self.groups.contains(g))
    }
}

fn validate_id(id: &str, what: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 100
        && id
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(EngineError::invalid(format!(
            "{what} {id:?} must be 1–100 letters, digits, '.', '_', '-' or '@'"
        )))
    }
}

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String> {
    if password.is_empty() {
        return Err(EngineError::invalid("a password cannot be empty"));
    }
    // A fresh random salt is generated inside.
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| EngineError::invalid(format!("cannot hash the password: {e}")))
}

/// Checks a password against a stored hash (constant time inside argon2).
pub fn verify_password(stored: &str, password: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(hash) => Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok(),
        Err(_) => false,
    }
}

pub fn add_user(
    tx: &Tx<'_>,
    id: &str,
    display_name: &str,
    password: Option<&str>,
    admin: bool,
) -> Result<User> {
    validate_id(id, "user name")?;
    if find_user(tx, id)?.is_some() {
        return Err(EngineError::Conflict(format!("user {id:?} exists already")));
    }
    if find_group(tx, id)?.is_some() {
        return Err(EngineError::Conflict(format!(
            "{id:?} is a group; users and groups share one namespace"
        )));
    }
    let hash = match password {
        Some(p) => hash_password(p)?,
        None => NO_PASSWORD.to_string(),
    };
    let num: i64 = tx.query_row("SELECT coalesce(max(num), 0) + 1 FROM users", [], |r| {
        r.get(0)
    })?;
    tx.execute(
        "INSERT INTO users (id, num, display_name, password_hash, admin, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, num, display_name, hash, admin, format_ts(now())],
    )?;
    Ok(User {
        id: id.into(),
        num,
        display_name: display_name.into(),
        admin,
        has_password: password.is_some(),
    })
}

pub fn set_password(tx: &Tx<'_>, id: &str, password: &str) -> Result<()> {
    let hash = hash_password(password)?;
    let n = tx.execute(
        "UPDATE users SET password_hash = ?2 WHERE id = ?1",
        params![id, hash],
    )?;
    if n == 0 {
        return Err(EngineError::NotFound(format!("user {id:?}")));
    }
    Ok(())
}

/// The stored password hash of a user, for authentication.
pub fn password_hash(conn: &Connection, id: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT password_hash FROM users WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?)
}

const USER_COLUMNS: &str = "id, num, display_name, admin, password_hash != '!'";

fn user_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        num: r.get(1)?,
        display_name: r.get(2)?,
        admin: r.get(3)?,
        has_password: r.get(4)?,
    })
}

pub fn find_user(conn: &Connection, id: &str) -> Result<Option<User>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"))?
        .query_row([id], user_from_row)
        .optional()?)
}

pub fn user_by_num(conn: &Connection, num: i64) -> Result<Option<User>> {
    Ok(conn
        .query_row(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE num = ?1"),
            [num],
            user_from_row,
        )
        .optional()?)
}

pub fn list_users(conn: &Connection) -> Result<Vec<User>> {
    let mut stmt = conn.prepare(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY id"))?;
    let users = stmt
        .query_map([], user_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(users)
}

pub fn add_group(tx: &Tx<'_>, id: &str, display_name: &str, kind: GroupKind) -> Result<Group> {
    validate_id(id, "group name")?;
    if find_group(tx, id)?.is_some() || find_user(tx, id)?.is_some() {
        return Err(EngineError::Conflict(format!("{id:?} exists already")));
    }
    let num: i64 = tx.query_row("SELECT coalesce(max(num), 0) + 1 FROM groups", [], |r| {
        r.get(0)
    })?;
    tx.execute(
        "INSERT INTO groups (id, num, display_name, kind) VALUES (?1, ?2, ?3, ?4)",
        params![id, num, display_name, kind.as_str()],
    )?;
    Ok(Group {
        id: id.into(),
        num,
        display_name: display_name.into(),
        kind,
    })
}

fn group_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Group> {
    let kind: String = r.get(3)?;
    Ok(Group {
        id: r.get(0)?,
        num: r.get(1)?,
        display_name: r.get(2)?,
        kind: kind.parse().map_err(|e: EngineError| {
            rusqlite::Error::FromSqlConversionFailure(
                3,
                rusqlite::types::Type::Text,
                e.to_string().into(),
            )
        })?,
    })
}

pub fn find_group(conn: &Connection, id: &str) -> Result<Option<Group>> {
    Ok(conn
        .prepare_cached("SELECT id, num, display_name, kind FROM groups WHERE id = ?1")?
        .query_row([id], group_from_row)
        .optional()?)
}

pub fn group_by_num(conn: &Connection, num: i64) -> Result<Option<Group>> {
    Ok(conn
        .query_row(
            "SELECT id, num, display_name, kind FROM groups WHERE num = ?1",
            [num],
            group_from_row,
        )
        .optional()?)
}

pub fn list_groups(conn: &Connection) -> Result<Vec<Group>> {
    let mut stmt = conn.prepare("SELECT id, num, display_name, kind FROM groups ORDER BY id")?;
    let groups = stmt
        .query_map([], group_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(groups)
}

pub fn add_member(tx: &Tx<'_>, user: &str, group: &str) -> Result<()> {
    if find_user(tx, user)?.is_none() {
        return Err(EngineError::NotFound(format!("user {user:?}")));
    }
    if find_group(tx, group)?.is_none() {
        return Err(EngineError::NotFound(format!("group {group:?}")));
    }
    tx.execute(
        "INSERT OR IGNORE INTO memberships (user_id, group_id) VALUES (?1, ?2)",
        params![user, group],
    )?;
    Ok(())
}

/// The groups a user belongs to.
pub fn groups_of(conn: &Connection, user: &str) -> Result<BTreeSet<String>> {
    let mut stmt = conn.prepare_cached("SELECT group_id FROM memberships WHERE user_id = ?1")?;
    let groups = stmt
        .query_map([user], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(groups)
}

/// The members of a group.
pub fn members_of(conn: &Connection, group: &str) -> Result<Vec<String>> {
    let mut stmt = conn
        .prepare_cached("SELECT user_id FROM memberships WHERE group_id = ?1 ORDER BY user_id")?;
    let members = stmt
        .query_map([group], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(members)
}

/// The principal for a user id (who must exist).
pub fn principal(conn: &Connection, user: &str) -> Result<Principal> {
    let u =
        find_user(conn, user)?.ok_or_else(|| EngineError::NotFound(format!("user {user:?}")))?;
    let mut stmt = conn.prepare_cached(
        "SELECT g.id FROM memberships m JOIN groups g ON g.id = m.group_id
         WHERE m.user_id = ?1 AND g.kind = 'org_unit'",
    )?;
    let org_units = stmt
        .query_map([&u.id], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Principal {
        groups: groups_of(conn, &u.id)?,
        org_units,
        user: u.id,
        display_name: u.display_name,
        admin: u.admin,
    })
}

/// The first org unit a user belongs to (their GEVER "client").
pub fn org_unit_of(conn: &Connection, user: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT g.id FROM memberships m JOIN groups g ON g.id = m.group_id
             WHERE m.user_id = ?1 AND g.kind = 'org_unit' ORDER BY g.id LIMIT 1",
        )?
        .query_row([user], |r| r.get(0))
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Database;

    #[test]
    fn passwords_verify_and_wrong_ones_do_not() {
        let hash = hash_password("s3cret").unwrap();
        assert!(verify_password(&hash, "s3cret"));
        assert!(!verify_password(&hash, "S3cret"));
        assert!(!verify_password(NO_PASSWORD, ""));
        assert!(!hash.contains("s3cret"));
    }

    #[test]
    fn users_and_groups_share_a_namespace_and_principals_carry_groups() {
        let db = Database::open_in_memory().unwrap();
        db.write(|tx| {
            add_user(tx, "hans", "Hans Muster", Some("pw"), false)?;
            add_group(tx, "fd", "Finanzdirektion", GroupKind::OrgUnit)?;
            add_member(tx, "hans", "fd")?;
            assert!(add_group(tx, "hans", "x", GroupKind::Team).is_err());
            assert!(add_user(tx, "fd", "x", None, false).is_err());
            assert!(add_user(tx, "bad name", "x", None, false).is_err());
            Ok(())
        })
        .unwrap();
        let p = db.read(|c| principal(c, "hans")).unwrap();
        assert!(p.groups.contains("fd"));
        assert_eq!(
            db.read(|c| org_unit_of(c, "hans")).unwrap().as_deref(),
            Some("fd")
        );
    }
}
