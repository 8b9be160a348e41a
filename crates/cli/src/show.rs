//! `tasklane show TASK`: everything about one task.

use tasklane_core::replica::TaskDetail;
use tasklane_core::replica::tasks::PendingChange;
use tasklane_core::time::format_ts;

use crate::home::{Home, UsageError};
use crate::output::{emit, or_dash, print_json, when};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The task's id, as `tasklane list` shows it.
    task: String,
    /// Print JSON (see docs/cli-json.md).
    #[arg(long)]
    json: bool,
}

/// Parses a task reference (the replica id).
pub fn task_id(text: &str) -> anyhow::Result<i64> {
    text.trim().trim_start_matches('#').parse().map_err(|_| {
        UsageError(format!(
            "{text:?} is not a task id (the number `tasklane list` shows)"
        ))
        .into()
    })
}

pub fn run(home: &Home, args: Args) -> anyhow::Result<()> {
    let id = task_id(&args.task)?;
    let replica = home.open_replica()?;
    let detail = replica.task(id)?;
    if args.json {
        return print_json(&detail);
    }
    emit(&detail_text(&detail))
}

/// `println!` into a String; writing to a String cannot fail.
macro_rules! line {
    ($out:expr) => { $out.push('\n') };
    ($out:expr, $($arg:tt)*) => {{ $out.push_str(&format!($($arg)*)); $out.push('\n'); }};
}

fn detail_text(d: &TaskDetail) -> String {
    let mut out = String::new();
    let r = &d.row;
    line!(out, "#{}  {}", r.id, r.title);
    let field = |out: &mut String, name: &str, value: &str| line!(out, "  {name:<10} {value}");
    field(
        &mut out,
        "account",
        &format!("{} ({})  key {}", r.account, d.account_kind, r.key),
    );
    let mut state = r.state.to_string();
    if r.state != r.server_state {
        state.push_str(&format!(" (pending; the server says {})", r.server_state));
    }
    if !r.status_text.is_empty() {
        state.push_str(&format!("  “{}”", r.status_text));
    }
    field(&mut out, "state", &state);
    field(&mut out, "kind", or_dash(r.kind.as_deref()));
    field(&mut out, "assignee", or_dash(r.assignee.as_deref()));
    field(&mut out, "group", or_dash(r.group.as_deref()));
    field(&mut out, "issuer", or_dash(r.issuer.as_deref()));
    field(&mut out, "deadline", &when(r.deadline.as_deref()));
    field(
        &mut out,
        "priority",
        &r.priority
            .map(|p| p.to_string())
            .unwrap_or_else(|| "-".into()),
    );
    field(&mut out, "process", or_dash(r.process.as_deref()));
    if let Some(parent) = &r.parent_key {
        let position = r
            .position
            .map(|p| format!(", position {p}"))
            .unwrap_or_default();
        field(&mut out, "parent", &format!("{parent}{position}"));
    }
    field(&mut out, "created", &when(r.created.as_deref()));
    field(&mut out, "modified", &when(r.modified.as_deref()));
    if r.local_only {
        line!(out, "  (created here; not yet on the server)");
    }
    if r.gone {
        line!(out, "  (no longer in your view on the server)");
    }
    if !d.description.is_empty() {
        line!(
            out,
            "\nDescription{}",
            if d.description_format.as_str() == "html" {
                " (HTML)"
            } else {
                ""
            }
        );
        for line in d.description.lines() {
            line!(out, "  {line}");
        }
    }
    line!(out);
    match &d.actions_fetched {
        None => line!(
            out,
            "Actions: not fetched yet (sync to see what the server offers)"
        ),
        Some(at) if d.actions.is_empty() => line!(out, "Actions: none offered (as of {at})"),
        Some(at) => {
            line!(out, "Actions offered (as of {at})");
            for a in &d.actions {
                let params: Vec<String> = a
                    .params
                    .iter()
                    .map(|p| {
                        if p.required {
                            format!("{}*", p.name)
                        } else {
                            p.name.clone()
                        }
                    })
                    .collect();
                let params = if params.is_empty() {
                    String::new()
                } else {
                    format!("  [{}]", params.join(", "))
                };
                line!(out, "  {:<40} {}{params}", a.id, a.label);
            }
        }
    }
    if !d.comments.is_empty() {
        line!(out, "\nComments");
        for c in &d.comments {
            let at = when(c.comment.created.map(format_ts).as_deref());
            let marker = match &c.pending {
                None => "",
                Some(PendingChange::Added { .. }) => "  (queued)",
                Some(PendingChange::Edited { .. }) => "  (edit queued)",
                Some(PendingChange::Deleted { .. }) => "  (deletion queued)",
            };
            line!(
                out,
                "  [{}] {} {at}{marker}",
                c.comment.remote_id,
                or_dash(c.comment.author.as_deref())
            );
            for line in c.comment.text.lines() {
                line!(out, "      {line}");
            }
        }
    }
    if !d.history.is_empty() {
        line!(out, "\nHistory");
        for h in &d.history {
            let at = when(h.at.map(format_ts).as_deref());
            let text = if h.text.is_empty() {
                String::new()
            } else {
                format!(": {}", h.text)
            };
            line!(
                out,
                "  {at} {} {}{text}",
                or_dash(h.actor.as_deref()),
                h.action
            );
        }
    }
    if !d.ops.is_empty() {
        line!(out, "\nQueued actions");
        for op in &d.ops {
            let error = op
                .last_error
                .as_deref()
                .map(|e| format!(" — {e}"))
                .unwrap_or_default();
            line!(
                out,
                "  {} {:<9} {}{error}",
                op.short_id(),
                op.state.as_str(),
                op.request.summary()
            );
        }
    }
    out
}
