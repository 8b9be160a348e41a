// The demo in the real app window: what a newcomer sees after
// `scripts/run.sh`, driven through the UI like a user would.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { openApp, screenshot, until } from "./harness.mjs";
import { click, openTask, queueLength, rowTitles } from "./inbox.mjs";

let app;
let browser;

before(async () => {
  app = await openApp(["--demo"]);
  browser = app.browser;
  // The first sync of every account fills the inbox.
  await until(async () => (await rowTitles(browser)).length >= 15, "the demo inbox", 60_000);
});

after(async () => {
  await app?.stop();
});

async function search(text) {
  const box = await browser.$('[data-testid="search-box"]');
  await box.click();
  // Select all and delete, as a user would (clearValue sends no input event).
  await browser.keys(["Control", "a"]);
  await browser.keys(["Backspace"]);
  if (text) await box.addValue(text);
}

async function allSent() {
  await until(async () => (await queueLength(browser)) === 0, "the outbox to empty", 60_000);
}

test("the demo inbox shows tasks from the local account and every server dialect", async () => {
  const accounts = await browser.execute(() =>
    [...document.querySelectorAll('.inbox-body [role="row"] .cell-account')].map((e) => e.textContent.trim()),
  );
  for (const name of ["Personal", "GEVER Zürich", "OMFLOW 台北", "CSCIW 東京"]) {
    assert.ok(accounts.includes(name), `${name} in ${accounts}`);
  }
  await screenshot(browser, "inbox");
});

test("searching in Chinese and in Japanese finds the tasks", async () => {
  await search("請款");
  await until(async () => {
    const titles = await rowTitles(browser);
    return titles.length === 3 && titles.every((t) => t.includes("請款"));
  }, "three 請款 tasks");
  await screenshot(browser, "search-chinese");
  await search("請求書");
  await until(async () => {
    const titles = await rowTitles(browser);
    return titles.length === 1 && titles[0].includes("作業者実行");
  }, "the Hitachi task");
  await search("");
  await until(async () => (await rowTitles(browser)).length >= 15, "the whole inbox again");
});

test("a comment with HTML and script is shown as text, runs nothing, and reaches GEVER", async () => {
  await openTask(browser, "Vertrag mit Lieferant Huber AG");
  const payload = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> Bitte prüfen`;
  const box = await browser.$('[data-testid="comment-box"]');
  await box.setValue(payload);
  await click(browser, '[data-testid="comment-submit"]');
  const comment = await until(async () => {
    for (const c of await browser.$$('[data-testid="comment"]')) {
      if ((await c.getText()).includes("Bitte prüfen")) return c;
    }
    return null;
  }, "the new comment");
  assert.ok((await comment.getText()).includes(payload), await comment.getText());
  assert.equal((await comment.$$("img")).length, 0);
  assert.equal(await browser.execute(() => window.__pwned), null);
  await allSent();
  // Looked up afresh: the confirmed comment is rendered anew, so the
  // element found above may be gone.
  await until(
    () =>
      browser.execute(() => {
        const found = [...document.querySelectorAll('[data-testid="comment"]')].find((c) =>
          c.textContent.includes("Bitte prüfen"),
        );
        return Boolean(found) && !found.querySelector('[data-testid="comment-pending"]');
      }),
    "the comment confirmed",
  );
  await screenshot(browser, "task-detail");
});

test("accepting a GEVER task queues the transition and the server applies it", async () => {
  await openTask(browser, "Stellungnahme zum Baugesuch Müller");
  await click(browser, '[data-action="task-transition-open-in-progress"]');
  const submit = await browser.$('[data-testid="action-submit"]');
  if (await submit.isExisting()) await submit.click();
  await allSent();
  await until(async () => {
    const row = await browser.$(`//div[@role="row"][.//*[contains(., "Stellungnahme zum Baugesuch")]]`);
    return (await row.getText()).includes("In progress");
  }, "the task in progress");
});

