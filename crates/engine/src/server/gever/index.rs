//! `@globalindex`: the task index of the site (NOTES §5.1, C:
//! api/globalindex.py and api/ogdslistingbase.py) — visibility, filters
//! with `-` exclusions and date ranges, word search, sorting, batching and
//! facets.

use std::collections::BTreeMap;

use axum::http::Uri;
use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;
use serde_json::{Map, Value, json};
use tasklane_dialects::gever::wire::{ActorRef, Batching, GlobalIndex, GlobalIndexItem};
use tasklane_dialects::servertime::ServerTime;

use super::Ctx;
use super::repr::{actor_id, oguid, task_url};
use crate::dossiers;
use crate::error::{EngineError, Result};
use crate::model::{Responsible, Task, TaskState, TaskType};
use crate::server::{Answer, times};
use crate::tasks;
use crate::users;

/// The SQL for one filter column and value; `None` for unknown columns,
/// which GEVER ignores. `with_teams`: a single-value `responsible` filter
/// also matches the teams of that user (GEVER's `extend_query_with_filters`).
fn filter_sql(
    ctx: &Ctx,
    column: &str,
    value: &str,
    with_teams: bool,
    params: &mut Vec<SqlValue>,
) -> Option<String> {
    let text = |params: &mut Vec<SqlValue>, v: &str| {
        params.push(SqlValue::Text(v.to_string()));
        "?".to_string()
    };
    Some(match column {
        "responsible" => match value.split_once(':') {
            Some(("inbox", org)) => format!(
                "(t.responsible_group = {} AND t.responsible_user IS NULL)",
                text(params, org)
            ),
            Some(("team", team)) => format!(
                "(t.responsible_group = {} AND t.responsible_user IS NULL)",
                text(params, team)
            ),
            // Combined `org:user`, which the index never stores but a
            // client may send: the user.
            Some((_, user)) => format!("t.responsible_user = {}", text(params, user)),
            None if with_teams => {
                let a = text(params, value);
                let b = text(params, value);
                // Teams (and lanes) only: an org unit's inbox is not the user's.
                format!(
                    "(t.responsible_user = {a} OR (t.responsible_user IS NULL AND t.responsible_group IN
                        (SELECT m.group_id FROM memberships m JOIN groups g ON g.id = m.group_id
                         WHERE m.user_id = {b} AND g.kind != 'org_unit')))"
                )
            }
            None => format!("t.responsible_user = {}", text(params, value)),
        },
        "issuer" => format!("t.issuer = {}", text(params, value)),
        "review_state" => format!(
            "t.state = {}",
            text(params, value.strip_prefix("task-state-").unwrap_or(value))
        ),
        "task_type" => format!("t.task_type = {}", text(params, value)),
        "title" => format!("t.title = {}", text(params, value)),
        "assigned_org_unit" => format!("t.responsible_client = {}", text(params, value)),
        "issuing_org_unit" => format!("t.issuing_org_unit = {}", text(params, value)),
        "is_private" => format!(
            "t.is_private = {}",
            i64::from(value == "true" || value == "1")
        ),
        "is_subtask" => format!(
            "(t.parent_id IS NOT NULL) = {}",
            i64::from(value == "true" || value == "1")
        ),
        "is_completed" => format!(
            "(t.state IN ('tested-and-closed', 'cancelled', 'skipped')) = {}",
            i64::from(value == "true" || value == "1")
        ),
        "admin_unit_id" => (if value == ctx.state.config.admin_unit {
            "1"
        } else {
            "0"
        })
        .to_string(),
        "int_id" | "task_id" | "sequence_number" => match value.parse::<i64>() {
            Ok(n) => {
                params.push(SqlValue::Integer(n));
                "t.id = ?".into()
            }
            Err(_) => "0".into(),
        },
        "oguid" => match value.rsplit_once(':') {
            Some((unit, n)) if unit == ctx.state.config.admin_unit && n.parse::<i64>().is_ok() => {
                params.push(SqlValue::Integer(n.parse().unwrap_or(0)));
                "t.id = ?".into()
            }
            _ => "0".into(),
        },
        // Date columns take `A TO B` with `*` as an open end.
        "deadline" | "completed" => {
            let col = if column == "deadline" {
                "t.deadline"
            } else {
                "substr(t.closed_at, 1, 10)"
            };
            match value.split_once(" TO ") {
                Some((from, to)) => {
                    let mut parts = Vec::new();
                    if from.trim() != "*" {
                        parts.push(format!("{col} >= {}", text(params, from.trim())));
                    }
                    if to.trim() != "*" {
                        parts.push(format!("{col} <= {}", text(params, to.trim())));
                    }
                    if parts.is_empty() {
                        "1".into()
                    } else {
                        format!("({})", parts.join(" AND "))
                    }
                }
                None => format!("{col} = {}", text(params, value)),
            }
        }
        _ => return None,
    })
}

