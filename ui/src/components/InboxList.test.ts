import { fireEvent, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { describe, expect, test, vi } from "vitest";

import type { Query } from "../lib/bindings/Query";
import type { TaskRow } from "../lib/bindings/TaskRow";
import { ROW_CACHE_LIMIT } from "../lib/state/inbox.svelte";
import { INBOX_SHOWN } from "./InboxList.svelte";
import { account, FakeShell, task, toRow } from "../test/fake-shell";
import { demoShell } from "../test/fixtures";
import { openApp, rowByTitle, rowTitles } from "../test/render";

const lastQuery = (shell: FakeShell) => shell.callsOf("task_ids").at(-1)?.["query"] as Query;

describe("the inbox list", () => {
  test("shows each task with title, state, account, process, assignee or group, deadline and priority", async () => {
    await openApp(demoShell());
    const cells = within(rowByTitle("Stellungnahme zum Baugesuch Müller"))
      .getAllByRole("gridcell")
      .map((c) => c.textContent?.trim());
    expect(cells.slice(1)).toEqual([
      "Stellungnahme zum Baugesuch Müller",
      "Open",
      "zurich",
      "Dossier Bauamt 2026-041",
      "hans.muster",
      "Nov 28, 2026",
      "2",
    ]);
    // A group task shows its group where the assignee would be.
    expect(within(rowByTitle("採購申請：筆記型電腦 ×3")).getByText("資訊部")).toBeInTheDocument();
  });

  test("marks tasks with queued actions (*) and with failed or conflicting ones (!)", async () => {
    const shell = demoShell();
    await openApp(shell);
    const marked = screen.getAllByTestId("inbox-row").find((r) => r.dataset["taskId"] === "6")!;
    expect(within(marked).getByTestId("pending-marker")).toHaveAccessibleName("1 action waiting to be sent");
    expect(within(marked).getByTestId("attention-marker")).toHaveAccessibleName("1 action failed or in conflict");
    expect(within(rowByTitle("Buy train ticket to Bern")).queryByTestId("pending-marker")).toBeNull();
  });

  test("highlights deadlines that have passed on tasks still open", async () => {
    await openApp(demoShell());
    const overdue = within(rowByTitle("作業者実行：請求書確認")).getByRole("time");
    expect(overdue).toHaveAttribute("data-overdue", "true");
    expect(overdue).toHaveTextContent("overdue");
    expect(within(rowByTitle("Buy train ticket to Bern")).getByRole("time")).not.toHaveAttribute("data-overdue");
  });

  test("sorts by a column when its header is clicked, and reverses on a second click", async () => {
    const shell = demoShell();
    await openApp(shell);
    const header = screen.getByTestId("sort-title");

    const before = (a: string, b: string) => rowTitles().indexOf(a) < rowTitles().indexOf(b);

    await fireEvent.click(header);
    await waitFor(() => expect(lastQuery(shell).order).toEqual(["title"]));
    expect(header.closest("[role=columnheader]")).toHaveAttribute("aria-sort", "ascending");
    await waitFor(() => expect(before("Buy train ticket to Bern", "Stellungnahme zum Baugesuch Müller")).toBe(true));

    await fireEvent.click(header);
    await waitFor(() => expect(lastQuery(shell).order).toEqual(["-title"]));
    expect(header.closest("[role=columnheader]")).toHaveAttribute("aria-sort", "descending");
    await waitFor(() => expect(before("Stellungnahme zum Baugesuch Müller", "Buy train ticket to Bern")).toBe(true));
  });

  test("marks the end of start-up once, when the first rows are on screen", async () => {
    performance.clearMarks(INBOX_SHOWN);
    const shell = demoShell();
    await openApp(shell);
    await waitFor(() => expect(performance.getEntriesByName(INBOX_SHOWN)).toHaveLength(1));
    expect(rowTitles().length).toBeGreaterThan(0);
    // Reloading the list later is not another start.
    await fireEvent.click(screen.getByTestId("sort-title"));
    await waitFor(() => expect(lastQuery(shell).order).toEqual(["title"]));
    expect(performance.getEntriesByName(INBOX_SHOWN)).toHaveLength(1);
  });

  test("marks the end of start-up on an empty inbox too", async () => {
    performance.clearMarks(INBOX_SHOWN);
    await openApp(new FakeShell({ accounts: [account(1, "personal", "local", "me")] }), { waitForRows: false });
    await waitFor(() => expect(performance.getEntriesByName(INBOX_SHOWN)).toHaveLength(1));
  });

  test("keeps only one header marked as sorted", async () => {
    const shell = demoShell();
    await openApp(shell);
    await fireEvent.click(screen.getByTestId("sort-priority"));
    await fireEvent.click(screen.getByTestId("sort-deadline"));
    await waitFor(() => expect(lastQuery(shell).order).toEqual(["deadline", "priority"]));
    expect(screen.getByTestId("sort-priority").closest("[role=columnheader]")).toHaveAttribute("aria-sort", "none");
  });
});

describe("search", () => {
  test("finds Chinese and Japanese text as the user types, after a short pause", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    await openApp(shell);
    const before = shell.callsOf("task_ids").length;

    await user.type(screen.getByTestId("search-box"), "審核");
    await waitFor(() => expect(lastQuery(shell).search).toBe("審核"));
    // Typed quickly, the two characters make one query, not two.
    expect(shell.callsOf("task_ids").length).toBe(before + 1);
    await waitFor(() => expect(rowTitles()).toEqual(["審核通過 請款單 #1024"]));

    await user.clear(screen.getByTestId("search-box"));
    await user.type(screen.getByTestId("search-box"), "作業");
    await waitFor(() => expect(rowTitles()).toEqual(["作業者実行：請求書確認"]));
  });

  test("waits while an input method is composing", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const shell = demoShell();
      await openApp(shell);
      const box = screen.getByTestId("search-box");
      const before = shell.callsOf("task_ids").length;
      await fireEvent.compositionStart(box);
      await fireEvent.input(box, { target: { value: "しんさ" } });
      await vi.advanceTimersByTimeAsync(500);
      expect(shell.callsOf("task_ids").length).toBe(before);
      await fireEvent.input(box, { target: { value: "審査" } });
      await fireEvent.compositionEnd(box);
      await vi.advanceTimersByTimeAsync(500);
      await waitFor(() => expect(lastQuery(shell).search).toBe("審査"));
    } finally {
      vi.useRealTimers();
    }
  });

  test("Escape in the search box clears the search", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    await openApp(shell);
    await user.type(screen.getByTestId("search-box"), "Bern");
    await waitFor(() => expect(rowTitles()).toEqual(["Buy train ticket to Bern"]));
    await user.keyboard("{Escape}");
    expect(screen.getByTestId("search-box")).toHaveValue("");
    await waitFor(() => expect(rowTitles().length).toBeGreaterThan(1));
  });
});

