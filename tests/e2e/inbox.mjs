// What the end-to-end tests do with the inbox and the task detail, as a
// user would: shared by the test files that drive the app window.
import { until } from "./harness.mjs";

/** The titles of the inbox rows rendered now. */
export async function rowTitles(browser) {
  return browser.execute(() =>
    [...document.querySelectorAll('.inbox-body [role="row"] .cell-title')].map((e) => e.textContent.trim()),
  );
}

/**
 * Clicks an element once it is there and can take the click (WebdriverIO
 * scrolls it into view to check): the detail pane's buttons may be below
 * its visible part in the test window.
 */
export async function click(browser, selector) {
  const element = await browser.$(selector);
  await element.waitForClickable({ timeout: 15_000 });
  await element.click();
}

/** Opens the task titled `title` from the inbox and waits for its detail. */
export async function openTask(browser, title) {
  await until(async () => (await rowTitles(browser)).some((t) => t.includes(title)), `a row "${title}"`);
  await click(browser, `//div[@role="row"]//*[contains(@class,"cell-title")][contains(., "${title}")]`);
  await until(
    async () => (await (await browser.$('[data-testid="task-title"]')).getText()).includes(title),
    `the detail of "${title}"`,
  );
}

/** The number of actions waiting in the outbox, from the status bar. */
export async function queueLength(browser) {
  const text = await (await browser.$('[data-testid="status-queue"]')).getText();
  return Number.parseInt(text, 10);
}
