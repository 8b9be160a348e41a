import { screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { describe, expect, test } from "vitest";

import { demoShell } from "./test/fixtures";
import { openApp } from "./test/render";

async function setup() {
  const user = userEvent.setup();
  const shell = demoShell();
  const result = await openApp(shell);
  const grid = screen.getByTestId("inbox-list");
  const rows = () => screen.getAllByTestId("inbox-row");
  const ids = rows().map((r) => Number(r.dataset["taskId"]));
  return { user, shell, grid, rows, ids, ...result };
}

describe("keyboard", () => {
  test("j and k move through the list; the grid follows with aria-activedescendant", async () => {
    const { user, grid, ids, app } = await setup();
    await user.keyboard("j");
    expect(app.inbox.cursor).toBe(ids[0]);
    expect(grid).toHaveAttribute("aria-activedescendant", `task-row-${ids[0]}`);
    expect(grid).toHaveFocus();
    await user.keyboard("jj");
    expect(app.inbox.cursor).toBe(ids[2]);
    await user.keyboard("k");
    expect(app.inbox.cursor).toBe(ids[1]);
    expect(screen.getAllByTestId("inbox-row").find((r) => r.dataset["taskId"] === String(ids[1]))).toHaveAttribute(
      "aria-selected",
      "true",
    );
    // Arrow keys do the same while the list has the focus.
    await user.keyboard("{ArrowDown}");
    expect(app.inbox.cursor).toBe(ids[2]);
  });

  test("Enter opens the task, j/k then follow in the open panel, Escape closes it", async () => {
    const { user, ids, app } = await setup();
    await user.keyboard("j{Enter}");
    const panel = await screen.findByTestId("task-detail");
    await waitFor(() => expect(app.detail.task?.id).toBe(ids[0]));
    await user.keyboard("j");
    await waitFor(() => expect(app.detail.task?.id).toBe(ids[1]));
    expect(panel).toBeInTheDocument();
    await user.keyboard("{Escape}");
    expect(screen.queryByTestId("task-detail")).toBeNull();
    expect(screen.getByTestId("inbox-list")).toHaveFocus();
  });

  test("/ focuses the search box, and keys typed there are text", async () => {
    const { user, app } = await setup();
    await user.keyboard("/");
    const box = screen.getByTestId("search-box");
    expect(box).toHaveFocus();
    await user.keyboard("jk");
    expect(box).toHaveValue("jk");
    expect(app.inbox.cursor).toBeNull();
  });

  test("x and Shift+J build a selection; Escape clears it", async () => {
    const { user, app, ids } = await setup();
    await user.keyboard("jx");
    expect(app.inbox.selected.size).toBe(0);
    await user.keyboard("x");
    expect([...app.inbox.selected]).toEqual([ids[0]]);
    await user.keyboard("{Shift>}JJ{/Shift}");
    expect(app.inbox.selectedIds).toEqual(ids.slice(0, 3));
    await user.keyboard("{Escape}");
    expect(app.inbox.selected.size).toBe(0);
  });

  test("Ctrl+A selects all tasks", async () => {
    const { user, app, ids, grid } = await setup();
    grid.focus();
    await user.keyboard("{Control>}a{/Control}");
    expect(app.inbox.selected.size).toBe(ids.length);
  });

  test("number keys run the open task's actions; c goes to the comment box", async () => {
    const { user, shell, app, ids } = await setup();
    const index = ids.indexOf(3);
    await user.keyboard("j".repeat(index + 1));
    await user.keyboard("{Enter}");
    await waitFor(() => expect(app.detail.task?.id).toBe(3));
    await screen.findAllByTestId("action-button");
    await user.keyboard("2");
    await waitFor(() => expect(shell.callsOf("queue_op")[0]?.["request"]).toEqual({ op: "quick_action", action: "action1" }));
    await user.keyboard("c");
    await waitFor(() => expect(screen.getByTestId("comment-box")).toHaveFocus());
    // "c" was a command, not text.
    expect(screen.getByTestId("comment-box")).toHaveValue("");
  });

  test("? lists every shortcut; Escape closes the list", async () => {
    const { user } = await setup();
    await user.keyboard("?");
    const help = await screen.findByTestId("shortcuts-help");
    expect(help).toHaveAttribute("role", "dialog");
    for (const text of ["Next task", "Open the task", "Search", "Claim next", "Show the outbox", "Show this list"]) {
      expect(within(help).getByText(text)).toBeInTheDocument();
    }
    await user.keyboard("{Escape}");
    expect(screen.queryByTestId("shortcuts-help")).toBeNull();
  });

  test("u opens the outbox and s syncs", async () => {
    const { user, shell } = await setup();
    await user.keyboard("u");
    expect(await screen.findByTestId("outbox-panel")).toBeInTheDocument();
    await user.keyboard("s");
    await waitFor(() => expect(shell.callsOf("sync_now")).toEqual([{ account: null }]));
  });

  test("a number key opens an action's form with the focus in it; Ctrl+Enter queues it", async () => {
    const { user, shell, app, ids } = await setup();
    await user.keyboard("j".repeat(ids.indexOf(2) + 1) + "{Enter}");
    await waitFor(() => expect(app.detail.task?.id).toBe(2));
    await screen.findAllByTestId("action-button");
    await user.keyboard("1");
    const comment = await screen.findByLabelText("Kommentar");
    await waitFor(() => expect(comment).toHaveFocus());
    await user.keyboard("Wird gemacht!{Control>}{Enter}{/Control}");
    await waitFor(() =>
      expect(shell.callsOf("queue_op")[0]?.["request"]).toEqual({
        op: "transition",
        transition: "task-transition-open-in-progress",
        text: "Wird gemacht!",
        params: {},
      }),
    );
  });
});