/// The SQL column for `sort_on`; `None` for a column the index does not
/// have, which GEVER ignores (the results then follow the task id alone).
fn sort_sql(sort_on: &str) -> Option<&'static str> {
    Some(match sort_on {
        "modified" => "t.modified",
        "created" => "t.created",
        "deadline" => "t.deadline",
        "completed" => "t.closed_at",
        "title" => "t.title",
        "review_state" => "t.state",
        "responsible" => "coalesce(t.responsible_user, t.responsible_group)",
        "issuer" => "t.issuer",
        "task_type" => "t.task_type",
        "assigned_org_unit" => "t.responsible_client",
        "issuing_org_unit" => "t.issuing_org_unit",
        "is_private" => "t.is_private",
        "is_subtask" => "(t.parent_id IS NOT NULL)",
        "id" | "task_id" | "int_id" | "sequence_number" => "t.id",
        _ => return None,
    })
}

/// The query string as pairs.
fn pairs(uri: &Uri) -> Vec<(String, String)> {
    url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// `b_start` and `b_size` (default 25), refusing negative ones.
pub(super) fn batch_params(pairs: &[(String, String)]) -> Result<(i64, i64)> {
    let int = |name: &str, default: i64| -> Result<i64> {
        match pairs.iter().find(|(k, _)| k == name) {
            None => Ok(default),
            Some((_, v)) => v.trim().parse().map_err(|_| {
                EngineError::invalid(format!("The parameter '{name}' must be a number."))
            }),
        }
    };
    let (b_start, b_size) = (int("b_start", 0)?, int("b_size", 25)?);
    for (name, v) in [("b_size", b_size), ("b_start", b_start)] {
        if v < 0 {
            return Err(EngineError::invalid(format!(
                "The parameter '{name}' can't be negative."
            )));
        }
    }
    Ok((b_start, b_size))
}

/// The collection's canonical URL: the request's, without batching
/// parameters (batching.rst, "Top-level Properties").
pub(super) fn canonical(url: &str) -> String {
    let Ok(mut u) = url::Url::parse(url) else {
        return url.to_string();
    };
    let kept: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| k != "b_start" && k != "b_size")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        u.set_query(None);
    } else {
        u.query_pairs_mut().clear().extend_pairs(kept);
    }
    u.to_string()
}

/// The documented `batching` object, or `None` when everything fits on
/// one page (it is then left out).
pub(super) fn batching(url: &str, total: i64, b_start: i64, b_size: i64) -> Option<Batching> {
    if total <= b_size {
        return None;
    }
    let at = |start: i64| -> String {
        let mut u = url::Url::parse(url)
            .unwrap_or_else(|_| url::Url::parse("http://localhost/").expect("valid"));
        let kept: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| k != "b_start")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        u.query_pairs_mut()
            .clear()
            .extend_pairs(kept)
            .append_pair("b_start", &start.to_string());
        u.to_string()
    };
    let size = b_size.max(1);
    let last = ((total - 1).max(0) / size) * size;
    Some(Batching {
        id: url.to_string(),
        first: at(0),
        last: at(last),
        prev: (b_start > 0).then(|| at((b_start - size).max(0))),
        next: (b_start + size < total).then(|| at(b_start + size)),
    })
}

