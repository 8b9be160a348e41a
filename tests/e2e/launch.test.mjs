// Starting the app on one task: `tasklane-app --open-task ID` opens the
// inbox with that task's detail, and starting it again while it runs
// (single instance, one window per home) hands the new task to the
// running window instead of opening a second one.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";

import { comm, descendants, openApp, parentOf, root, screenshot, until } from "./harness.mjs";

const cli = process.env.TASKLANE_CLI ?? path.join(root, "target/debug/tasklane");
const appBin = process.env.TASKLANE_APP ?? path.join(root, "target/debug/tasklane-app");
const home = mkdtempSync(path.join(tmpdir(), "tasklane-e2e-launch-"));
const FIRST = "Protokoll nachführen";
const WANTED = "Beim Start öffnen 起動時に開く";
const LATER = "Danach öffnen 後で開く";
let ids;
let app;

function tasklane(...args) {
  return execFileSync(cli, ["--home", home, ...args], { encoding: "utf8" });
}

before(() => {
  // A home with a local account holding three tasks, made with the CLI.
  tasklane("account", "add", "--kind", "local", "Personal");
  for (const title of [FIRST, WANTED, LATER]) tasklane("create", "--account", "Personal", "--title", title);
  tasklane("sync");
  const { tasks } = JSON.parse(tasklane("list", "--json"));
  ids = Object.fromEntries(tasks.map((t) => [t.title, t.id]));
  assert.ok(ids[WANTED] && ids[LATER], JSON.stringify(ids));
});

after(async () => {
  await app?.stop();
});

async function detailTitle() {
  const title = await app.browser.$('[data-testid="task-title"]');
  return (await title.isExisting()) ? title.getText() : null;
}

test("--open-task on launch opens that task's detail", async () => {
  app = await openApp(["--open-task", String(ids[WANTED])], home);
  await until(async () => (await detailTitle()) === WANTED, `the detail of "${WANTED}"`, 30_000);
  await screenshot(app.browser, "opened-on-launch");
});

test("starting the app again with --open-task shows that task in the running window", async () => {
  const second = spawn(appBin, ["--home", home, "--open-task", String(ids[LATER])], { stdio: "ignore" });
  const code = await new Promise((resolve) => second.once("exit", resolve));
  // The second instance hands its arguments over and leaves.
  assert.equal(code, 0);
  await until(async () => (await detailTitle()) === LATER, `the detail of "${LATER}"`, 30_000);
  const handles = await app.browser.getWindowHandles();
  assert.equal(handles.length, 1, "still one window");
});

test("painting without GPU compositing, the app's own process loads no GL driver (decision 0022)", () => {
  const web = descendants(process.pid).find((pid) => comm(pid) === "WebKitWebProces");
  assert.ok(web !== undefined, "a WebKit web process runs");
  const appPid = parentOf(web);
  assert.equal(comm(appPid), "tasklane-app");
  const maps = (pid) => readFileSync(`/proc/${pid}/maps`, "utf8");
  // Mesa's GL driver, and llvmpipe's LLVM with it. WebKitGTK's web process
  // still needs an EGL display, so on this machine the same pattern finds
  // the driver there: the pattern itself is right.
  const glDriver = /libLLVM|_dri\.so|libGLX_mesa|libEGL_mesa/;
  assert.match(maps(web), glDriver);
  assert.doesNotMatch(maps(appPid), glDriver);
  // JavaScriptCore's small-heap mode reached the web process.
  assert.ok(readFileSync(`/proc/${web}/environ`, "utf8").split("\0").includes("JSC_forceMiniVMMode=true"));
});
