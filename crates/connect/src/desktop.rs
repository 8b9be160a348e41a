//! Desktop notifications through the platform's notification service
//! (org.freedesktop.Notifications on the session D-Bus on Linux), via
//! notify-rust. A desktop without one loses the notification, never the
//! sync: failures are logged and otherwise ignored.

use std::fmt;
use std::sync::Arc;

use tasklane_core::sync::notify::{Notification, Notifier};

/// The application name notifications are filed under.
pub const APP_NAME: &str = "tasklane";

/// Called when the user clicks a notification: with the task it was about,
/// or `None` for a summary of several.
pub type OnClick = Arc<dyn Fn(Option<i64>) + Send + Sync>;

#[derive(Default, Clone)]
pub struct DesktopNotifier {
    on_click: Option<OnClick>,
}

impl fmt::Debug for DesktopNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DesktopNotifier")
            .field("clickable", &self.on_click.is_some())
            .finish()
    }
}

impl DesktopNotifier {
    /// Notifications that can be clicked (the app opens the task). Each
    /// waits for its click on a thread of its own until the notification
    /// is closed; the CLI, which exits, uses the plain `default()`.
    pub fn clickable(on_click: OnClick) -> Self {
        DesktopNotifier {
            on_click: Some(on_click),
        }
    }
}

impl Notifier for DesktopNotifier {
    fn notify(&self, notification: &Notification) {
        let (summary, body) = notification.text();
        let mut n = notify_rust::Notification::new();
        n.appname(APP_NAME).summary(&summary).body(&body);
        #[cfg(all(unix, not(target_os = "macos")))]
        {
            n.hint(notify_rust::Hint::Category("im.received".into()));
            if let Notification::Task(a) = notification {
                n.hint(notify_rust::Hint::Custom(
                    "x-tasklane-task".into(),
                    a.task_id.to_string(),
                ));
            }
            if self.on_click.is_some() {
                // "default" is the action a click on the notification's body
                // invokes (the Desktop Notifications spec).
                n.action("default", "Open");
            }
        }
        let handle = match n.show() {
            Ok(handle) => handle,
            Err(e) => {
                eprintln!("tasklane: could not show a desktop notification: {e}");
                return;
            }
        };
        #[cfg(all(unix, not(target_os = "macos")))]
        if let Some(on_click) = self.on_click.clone() {
            let task = match notification {
                Notification::Task(a) => Some(a.task_id),
                Notification::Summary { .. } => None,
            };
            let waiter = std::thread::Builder::new()
                .name("tasklane-notification".into())
                .spawn(move || {
                    handle.wait_for_action(|action| {
                        if action == "default" {
                            on_click(task);
                        }
                    });
                });
            if let Err(e) = waiter {
                eprintln!("tasklane: cannot wait for a notification's click: {e}");
            }
        }
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        drop(handle);
    }
}
