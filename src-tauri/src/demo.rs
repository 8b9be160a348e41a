//! `tasklane-app --demo`: the embedded engine with the demo data, serving
//! its three dialects on a loopback port, and the app set up with a local
//! account plus one account per dialect against it — every feature working
//! at once, with nothing to install or configure.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};
use tasklane_connect::accounts::{self as admin, Keep};
use tasklane_connect::{Connector, KEYCHAIN_ENTRY, Keychain, SecretError, SecretStore};
use tasklane_core::Replica;
use tasklane_core::model::{AccountKind, AccountSettings, NewAccount};
use tasklane_core::replica::accounts;
use tasklane_engine::server::{Background, ServerConfig};
use tasklane_engine::{Engine, demo};

use crate::app::REPLICA_FILE;
use crate::error::{AppError, AppErrorKind, AppResult};

/// The demo's server accounts: (name, kind, user, path below the server).
const ACCOUNTS: [(&str, AccountKind, &str, &str); 3] = [
    ("OMFLOW 台北", AccountKind::Omflow, "wang.xiaoming", ""),
    ("GEVER Zürich", AccountKind::Gever, "hans.muster", "/gever"),
    ("CSCIW 東京", AccountKind::Hitachi, "tanaka", ""),
];

/// The keychain entry names of the demo accounts. Their passwords are the
/// demo's published ones and live in memory only; every other account
/// added to a demo home uses the real keychain.
fn demo_entry(kind: AccountKind) -> String {
    format!("tasklane-demo-{}", kind.as_str())
}

/// A keychain that holds the demo passwords in memory and passes every
/// other entry to the OS keychain.
#[derive(Debug, Default)]
pub struct DemoSecrets {
    demo: Mutex<HashMap<String, String>>,
    keychain: Keychain,
}

impl DemoSecrets {
    fn is_demo(entry: &str) -> bool {
        entry.starts_with("tasklane-demo-")
    }
}

impl SecretStore for DemoSecrets {
    fn get(&self, entry: &str) -> Result<Option<String>, SecretError> {
        if Self::is_demo(entry) {
            return Ok(self
                .demo
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(entry)
                .cloned());
        }
        self.keychain.get(entry)
    }

    fn set(&self, entry: &str, secret: &str) -> Result<(), SecretError> {
        if Self::is_demo(entry) {
            self.demo
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(entry.into(), secret.into());
            return Ok(());
        }
        self.keychain.set(entry, secret)
    }

    fn delete(&self, entry: &str) -> Result<(), SecretError> {
        if Self::is_demo(entry) {
            self.demo
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(entry);
            return Ok(());
        }
        self.keychain.delete(entry)
    }
}

/// The running demo: its server (when it started one) stops when this is
/// dropped.
#[derive(Debug)]
pub struct Demo {
    pub server: Option<Background>,
    /// Where the demo accounts reach the server.
    pub url: String,
    pub connector: Arc<Connector>,
}

fn failed(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::new(AppErrorKind::Storage, format!("the demo: {what}: {e}"))
}

/// Opens (and on first use fills) the demo engine in `home`, serves it,
/// and points the demo accounts in `home`'s replica at it. Run again, it
/// keeps everything done so far and only moves the accounts to the new
/// port. With `server` (a running `tasklane serve --demo`), the accounts
/// use that server instead — one that can be stopped and started again
/// while the app runs, to see it work offline.
pub fn start(home: &Path, server: Option<&str>) -> AppResult<Demo> {
    let engine_dir = home.join("engine");
    let engine =
        Arc::new(Engine::open(&engine_dir).map_err(|e| failed("cannot open the engine", e))?);
    if demo::is_empty(&engine).map_err(|e| failed("cannot read the engine", e))? {
        demo::load(&engine).map_err(|e| failed("cannot load the demo data", e))?;
    }
    let (server, url) = match server {
        Some(url) => (None, url.to_string()),
        None => {
            let started = Background::start(engine.clone(), ServerConfig::default())
                .map_err(|e| failed("cannot start the server", e))?;
            let url = started.url();
            (Some(started), url)
        }
    };
    let secrets: Arc<dyn SecretStore> = Arc::new(DemoSecrets::default());
    let connector = Arc::new(Connector::with_engine(engine_dir, engine, secrets));
    let mut replica = Replica::open(&home.join(REPLICA_FILE))?;
    set_up_accounts(&mut replica, &connector, &url)?;
    Ok(Demo {
        server,
        url,
        connector,
    })
}

fn set_up_accounts(replica: &mut Replica, connector: &Connector, root: &str) -> AppResult<()> {
    let root = root.trim_end_matches('/');
    if accounts::find(replica.conn(), "Personal")?.is_none() {
        let personal = NewAccount::new("Personal", AccountKind::Local).user(demo::LOCAL_USER);
        admin::add(replica, connector, personal, None, Keep::Keychain)?;
    }
    for (name, kind, user, path) in ACCOUNTS {
        let url = format!("{root}{path}");
        let mut settings = settings_for(kind);
        settings.insert(KEYCHAIN_ENTRY.into(), Value::String(demo_entry(kind)));
        connector.store_password(&mut settings, demo::PASSWORD)?;
        match accounts::find(replica.conn(), name)? {
            Some(existing) => {
                if existing.base_url != url {
                    replica.write(|tx| accounts::set_base_url(tx, existing.id, &url))?;
                }
            }
            None => {
                let new = NewAccount {
                    name: name.into(),
                    kind,
                    base_url: url,
                    user_name: user.into(),
                    settings,
                };
                // `add` would choose its own keychain entry: the demo's is fixed.
                admin::check(&new)?;
                replica.write(|tx| accounts::add(tx, &new))?;
            }
        }
    }
    Ok(())
}

fn settings_for(kind: AccountKind) -> Map<String, Value> {
    let settings = match kind {
        AccountKind::Omflow => AccountSettings {
            time_zone: Some("Asia/Taipei".into()),
            api_paths: [
                (demo::PAYMENT_FLOW, demo::PAYMENT_API_PATH),
                (demo::PROCUREMENT_FLOW, demo::PROCUREMENT_API_PATH),
            ]
            .into_iter()
            .map(|(flow, path)| (flow.replace('-', ""), path.to_string()))
            .collect(),
            ..AccountSettings::default()
        },
        AccountKind::Gever => AccountSettings {
            time_zone: Some("Europe/Zurich".into()),
            // hans.muster works from his org unit's inbox too: its
            // unassigned review is the demo's GEVER group work to claim.
            inboxes: vec!["fd".into()],
            ..AccountSettings::default()
        },
        AccountKind::Hitachi => AccountSettings {
            time_zone: Some("Asia/Tokyo".into()),
            ..AccountSettings::default()
        },
        AccountKind::Local => AccountSettings::default(),
    };
    settings.to_map()
}
