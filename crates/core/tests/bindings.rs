//! The committed TypeScript bindings match the Rust types.
//!
//! Regenerate after changing a type that crosses into the UI:
//! `TASKLANE_UPDATE_BINDINGS=1 cargo test -p tasklane-core --test bindings`

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn committed_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/bindings")
}

/// Every `.ts` file below `dir`, by path relative to it.
fn read_all(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "ts") {
                let name = path.strip_prefix(dir).unwrap().to_path_buf();
                files.insert(name, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    files
}

#[test]
fn committed_bindings_match_the_rust_types() {
    if std::env::var_os("TASKLANE_UPDATE_BINDINGS").is_some() {
        std::fs::create_dir_all(committed_dir()).unwrap();
        tasklane_core::bindings::export_all(&committed_dir()).unwrap();
    }
    let fresh = tempfile::tempdir().unwrap();
    tasklane_core::bindings::export_all(fresh.path()).unwrap();
    let committed = read_all(&committed_dir());
    let mut stale = Vec::new();
    for (name, text) in read_all(fresh.path()) {
        if committed.get(&name) != Some(&text) {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "ui/src/lib/bindings is stale for {stale:?}; run \
         TASKLANE_UPDATE_BINDINGS=1 cargo test -p tasklane-core --test bindings"
    );
}
