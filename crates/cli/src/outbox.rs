//! `tasklane outbox`: the queue of actions not yet confirmed by a server.

use tasklane_core::outbox::{self as core_outbox, Op, OpState};
use tasklane_core::replica::accounts;

use crate::home::Home;
use crate::output::{clip, emit, print_json, table, table_text};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,
    /// Also list finished ops (done and cancelled).
    #[arg(long)]
    all: bool,
    /// Print JSON (see docs/cli-json.md).
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Withdraw an op that has not been sent (its id or the first characters of it).
    #[command(alias = "discard")]
    Cancel { op: String },
    /// Send a failed or conflicting op again, as it is, at the next sync.
    Retry { op: String },
}

pub fn run(home: &Home, args: Args) -> anyhow::Result<()> {
    let mut replica = home.open_replica()?;
    match args.action {
        Some(Action::Cancel { op }) => {
            let now = tasklane_core::time::now();
            let op = replica.write(|tx| core_outbox::cancel(tx, &op, now))?;
            if args.json {
                return print_json(&op);
            }
            emit(&format!(
                "Cancelled {} ({}).\n",
                op.short_id(),
                op.request.summary()
            ))
        }
        Some(Action::Retry { op }) => {
            let now = tasklane_core::time::now();
            let op = replica.write(|tx| core_outbox::retry(tx, &op, now))?;
            if args.json {
                return print_json(&op);
            }
            emit(&format!(
                "{} ({}) will be sent at the next sync.\n",
                op.short_id(),
                op.request.summary()
            ))
        }
        None => {
            let states: &[OpState] = if args.all {
                &[]
            } else {
                &[
                    OpState::Pending,
                    OpState::Sending,
                    OpState::Failed,
                    OpState::Conflict,
                ]
            };
            let ops = core_outbox::list(replica.conn(), states)?;
            if args.json {
                return print_json(&ops);
            }
            print_ops(&replica, &ops)
        }
    }
}

fn print_ops(replica: &tasklane_core::Replica, ops: &[Op]) -> anyhow::Result<()> {
    if ops.is_empty() {
        return emit("The outbox is empty: every action has reached its server.\n");
    }
    let names: std::collections::HashMap<i64, String> = accounts::list(replica.conn())?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();
    let mut t = table(&[
        "OP",
        "STATE",
        "ACCOUNT",
        "TASK",
        "ACTION",
        "TRIES",
        "LAST ERROR",
    ]);
    for op in ops {
        t.add_row(vec![
            op.short_id(),
            op.state.to_string(),
            names.get(&op.account_id).cloned().unwrap_or_default(),
            op.task_id
                .map(|t| t.to_string())
                .unwrap_or_else(|| "-".into()),
            clip(&op.request.summary(), 40),
            op.attempts.to_string(),
            clip(op.last_error.as_deref().unwrap_or(""), 50),
        ]);
    }
    let mut out = table_text(&t);
    let attention = ops
        .iter()
        .filter(|o| matches!(o.state, OpState::Failed | OpState::Conflict))
        .count();
    if attention > 0 {
        out.push_str(&format!(
            "\n{attention} need your attention: retry, edit or discard them.\n"
        ));
    }
    emit(&out)
}
