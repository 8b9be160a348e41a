//! The app's own settings: saved views and preferences, in one JSON file
//! in the tasklane home. Written whole to a temporary file and renamed, so
//! a crash leaves the old file or the new one, never half of either.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tasklane_core::model::Account;
use tasklane_core::query::{Column, Condition, Op, OrderKey, Query, Value};

use crate::error::{AppError, AppErrorKind, AppResult};
use crate::types::{Preferences, SavedView};

/// The ids of the built-in views (their names are translation keys
/// `views.builtin.<id>` in the UI's catalogs).
pub const BUILTIN: [&str; 5] = [
    "inbox",
    "mine-open",
    "groups-unclaimed",
    "overdue",
    "needs-attention",
];

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stored {
    #[serde(default)]
    pub views: Vec<SavedView>,
    #[serde(default)]
    pub preferences: Preferences,
}

#[derive(Debug)]
pub struct Settings {
    path: PathBuf,
    stored: Stored,
}

impl Settings {
    pub const FILE: &str = "app-settings.json";

    /// Reads the settings in `home`; a missing file is the defaults. A
    /// damaged file is set aside (renamed `.damaged`) rather than lost or
    /// fatal: views are a convenience, the app must start.
    pub fn load(home: &Path) -> Settings {
        let path = home.join(Self::FILE);
        let stored = match std::fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice::<Stored>(&bytes) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(
                        "{} is damaged ({e}); starting with defaults",
                        path.display()
                    );
                    let _ = std::fs::rename(&path, path.with_extension("json.damaged"));
                    Stored::default()
                }
            },
            Err(_) => Stored::default(),
        };
        Settings { path, stored }
    }

    pub fn preferences(&self) -> Preferences {
        self.stored.preferences.clone()
    }

    pub fn set_preferences(&mut self, preferences: Preferences) -> AppResult<Preferences> {
        let mut next = self.stored.clone();
        next.preferences = preferences;
        self.save(next)?;
        Ok(self.preferences())
    }

    /// Built-in views first (made for these accounts), then the user's.
    pub fn views(&self, accounts: &[Account]) -> Vec<SavedView> {
        let mut all = builtin_views(accounts);
        all.extend(self.stored.views.iter().cloned());
        all
    }

    pub fn save_view(
        &mut self,
        mut view: SavedView,
        accounts: &[Account],
    ) -> AppResult<Vec<SavedView>> {
        if BUILTIN.contains(&view.id.as_str()) {
            return Err(AppError::invalid("built-in views cannot be changed"));
        }
        if view.id.trim().is_empty() || view.name.trim().is_empty() {
            return Err(AppError::invalid("a view needs an id and a name"));
        }
        view.builtin = false;
        let mut next = self.stored.clone();
        match next.views.iter_mut().find(|v| v.id == view.id) {
            Some(existing) => *existing = view,
            None => next.views.push(view),
        }
        self.save(next)?;
        Ok(self.views(accounts))
    }

    pub fn delete_view(&mut self, id: &str, accounts: &[Account]) -> AppResult<Vec<SavedView>> {
        if BUILTIN.contains(&id) {
            return Err(AppError::invalid("built-in views cannot be deleted"));
        }
        let mut next = self.stored.clone();
        let before = next.views.len();
        next.views.retain(|v| v.id != id);
        if next.views.len() == before {
            return Err(AppError::not_found(format!("there is no view {id:?}")));
        }
        self.save(next)?;
        Ok(self.views(accounts))
    }

    fn save(&mut self, next: Stored) -> AppResult<()> {
        let storage = |e: std::io::Error| {
            AppError::new(
                AppErrorKind::Storage,
                format!("cannot save {}: {e}", self.path.display()),
            )
        };
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(storage)?;
        let mut file = tempfile::NamedTempFile::new_in(dir).map_err(storage)?;
        serde_json::to_writer_pretty(&mut file, &next)
            .map_err(|e| storage(std::io::Error::other(e)))?;
        file.as_file().sync_all().map_err(storage)?;
        file.persist(&self.path).map_err(|e| storage(e.error))?;
        self.stored = next;
        Ok(())
    }
}

fn cond(column: Column, op: Op, value: impl Into<Value>) -> Condition {
    Condition {
        column,
        op,
        value: value.into(),
    }
}

fn view(id: &str, query: Query) -> SavedView {
    SavedView {
        id: id.into(),
        name: format!("views.builtin.{id}"),
        query,
        builtin: true,
    }
}

/// The built-in views. "Mine" means assigned to the user name of the
/// task's account; a query has no per-account "me", so it is the list of
/// every account's user name (names rarely collide across servers).
pub fn builtin_views(accounts: &[Account]) -> Vec<SavedView> {
    let open = Query {
        exclusions: vec![Condition::in_final_state()],
        ..Query::default()
    };
    let mut me: Vec<Value> = accounts
        .iter()
        .filter(|a| !a.user_name.is_empty())
        .map(|a| Value::Text(a.user_name.clone()))
        .collect();
    me.dedup();
    if me.is_empty() {
        // Matches nothing: there is no one to be.
        me.push(Value::Text("\u{1}".into()));
    }
    let by_deadline = vec![OrderKey {
        column: Column::Deadline,
        descending: false,
    }];
    vec![
        view("inbox", open.clone()),
        view(
            "mine-open",
            Query {
                conditions: vec![cond(Column::Assignee, Op::In, Value::List(me))],
                ..open.clone()
            },
        ),
        view(
            "groups-unclaimed",
            Query {
                // A group or lane, and nobody yet: `>= ''` holds for any
                // non-empty text, and an exclusion keeps empty fields.
                conditions: vec![cond(Column::Group, Op::Ge, "")],
                exclusions: vec![
                    Condition::in_final_state(),
                    cond(Column::Assignee, Op::Ge, ""),
                ],
                ..Query::default()
            },
        ),
        view(
            "overdue",
            Query {
                conditions: vec![cond(Column::Deadline, Op::Lt, "today")],
                order: by_deadline,
                ..open.clone()
            },
        ),
        view(
            "needs-attention",
            Query {
                conditions: vec![cond(Column::Attention, Op::Eq, true)],
                ..Query::default()
            },
        ),
    ]
}
