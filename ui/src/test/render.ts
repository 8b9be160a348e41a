/**
 * Rendering the window the way the shell does, on a fake shell, and
 * finding rows in it.
 */
import { render, screen, waitFor } from "@testing-library/svelte";
import { expect } from "vitest";

import App from "../App.svelte";
import { AppState } from "../lib/state/app.svelte";
import type { FakeShell } from "./fake-shell";

/** Opens the whole window on the fake shell and waits for the first rows. */
export async function openApp(shell: FakeShell, options: { waitForRows?: boolean } = {}) {
  shell.install();
  const app = new AppState();
  const result = render(App, { props: { app } });
  if (options.waitForRows ?? true) {
    await waitFor(() => {
      const rows = screen.getAllByTestId("inbox-row");
      expect(rows.length).toBeGreaterThan(0);
      expect(rows[0]).not.toHaveAttribute("aria-busy");
    });
  } else {
    await waitFor(() => expect(app.ready).toBe(true));
  }
  return { app, ...result };
}

/** The rows shown, by title. */
export function rowTitles(): string[] {
  return screen
    .queryAllByTestId("inbox-row")
    .map((row) => row.querySelector(".title-text")?.textContent ?? "");
}

export function rowByTitle(title: string): HTMLElement {
  const row = screen.getAllByTestId("inbox-row").find((r) => r.querySelector(".title-text")?.textContent === title);
  if (!row) throw new Error(`no row titled ${title}; rows: ${rowTitles().join(" | ")}`);
  return row;
}
