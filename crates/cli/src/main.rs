//! `tasklane`: the command line over the local task replica.
//!
//! Exit codes: 0 success, 1 failure, 2 invalid input (a bad query, an
//! invalid action, a usage error). `--json` output is documented in
//! `docs/cli-json.md` and kept stable.

mod account;
mod act;
mod admin;
mod home;
mod list;
mod outbox;
mod output;
mod password;
mod serve;
mod show;
mod sync;
mod transfer;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tasklane_core::ErrorKind;

#[derive(Debug, Parser)]
#[command(
    name = "tasklane",
    version,
    about = "A local-first inbox for workflow tasks"
)]
struct Cli {
    /// Where tasklane keeps its data (default: the OS data directory).
    #[arg(long, global = true, env = "TASKLANE_HOME", value_name = "DIR")]
    home: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List tasks from the replica.
    List(list::Args),
    /// Show one task with its comments, history, actions and pending ops.
    Show(show::Args),
    /// List queued actions, or cancel one.
    Outbox(outbox::Args),
    /// Import normalized tasks from a JSON file (`-` for standard input).
    Import(transfer::ImportArgs),
    /// Export the replica's tasks as JSON.
    Export(transfer::ExportArgs),
    /// Sync: pull tasks, send queued actions exactly once, notify new work.
    Sync(sync::Args),
    /// Queue a workflow transition on a task.
    Do(act::DoArgs),
    /// Queue a comment on a task (or edit or delete one).
    Comment(act::CommentArgs),
    /// Queue an OMFLOW form push (fill fields and move the ticket on).
    Push(act::PushArgs),
    /// Queue an OMFLOW quick action.
    Quick(act::QuickArgs),
    /// Queue a claim of the next ready item (Hitachi allocate).
    Claim(act::ClaimArgs),
    /// Queue a new task.
    Create(act::CreateArgs),
    /// Add, list, test and remove the servers you work with.
    Account(account::Args),
    /// Serve the embedded engine in the OMFLOW, GEVER and Hitachi CSCIW dialects.
    Serve(serve::Args),
    /// Manage the engine's users.
    User(admin::UserArgs),
    /// Manage the engine's groups (org units, teams, lanes).
    Group(admin::GroupArgs),
    /// Show the engine's OMFLOW flows.
    Flow(admin::FlowArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let home = home::resolve(cli.home);
    let result = match cli.command {
        Command::List(args) => list::run(&home, args),
        Command::Show(args) => show::run(&home, args),
        Command::Outbox(args) => outbox::run(&home, args),
        Command::Import(args) => transfer::import(&home, args),
        Command::Export(args) => transfer::export(&home, args),
        Command::Account(args) => account::run(&home, args),
        Command::Sync(args) => sync::run(&home, args),
        Command::Do(args) => act::transition(&home, args),
        Command::Comment(args) => act::comment(&home, args),
        Command::Push(args) => act::push(&home, args),
        Command::Quick(args) => act::quick(&home, args),
        Command::Claim(args) => act::claim(&home, args),
        Command::Create(args) => act::create(&home, args),
        Command::Serve(args) => serve::run(&home, args),
        Command::User(args) => admin::user(&home, args),
        Command::Group(args) => admin::group(&home, args),
        Command::Flow(args) => admin::flow(&home, args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`tasklane export | head`): not our failure.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("tasklane: {err:#}");
            exit_code(&err)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            || cause.downcast_ref::<tasklane_core::Error>().is_some_and(|e| {
                matches!(e, tasklane_core::Error::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
            })
    })
}

/// 2 for input the user can fix by asking differently, 1 otherwise.
fn exit_code(err: &anyhow::Error) -> ExitCode {
    let invalid = err.chain().any(|cause| {
        cause
            .downcast_ref::<tasklane_core::Error>()
            .is_some_and(|e| e.kind() == ErrorKind::Invalid)
            || cause.downcast_ref::<home::UsageError>().is_some()
    });
    if invalid {
        ExitCode::from(2)
    } else {
        ExitCode::from(1)
    }
}
