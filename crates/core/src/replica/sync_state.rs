//! Per-account sync bookkeeping: the watermark of the last incremental pull
//! and the outcome of the last attempt, for the status bar and for deciding
//! when the next full pull is due.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::Result;
use crate::time::format_ts;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SyncState {
    /// Dialect-specific high-water mark of the last successful pull.
    pub watermark: Option<String>,
    pub last_full: Option<String>,
    pub last_success: Option<String>,
    pub last_attempt: Option<String>,
    pub last_error: Option<String>,
    pub last_error_kind: Option<String>,
}

pub fn get(conn: &Connection, account_id: i64) -> Result<SyncState> {
    Ok(conn
        .query_row(
            "SELECT watermark, last_full, last_success, last_attempt, last_error, last_error_kind
             FROM sync_state WHERE account_id = ?1",
            [account_id],
            |r| {
                Ok(SyncState {
                    watermark: r.get(0)?,
                    last_full: r.get(1)?,
                    last_success: r.get(2)?,
                    last_attempt: r.get(3)?,
                    last_error: r.get(4)?,
                    last_error_kind: r.get(5)?,
                })
            },
        )
        .optional()?
        .unwrap_or_default())
}

/// Records a successful pull. `watermark` replaces the old one when given;
/// `full` marks a full (reconciling) pull.
pub fn record_success(
    tx: &Transaction<'_>,
    account_id: i64,
    watermark: Option<&str>,
    full: bool,
    at: Timestamp,
) -> Result<()> {
    let at = format_ts(at);
    tx.execute(
        "INSERT INTO sync_state (account_id, watermark, last_full, last_success, last_attempt)
         VALUES (?1, ?2, CASE WHEN ?3 THEN ?4 END, ?4, ?4)
         ON CONFLICT (account_id) DO UPDATE SET
            watermark = coalesce(?2, watermark),
            last_full = CASE WHEN ?3 THEN ?4 ELSE last_full END,
            last_success = ?4, last_attempt = ?4, last_error = NULL, last_error_kind = NULL",
        params![account_id, watermark, full, at],
    )?;
    Ok(())
}

/// Records a failed attempt with its classification and the message to show.
pub fn record_failure(
    tx: &Transaction<'_>,
    account_id: i64,
    kind: &str,
    message: &str,
    at: Timestamp,
) -> Result<()> {
    tx.execute(
        "INSERT INTO sync_state (account_id, last_attempt, last_error, last_error_kind)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (account_id) DO UPDATE SET
            last_attempt = ?2, last_error = ?3, last_error_kind = ?4",
        params![account_id, format_ts(at), message, kind],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Replica;
    use crate::model::{AccountKind, NewAccount};

    #[test]
    fn success_clears_the_error_and_keeps_the_watermark_unless_replaced() {
        let mut r = Replica::open_in_memory().unwrap();
        let account = r
            .write(|tx| {
                crate::replica::accounts::add(
                    tx,
                    &NewAccount::new("a", AccountKind::Local).user("me"),
                )
            })
            .unwrap();
        let t0: Timestamp = "2026-11-22T08:00:00Z".parse().unwrap();
        let t1: Timestamp = "2026-11-22T09:00:00Z".parse().unwrap();
        r.write(|tx| record_success(tx, account.id, Some("w1"), true, t0))
            .unwrap();
        r.write(|tx| record_failure(tx, account.id, "transient", "timed out", t1))
            .unwrap();
        let s = get(r.conn(), account.id).unwrap();
        assert_eq!(s.watermark.as_deref(), Some("w1"));
        assert_eq!(s.last_error.as_deref(), Some("timed out"));
        assert_eq!(s.last_success.as_deref(), Some("2026-11-22T08:00:00Z"));
        r.write(|tx| record_success(tx, account.id, None, false, t1))
            .unwrap();
        let s = get(r.conn(), account.id).unwrap();
        assert_eq!(s.watermark.as_deref(), Some("w1"));
        assert_eq!(s.last_error, None);
        assert_eq!(s.last_full.as_deref(), Some("2026-11-22T08:00:00Z"));
    }
}
