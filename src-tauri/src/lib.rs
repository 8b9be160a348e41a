//! tasklane's desktop app: a thin Tauri 2 shell over tasklane-core. The
//! commands live in [`app::App`] (tested without a window), the shell in
//! `shell.rs`, the UI in `ui/`.

pub mod app;
pub mod bindings;
mod commands;
pub mod demo;
pub mod error;
pub mod events;
pub mod settings;
mod shell;
pub mod sync_loop;
mod tray;
pub mod types;
mod webview;

pub use shell::Args;

/// The binary's entry point.
pub fn main() {
    use clap::Parser;
    // Before anything can start a thread, and before GTK starts.
    webview::prepare_environment();
    let args = Args::parse();
    if let Err(message) = shell::run(args) {
        eprintln!("tasklane-app: {message}");
        std::process::exit(1);
    }
}
