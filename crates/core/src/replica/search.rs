//! Free-text search over titles, descriptions and comments.
//!
//! The index is an FTS5 table with the trigram tokenizer: every run of three
//! characters is a term, so any substring of three or more characters can be
//! found — what Chinese and Japanese need, having no spaces between words
//! (`審核` must find `審核通過`).
//!
//! Trigrams cannot serve terms of one or two characters, and two-character
//! words are common in both languages. For those we read the index's own
//! vocabulary: every term that *starts with* the short string is a trigram
//! of a text containing it, and `fts5vocab` answers such a prefix range from
//! the index's b-tree. Each indexed field is padded with two trailing spaces
//! so that a short string at the very end of a field also starts a trigram.
//! The query then ORs those trigrams. Only when a prefix is so common that it
//! starts more than [`MAX_PREFIX_TERMS`] trigrams (a single Latin letter)
//! does a term fall back to scanning the text.
//!
//! Indexing is kept off the ingest path: ingest records changed tasks in
//! `search_backlog`, and [`catch_up`] indexes them in large batches right
//! after. Until then those tasks are searched by scanning their text, so a
//! search is complete at every moment; only its speed depends on catch-up.
//! A pull's merge thread, which catches up in each of its transactions,
//! indexes the new tasks it inserts at once instead ([`index_new`]).

use rusqlite::functions::FunctionFlags;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::error::Result;

/// Beyond this many trigrams a short term is matched by scanning instead.
pub const MAX_PREFIX_TERMS: usize = 512;

/// Registers `tl_fold(text)`: Unicode lower-casing, which SQLite's own
/// `lower()` does only for ASCII (German `Ä`, Greek, Cyrillic...).
pub(crate) fn register_functions(conn: &Connection) -> Result<()> {
    conn.create_scalar_function(
        "tl_fold",
        1,
        FunctionFlags::SQLITE_UTF8
            | FunctionFlags::SQLITE_DETERMINISTIC
            | FunctionFlags::SQLITE_INNOCUOUS,
        |ctx| {
            let text: Option<String> = ctx.get(0)?;
            Ok(text.map(|t| fold(&t)))
        },
    )?;
    Ok(())
}

/// The case folding used for `contains` and short search terms.
pub fn fold(text: &str) -> String {
    text.to_lowercase()
}

fn pad(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 2);
    s.push_str(text);
    s.push_str("  ");
    s
}

/// Marks a task's text as changed; [`catch_up`] will (re)index it.
/// `fresh`: the task was just created and has no index entry yet. An entry
/// already waiting keeps its flag: a task updated before its first catch-up
/// is still not in the index.
pub(crate) fn enqueue(tx: &Transaction<'_>, id: i64, fresh: bool) -> Result<()> {
    tx.prepare_cached("INSERT OR IGNORE INTO search_backlog (task_id, fresh) VALUES (?1, ?2)")?
        .execute(params![id, fresh])?;
    Ok(())
}

/// A task just inserted without comments, with the text [`catch_up`]
/// would read back for it, padded as the index takes it.
#[derive(Debug)]
pub struct NewEntry {
    id: i64,
    title: String,
    description: String,
}

impl NewEntry {
    pub(crate) fn new(id: i64, title: &str, description: &str) -> Self {
        NewEntry {
            id,
            title: pad(title),
            description: pad(description),
        }
    }
}

/// Indexes tasks just inserted, from their text at hand. Call it after the
/// transaction's other writes, as [`catch_up`] is: every statement that
/// writes another table while the index holds pending terms makes FTS5
/// flush them as a segment of their own (a statement savepoint), and
/// interleaved with the ingest's inserts that is a segment per task.
pub(crate) fn index_new(tx: &Transaction<'_>, entries: &[NewEntry]) -> Result<()> {
    let no_comments = pad("");
    let mut insert = tx.prepare_cached(INSERT_PADDED)?;
    for e in entries {
        insert.execute(params![e.id, e.title, e.description, no_comments])?;
    }
    Ok(())
}

/// The statement writing a task's entry, each field already [`pad`]ded.
/// Prepared once per batch: looking a statement up in the cache hashes its
/// text twice, which per entry added up to a per cent of a first sync's
/// merging.
const INSERT_PADDED: &str =
    "INSERT INTO task_search (rowid, title, description, comments) VALUES (?1, ?2, ?3, ?4)";

/// How many tasks wait to be indexed.
pub fn backlog(conn: &Connection) -> Result<u64> {
    Ok(
        conn.query_row("SELECT count(*) FROM search_backlog", [], |r| {
            r.get::<_, i64>(0)
        })? as u64,
    )
}

