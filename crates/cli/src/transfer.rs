//! `tasklane import` and `tasklane export`: normalized tasks as JSON.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use tasklane_core::exchange;

use crate::home::Home;

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The file to read, or `-` for standard input.
    file: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Export only this account's tasks.
    #[arg(long)]
    account: Option<String>,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

pub fn import(home: &Home, args: ImportArgs) -> anyhow::Result<()> {
    let mut replica = home.open_replica()?;
    let stats = if args.file.as_os_str() == "-" {
        exchange::import(&mut replica, std::io::stdin().lock())?
    } else {
        let file = File::open(&args.file)
            .with_context(|| format!("cannot read {}", args.file.display()))?;
        exchange::import(&mut replica, file)
            .with_context(|| format!("nothing was imported from {}", args.file.display()))?
    };
    println!(
        "Imported: {} new, {} updated, {} unchanged tasks; {} new accounts.",
        stats.tasks.inserted, stats.tasks.updated, stats.tasks.unchanged, stats.accounts_created
    );
    Ok(())
}

pub fn export(home: &Home, args: ExportArgs) -> anyhow::Result<()> {
    let replica = home.open_replica()?;
    match &args.output {
        Some(path) => {
            // Write next to the target and rename, so a failed export never
            // leaves a truncated file where a good one was.
            let tmp = path.with_extension("partial");
            let file =
                File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
            let mut out = BufWriter::new(file);
            let n = exchange::export(replica.conn(), args.account.as_deref(), &mut out)?;
            out.flush()?;
            drop(out);
            std::fs::rename(&tmp, path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("Exported {n} tasks to {}.", path.display());
        }
        None => {
            let stdout = std::io::stdout().lock();
            exchange::export(
                replica.conn(),
                args.account.as_deref(),
                BufWriter::new(stdout),
            )?;
        }
    }
    Ok(())
}
