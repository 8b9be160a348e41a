//! Acting on tasks from the command line: `tasklane do|comment|push|quick|
//! claim|create`. Each queues one outbox op together with its optimistic
//! effect (this works offline) and prints it; the next `tasklane sync`
//! sends it.

use serde_json::{Map, Value};
use tasklane_core::Replica;
use tasklane_core::outbox::{self, FormValue, NewTask, Op, OpRequest};
use tasklane_core::replica::{accounts, tasks};
use tasklane_core::time::{Deadline, now};

use crate::home::{Home, UsageError};
use crate::output::{emit, print_json};
use crate::show::task_id;

#[derive(Debug, clap::Args)]
pub struct DoArgs {
    /// The task's id, as `tasklane list` shows it.
    task: String,
    /// The transition, as `tasklane show` lists the task's actions.
    transition: String,
    /// The text (a GEVER response text, a Hitachi comment).
    #[arg(long)]
    text: Option<String>,
    /// A parameter of the transition, e.g. new_deadline=2026-12-24 or
    /// responsible=fd:anna.keller; repeatable. JSON values are taken as JSON.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct CommentArgs {
    #[command(subcommand)]
    change: Option<CommentChange>,
    /// The task's id.
    #[arg(required = true)]
    task: Option<String>,
    /// The comment's text.
    #[arg(required = true)]
    text: Option<String>,
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Debug, clap::Subcommand)]
enum CommentChange {
    /// Change the text of one of your comments.
    Edit {
        task: String,
        /// The comment's id, as `tasklane show` lists it.
        comment: String,
        text: String,
    },
    /// Delete one of your comments.
    Delete { task: String, comment: String },
}