/// Indexes up to `limit` tasks from the backlog; returns how many it took.
pub fn catch_up(tx: &Transaction<'_>, limit: usize) -> Result<usize> {
    let batch = tx
        .prepare_cached("SELECT task_id, fresh FROM search_backlog ORDER BY task_id LIMIT ?1")?
        .query_map([limit as i64], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, bool>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // Comments in the order they were stored, one per line.
    let mut text = tx.prepare_cached(
        "SELECT t.title, coalesce(b.description, ''),
            (SELECT coalesce(group_concat(c.text, char(10) ORDER BY c.id), '')
             FROM comments c WHERE c.task_id = t.id)
         FROM tasks t LEFT JOIN task_bodies b ON b.task_id = t.id WHERE t.id = ?1",
    )?;
    let mut delete = tx.prepare_cached("DELETE FROM task_search WHERE rowid = ?1")?;
    let mut insert = tx.prepare_cached(INSERT_PADDED)?;
    for &(id, fresh) in &batch {
        if !fresh {
            delete.execute([id])?;
        }
        let row: Option<(String, String, String)> = text
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        if let Some((title, description, comments)) = row {
            insert.execute(params![id, pad(&title), pad(&description), pad(&comments)])?;
        }
    }
    let ids: Vec<i64> = batch.iter().map(|&(id, _)| id).collect();
    tx.prepare_cached(
        "DELETE FROM search_backlog WHERE task_id IN (SELECT value FROM rarray(?1))",
    )?
    .execute([ids_array(&ids)])?;
    Ok(ids.len())
}

/// Merges the index into one segment. Worth its cost (about a second per
/// 100,000 tasks) after a large catch-up: searches then read one doclist per
/// term instead of one per segment.
pub(crate) fn optimize(tx: &Transaction<'_>) -> Result<()> {
    tx.execute(
        "INSERT INTO task_search (task_search) VALUES ('optimize')",
        [],
    )?;
    Ok(())
}

/// FTS5's own merge settings (its defaults): after each new segment, merge
/// levels holding `automerge` segments a step at a time, and at once any
/// level reaching `crisismerge`.
const AUTOMERGE: i64 = 4;
const CRISISMERGE: i64 = 16;
/// Segments a level may hold while merging is paused, before FTS5 merges
/// anyway. A first sync writes one segment per transaction (between 12 and
/// 50 for 100,000 tasks in the sync bench); a larger load merges some
/// levels on the way.
const CRISISMERGE_PAUSED: i64 = 64;

/// Stops merging segments as they are written, for a load that writes one
/// per transaction and ends with [`optimize`]. Merged step by step, those
/// segments were rewritten two or three times over: a sixth of a first
/// sync's merging. Stored in the index's config, in the caller's
/// transaction, so it lasts until [`resume_merging`] — also across a crash
/// (`replica::bulk` ties both to the indexes it sets aside).
pub(crate) fn pause_merging(tx: &Transaction<'_>) -> Result<()> {
    set_merging(tx, 0, CRISISMERGE_PAUSED)
}

/// FTS5's default merging again.
pub(crate) fn resume_merging(tx: &Transaction<'_>) -> Result<()> {
    set_merging(tx, AUTOMERGE, CRISISMERGE)
}

fn set_merging(tx: &Transaction<'_>, automerge: i64, crisismerge: i64) -> Result<()> {
    let mut set =
        tx.prepare_cached("INSERT INTO task_search (task_search, rank) VALUES (?1, ?2)")?;
    set.execute(params!["automerge", automerge])?;
    set.execute(params!["crisismerge", crisismerge])?;
    Ok(())
}

/// Removes a task from the index and the backlog.
pub(crate) fn unindex(tx: &Transaction<'_>, id: i64) -> Result<()> {
    tx.prepare_cached("DELETE FROM task_search WHERE rowid = ?1")?
        .execute([id])?;
    tx.prepare_cached("DELETE FROM search_backlog WHERE task_id = ?1")?
        .execute([id])?;
    Ok(())
}

/// A list of ids as one `rarray(?)` parameter.
pub(crate) fn ids_array(ids: &[i64]) -> rusqlite::vtab::array::Array {
    std::rc::Rc::new(ids.iter().map(|&id| Value::Integer(id)).collect())
}

/// A search, compiled: what the index answers and what must be scanned.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SearchPlan {
    /// The search is empty: no condition.
    All,
    /// Some term occurs nowhere: nothing can match.
    Nothing,
    Terms(Terms),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Terms {
    /// What the index says about the terms it answers.
    pub indexed: Indexed,
    /// Folded terms matched by scanning text (too short and too common for
    /// the index).
    pub scanned: Vec<String>,
    /// Every folded term, for scanning tasks the index has not caught up with.
    pub all: Vec<String>,
    /// Whether any task waits in the backlog.
    pub backlog: bool,
}

/// The index's part of a search.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Indexed {
    /// No term is answered by the index.
    Unused,
    /// A term occurs in no indexed task.
    NoMatch,
    /// An FTS5 expression over the indexed terms.
    Match(String),
}

