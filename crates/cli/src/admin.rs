//! Administering the embedded engine: `tasklane user|group|flow`. These
//! work on the engine's files directly, also while `tasklane serve` runs
//! (SQLite serialises the writes; a running server sees a new password at
//! the next login).

use std::path::PathBuf;

use clap::Subcommand;
use tasklane_engine::error::EngineError;
use tasklane_engine::model::GroupKind;
use tasklane_engine::{Engine, flows, users};

use crate::home::{Home, UsageError};
use crate::output::{emit, print_json, table, table_text};
use crate::password::{NewPassword, PasswordSource, read_password};
use crate::serve::open_engine;

#[derive(Debug, clap::Args)]
pub struct UserArgs {
    /// The engine's data directory (default: `engine` in the tasklane home).
    #[arg(long, global = true, value_name = "DIR")]
    data: Option<PathBuf>,
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user who can log in to `tasklane serve` (asks for the password).
    Add {
        /// The login name (letters, digits, `.`, `_`, `-`, `@`).
        name: String,
        /// The name people see (default: the login name).
        #[arg(long)]
        display_name: Option<String>,
        /// May administer: sees every task, may transfer tasks.
        #[arg(long)]
        admin: bool,
        /// A group (org unit, team or lane) to join; repeatable.
        #[arg(long = "group", value_name = "GROUP")]
        groups: Vec<String>,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Set a user's password (asks for it).
    Passwd {
        name: String,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// List the users and their groups.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct GroupArgs {
    /// The engine's data directory (default: `engine` in the tasklane home).
    #[arg(long, global = true, value_name = "DIR")]
    data: Option<PathBuf>,
    #[command(subcommand)]
    command: GroupCommand,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Kind {
    /// A GEVER org unit; its members work its inbox.
    OrgUnit,
    /// A GEVER team.
    Team,
    /// A BPMN lane (Hitachi participant).
    Lane,
}

impl From<Kind> for GroupKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::OrgUnit => GroupKind::OrgUnit,
            Kind::Team => GroupKind::Team,
            Kind::Lane => GroupKind::Lane,
        }
    }
}