/// The WHERE clause (visibility, filters, search) and its parameters.
fn where_clause(ctx: &Ctx, pairs: &[(String, String)]) -> (String, Vec<SqlValue>) {
    let mut params = vec![SqlValue::Text(ctx.p.user.clone())];
    let mut wheres = vec![tasks::VISIBLE_SQL.to_string()];
    // filters.<col>:record[:list]=v, exclusions with a leading '-'.
    let mut grouped: Vec<(String, bool, Vec<String>)> = Vec::new();
    for (k, v) in pairs {
        let Some(spec) = k.strip_prefix("filters.") else {
            continue;
        };
        let column = spec.split(':').next().unwrap_or("");
        let (negated, column) = match column.strip_prefix('-') {
            Some(c) => (true, c.to_string()),
            None => (false, column.to_string()),
        };
        match grouped
            .iter_mut()
            .find(|(c, n, _)| *c == column && *n == negated)
        {
            Some((_, _, values)) => values.push(v.clone()),
            None => grouped.push((column, negated, vec![v.clone()])),
        }
    }
    for (column, negated, values) in grouped {
        let with_teams = values.len() == 1;
        let mut alternatives = Vec::new();
        for v in values {
            if let Some(sql) = filter_sql(ctx, &column, &v, with_teams, &mut params) {
                alternatives.push(sql);
            }
        }
        if alternatives.is_empty() {
            continue;
        }
        let any = format!("({})", alternatives.join(" OR "));
        // GEVER's columns are never NULL (an inbox task's responsible is
        // the string `inbox:<ou>`); ours are, so an unknown comparison
        // counts as "no match" and the exclusion keeps the row.
        wheres.push(if negated {
            format!("NOT coalesce({any}, 0)")
        } else {
            any
        });
    }
    // Every word must match one of the searchable columns; a trailing `*` goes.
    let search = pairs
        .iter()
        .find(|(k, _)| k == "search")
        .map(|(_, v)| v.trim().trim_end_matches('*').to_string())
        .unwrap_or_default();
    for word in search.split_whitespace() {
        let escaped = word
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let like = format!("%{escaped}%");
        for _ in 0..4 {
            params.push(SqlValue::Text(like.clone()));
        }
        wheres.push(
            "(t.title LIKE ? ESCAPE '\\' OR t.text LIKE ? ESCAPE '\\' OR CAST(t.id AS TEXT) LIKE ? ESCAPE '\\'
              OR coalesce(t.responsible_user, t.responsible_group) LIKE ? ESCAPE '\\')"
                .into(),
        );
    }
    (wheres.join(" AND "), params)
}

pub(super) fn answer(ctx: &Ctx, uri: &Uri, url: &str) -> Result<Answer> {
    let pairs = pairs(uri);
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
    };
    let (b_start, b_size) = batch_params(&pairs)?;
    let (where_sql, params) = where_clause(ctx, &pairs);
    let direction = match get("sort_order").as_deref() {
        Some("ascending") => "ASC",
        // `descending`, `reverse`, and the default.
        _ => "DESC",
    };
    let order = match sort_sql(get("sort_on").as_deref().unwrap_or("modified")) {
        Some(col) => format!("{col} {direction}, t.id {direction}"),
        None => format!("t.id {direction}"),
    };
    let requested: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "facets" || k.starts_with("facets:"))
        .map(|(_, v)| v.clone())
        .collect();
    let db = ctx.state.engine.db();
    // Read before the transaction starts: see `Database::generation`.
    let generation = db.generation();
    let (total, items, facets) = db.read(|c| {
        // The whole listing's order once; its pages are slices of it.
        let listing = format!("{where_sql} ORDER BY {order} {params:?}");
        let ids = ctx.state.listings.ids(&listing, generation, || {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT t.id FROM tasks t WHERE {where_sql} ORDER BY {order}"
            ))?;
            let ids = stmt
                .query_map(rusqlite::params_from_iter(params.iter()), |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()?;
            Ok(ids)
        })?;
        let total = i64::try_from(ids.len()).unwrap_or(i64::MAX);
        let from = usize::try_from(b_start)
            .unwrap_or(usize::MAX)
            .min(ids.len());
        let to = from
            .saturating_add(usize::try_from(b_size).unwrap_or(usize::MAX))
            .min(ids.len());
        let mut items = Vec::with_capacity(to - from);
        for id in &ids[from..to] {
            // Missing only when a write raced this read and deleted it;
            // that write moved the generation, so the next page recomputes.
            if let Some(t) = tasks::get(c, *id)? {
                items.push(item(ctx, c, &t)?);
            }
        }
        let facets = facets(ctx, c, &requested, &where_sql, &params)?;
        Ok((total, items, facets))
    })?;
    Ok(Answer::json(
        200,
        &GlobalIndex {
            id: Some(canonical(url)),
            items,
            items_total: total,
            b_start: Some(b_start),
            b_size: Some(b_size),
            facets,
            batching: batching(url, total, b_start, b_size),
        },
    ))
}

