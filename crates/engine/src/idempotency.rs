//! `Idempotency-Key`: tasklane's extension for exactly-once replay. A
//! mutating request that carries a key is applied at most once per key and
//! user; a repeat gets the stored response. The record is written in the
//! same transaction as the change it answers, so a crash can never leave a
//! change applied without its record (or the reverse). Only successful
//! answers are recorded: a refused request changed nothing and may be sent
//! again.

use rusqlite::{OptionalExtension, params};

use crate::db::Tx;
use crate::error::{EngineError, Result};
use tasklane_core::time::{format_ts, now};

/// How long a key is remembered. Far longer than any client waits to
/// replay (a laptop offline over a holiday), short enough that the table
/// does not grow without end.
pub const RETENTION_DAYS: i64 = 90;

/// A stored answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// Keys are opaque to the server but must be sane.
pub fn validate(key: &str) -> Result<()> {
    let ok = !key.is_empty() && key.len() <= 255 && key.chars().all(|c| c.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(EngineError::invalid(
            "Idempotency-Key must be 1–255 visible ASCII characters",
        ))
    }
}

/// The stored answer for this key, if the request was applied before. A key
/// reused for a different request is refused.
pub fn lookup(tx: &Tx<'_>, user: &str, key: &str, fingerprint: &str) -> Result<Option<Stored>> {
    let row: Option<(String, u16, String, Vec<u8>)> = tx
        .prepare_cached(
            "SELECT fingerprint, status, content_type, body FROM idempotency WHERE user_id = ?1 AND key = ?2",
        )?
        .query_row(params![user, key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    match row {
        None => Ok(None),
        Some((stored, ..)) if stored != fingerprint => Err(EngineError::Conflict(format!(
            "Idempotency-Key {key:?} was used for a different request"
        ))),
        Some((_, status, content_type, body)) => Ok(Some(Stored {
            status,
            content_type,
            body,
        })),
    }
}

pub fn store(tx: &Tx<'_>, user: &str, key: &str, fingerprint: &str, answer: &Stored) -> Result<()> {
    let cutoff = now()
        .checked_sub(jiff::SignedDuration::from_hours(24 * RETENTION_DAYS))
        .map_err(|e| EngineError::Database(format!("clock out of range: {e}")))?;
    // Cheap (indexed), and keeps the table bounded without a timer.
    tx.prepare_cached("DELETE FROM idempotency WHERE created_at < ?1")?
        .execute([format_ts(cutoff)])?;
    tx.prepare_cached(
        "INSERT INTO idempotency (user_id, key, fingerprint, status, content_type, body, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        user,
        key,
        fingerprint,
        answer.status,
        answer.content_type,
        answer.body,
        format_ts(now()),
    ])?;
    Ok(())
}

/// Whether a key was used by this user (for the in-process remote's
/// "did it take effect?").
pub fn exists(tx: &rusqlite::Connection, user: &str, key: &str) -> Result<Option<Stored>> {
    Ok(tx
        .prepare_cached(
            "SELECT status, content_type, body FROM idempotency WHERE user_id = ?1 AND key = ?2",
        )?
        .query_row(params![user, key], |r| {
            Ok(Stored {
                status: r.get(0)?,
                content_type: r.get(1)?,
                body: r.get(2)?,
            })
        })
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Database;

    #[test]
    fn a_key_answers_its_first_response_and_refuses_other_requests() {
        let db = Database::open_in_memory().unwrap();
        let answer = Stored {
            status: 200,
            content_type: "application/json".into(),
            body: b"{\"ok\":true}".to_vec(),
        };
        db.write(|tx| store(tx, "hans", "k1", "POST /x h1", &answer))
            .unwrap();
        let again = db
            .write(|tx| lookup(tx, "hans", "k1", "POST /x h1"))
            .unwrap();
        assert_eq!(again, Some(answer));
        assert_eq!(
            db.write(|tx| lookup(tx, "anna", "k1", "POST /x h1"))
                .unwrap(),
            None,
            "keys are per user"
        );
        let other = db
            .write(|tx| lookup(tx, "hans", "k1", "POST /y h2"))
            .unwrap_err();
        assert!(other.to_string().contains("different request"));
        for bad in ["", "with space", &"x".repeat(256)] {
            assert!(validate(bad).is_err());
        }
    }

    #[test]
    fn keys_older_than_the_retention_are_forgotten_when_new_ones_arrive() {
        let db = Database::open_in_memory().unwrap();
        let answer = Stored {
            status: 201,
            content_type: String::new(),
            body: Vec::new(),
        };
        db.write(|tx| {
            store(tx, "hans", "old", "f", &answer)?;
            store(tx, "hans", "recent", "f", &answer)?;
            tx.execute(
                "UPDATE idempotency SET created_at = '2020-01-01T00:00:00Z' WHERE key = 'old'",
                [],
            )?;
            Ok(())
        })
        .unwrap();
        db.write(|tx| store(tx, "anna", "new", "f", &answer))
            .unwrap();
        let keys: Vec<String> = db
            .read(|c| {
                let mut stmt = c.prepare("SELECT key FROM idempotency ORDER BY key")?;
                let keys = stmt
                    .query_map([], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                Ok(keys)
            })
            .unwrap();
        assert_eq!(keys, ["new", "recent"]);
    }
}
