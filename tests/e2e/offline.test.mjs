// Working without the server: the app on the demo accounts of a separate
// `tasklane serve --demo`, which the test stops and starts again. Actions
// queued offline wait visibly, are applied once the server is back, and one
// that another device made impossible meanwhile shows up as a conflict. A
// new assignment raises a desktop notification (asserted on the session
// bus, where a python-dbusmock notification daemon runs) and clicking it
// opens the task.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";

import { openApp, root, screenshot, until } from "./harness.mjs";
import { click, openTask, queueLength, rowTitles } from "./inbox.mjs";

const cli = process.env.TASKLANE_CLI ?? path.join(root, "target/debug/tasklane");
// The other device: a tasklane home whose engine is the server's data.
const other = mkdtempSync(path.join(tmpdir(), "tasklane-e2e-other-"));
// A server-side title carrying markup: it must be shown as text.
const NEW_TITLE = `Rückfrage <img src=x onerror="window.__pwned=3"> Gemeindeschreiber`;
let server;
let url;
let app;
let browser;

/** Starts `tasklane serve --demo` on `addr`; resolves to its root URL. */
function serve(addr) {
  const child = spawn(cli, ["--home", other, "serve", "--demo", "--addr", addr], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const found = out.match(/listening on (http:\/\/[0-9.:]+)/);
      if (found) resolve({ child, url: found[1] });
    });
    child.once("exit", (code) => reject(new Error(`tasklane serve exited with ${code}: ${out}`)));
  });
}

async function stopServer() {
  const exited = new Promise((resolve) => server.child.once("exit", resolve));
  server.child.kill("SIGTERM");
  await exited;
}

/** The other device acts through the CLI on the engine directly. */
function tasklane(...args) {
  return execFileSync(cli, ["--home", other, ...args], { encoding: "utf8" });
}

function bus(...args) {
  return execFileSync("gdbus", ["call", "--session", "--dest", "org.freedesktop.Notifications",
    "--object-path", "/org/freedesktop/Notifications", ...args], { encoding: "utf8" });
}

before(async () => {
  server = await serve("127.0.0.1:0");
  url = server.url;
  app = await openApp(["--demo", "--server", url, "--sync-interval", "5"]);
  browser = app.browser;
  await until(async () => (await rowTitles(browser)).length >= 15, "the demo inbox", 60_000);
});

after(async () => {
  await app?.stop();
  server?.child.kill("SIGTERM");
});

async function offlineAccounts() {
  return browser.execute(() =>
    [...document.querySelectorAll('[data-testid="status-account"][data-online="false"]')].map((e) => e.dataset.account),
  );
}

test("actions queued while the server is down wait, visibly", async () => {
  await stopServer();
  await click(browser, '[data-testid="sync-now"]');
  await until(async () => (await offlineAccounts()).length === 3, "the three server accounts offline");
  await openTask(browser, "Vertrag mit Lieferant Huber AG");
  await (await browser.$('[data-testid="comment-box"]')).setValue("Unterwegs geschrieben, ohne Netz.");
  await click(browser, '[data-testid="comment-submit"]');
  await openTask(browser, "Stellungnahme zum Baugesuch Müller");
  await click(browser, '[data-action="task-transition-open-in-progress"]');
  const submit = await browser.$('[data-testid="action-submit"]');
  if (await submit.isExisting()) await submit.click();
  await until(async () => (await queueLength(browser)) === 2, "two queued actions");
  await click(browser, '[data-testid="outbox-button"]');
  await until(async () => (await browser.$$('[data-testid="outbox-item"]')).length === 2, "two ops in the outbox");
  const states = await browser.execute(() =>
    [...document.querySelectorAll('[data-testid="outbox-item"]')].map((e) => e.dataset.state),
  );
  assert.deepEqual(states, ["pending", "pending"]);
  await screenshot(browser, "offline-outbox");
});

test("back online, the queued actions are applied once, and the one another device preempted is a conflict", async () => {
  // Meanwhile, on another device, hans.muster accepts the same task, and
  // anna.keller assigns him a new one (the CLI on the server's own data).
  tasklane("account", "add", "hans", "--kind", "local", "--user", "hans.muster");
  tasklane("account", "add", "anna", "--kind", "local", "--user", "anna.keller");
  tasklane("sync", "--no-notify", "--account", "hans");
  const listed = JSON.parse(tasklane("list", "--search", "Stellungnahme zum Baugesuch", "--json"));
  const id = String((listed.tasks ?? listed)[0].id);
  tasklane("do", id, "task-transition-open-in-progress");
  tasklane(
    "create", "--account", "anna", "--title", NEW_TITLE,
    "--assignee", "hans.muster", "--process", "ordnungssystem/finanzen/dossier-2",
  );
  tasklane("sync", "--no-notify");
  const callsBefore = bus("--method", "org.freedesktop.DBus.Mock.GetCalls");

  server = await serve(new URL(url).host);
  await click(browser, '[data-testid="sync-now"]');
  await until(async () => (await queueLength(browser)) === 0, "the queue to drain", 60_000);
  const conflicts = await until(async () => {
    const items = await browser.$$('[data-testid="outbox-item"][data-state="conflict"]');
    return items.length === 1 ? items : null;
  }, "one conflict in the outbox");
  assert.ok((await conflicts[0].$('[data-testid="op-error"]').getText()).length > 0, "a reason is shown");
  await screenshot(browser, "conflict");

  // The comment reached GEVER exactly once.
  await openTask(browser, "Vertrag mit Lieferant Huber AG");
  await until(async () => {
    let ours = 0;
    for (const c of await browser.$$('[data-testid="comment"]')) {
      if ((await c.getText()).includes("Unterwegs geschrieben")) {
        if ((await c.$$('[data-testid="comment-pending"]')).length > 0) return false;
        ours += 1;
      }
    }
    return ours === 1;
  }, "the comment confirmed once");

  // The new assignment was announced on the bus...
  const notified = await until(() => {
    const calls = bus("--method", "org.freedesktop.DBus.Mock.GetCalls");
    return calls !== callsBefore && calls.includes("Gemeindeschreiber") ? calls : null;
  }, "the Notify call", 30_000);
  const ids = [...notified.matchAll(/'Notify'/g)].length;
  // ... and clicking it (the daemon says "default" was invoked) opens it.
  bus("--method", "org.freedesktop.DBus.Mock.EmitSignal", "org.freedesktop.Notifications",
    "ActionInvoked", "us", `[<uint32 ${ids}>, <'default'>]`);
  await until(
    async () => (await (await browser.$('[data-testid="task-title"]')).getText()) === NEW_TITLE,
    "the notified task opened",
  );
  // Its title is text everywhere: in the inbox row and the detail.
  assert.ok((await rowTitles(browser)).includes(NEW_TITLE));
  assert.equal(await browser.execute(() => document.querySelectorAll(".inbox-body img, .task-title img").length), 0);
  assert.equal(await browser.execute(() => window.__pwned), null);
  await screenshot(browser, "opened-from-notification");
});
