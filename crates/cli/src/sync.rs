//! `tasklane sync [--account NAME]... [--watch]`: pull each account's tasks,
//! replay the outbox exactly once, notify new assignments.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tasklane_connect::{ConnectError, DesktopNotifier, Remotes};
use tasklane_core::Replica;
use tasklane_core::model::Account;
use tasklane_core::replica::accounts;
use tasklane_core::sync::notify::{Notifier, Silent};
use tasklane_core::sync::{self, Event, Options, Report, SyncError};

use crate::account::{connector, env_password};
use crate::home::{Home, UsageError};
use crate::output::{emit, plural, print_json};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Sync only this account; repeatable (default: every account).
    #[arg(long = "account", value_name = "NAME")]
    accounts: Vec<String>,
    /// Keep syncing: every --interval, and at once when new actions are queued.
    #[arg(long)]
    watch: bool,
    /// Seconds between syncs with --watch.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(5..=86_400))]
    interval: u64,
    /// Use the password in this environment variable instead of the keychain.
    #[arg(long, value_name = "VAR")]
    password_env: Option<String>,
    /// No desktop notifications for new assignments.
    #[arg(long)]
    no_notify: bool,
    /// Print each run's report as JSON (one object per account and run).
    #[arg(long)]
    json: bool,
}

pub fn run(home: &Home, args: Args) -> anyhow::Result<()> {
    // The sync itself runs on this thread; two workers carry the HTTP
    // connections, so the next listing page travels while the replica
    // writes this one.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run_async(home, args))
}

async fn run_async(home: &Home, args: Args) -> anyhow::Result<()> {
    let mut replica = home.open_replica()?;
    let mut remotes = Remotes::new(
        Arc::new(connector(home)),
        env_password(args.password_env.as_deref())?,
    );
    let chosen = chosen_accounts(&replica, &args.accounts)?;
    let notifier: Box<dyn Notifier> = if args.no_notify {
        Box::new(Silent)
    } else {
        Box::new(DesktopNotifier::default())
    };
    if !args.watch {
        let failures = sync_all(
            &mut remotes,
            &mut replica,
            &chosen,
            &args,
            notifier.as_ref(),
            &mut HashMap::new(),
        )
        .await?;
        if failures > 0 {
            anyhow::bail!(
                "{} of {} could not be synced",
                plural(failures as u64, "account", "accounts"),
                chosen.len()
            );
        }
        return Ok(());
    }
    // Watching: each account has its own next-due time, pushed out while
    // it is offline (5 s, 10 s, ... up to the interval) so a laptop on a
    // train neither spins nor waits a full interval once back.
    let interval = Duration::from_secs(args.interval);
    let mut offline_for: HashMap<i64, u32> = HashMap::new();
    let mut due: HashMap<i64, Instant> = HashMap::new();
    let mut last_queued = queued_marker(&replica)?;
    loop {
        let now = Instant::now();
        let ready: Vec<Account> = chosen
            .iter()
            .filter(|a| due.get(&a.id).is_none_or(|t| *t <= now))
            .cloned()
            .collect();
        if !ready.is_empty() {
            sync_all(
                &mut remotes,
                &mut replica,
                &ready,
                &args,
                notifier.as_ref(),
                &mut offline_for,
            )
            .await?;
            for a in &ready {
                let wait = match offline_for.get(&a.id) {
                    Some(n) if *n > 0 => Duration::from_secs(5 << (*n - 1).min(10)).min(interval),
                    _ => interval,
                };
                due.insert(a.id, Instant::now() + wait);
            }
        }
        // Wait a second at a time: for the next due account, for newly
        // queued actions (synced at once), or for Ctrl-C.
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        let marker = queued_marker(&replica)?;
        if marker != last_queued {
            last_queued = marker;
            due.clear();
        }
    }
}

/// The newest op in the outbox: a change means something was queued.
fn queued_marker(replica: &Replica) -> anyhow::Result<i64> {
    Ok(replica
        .conn()
        .query_row("SELECT coalesce(max(seq), 0) FROM outbox", [], |r| r.get(0))?)
}

fn chosen_accounts(replica: &Replica, names: &[String]) -> anyhow::Result<Vec<Account>> {
    let all = accounts::list(replica.conn())?;
    if all.is_empty() {
        return Err(
            UsageError("no accounts to sync; add one with `tasklane account add`".into()).into(),
        );
    }
    if names.is_empty() {
        return Ok(all);
    }
    names
        .iter()
        .map(|n| Ok(accounts::get(replica.conn(), n)?))
        .collect()
}

