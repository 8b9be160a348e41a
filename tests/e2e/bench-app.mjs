// Cold start of the app to an interactive inbox, and the resident memory of
// its whole process tree (the app and WebKit's processes) while scrolling,
// on a home of N tasks next to — in the same run — an empty home (the
// baseline: what the window costs with nothing in it).
// Start is measured twice: from asking the driver for a session (which
// includes WebKitWebDriver's own start-up) to the first rows seen through
// it, and from the app process's start to the page's `tasklane:inbox-shown`
// mark, which is the app's own cold start.
// Usage (scripts/bench-app.sh runs it): node bench-app.mjs HOME_FULL HOME_EMPTY
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

import { comm, descendants, openApp, root, statFields, until } from "./harness.mjs";

const [full, empty] = process.argv.slice(2);
const runs = Number(process.env.TASKLANE_BENCH_RUNS ?? 3);

const clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

/**
 * When the app's process started (ms since the epoch, to the clock tick).
 * Its start is counted in ticks since boot; the uptime read now puts that
 * on the wall clock (the boot time in /proc/stat is whole seconds, which
 * would make every start up to a second longer).
 */
function appStartedAt() {
  const app = descendants(process.pid).find((pid) => comm(pid) === "tasklane-app");
  if (app === undefined) throw new Error("the app process is not running");
  // Field 22: the start, in clock ticks since boot.
  const startedSec = Number(statFields(app)[19]) / clockTicks;
  const now = Date.now();
  const uptimeSec = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
  return now - (uptimeSec - startedSec) * 1000;
}

/** Resident memory (MiB) of the app and the WebKit processes it started. */
function appTreeRss() {
  const drivers = new Set(["tauri-driver", "WebKitWebDriver"]);
  let kib = 0;
  let pssKib = 0;
  const counted = [];
  /** PSS (MiB) per process name: which part of the tree grew. */
  const byProcess = {};
  for (const pid of descendants(process.pid)) {
    const name = comm(pid);
    if (drivers.has(name) || name === "node" || name.startsWith("xvfb") || name === "Xvfb") continue;
    if (!/tasklane|WebKit/i.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const rss = status.match(/VmRSS:\s+(\d+) kB/);
      // PSS shares pages mapped by several processes (WebKit's libraries)
      // out among them, so the tree's sum counts each page once.
      const pss = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8").match(/^Pss:\s+(\d+) kB/m);
      if (rss) {
        kib += Number(rss[1]);
        const own = pss ? Number(pss[1]) : Number(rss[1]);
        pssKib += own;
        byProcess[name] = (byProcess[name] ?? 0) + own / 1024;
        counted.push(name);
      }
    } catch {
      // gone meanwhile
    }
  }
  return { mib: kib / 1024, pssMib: pssKib / 1024, processes: counted, byProcess };
}

async function measure(home) {
  const started = performance.now();
  const app = await openApp(["--sync-interval", "86400"], home);
  const { browser } = app;
  try {
    await until(
      async () => browser.execute(() => document.querySelectorAll('.inbox-body [role="row"] .cell-title').length > 0 || document.querySelector('[data-testid="empty-inbox"]') !== null),
      "an interactive inbox",
      120_000,
    );
    const startMs = performance.now() - started;
    // The app's own start: from its process starting (after the drivers')
    // to the inbox's first rows (the page's mark, `InboxList.svelte`).
    const shown = await browser.execute(() => {
      const mark = performance.getEntriesByName("tasklane:inbox-shown")[0];
      return mark === undefined ? null : { at: performance.timeOrigin + mark.startTime, page: mark.startTime };
    });
    if (shown === null) throw new Error("the inbox set no start-up mark");
    const appStartMs = shown.at - appStartedAt();
    // Of that, the page's part: from the webview starting to load it.
    const pageMs = shown.page;
    // What the first screen holds, then the peak while scrolling through
    // the list as a user flinging it.
    const first = appTreeRss();
    let peak = first;
    for (let i = 1; i <= 20; i++) {
      await browser.execute((f) => {
        const body = document.querySelector(".inbox-body");
        if (body) body.scrollTop = body.scrollHeight * f;
      }, i / 20);
      await new Promise((r) => setTimeout(r, 100));
      const now = appTreeRss();
      if (now.mib > peak.mib) peak = now;
    }
    const rows = await browser.execute(() => document.querySelectorAll('.inbox-body [role="row"]').length);
    return {
      startMs,
      appStartMs,
      pageMs,
      rssMiB: peak.mib,
      pssMiB: peak.pssMib,
      processes: peak.processes,
      pssByProcess: peak.byProcess,
      firstPssMiB: first.pssMib,
      rowsRendered: rows,
    };
  } finally {
    await app.stop();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const result = {};
for (const [name, home] of [["empty", empty], ["full", full]]) {
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(await measure(home));
  result[name] = {
    start_ms: median(samples.map((s) => s.startMs)),
    app_start_ms: median(samples.map((s) => s.appStartMs)),
    app_start_ms_all: samples.map((s) => Math.round(s.appStartMs)),
    page_ms: median(samples.map((s) => s.pageMs)),
    rss_mib: median(samples.map((s) => s.rssMiB)),
    pss_mib: median(samples.map((s) => s.pssMiB)),
    pss_mib_at_first_rows: median(samples.map((s) => s.firstPssMiB)),
    rows_rendered: samples[0].rowsRendered,
    processes: samples[0].processes,
    pss_mib_by_process: Object.fromEntries(
      Object.keys(samples[0].pssByProcess).map((p) => [p, median(samples.map((s) => s.pssByProcess[p] ?? 0))]),
    ),
  };
}
result.start_ratio = result.full.start_ms / result.empty.start_ms;
result.app_start_ratio = result.full.app_start_ms / result.empty.app_start_ms;
result.rss_ratio = result.full.rss_mib / result.empty.rss_mib;
result.pss_ratio = result.full.pss_mib / result.empty.pss_mib;
const out = path.join(root, "target/bench-summary");
mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, "app.json"), JSON.stringify(result, null, 2));
console.log(JSON.stringify(result, null, 2));
