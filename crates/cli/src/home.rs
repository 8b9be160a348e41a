//! Where tasklane keeps its files: `--home`, else `TASKLANE_HOME`, else the
//! OS data directory (`~/.local/share/tasklane` on Linux).

use std::path::PathBuf;

use anyhow::Context;
use tasklane_core::{ErrorKind, Replica};

/// A mistake in how the command was called (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

pub struct Home {
    pub dir: PathBuf,
}

pub fn resolve(flag: Option<PathBuf>) -> Home {
    let dir = flag
        .or_else(|| {
            directories::ProjectDirs::from("", "", "tasklane").map(|p| p.data_dir().to_path_buf())
        })
        .unwrap_or_else(|| PathBuf::from(".tasklane"));
    Home { dir }
}

impl Home {
    pub fn replica_path(&self) -> PathBuf {
        self.dir.join("replica.sqlite3")
    }

    /// Where the embedded engine keeps its database by default.
    pub fn engine_dir(&self) -> PathBuf {
        self.dir.join("engine")
    }

    pub fn open_replica(&self) -> anyhow::Result<Replica> {
        let path = self.replica_path();
        match Replica::open(&path) {
            Ok(r) => Ok(r),
            // These messages name the file already.
            Err(e) if e.kind() == ErrorKind::Corrupt => Err(e.into()),
            Err(e) => Err(anyhow::Error::new(e))
                .with_context(|| format!("cannot open the replica at {}", path.display())),
        }
    }
}