/** The text of each cell of the row titled `title`, by column, or null. */
async function rowCells(title) {
  return browser.execute((wanted) => {
    const rows = [...document.querySelectorAll('.inbox-body [role="row"]')];
    const row = rows.find((r) => r.querySelector(".cell-title")?.textContent.includes(wanted));
    if (!row) return null;
    const cells = {};
    for (const cell of row.querySelectorAll(".cell")) {
      const column = [...cell.classList].find((c) => c.startsWith("cell-"))?.slice(5);
      if (column) cells[column] = cell.textContent.trim();
    }
    return cells;
  }, title);
}

test("claim next takes an unassigned task from the user's GEVER inbox", async () => {
  const title = "Review: Änderung Personalreglement";
  await openTask(browser, title);
  // Group work: nobody is responsible yet, the org unit's inbox is.
  assert.equal((await rowCells(title)).assignee, "inbox:fd");
  await click(browser, '[data-testid="claim-next"]');
  // The open task and every Hitachi lane are offered; this one is taken by
  // the action GEVER offers for it (accept).
  const choice = await until(async () => {
    for (const c of await browser.$$('[data-testid="claim-choice"]')) {
      if ((await c.getText()).includes(title)) return c;
    }
    return null;
  }, "the task among the claim choices");
  await choice.click();
  await allSent();
  let cells = null;
  await until(async () => {
    cells = await rowCells(title);
    return cells?.assignee === "hans.muster" && cells.state === "In progress";
  }, "the task claimed by hans.muster and in progress", 30_000).catch((e) => {
    throw new Error(`${e.message}; the row: ${JSON.stringify(cells)}`);
  });
  const failed = await browser.execute(() => document.querySelectorAll('[data-state="failed"], [data-state="conflict"]').length);
  assert.equal(failed, 0);
});

test("an OMFLOW quick action and a form push are sent", async () => {
  await openTask(browser, "辦公用品請款單");
  await click(browser, '[data-action="action1"]');
  const submit = await browser.$('[data-testid="action-submit"]');
  if (await submit.isExisting()) await submit.click();
  await allSent();
  // The ticket moved on to its next stop: no longer the user's.
  await until(async () => !(await rowTitles(browser)).some((t) => t.includes("辦公用品請款單")), "the ticket to move on");
  await openTask(browser, "客戶合約變更申請");
  await click(browser, '[data-action="push"]');
  const form = await browser.$('[data-testid="action-form"]');
  await form.waitForExist();
  // The form refuses to send without its required fields.
  await (await browser.$('[data-testid="action-submit"]')).click();
  assert.ok((await browser.$$('[data-testid="field-error"], [aria-invalid="true"]')).length > 0, "required fields flagged");
  for (const input of await form.$$('[aria-required="true"]')) {
    if (!(await input.getValue())) await input.setValue("12000");
  }
  await screenshot(browser, "omflow-push");
  await (await browser.$('[data-testid="action-submit"]')).click();
  await allSent();
  await until(async () => !(await rowTitles(browser)).some((t) => t.includes("客戶合約變更申請")), "the pushed ticket to move on");
  const failed = await browser.execute(() => document.querySelectorAll('[data-state="failed"], [data-state="conflict"]').length);
  assert.equal(failed, 0);
});

test("claim next takes an item from a Hitachi lane", async () => {
  const before = (await rowTitles(browser)).length;
  await (await browser.$('[data-testid="claim-next"]')).click();
  const choices = await browser.$$('[data-testid="claim-choice"]');
  for (const choice of choices) {
    if ((await choice.getText()).includes("CSCIW")) {
      await choice.click();
      break;
    }
  }
  await allSent();
  await until(async () => (await rowTitles(browser)).length > before, "the claimed item in the inbox", 30_000);
});

test("the outbox and the accounts have their views", async () => {
  await (await browser.$('[data-testid="outbox-button"]')).click();
  await screenshot(browser, "outbox");
  await (await browser.$('[data-testid="accounts-button"]')).click();
  await until(async () => (await browser.$$('[data-testid="account-card"]')).length === 4, "four accounts");
  await screenshot(browser, "accounts");
});