describe("the filter bar", () => {
  test("adds a condition from column, operator and value, and removes it again", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    await openApp(shell);

    await user.click(screen.getByTestId("add-filter"));
    await user.selectOptions(screen.getByTestId("filter-column"), "account");
    await user.selectOptions(screen.getByTestId("filter-op"), "=");
    await user.type(screen.getByTestId("filter-value"), "taipei");
    await user.click(screen.getByTestId("filter-apply"));

    await waitFor(() =>
      expect(lastQuery(shell).conditions).toContainEqual({ column: "account", op: "=", value: "taipei" }),
    );
    await waitFor(() => expect(rowTitles().sort()).toEqual(["審核通過 請款單 #1024", "採購申請：筆記型電腦 ×3"].sort()));
    const chip = screen.getAllByTestId("filter-chip").find((c) => c.textContent?.includes("taipei"))!;
    expect(chip).toHaveTextContent("Account is taipei");

    await user.click(within(chip).getByRole("button", { name: /Remove filter/ }));
    await waitFor(() => expect(rowTitles().length).toBeGreaterThan(2));
  });

  test("turns numbers and lists into typed values and refuses a bad number", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    await openApp(shell);
    await user.click(screen.getByTestId("add-filter"));
    await user.selectOptions(screen.getByTestId("filter-column"), "priority");
    await user.selectOptions(screen.getByTestId("filter-op"), ">=");
    await user.type(screen.getByTestId("filter-value"), "zwei");
    await user.click(screen.getByTestId("filter-apply"));
    expect(screen.getByRole("alert")).toHaveTextContent("Enter a whole number.");
    // What was typed stays for correcting.
    expect(screen.getByTestId("filter-value")).toHaveValue("zwei");

    await user.clear(screen.getByTestId("filter-value"));
    await user.type(screen.getByTestId("filter-value"), "2");
    await user.click(screen.getByTestId("filter-apply"));
    await waitFor(() => expect(lastQuery(shell).conditions).toContainEqual({ column: "priority", op: ">=", value: 2 }));
  });

  test("adds exclusions", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    await openApp(shell);
    await user.click(screen.getByTestId("add-filter"));
    await user.selectOptions(screen.getByTestId("filter-column"), "account");
    await user.selectOptions(screen.getByTestId("filter-op"), "=");
    await user.type(screen.getByTestId("filter-value"), "zurich");
    await user.click(screen.getByTestId("filter-exclude"));
    await user.click(screen.getByTestId("filter-apply"));
    await waitFor(() => expect(lastQuery(shell).exclusions).toContainEqual({ column: "account", op: "=", value: "zurich" }));
    await waitFor(() => expect(rowTitles()).not.toContain("Stellungnahme zum Baugesuch Müller"));
  });

  test("shows a query the replica refuses without losing the filters", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    await openApp(shell);
    shell.fail("task_ids", { kind: "invalid", message: "invalid query: condition \"deadline < soon\": not a date" });
    await user.click(screen.getByTestId("add-filter"));
    await user.selectOptions(screen.getByTestId("filter-column"), "deadline");
    await user.selectOptions(screen.getByTestId("filter-op"), "<");
    await user.type(screen.getByTestId("filter-value"), "soon");
    await user.click(screen.getByTestId("filter-apply"));
    expect(await screen.findByText(/not a date/)).toBeInTheDocument();
    expect(screen.getAllByTestId("filter-chip").map((c) => c.textContent)).toContainEqual(
      expect.stringContaining("Deadline before / below soon"),
    );
  });
});

