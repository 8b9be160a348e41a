//! Desktop notifications through the platform's notification service
//! (org.freedesktop.Notifications on the session D-Bus on Linux), via
//! notify-rust. A desktop without one loses the notification, never the
//! sync: failures are logged and otherwise ignored.

use tasklane_core::sync::notify::{Notification, Notifier};

/// The application name notifications are filed under.
pub const APP_NAME: &str = "tasklane";

#[derive(Debug, Default, Clone, Copy)]
pub struct DesktopNotifier;

impl Notifier for DesktopNotifier {
    fn notify(&self, notification: &Notification) {
        let (summary, body) = notification.text();
        let mut n = notify_rust::Notification::new();
        n.appname(APP_NAME).summary(&summary).body(&body);
        #[cfg(all(unix, not(target_os = "macos")))]
        {
            // Server text is shown as text: no markup interpretation
            // beyond what the spec forces, and a hint naming the task.
            n.hint(notify_rust::Hint::Category("im.received".into()));
            if let Notification::Task(a) = notification {
                n.hint(notify_rust::Hint::Custom(
                    "x-tasklane-task".into(),
                    a.task_id.to_string(),
                ));
            }
        }
        if let Err(e) = n.show() {
            eprintln!("tasklane: could not show a desktop notification: {e}");
        }
    }
}