#[derive(Debug, Subcommand)]
enum GroupCommand {
    /// Add a group.
    Add {
        name: String,
        #[arg(long, value_enum)]
        kind: Kind,
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Add a user to a group.
    Join { user: String, group: String },
    /// List the groups and their members.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct FlowArgs {
    /// The engine's data directory (default: `engine` in the tasklane home).
    #[arg(long, global = true, value_name = "DIR")]
    data: Option<PathBuf>,
    #[command(subcommand)]
    command: FlowCommand,
}

#[derive(Debug, Subcommand)]
enum FlowCommand {
    /// List the OMFLOW flows with their api_path and steps.
    List {
        #[arg(long)]
        json: bool,
    },
}

/// The engine's own errors, with the ones a user can fix as usage errors.
fn fixable(e: EngineError) -> anyhow::Error {
    match e {
        EngineError::Invalid { .. } | EngineError::Conflict(_) | EngineError::NotFound(_) => {
            UsageError(e.to_string()).into()
        }
        other => other.into(),
    }
}

pub fn user(home: &Home, args: UserArgs) -> anyhow::Result<()> {
    let engine = open_engine(home, args.data)?;
    match args.command {
        UserCommand::Add {
            name,
            display_name,
            admin,
            groups,
            password,
        } => {
            let password = read_password(&password, &name, NewPassword::Engine)?;
            let display = display_name.unwrap_or_else(|| name.clone());
            engine
                .db()
                .write(|tx| {
                    users::add_user(tx, &name, &display, Some(&password), admin)?;
                    for g in &groups {
                        users::add_member(tx, &name, g)?;
                    }
                    Ok(())
                })
                .map_err(fixable)?;
            emit(&format!("added user {name}\n"))
        }
        UserCommand::Passwd { name, password } => {
            if engine.db().read(|c| users::find_user(c, &name))?.is_none() {
                return Err(UsageError(format!("no user {name:?}")).into());
            }
            let password = read_password(&password, &name, NewPassword::Engine)?;
            engine.set_password(&name, &password).map_err(fixable)?;
            emit(&format!("changed the password of {name}\n"))
        }
        UserCommand::List { json } => list_users(&engine, json),
    }
}

#[derive(serde::Serialize)]
struct UserRow {
    #[serde(flatten)]
    user: users::User,
    groups: Vec<String>,
}

fn list_users(engine: &Engine, json: bool) -> anyhow::Result<()> {
    let rows: Vec<UserRow> = engine.db().read(|c| {
        users::list_users(c)?
            .into_iter()
            .map(|user| {
                let groups = users::groups_of(c, &user.id)?.into_iter().collect();
                Ok(UserRow { user, groups })
            })
            .collect()
    })?;
    if json {
        return print_json(&rows);
    }
    let mut t = table(&["USER", "NAME", "ADMIN", "LOGIN", "GROUPS"]);
    for r in &rows {
        t.add_row(vec![
            r.user.id.clone(),
            r.user.display_name.clone(),
            if r.user.admin { "yes" } else { "" }.to_string(),
            if r.user.has_password { "yes" } else { "no" }.to_string(),
            r.groups.join(", "),
        ]);
    }
    emit(&table_text(&t))
}

pub fn group(home: &Home, args: GroupArgs) -> anyhow::Result<()> {
    let engine = open_engine(home, args.data)?;
    match args.command {
        GroupCommand::Add {
            name,
            kind,
            display_name,
        } => {
            let display = display_name.unwrap_or_else(|| name.clone());
            engine
                .db()
                .write(|tx| users::add_group(tx, &name, &display, kind.into()))
                .map_err(fixable)?;
            emit(&format!("added group {name}\n"))
        }
        GroupCommand::Join { user, group } => {
            engine
                .db()
                .write(|tx| users::add_member(tx, &user, &group))
                .map_err(fixable)?;
            emit(&format!("{user} joined {group}\n"))
        }
        GroupCommand::List { json } => {
            #[derive(serde::Serialize)]
            struct Row {
                #[serde(flatten)]
                group: users::Group,
                members: Vec<String>,
            }
            let rows: Vec<Row> = engine.db().read(|c| {
                users::list_groups(c)?
                    .into_iter()
                    .map(|group| {
                        let members = users::members_of(c, &group.id)?;
                        Ok(Row { group, members })
                    })
                    .collect()
            })?;
            if json {
                return print_json(&rows);
            }
            let mut t = table(&["GROUP", "KIND", "NAME", "MEMBERS"]);
            for r in &rows {
                t.add_row(vec![
                    r.group.id.clone(),
                    r.group.kind.as_str().replace('_', "-"),
                    r.group.display_name.clone(),
                    r.members.join(", "),
                ]);
            }
            emit(&table_text(&t))
        }
    }
}

pub fn flow(home: &Home, args: FlowArgs) -> anyhow::Result<()> {
    let engine = open_engine(home, args.data)?;
    match args.command {
        FlowCommand::List { json } => {
            #[derive(serde::Serialize)]
            struct Row {
                #[serde(flatten)]
                flow: flows::Flow,
                steps: Vec<flows::Step>,
            }
            let rows: Vec<Row> = engine.db().read(|c| {
                flows::flows(c)?
                    .into_iter()
                    .map(|flow| {
                        let steps = flows::steps(c, &flow.uuid)?;
                        Ok(Row { flow, steps })
                    })
                    .collect()
            })?;
            if json {
                return print_json(&rows);
            }
            let mut t = table(&["API_PATH", "NAME", "API", "UUID", "STEPS"]);
            for r in &rows {
                let steps: Vec<String> = r
                    .steps
                    .iter()
                    .map(|s| {
                        let who = s
                            .assignee_user
                            .as_deref()
                            .or(s.assignee_group.as_deref())
                            .unwrap_or("-");
                        format!("{} ({who})", s.name)
                    })
                    .collect();
                t.add_row(vec![
                    r.flow.api_path.clone(),
                    r.flow.name.clone(),
                    if r.flow.api_enabled { "on" } else { "off" }.to_string(),
                    r.flow.uuid.clone(),
                    steps.join(" → "),
                ]);
            }
            emit(&table_text(&t))
        }
    }
}
