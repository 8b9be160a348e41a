import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig } from "vitest/config";

// Tauri's usual setup: a fixed dev server port the shell's `devUrl` points at,
// no screen clearing (so Rust's output stays visible), output in ui/dist.
const host = process.env["TAURI_DEV_HOST"];

export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  server: {
    port: 1420,
    strictPort: true,
    host: host || false,
    hmr: host ? { protocol: "ws", host, port: 1421 } : undefined,
    watch: { ignored: ["**/src-tauri/**"] },
  },
  envPrefix: ["VITE_", "TAURI_ENV_"],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // The webviews Tauri 2 runs on (WebView2, WKWebView 16+, WebKitGTK 2.42+).
    target: ["es2022", "chrome111", "safari16"],
    sourcemap: false,
  },
  // Component tests mount Svelte's client build, not its server build.
  resolve: process.env["VITEST"] ? { conditions: ["browser"] } : undefined,
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts"],
    setupFiles: ["src/test/setup.ts"],
    restoreMocks: true,
  },
});