/// Syncs each account once; returns how many failed.
async fn sync_all(
    remotes: &mut Remotes,
    replica: &mut Replica,
    chosen: &[Account],
    args: &Args,
    notifier: &dyn Notifier,
    offline_for: &mut HashMap<i64, u32>,
) -> anyhow::Result<usize> {
    let mut failures = 0;
    for account in chosen {
        // The account may have changed or gone since the loop started.
        let Some(account) = accounts::find(replica.conn(), &account.name)? else {
            continue;
        };
        let remote = match remotes.get(&account) {
            Ok(r) => r,
            Err(e @ (ConnectError::NoPassword(_) | ConnectError::Secret(_))) => {
                eprintln!("{}: {e}", account.name);
                failures += 1;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let bar = progress_bar(args.json);
        let on_event = {
            let bar = bar.clone();
            move |event: Event| show(&bar, &event)
        };
        let result = sync::sync_account(
            replica,
            &account,
            remote,
            notifier,
            &on_event,
            &Options::default(),
        )
        .await;
        bar.finish_and_clear();
        match result {
            Ok(report) => {
                offline_for.remove(&account.id);
                if args.json {
                    print_json(&report)?;
                } else {
                    emit(&summary(&report))?;
                }
            }
            Err(e) => {
                failures += 1;
                match e {
                    SyncError::Offline(_) => *offline_for.entry(account.id).or_insert(0) += 1,
                    // The password may be changed meanwhile (`account passwd`):
                    // read it again next round.
                    SyncError::Auth(_) => {
                        remotes.forget(account.id);
                    }
                    _ => {}
                }
                let advice = match &e {
                    SyncError::Auth(_) => {
                        format!(" (fix it with `tasklane account passwd {}`)", account.name)
                    }
                    SyncError::Offline(_) => " (nothing was lost; queued actions wait)".into(),
                    _ => String::new(),
                };
                eprintln!("{}: {e}{advice}", account.name);
            }
        }
    }
    Ok(failures)
}

fn progress_bar(hidden: bool) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    if hidden {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{spinner} {prefix} {wide_msg} {pos}/{len}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn show(bar: &ProgressBar, event: &Event) {
    match event {
        Event::Resolving { account, ops } => {
            bar.set_prefix(account.clone());
            bar.set_message(format!(
                "checking {} left in doubt",
                plural(*ops as u64, "action", "actions")
            ));
        }
        Event::Pulling {
            account,
            full,
            tasks,
            total,
            ..
        } => {
            bar.set_prefix(account.clone());
            bar.set_message(if *full {
                "listing tasks"
            } else {
                "listing changes"
            });
            if let Some(total) = total {
                bar.set_length(*total);
            }
            bar.set_position(*tasks as u64);
        }
        Event::Refreshing { account, done, of } => {
            bar.set_prefix(account.clone());
            bar.set_message("fetching task details");
            bar.set_length(*of as u64);
            bar.set_position(*done as u64);
        }
        Event::Sending { account, done, of } => {
            bar.set_prefix(account.clone());
            bar.set_message("sending queued actions");
            bar.set_length(*of as u64);
            bar.set_position(*done as u64);
        }
    }
}

fn summary(r: &Report) -> String {
    let mut parts = vec![format!(
        "{} {}",
        if r.full { "listed" } else { "checked" },
        plural(r.pulled as u64, "task", "tasks")
    )];
    if r.inserted + r.updated > 0 {
        parts.push(format!("{} new, {} changed", r.inserted, r.updated));
    }
    if r.gone + r.removed > 0 {
        parts.push(format!("{} left your view", r.gone + r.removed));
    }
    if r.applied > 0 {
        parts.push(format!(
            "{} sent",
            plural(r.applied as u64, "action", "actions")
        ));
    }
    if r.conflicts > 0 {
        parts.push(format!("{} in conflict", r.conflicts));
    }
    if r.failed > 0 {
        parts.push(format!("{} failed", r.failed));
    }
    if r.retrying > 0 {
        parts.push(format!("{} to retry", r.retrying));
    }
    if r.in_doubt > 0 {
        parts.push(format!("{} in doubt", r.in_doubt));
    }
    let mut line = format!("{}: {}", r.account, parts.join(", "));
    if r.conflicts + r.failed > 0 {
        line.push_str(" — see `tasklane outbox`");
    }
    line.push('\n');
    line
}
