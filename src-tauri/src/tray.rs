//! The tray icon: the accounts' state at a glance, "Sync now", and a way
//! back to the window. Its few words follow the app's language.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Wry};

use crate::app::App;
use crate::types::{AccountStatus, Language};

/// The tray's words in the UI's four languages.
struct Words {
    open: &'static str,
    sync: &'static str,
    quit: &'static str,
    up_to_date: &'static str,
    syncing: &'static str,
    offline: &'static str,
    queued: &'static str,
    attention: &'static str,
}

fn words(language: Language) -> Words {
    let lang = match language {
        Language::Auto => std::env::var("LC_ALL")
            .or_else(|_| std::env::var("LC_MESSAGES"))
            .or_else(|_| std::env::var("LANG"))
            .unwrap_or_default(),
        Language::En => "en".into(),
        Language::ZhTw => "zh_TW".into(),
        Language::De => "de".into(),
        Language::Ja => "ja".into(),
    };
    if lang.starts_with("zh") {
        Words {
            open: "開啟 tasklane",
            sync: "立即同步",
            quit: "結束",
            up_to_date: "已是最新",
            syncing: "同步中…",
            offline: "離線",
            queued: "待送出",
            attention: "需要處理",
        }
    } else if lang.starts_with("de") {
        Words {
            open: "tasklane öffnen",
            sync: "Jetzt synchronisieren",
            quit: "Beenden",
            up_to_date: "Aktuell",
            syncing: "Synchronisiere …",
            offline: "Offline",
            queued: "in der Warteschlange",
            attention: "brauchen Aufmerksamkeit",
        }
    } else if lang.starts_with("ja") {
        Words {
            open: "tasklane を開く",
            sync: "今すぐ同期",
            quit: "終了",
            up_to_date: "最新",
            syncing: "同期中…",
            offline: "オフライン",
            queued: "件が送信待ち",
            attention: "件が要対応",
        }
    } else {
        Words {
            open: "Open tasklane",
            sync: "Sync now",
            quit: "Quit",
            up_to_date: "Up to date",
            syncing: "Syncing…",
            offline: "Offline",
            queued: "queued",
            attention: "need attention",
        }
    }
}

/// The status line: what matters most first.
fn status_line(w: &Words, statuses: &HashMap<i64, AccountStatus>) -> String {
    let syncing = statuses.values().any(|s| s.syncing);
    let offline = statuses.values().any(|s| s.online == Some(false));
    let queued: u32 = statuses.values().map(|s| s.queue).sum();
    let attention: u32 = statuses.values().map(|s| s.attention).sum();
    let mut parts = vec![if syncing {
        w.syncing.to_string()
    } else if offline {
        w.offline.to_string()
    } else {
        w.up_to_date.to_string()
    }];
    if queued > 0 {
        parts.push(format!("{queued} {}", w.queued));
    }
    if attention > 0 {
        parts.push(format!("{attention} {}", w.attention));
    }
    parts.join(" · ")
}

/// Keeps the tray's status line current.
pub struct Tray {
    status: MenuItem<Wry>,
    statuses: Mutex<HashMap<i64, AccountStatus>>,
    language: Language,
}

impl std::fmt::Debug for Tray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tray")
            .field("language", &self.language)
            .finish_non_exhaustive()
    }
}

impl Tray {
    pub fn update(&self, status: &AccountStatus) {
        let line = {
            let mut all = self.statuses.lock().unwrap_or_else(|p| p.into_inner());
            all.insert(status.account.id, status.clone());
            status_line(&words(self.language), &all)
        };
        if let Err(e) = self.status.set_text(line) {
            tracing::debug!("cannot update the tray: {e}");
        }
    }
}

/// Shows and focuses the main window.
pub fn show_main(handle: &AppHandle) {
    if let Some(window) = handle.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

pub fn build(handle: &AppHandle, app: Arc<App>) -> tauri::Result<Arc<Tray>> {
    let language = app.preferences().language;
    let w = words(language);
    let initial: HashMap<i64, AccountStatus> = app
        .accounts()
        .unwrap_or_default()
        .into_iter()
        .map(|s| (s.account.id, s))
        .collect();
    let status = MenuItem::with_id(
        handle,
        "status",
        status_line(&w, &initial),
        false,
        None::<&str>,
    )?;
    let open = MenuItem::with_id(handle, "open", w.open, true, None::<&str>)?;
    let sync = MenuItem::with_id(handle, "sync", w.sync, true, None::<&str>)?;
    let quit = MenuItem::with_id(handle, "quit", w.quit, true, None::<&str>)?;
    let separator = PredefinedMenuItem::separator(handle)?;
    let menu = Menu::with_items(handle, &[&status, &separator, &open, &sync, &quit])?;
    let mut tray = TrayIconBuilder::with_id("tasklane")
        .tooltip("tasklane")
        .menu(&menu)
        .on_menu_event(move |handle, event| match event.id().as_ref() {
            "open" => show_main(handle),
            "sync" => {
                if let Err(e) = app.sync_now(None) {
                    tracing::warn!("sync now: {e}");
                }
            }
            "quit" => handle.exit(0),
            _ => {}
        });
    if let Some(icon) = handle.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(handle)?;
    Ok(Arc::new(Tray {
        status,
        statuses: Mutex::new(initial),
        language,
    }))
}
