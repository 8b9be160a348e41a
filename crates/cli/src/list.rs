//! `tasklane list`: the inbox as a table or JSON.

use anyhow::Context;
use tasklane_core::query::{Condition, OrderKey, Query, parse_order_list};
use tasklane_core::replica::TaskRow;

use crate::home::Home;
use std::fmt::Write;

use crate::output::{clip, emit, or_dash, plural, print_json, table, table_text, when};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A condition all listed tasks meet, e.g. 'state = open',
    /// 'title contains 審核', 'deadline < today+7', 'state in (open, planned)'.
    #[arg(long = "where", value_name = "CONDITION")]
    conditions: Vec<String>,
    /// Leave out tasks that meet this condition.
    #[arg(long = "exclude", value_name = "CONDITION")]
    exclusions: Vec<String>,
    /// Sort keys, '-' for descending: --order -deadline --order title, or
    /// --order=-deadline,title.
    #[arg(long, value_name = "KEYS", allow_hyphen_values = true)]
    order: Vec<String>,
    /// Skip this many tasks.
    #[arg(long, default_value_t = 0)]
    start: u32,
    /// List at most this many tasks (up to 10000).
    #[arg(long, default_value_t = tasklane_core::query::DEFAULT_COUNT)]
    count: u32,
    /// Free text found in titles, descriptions and comments (Chinese and
    /// Japanese substrings included).
    #[arg(long, value_name = "TEXT")]
    search: Option<String>,
    /// Print JSON (see docs/cli-json.md).
    #[arg(long)]
    json: bool,
}

impl Args {
    fn query(&self) -> anyhow::Result<Query> {
        let parse = |texts: &[String]| -> anyhow::Result<Vec<Condition>> {
            texts
                .iter()
                .map(|t| {
                    t.parse::<Condition>()
                        .map_err(tasklane_core::Error::from)
                        .map_err(Into::into)
                })
                .collect()
        };
        let mut order: Vec<OrderKey> = Vec::new();
        for keys in &self.order {
            order.extend(parse_order_list(keys).map_err(tasklane_core::Error::from)?);
        }
        Ok(Query {
            conditions: parse(&self.conditions)?,
            exclusions: parse(&self.exclusions)?,
            order,
            start: self.start,
            count: self.count,
            search: self.search.clone(),
        })
    }
}

pub fn run(home: &Home, args: Args) -> anyhow::Result<()> {
    let query = args.query()?;
    let mut replica = home.open_replica()?;
    if query.search.is_some() {
        // The CLI can write, so it brings the search index up to date first
        // rather than scanning tasks not yet indexed.
        replica.catch_up_search()?;
    }
    let page = replica.page(&query).context("cannot list tasks")?;
    if args.json {
        return print_json(&page);
    }
    if page.tasks.is_empty() {
        return emit(&format!("No tasks match ({} in all).\n", page.total));
    }
    let mut t = table(&[
        "ID", "STATE", "TITLE", "ACCOUNT", "PROCESS", "ASSIGNEE", "DEADLINE", "PRIO",
    ]);
    for row in &page.tasks {
        t.add_row(vec![
            row.id.to_string(),
            state_cell(row),
            clip(&row.title, 48),
            row.account.clone(),
            clip(or_dash(row.process.as_deref()), 20),
            assignee_cell(row),
            when(row.deadline.as_deref()),
            row.priority
                .map(|p| p.to_string())
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    let mut out = table_text(&t);
    let first = page.start as u64 + 1;
    let last = page.start as u64 + page.tasks.len() as u64;
    writeln!(
        out,
        "\n{first}–{last} of {}",
        plural(page.total, "task", "tasks")
    )?;
    if page.tasks.iter().any(|r| r.pending > 0) {
        writeln!(
            out,
            "* an action is queued and not yet confirmed by the server"
        )?;
    }
    if page.tasks.iter().any(|r| r.attention > 0) {
        writeln!(
            out,
            "! an action failed or conflicts and needs you (tasklane outbox)"
        )?;
    }
    emit(&out)
}

fn state_cell(row: &TaskRow) -> String {
    let mut s = row.state.as_str().to_string();
    if row.pending > 0 {
        s.push('*');
    }
    if row.attention > 0 {
        s.push('!');
    }
    s
}

fn assignee_cell(row: &TaskRow) -> String {
    match (row.assignee.as_deref(), row.group.as_deref()) {
        (Some(a), _) if !a.is_empty() => clip(a, 20),
        (_, Some(g)) if !g.is_empty() => format!("[{}]", clip(g, 18)),
        _ => "-".into(),
    }
}
