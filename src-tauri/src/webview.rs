//! The webview's own settings, where Tauri leaves the engine's defaults.
//!
//! On Linux, WebKitGTK composites the page on the GPU by default; without
//! a GPU (a VM, Xvfb, a remote desktop) that means Mesa's software GL in
//! the web process. Measured with `scripts/bench-app.sh` at 100,000
//! tasks, compositing cost 126 MiB of the 443 the app's processes took
//! (PSS), for a page of plain rows and text that needs no GPU layers, and
//! a blank window on some GPU drivers is WebKitGTK's best-known fault.
//! So the inbox is painted without it; `TASKLANE_GPU_COMPOSITING=1` turns
//! it back on. The page is the app's own and is never navigated away
//! from, so WebKit's browser-sized memory caches are made document-sized.

/// Applies the settings to a window's webview (before its page grows).
pub fn tune(window: &tauri::WebviewWindow) {
    let gpu = std::env::var_os("TASKLANE_GPU_COMPOSITING").is_some_and(|v| v == "1");
    #[cfg(target_os = "linux")]
    if let Err(e) = window.with_webview(move |webview| linux::tune(&webview.inner(), gpu)) {
        tracing::warn!("cannot tune the webview: {e}");
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (window, gpu);
}

#[cfg(target_os = "linux")]
mod linux {
    use webkit2gtk::{
        CacheModel, HardwareAccelerationPolicy, SettingsExt, WebContextExt, WebViewExt,
    };

    pub fn tune(view: &webkit2gtk::WebView, gpu: bool) {
        if !gpu && let Some(settings) = WebViewExt::settings(view) {
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
        if let Some(context) = view.context() {
            context.set_cache_model(CacheModel::DocumentViewer);
        }
    }
}