describe("selection and bulk actions", () => {
  test("click selects one, ctrl/cmd-click adds, shift-click selects a range, the header box selects all", async () => {
    await openApp(demoShell());
    const rows = () => screen.getAllByTestId("inbox-row");
    const selected = () => rows().filter((r) => r.getAttribute("aria-selected") === "true").map((r) => r.dataset["taskId"]);
    const order = rows().map((r) => r.dataset["taskId"]);

    const click = (i: number, mods: Record<string, boolean> = {}) =>
      fireEvent.click(rows()[i]!.querySelector(".cell-title")!, mods);

    await click(1);
    expect(selected()).toEqual([order[1]]);
    await click(3, { shiftKey: true });
    expect(selected()).toEqual(order.slice(1, 4));
    await click(5, { ctrlKey: true });
    expect(selected()).toEqual([...order.slice(1, 4), order[5]]);
    await click(2, { metaKey: true });
    expect(selected()).toEqual([order[1], order[3], order[5]]);
    // A plain click starts over.
    await click(0);
    expect(selected()).toEqual([order[0]]);

    await fireEvent.click(screen.getByTestId("select-all"));
    expect(selected()).toEqual(order);
    expect(screen.getByTestId("bulk-bar")).toHaveTextContent(`${order.length} tasks selected`);
  });

  test("comments on every selected task with one op per task and reports the tasks that failed", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    await openApp(shell);
    await fireEvent.click(rowByTitle("Buy train ticket to Bern").querySelector(".cell-title")!);
    await fireEvent.click(rowByTitle("審核通過 請款單 #1024").querySelector(".cell-title")!, { ctrlKey: true });
    await fireEvent.click(rowByTitle("作業者実行：請求書確認").querySelector(".cell-title")!, { ctrlKey: true });
    shell.overrides.set("queue_ops", (args) => {
      const items = args["items"] as { account: string; taskId: number }[];
      return items.map((item) =>
        item.account === "osaka"
          ? { error: { kind: "invalid", message: "the server offers no comments on work items" } }
          : { ok: shell.queue(item as never) },
      );
    });

    await user.click(screen.getByTestId("bulk-comment"));
    await user.type(screen.getByTestId("bulk-comment-box"), "Erledigt bis Freitag");
    await user.click(screen.getByTestId("bulk-comment-submit"));

    const result = await screen.findByTestId("bulk-result");
    const items = shell.callsOf("queue_ops")[0]?.["items"] as unknown[];
    expect(items).toHaveLength(3);
    expect(items).toContainEqual({ account: "taipei", taskId: 3, request: { op: "comment_add", text: "Erledigt bis Freitag" } });
    expect(result).toHaveTextContent("Queued for 2 of 3 tasks.");
    const failures = within(result).getAllByTestId("bulk-failure");
    expect(failures).toHaveLength(1);
    expect(failures[0]).toHaveTextContent("作業者実行：請求書確認 — the server offers no comments on work items");
  });

  test("runs an offered transition on the tasks that offer it and reports the others", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    await openApp(shell);
    await fireEvent.click(rowByTitle("Stellungnahme zum Baugesuch Müller").querySelector(".cell-title")!);
    await fireEvent.click(screen.getAllByTestId("inbox-row").find((r) => r.dataset["taskId"] === "6")!.querySelector(".cell-title")!, {
      ctrlKey: true,
    });
    await fireEvent.click(rowByTitle("Buy train ticket to Bern").querySelector(".cell-title")!, { ctrlKey: true });

    await user.click(screen.getByTestId("bulk-transition"));
    const bar = screen.getByTestId("bulk-bar");
    const accept = await within(bar).findByRole("button", { name: /Akzeptieren/ });
    expect(accept).toHaveTextContent("offered on 2 of 3");
    await user.click(accept);
    // Its comment parameter is optional: the form can be sent as it is.
    await user.click(await within(bar).findByTestId("action-submit"));

    const result = await screen.findByTestId("bulk-result");
    const items = shell.callsOf("queue_ops")[0]?.["items"] as { taskId: number; request: unknown }[];
    expect(items.map((i) => i.taskId).sort()).toEqual([2, 6]);
    expect(items[0]?.request).toEqual({ op: "transition", transition: "task-transition-open-in-progress", text: null, params: {} });
    expect(result).toHaveTextContent("Queued for 2 of 3 tasks.");
    expect(within(result).getByTestId("bulk-failure")).toHaveTextContent("Buy train ticket to Bern — “Akzeptieren” is not offered on this task");
  });

  test("claims the selected group tasks through the action each one offers", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    await openApp(shell);
    const six = () => screen.getAllByTestId("inbox-row").find((r) => r.dataset["taskId"] === "6")!;
    await fireEvent.click(six().querySelector(".cell-title")!);
    await fireEvent.click(rowByTitle("採購申請：筆記型電腦 ×3").querySelector(".cell-title")!, { ctrlKey: true });
    await user.click(screen.getByTestId("bulk-claim"));
    const result = await screen.findByTestId("bulk-result");
    const items = shell.callsOf("queue_ops")[0]?.["items"] as { taskId: number; request: { transition?: string } }[];
    expect(items).toEqual([
      { account: "zurich", taskId: 6, request: { op: "transition", transition: "task-transition-open-in-progress", text: null, params: {} } },
    ]);
    expect(within(result).getByTestId("bulk-failure")).toHaveTextContent("The server offers no way to claim this task");
  });
});

