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
//!
//! Some switches GTK, WebKitGTK and JavaScriptCore read only from the
//! environment, once, when they start; [`prepare_environment`] sets them
//! (decision 0022).

/// Whether the user turned GPU compositing back on.
fn gpu_compositing() -> bool {
    std::env::var_os("TASKLANE_GPU_COMPOSITING").is_some_and(|v| v == "1")
}

/// Sets the environment switches of decision 0022, each only where the
/// user has not set that variable. Call it first in `main`: the
/// environment may only change while no other thread can read it, and
/// GTK and WebKit read these when they start.
pub fn prepare_environment() {
    #[cfg(target_os = "linux")]
    linux::prepare_environment(gpu_compositing());
}

/// Applies the settings to a window's webview (before its page grows).
pub fn tune(window: &tauri::WebviewWindow) {
    let gpu = gpu_compositing();
    #[cfg(target_os = "linux")]
    if let Err(e) = window.with_webview(move |webview| linux::tune(&webview.inner(), gpu)) {
        tracing::warn!("cannot tune the webview: {e}");
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (window, gpu);
}

#[cfg(target_os = "linux")]
mod linux {
    use std::path::Path;
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

    /// What WebKit's render-node variable holds when the machine has
    /// none: WebKit compares it with the DRM devices' node paths, so a
    /// name no device has means "no device", as WebKit's own search
    /// would have found.
    const NO_RENDER_NODE: &str = "none";

    /// The variables to set. `is_set` says whether the user already set
    /// one; `render_node` finds the machine's first DRM render node.
    fn environment(
        gpu: bool,
        is_set: impl Fn(&str) -> bool,
        render_node: impl FnOnce() -> Option<String>,
    ) -> Vec<(&'static str, String)> {
        let mut vars = Vec::new();
        if !gpu {
            // Painting without compositing, nothing in the app's own
            // process needs GL. GTK would open GLX at start; WebKit's UI
            // process would open an EGL display to ask whether it can pass
            // frames as DMA-BUFs (the composited path) and which render
            // node the web process should use. Each of these loads the GL
            // driver (here Mesa with libLLVM: 25 MiB PSS).
            vars.push(("GDK_GL", "disable".to_owned()));
            vars.push(("WEBKIT_DISABLE_DMABUF_RENDERER", "1".to_owned()));
            // Named here the way WebKit falls back to when EGL cannot say:
            // the first render node.
            vars.push((
                "WEBKIT_WEB_RENDER_DEVICE_FILE",
                render_node().unwrap_or_else(|| NO_RENDER_NODE.to_owned()),
            ));
        }
        // JavaScriptCore's small-heap mode: the heap grows in smaller steps
        // and so collects sooner. Scrolling 100,000 rows leaves garbage the
        // default collects only after about 24 MB have piled up.
        vars.push(("JSC_forceMiniVMMode", "true".to_owned()));
        vars.retain(|(name, _)| !is_set(name));
        vars
    }

    /// The first DRM render node in `dir` (`renderD128` and up), if any.
    fn first_render_node(dir: &Path) -> Option<String> {
        let mut nodes: Vec<String> = std::fs::read_dir(dir)
            .ok()?
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter(|name| name.starts_with("renderD"))
            .collect();
        nodes.sort();
        let first = dir.join(nodes.first()?);
        first.to_str().map(str::to_owned)
    }

    pub fn prepare_environment(gpu: bool) {
        let is_set = |name: &str| std::env::var_os(name).is_some();
        for (name, value) in environment(gpu, is_set, || first_render_node(Path::new("/dev/dri"))) {
            // SAFETY: this runs first in `main`, before the app starts a
            // thread. The one thread already running is the scavenger of
            // JavaScriptCore's allocator (libpas), started while the
            // library's constructors allocate, before `main`; it returns
            // free memory to the system and does not read the environment.
            #[allow(unsafe_code)]
            unsafe {
                std::env::set_var(name, value)
            };
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn names(vars: &[(&'static str, String)]) -> Vec<&'static str> {
            vars.iter().map(|(name, _)| *name).collect()
        }

        #[test]
        fn without_compositing_nothing_in_the_app_process_opens_gl() {
            let vars = environment(false, |_| false, || Some("/dev/dri/renderD128".to_owned()));
            assert_eq!(
                vars,
                vec![
                    ("GDK_GL", "disable".to_owned()),
                    ("WEBKIT_DISABLE_DMABUF_RENDERER", "1".to_owned()),
                    (
                        "WEBKIT_WEB_RENDER_DEVICE_FILE",
                        "/dev/dri/renderD128".to_owned()
                    ),
                    ("JSC_forceMiniVMMode", "true".to_owned()),
                ]
            );
        }

        #[test]
        fn a_machine_without_a_render_node_names_none() {
            let vars = environment(false, |_| false, || None);
            let node = vars
                .iter()
                .find(|(name, _)| *name == "WEBKIT_WEB_RENDER_DEVICE_FILE");
            assert_eq!(node.map(|(_, v)| v.as_str()), Some(NO_RENDER_NODE));
        }

        #[test]
        fn gpu_compositing_keeps_gl_and_only_sets_the_heap_mode() {
            let vars = environment(true, |_| false, || panic!("no render node is looked for"));
            assert_eq!(names(&vars), vec!["JSC_forceMiniVMMode"]);
        }

        #[test]
        fn what_the_user_set_is_left_alone() {
            let vars = environment(
                false,
                |name| name == "GDK_GL" || name == "JSC_forceMiniVMMode",
                || None,
            );
            assert_eq!(
                names(&vars),
                vec![
                    "WEBKIT_DISABLE_DMABUF_RENDERER",
                    "WEBKIT_WEB_RENDER_DEVICE_FILE"
                ]
            );
        }

        #[test]
        fn the_render_node_is_the_lowest_numbered_one() {
            let dir = tempfile::tempdir().expect("temp dir");
            assert_eq!(first_render_node(dir.path()), None);
            for name in ["card0", "renderD129", "renderD128", "by-path"] {
                std::fs::write(dir.path().join(name), b"").expect("node");
            }
            let first = dir.path().join("renderD128");
            assert_eq!(first_render_node(dir.path()).as_deref(), first.to_str());
            assert_eq!(first_render_node(&dir.path().join("missing")), None);
        }
    }
}
