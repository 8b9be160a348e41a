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

use rusqlite::functions::FunctionFlags;
use rusqlite::types::Value;
use rusqlite::{Connection, Transaction, params};

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

/// Adds a task's text to the index.
pub(crate) fn index(
    tx: &Transaction<'_>,
    id: i64,
    title: &str,
    description: &str,
    comments: &str,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO task_search (rowid, title, description, comments) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![id, pad(title), pad(description), pad(comments)])?;
    Ok(())
}

/// Replaces a task's text in the index.
pub(crate) fn reindex(
    tx: &Transaction<'_>,
    id: i64,
    title: &str,
    description: &str,
    comments: &str,
) -> Result<()> {
    unindex(tx, id)?;
    index(tx, id, title, description, comments)
}

/// Removes a task from the index.
pub(crate) fn unindex(tx: &Transaction<'_>, id: i64) -> Result<()> {
    tx.prepare_cached("DELETE FROM task_search WHERE rowid = ?1")?
        .execute([id])?;
    Ok(())
}

/// A search compiled to an SQL condition over `tasks t`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SearchFilter {
    /// The search is empty: no condition.
    All,
    /// Some term occurs nowhere: nothing can match.
    Nothing,
    Sql {
        sql: String,
        params: Vec<Value>,
    },
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

/// Compiles search text: every term must occur (AND), as a case-insensitive
/// substring of the title, the description or a comment.
pub(crate) fn compile(conn: &Connection, text: &str) -> Result<SearchFilter> {
    let terms = terms(text);
    if terms.is_empty() {
        return Ok(SearchFilter::All);
    }
    let mut fts: Vec<String> = Vec::new();
    let mut scans: Vec<String> = Vec::new();
    for term in terms {
        let term = fold(&term);
        if term.chars().count() >= 3 {
            fts.push(phrase(&term));
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
            return Ok(SearchFilter::Nothing);
        }
        if grams.len() > MAX_PREFIX_TERMS {
            scans.push(term);
        } else {
            let alternatives: Vec<String> = grams.iter().map(|g| phrase(g)).collect();
            fts.push(format!("({})", alternatives.join(" OR ")));
        }
    }
    let mut sql = Vec::new();
    let mut values = Vec::new();
    if !fts.is_empty() {
        sql.push("t.id IN (SELECT rowid FROM task_search WHERE task_search MATCH ?)".to_string());
        values.push(Value::Text(fts.join(" AND ")));
    }
    for term in scans {
        sql.push(
            "(instr(tl_fold(t.title), ?) > 0 OR instr(tl_fold(t.description), ?) > 0 OR EXISTS \
             (SELECT 1 FROM comments c WHERE c.task_id = t.id AND instr(tl_fold(c.text), ?) > 0))"
                .to_string(),
        );
        values.extend(std::iter::repeat_n(Value::Text(term), 3));
    }
    Ok(SearchFilter::Sql {
        sql: sql.join(" AND "),
        params: values,
    })
}

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