describe("a large inbox", () => {
  function bigShell(count: number) {
    const shell = new FakeShell({ accounts: [account(1, "personal", "local", "me")] });
    const ids = Array.from({ length: count }, (_, i) => i + 1);
    const row = (id: number): TaskRow => toRow(task({ id, account: "personal", title: `Task ${id}` }));
    shell.overrides.set("task_ids", () => ids);
    shell.overrides.set("tasks_by_id", (args) => (args["ids"] as number[]).map(row));
    return shell;
  }

  test("renders only the visible rows of 100,000 and fetches rows for the visible window", async () => {
    const shell = bigShell(100_000);
    await openApp(shell);
    const grid = screen.getByTestId("inbox-list");
    expect(grid).toHaveAttribute("aria-rowcount", "100001");
    expect(screen.getAllByTestId("inbox-row").length).toBeLessThan(60);
    const fetched = shell.callsOf("tasks_by_id").flatMap((a) => a["ids"] as number[]);
    expect(fetched.length).toBeLessThan(120);
    expect(Math.max(...fetched)).toBeLessThan(120);

    const body = grid.querySelector<HTMLElement>(".inbox-body")!;
    body.scrollTop = 36 * 60_000;
    await fireEvent.scroll(body);
    await waitFor(() => expect(rowTitles()).toContain("Task 60001"));
    const later = shell.callsOf("tasks_by_id").at(-1)?.["ids"] as number[];
    expect(Math.min(...later)).toBeGreaterThan(59_000);
    expect(screen.getAllByTestId("inbox-row").length).toBeLessThan(60);
  });

  test("keeps the row cache small while scrolling far", { timeout: 20_000 }, async () => {
    const shell = bigShell(100_000);
    const { app } = await openApp(shell);
    const body = screen.getByTestId("inbox-list").querySelector<HTMLElement>(".inbox-body")!;
    for (let i = 1; i <= 12; i++) {
      body.scrollTop = 36 * i * 7000;
      await fireEvent.scroll(body);
      await waitFor(() => expect(rowTitles()).toContain(`Task ${i * 7000 + 1}`));
    }
    expect(app.inbox.rows.size).toBeLessThanOrEqual(ROW_CACHE_LIMIT);
  });
});

