//! The committed TypeScript bindings of the app-level types match the Rust
//! types. Regenerate after changing one:
//! `TASKLANE_UPDATE_BINDINGS=1 cargo test -p tasklane-app --test bindings`

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::path::PathBuf;

fn committed_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/bindings")
}

#[test]
fn committed_app_bindings_match_the_rust_types() {
    if std::env::var_os("TASKLANE_UPDATE_BINDINGS").is_some() {
        tasklane_app::bindings::export_all(&committed_dir()).unwrap();
    }
    let fresh = tempfile::tempdir().unwrap();
    tasklane_app::bindings::export_all(fresh.path()).unwrap();
    let mut stale = Vec::new();
    for entry in std::fs::read_dir(fresh.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            // Dependencies from the core: its own test checks them.
            continue;
        }
        let name = path.file_name().unwrap().to_owned();
        let committed = std::fs::read_to_string(committed_dir().join(&name)).ok();
        if committed.as_deref() != Some(std::fs::read_to_string(&path).unwrap().as_str()) {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "ui/src/lib/bindings is stale for {stale:?}; run \
         TASKLANE_UPDATE_BINDINGS=1 cargo test -p tasklane-app --test bindings"
    );
}