/// Splits search text into terms: whitespace separates, double quotes keep
/// a phrase together.
pub fn terms(text: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => {
                if !current.is_empty() {
                    terms.push(std::mem::take(&mut current));
                }
                quoted = !quoted;
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    terms.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.trim().is_empty() {
        terms.push(current);
    }
    terms
}

/// Plans a search: every term must occur (AND), as a case-insensitive
/// substring of the title, the description or a comment.
pub(crate) fn plan(conn: &Connection, text: &str) -> Result<SearchPlan> {
    let all: Vec<String> = terms(text).iter().map(|t| fold(t)).collect();
    if all.is_empty() {
        return Ok(SearchPlan::All);
    }
    let backlog = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM search_backlog)")?
        .query_row([], |r| r.get::<_, bool>(0))?;
    let mut fts: Vec<String> = Vec::new();
    let mut scanned: Vec<String> = Vec::new();
    let mut absent = false;
    for term in &all {
        if term.chars().count() >= 3 {
            fts.push(phrase(term));
            continue;
        }
        let mut upper = term.clone();
        upper.push(char::MAX);
        let mut stmt = conn.prepare_cached(
            "SELECT term FROM task_search_terms WHERE term >= ?1 AND term < ?2 LIMIT ?3",
        )?;
        let grams = stmt
            .query_map(params![term, upper, MAX_PREFIX_TERMS as i64 + 1], |r| {
                r.get::<_, String>(0)
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if grams.is_empty() {
            absent = true;
        } else if grams.len() > MAX_PREFIX_TERMS {
            scanned.push(term.clone());
        } else {
            let alternatives: Vec<String> = grams.iter().map(|g| phrase(g)).collect();
            fts.push(format!("({})", alternatives.join(" OR ")));
        }
    }
    let indexed = match (absent, fts.is_empty()) {
        // No indexed task has the term; only unindexed ones still can.
        (true, _) if !backlog => return Ok(SearchPlan::Nothing),
        (true, _) => Indexed::NoMatch,
        (false, true) => Indexed::Unused,
        (false, false) => Indexed::Match(fts.join(" AND ")),
    };
    Ok(SearchPlan::Terms(Terms {
        indexed,
        scanned,
        all,
        backlog,
    }))
}

/// The ids of indexed tasks matching an FTS5 expression, at most `limit`
/// of them. FTS5 evaluates lazily, so a limit stops the work early.
pub(crate) fn matching_ids(conn: &Connection, fts: &str, limit: Option<usize>) -> Result<Vec<i64>> {
    let limit = limit.map_or(-1, |l| l as i64);
    let ids = conn
        .prepare_cached("SELECT rowid FROM task_search WHERE task_search MATCH ?1 LIMIT ?2")?
        .query_map(params![fts, limit], |r| r.get::<_, i64>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(ids)
}

/// An SQL condition over `tasks t` that one term occurs in the task's text,
/// by scanning it; takes the folded term three times as parameters.
pub(crate) const SCAN_TERM_SQL: &str = "(instr(tl_fold(t.title), ?) > 0 \
    OR EXISTS (SELECT 1 FROM task_bodies b WHERE b.task_id = t.id AND instr(tl_fold(b.description), ?) > 0) \
    OR EXISTS (SELECT 1 FROM comments c WHERE c.task_id = t.id AND instr(tl_fold(c.text), ?) > 0))";

/// An FTS5 string literal: the text is matched as a phrase, never parsed as
/// query syntax.
fn phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_split_on_whitespace_and_keep_quoted_phrases() {
        assert_eq!(terms("  審核  report "), vec!["審核", "report"]);
        assert_eq!(terms("\"due today\" x"), vec!["due today", "x"]);
        assert!(terms("   ").is_empty());
    }

    #[test]
    fn phrases_escape_quotes() {
        assert_eq!(phrase("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn fold_lowercases_beyond_ascii() {
        assert_eq!(fold("ÄNDERUNG Prüfen"), "änderung prüfen");
    }
}