describe("changes from the replica", () => {
  test("replica-changed refreshes the changed rows and the list", async () => {
    const shell = demoShell();
    await openApp(shell);
    shell.tasks.find((t) => t.id === 1)!.title = "Buy train ticket to Basel";
    await shell.emit("replica-changed", { tasks: [1] });
    await waitFor(() => expect(rowTitles()).toContain("Buy train ticket to Basel"));
  });

  test("replica-changed with null reloads everything", async () => {
    const shell = demoShell();
    await openApp(shell);
    shell.tasks.push(task({ id: 99, account: "personal", title: "Neu vom Server" }));
    await shell.emit("replica-changed", { tasks: null });
    await waitFor(() => expect(rowTitles()).toContain("Neu vom Server"));
  });
});

describe("saved views", () => {
  test("applies a built-in view by its translated name", async () => {
    const shell = demoShell();
    await openApp(shell);
    expect(screen.getByTestId("view-inbox")).toHaveTextContent("Inbox");
    await fireEvent.click(screen.getByTestId("view-overdue"));
    await waitFor(() => expect(lastQuery(shell).conditions).toEqual([{ column: "deadline", op: "<", value: "today" }]));
    expect(screen.getByTestId("view-overdue")).toHaveAttribute("aria-current", "page");
  });

  test("saves the current query as a view and deletes it again", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    await openApp(shell);
    await user.type(screen.getByTestId("search-box"), "審核");
    await waitFor(() => expect(lastQuery(shell).search).toBe("審核"));

    await user.click(screen.getByTestId("save-view"));
    await user.type(screen.getByTestId("view-name"), "Taipei review");
    await user.click(screen.getByTestId("view-save"));

    const saved = shell.callsOf("view_save")[0]?.["view"] as { id: string; name: string; query: Query; builtin: boolean };
    expect(saved).toMatchObject({ name: "Taipei review", builtin: false });
    expect(saved.query.search).toBe("審核");
    const button = await screen.findByTestId(`view-${saved.id}`);
    expect(button).toHaveAttribute("aria-current", "page");

    await user.click(screen.getByTestId(`delete-view-${saved.id}`));
    await user.click(screen.getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(screen.queryByTestId(`view-${saved.id}`)).toBeNull());
    expect(shell.callsOf("view_delete")).toEqual([{ id: saved.id }]);
    // Built-in views offer no delete button.
    expect(screen.queryByTestId("delete-view-inbox")).toBeNull();
  });
});

describe("first start", () => {
  test("an empty personal list offers to add a server", async () => {
    const user = userEvent.setup();
    const shell = new FakeShell({ accounts: [account(1, "personal", "local", "me")] });
    await openApp(shell, { waitForRows: false });
    const empty = await screen.findByTestId("empty-inbox");
    expect(empty).toHaveTextContent("Your personal list is empty");
    await user.click(within(empty).getByTestId("add-server"));
    expect(await screen.findByTestId("account-form")).toBeInTheDocument();
  });
});