#[derive(Debug, clap::Args)]
pub struct PushArgs {
    task: String,
    /// A form field, e.g. FORMITM_3=approved; repeatable.
    #[arg(long = "field", value_name = "FORMITM_n=VALUE", required = true)]
    fields: Vec<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct QuickArgs {
    task: String,
    /// `action1` or `action2`, as `tasklane show` lists them.
    action: String,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ClaimArgs {
    /// The account to claim work in.
    #[arg(long)]
    account: String,
    /// Claim for this participant (default: the account's setting, else the user).
    #[arg(long)]
    participant: Option<String>,
    /// Which items qualify, e.g. "Participant='Lane1'" (default: the account's lane filter).
    #[arg(long)]
    filter: Option<String>,
    /// Which qualifying item first, e.g. "Priority DESC" (default: the account's sort).
    #[arg(long)]
    sort: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The account to create the task in.
    #[arg(long)]
    account: String,
    #[arg(long)]
    title: String,
    #[arg(long, default_value = "")]
    text: String,
    /// GEVER task type (direct-execution, information, approval, ...).
    #[arg(long)]
    kind: Option<String>,
    /// Who is to do it (a user, or `org:user` in GEVER).
    #[arg(long)]
    assignee: Option<String>,
    /// The group, inbox or lane it is for.
    #[arg(long)]
    group: Option<String>,
    /// YYYY-MM-DD.
    #[arg(long)]
    deadline: Option<String>,
    /// Make it a subtask of this task (its id).
    #[arg(long)]
    parent: Option<String>,
    /// The position within a sequential parent.
    #[arg(long)]
    position: Option<i64>,
    /// OMFLOW: the flow (its uuid) to start a ticket in.
    #[arg(long)]
    process: Option<String>,
    /// OMFLOW: a field of the new ticket's form, e.g. FORMITM_1=text; repeatable.
    #[arg(long = "field", value_name = "FORMITM_n=VALUE")]
    fields: Vec<String>,
    #[arg(long)]
    json: bool,
}

/// Queues `request` for an account (claims and creates).
fn queue(replica: &mut Replica, account: i64, request: OpRequest) -> anyhow::Result<Op> {
    Ok(replica.write(|tx| outbox::queue(tx, account, None, request, now()))?)
}

/// Queues `request` on `task`, in the task's account.
fn queue_on_task(replica: &mut Replica, task: i64, request: OpRequest) -> anyhow::Result<Op> {
    Ok(replica.write(|tx| {
        let account = tasks::account_of(tx, task)?.id;
        outbox::queue(tx, account, Some(task), request, now())
    })?)
}

fn report(op: &Op, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(op);
    }
    emit(&format!(
        "queued {} ({}); `tasklane sync` sends it\n",
        op.short_id(),
        op.request.summary()
    ))
}

fn name_value(pair: &str, flag: &str) -> anyhow::Result<(String, Value)> {
    let Some((name, value)) = pair.split_once('=') else {
        return Err(UsageError(format!("--{flag} {pair:?}: expected NAME=VALUE")).into());
    };
    let name = name.trim();
    if name.is_empty() {
        return Err(UsageError(format!("--{flag} {pair:?}: the name is empty")).into());
    }
    // Numbers, booleans, lists and objects as JSON; everything else as text.
    let value = match serde_json::from_str::<Value>(value) {
        Ok(v @ (Value::Number(_) | Value::Bool(_) | Value::Array(_) | Value::Object(_))) => v,
        _ => Value::String(value.to_string()),
    };
    Ok((name.to_string(), value))
}

pub fn transition(home: &Home, args: DoArgs) -> anyhow::Result<()> {
    let task = task_id(&args.task)?;
    let mut params = Map::new();
    for pair in &args.params {
        let (name, value) = name_value(pair, "param")?;
        params.insert(name, value);
    }
    let request = OpRequest::Transition {
        transition: args.transition,
        text: args.text,
        params,
    };
    report(
        &queue_on_task(&mut home.open_replica()?, task, request)?,
        args.json,
    )
}

pub fn comment(home: &Home, args: CommentArgs) -> anyhow::Result<()> {
    let (task, request) = match args.change {
        Some(CommentChange::Edit {
            task,
            comment,
            text,
        }) => (task, OpRequest::CommentEdit { comment, text }),
        Some(CommentChange::Delete { task, comment }) => {
            (task, OpRequest::CommentDelete { comment })
        }
        None => {
            let (Some(task), Some(text)) = (args.task, args.text) else {
                return Err(UsageError("usage: tasklane comment TASK TEXT".into()).into());
            };
            (task, OpRequest::CommentAdd { text })
        }
    };
    let task = task_id(&task)?;
    report(
        &queue_on_task(&mut home.open_replica()?, task, request)?,
        args.json,
    )
}

pub fn push(home: &Home, args: PushArgs) -> anyhow::Result<()> {
    let task = task_id(&args.task)?;
    let mut replica = home.open_replica()?;
    // The form's field types, where the server published them: OMFLOW
    // refuses form items without their type.
    let (actions, _) = tasks::offered_actions(replica.conn(), task)?;
    let specs = actions
        .into_iter()
        .find(|a| a.id == "push")
        .map(|a| a.params)
        .unwrap_or_default();
    let mut fields = Vec::new();
    for pair in &args.fields {
        let (id, value) = name_value(pair, "field")?;
        let field_type = specs
            .iter()
            .find(|p| p.name == id)
            .and_then(|p| p.wire_type.clone());
        fields.push(FormValue {
            id,
            value,
            field_type,
        });
    }
    report(
        &queue_on_task(&mut replica, task, OpRequest::FormPush { fields })?,
        args.json,
    )
}

pub fn quick(home: &Home, args: QuickArgs) -> anyhow::Result<()> {
    let task = task_id(&args.task)?;
    let request = OpRequest::QuickAction {
        action: args.action,
    };
    report(
        &queue_on_task(&mut home.open_replica()?, task, request)?,
        args.json,
    )
}

pub fn claim(home: &Home, args: ClaimArgs) -> anyhow::Result<()> {
    let mut replica = home.open_replica()?;
    let account = accounts::get(replica.conn(), &args.account)?;
    let settings =
        tasklane_core::model::AccountSettings::from_map(&account.settings).map_err(UsageError)?;
    let request = OpRequest::Allocate {
        participant: args.participant.or(settings.participant),
        filter: args.filter.or(settings.lane_filter),
        sort: args.sort.or(settings.sort),
        fetch_count: 10,
    };
    report(&queue(&mut replica, account.id, request)?, args.json)
}

pub fn create(home: &Home, args: CreateArgs) -> anyhow::Result<()> {
    let mut replica = home.open_replica()?;
    let (account, parent_key) = {
        let account = accounts::get(replica.conn(), &args.account)?;
        let parent_key = match &args.parent {
            Some(p) => {
                let id = task_id(p)?;
                let row = tasks::row(replica.conn(), id)?;
                if row.account != account.name {
                    return Err(UsageError(format!(
                        "task {id} is in another account than {:?}",
                        args.account
                    ))
                    .into());
                }
                Some(row.key)
            }
            None => None,
        };
        (account, parent_key)
    };
    let deadline = match &args.deadline {
        Some(d) => Some(d.parse::<Deadline>().map_err(|_| {
            UsageError(format!("--deadline {d:?}: expected a date like 2026-12-24"))
        })?),
        None => None,
    };
    let new = NewTask {
        title: args.title,
        description: args.text,
        kind: args.kind,
        assignee: args.assignee,
        group: args.group,
        issuer: Some(account.user_name.clone()).filter(|u| !u.is_empty()),
        deadline,
        parent_key,
        position: args.position,
        process: args.process,
        fields: args
            .fields
            .iter()
            .map(|pair| {
                name_value(pair, "field").map(|(id, value)| FormValue {
                    id,
                    value,
                    field_type: None,
                })
            })
            .collect::<anyhow::Result<_>>()?,
    };
    report(
        &queue(&mut replica, account.id, OpRequest::CreateTask(new))?,
        args.json,
    )
}
