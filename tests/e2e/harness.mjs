// Starts tauri-driver (which starts WebKitWebDriver) and a WebdriverIO
// session on the real app; stops the driver's whole process group after.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

import { remote } from "webdriverio";

export const root = path.resolve(import.meta.dirname, "../..");
export const shots = path.join(root, "target/e2e");
const app = process.env.TASKLANE_APP ?? path.join(root, "target/debug/tasklane-app");
const driverBin = process.env.TAURI_DRIVER ?? "tauri-driver";

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const open = await new Promise((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Opens the app with `args` (plus a fresh home unless one is given).
 * Returns { browser, home, stop }.
 */
export async function openApp(args = ["--demo"], home = mkdtempSync(path.join(tmpdir(), "tasklane-e2e-"))) {
  const port = await freePort();
  let nativePort = await freePort();
  // Each port was free when asked for; the second may be the first again.
  while (nativePort === port) nativePort = await freePort();
  const driver = spawn(driverBin, ["--port", String(port), "--native-port", String(nativePort)], {
    detached: true,
    stdio: ["ignore", "inherit", "inherit"],
  });
  const stopDriver = () => {
    try {
      process.kill(-driver.pid, "SIGTERM");
    } catch {
      // already gone
    }
  };
  try {
    // tauri-driver starts WebKitWebDriver and listens at once, without
    // waiting for it: a session asked for before WebKitWebDriver listens
    // fails with "connection refused" (seen once in the app bench).
    await waitForPort(port, 20_000, "tauri-driver");
    await waitForPort(nativePort, 20_000, "WebKitWebDriver");
    const browser = await remote({
      hostname: "127.0.0.1",
      port,
      logLevel: process.env.TASKLANE_E2E_LOG ?? "warn",
      connectionRetryTimeout: 60_000,
      capabilities: {
        "tauri:options": { application: app, args: [...args, "--home", home] },
        "wdio:enforceWebDriverClassic": true,
      },
    });
    return {
      browser,
      home,
      async stop() {
        await browser.deleteSession().catch(() => {});
        stopDriver();
      },
    };
  } catch (e) {
    stopDriver();
    throw e;
  }
}

/** Saves a screenshot of the window as target/e2e/NAME.png. */
export async function screenshot(browser, name) {
  mkdirSync(shots, { recursive: true });
  const data = await browser.takeScreenshot();
  writeFileSync(path.join(shots, `${name}.png`), Buffer.from(data, "base64"));
}

/** Waits until `fn` returns a truthy value (polling), or fails with `what`. */
export async function until(fn, what, ms = 30_000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Every process below `pid` (not `pid` itself). */
export function descendants(pid) {
  const children = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = parentOf(entry);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  const out = [];
  const walk = (p) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/**
 * A process's `/proc/PID/stat` fields after its command name (which may
 * hold spaces): index 0 is field 3 (the state), 1 the parent, 19 the start.
 */
export function statFields(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** A process's parent. */
export function parentOf(pid) {
  return Number(statFields(pid)[1]);
}

/** A process's command name (as `ps` shows it), or "" once it is gone. */
export function comm(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}