/// Counts and labels of the requested facet columns over the filtered
/// tasks: `{"review_state": {"task-state-open": {"count": 3, "label": "Offen"}}}`.
fn facets(
    ctx: &Ctx,
    c: &Connection,
    requested: &[String],
    where_sql: &str,
    params: &[SqlValue],
) -> Result<Map<String, Value>> {
    let mut out = Map::new();
    for name in ["issuer", "responsible", "review_state", "task_type"] {
        if !requested.iter().any(|r| r == name) {
            continue;
        }
        let group = match name {
            "issuer" => "t.issuer, NULL, NULL",
            "responsible" => "t.responsible_user, t.responsible_group, t.responsible_client",
            "review_state" => "t.state, NULL, NULL",
            _ => "t.task_type, NULL, NULL",
        };
        let mut stmt = c.prepare(&format!(
            "SELECT {group}, count(*) FROM tasks t WHERE {where_sql} GROUP BY {group}"
        ))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(params.iter()), |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut counts: BTreeMap<String, (i64, String)> = BTreeMap::new();
        for (a, b, client, count) in rows {
            let (value, label) = match name {
                "responsible" => {
                    let r = Responsible {
                        user: a,
                        group: b,
                        client,
                    };
                    let id = actor_id(c, &r)?;
                    let label = match &r.user {
                        Some(user) => display_name(c, user)?,
                        None => tasks::responsible_title(c, &r)?,
                    };
                    (id, label)
                }
                "issuer" => {
                    let Some(user) = a else { continue };
                    let label = display_name(c, &user)?;
                    (user, label)
                }
                "review_state" => {
                    let Some(state) = a.and_then(|s| s.parse::<TaskState>().ok()) else {
                        continue;
                    };
                    (state.review_state(), ctx.lang.state(state).to_string())
                }
                _ => {
                    let Some(ty) = a.and_then(|s| s.parse::<TaskType>().ok()) else {
                        continue;
                    };
                    (
                        ty.token().to_string(),
                        ty.title(ctx.lang.german()).to_string(),
                    )
                }
            };
            if value.is_empty() {
                continue;
            }
            counts.entry(value).or_insert((0, label)).0 += count;
        }
        let values: Map<String, Value> = counts
            .into_iter()
            .map(|(v, (count, label))| (v, json!({"count": count, "label": label})))
            .collect();
        out.insert(name.into(), Value::Object(values));
    }
    Ok(out)
}

/// GEVER's `display_name`: "Muster Hans (hans.muster)".
fn display_name(c: &Connection, user: &str) -> Result<String> {
    Ok(users::find_user(c, user)?
        .map_or(user.to_string(), |u| format!("{} ({user})", u.display_name)))
}

/// One index row (NOTES §4.4): naive times, `task_type` as its title,
/// `responsible` as an actor id.
fn item(ctx: &Ctx, conn: &Connection, t: &Task) -> Result<GlobalIndexItem> {
    let zone = &ctx.state.config.zones.gever;
    let naive = |s: &str| times::gever_naive(s, zone).and_then(|n| ServerTime::parse(&n).ok());
    let dossier = dossiers::get(conn, t.dossier_id)?;
    let actor = |id: &str| ActorRef {
        id: format!("{}/@actors/{id}", ctx.root),
        identifier: id.to_string(),
    };
    let responsible = actor_id(conn, &t.responsible)?;
    let issuer_name = users::find_user(conn, &t.issuer)?.map(|u| u.display_name);
    Ok(GlobalIndexItem {
        id: task_url(ctx, conn, t)?,
        portal_type: "opengever.task.task".into(),
        oguid: oguid(ctx, t.id),
        title: t.title.clone(),
        review_state: t.state.review_state(),
        review_state_label: Some(ctx.lang.state(t.state).into()),
        assigned_org_unit: t.responsible.client.clone(),
        issuing_org_unit: t.issuing_org_unit.clone(),
        containing_dossier: Some(dossier.title),
        containing_subdossier: None,
        created: naive(&t.created),
        modified: naive(&t.modified),
        deadline: t.deadline.clone(),
        is_completed: Some(t.state.is_final()),
        is_private: Some(t.is_private),
        is_subtask: Some(t.parent_id.is_some()),
        issuer: Some(t.issuer.clone()),
        issuer_fullname: issuer_name,
        issuer_actor: Some(actor(&t.issuer)),
        responsible_fullname: Some(tasks::responsible_title(conn, &t.responsible)?),
        responsible_actor: Some(actor(&responsible)),
        responsible: Some(responsible),
        predecessor_id: None,
        sequence_number: Some(t.id),
        task_id: Some(t.id),
        task_type: Some(t.task_type.title(ctx.lang.german()).into()),
        extra: Map::new(),
    })
}
