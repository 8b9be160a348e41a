import { fireEvent, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, test } from "vitest";

import { demoShell, XSS_COMMENT, XSS_TITLE } from "../test/fixtures";
import type { FakeShell } from "../test/fake-shell";
import { openApp, rowByTitle } from "../test/render";

declare global {
  interface Window {
    __pwned?: string;
  }
}

afterEach(() => {
  delete window.__pwned;
});

async function openTask(shell: FakeShell, id: number) {
  const { app } = await openApp(shell);
  await app.openTask(id);
  const panel = await screen.findByTestId("task-detail");
  await waitFor(() => expect(within(panel).getByTestId("task-title")).toBeInTheDocument());
  return { app, panel };
}

describe("server text in the detail view", () => {
  test("a title and a comment carrying script payloads are shown as text and run nothing", async () => {
    const shell = demoShell();
    const { panel } = await openTask(shell, 6);
    const title = within(panel).getByTestId("task-title");
    expect(title.textContent).toBe(XSS_TITLE);
    expect(title.querySelector("img, script")).toBeNull();
    // The same title in the list is text too.
    const row = screen.getAllByTestId("inbox-row").find((r) => r.dataset["taskId"] === "6")!;
    expect(row.querySelector(".title-text")?.textContent).toBe(XSS_TITLE);
    expect(row.querySelector("img, script")).toBeNull();

    await fireEvent.click(rowByTitle("Stellungnahme zum Baugesuch Müller").querySelector(".cell-title")!);
    const comment = await within(panel).findByText(XSS_COMMENT);
    expect(comment.tagName).toBe("P");
    expect(comment.querySelector("img, b")).toBeNull();
    expect(window.__pwned).toBeUndefined();
  });

  test("an HTML description (GEVER rendered_text) is sanitized before it is shown", async () => {
    const { panel } = await openTask(demoShell(), 2);
    const description = within(panel).getByTestId("description");
    expect(description.querySelector("strong")).toHaveTextContent("prüfen");
    expect(description.querySelector("img, script")).toBeNull();
    const link = within(description).getByText("Link");
    expect(link.getAttribute("href") ?? "").not.toMatch(/javascript:/i);
    expect(description.innerHTML).not.toMatch(/onerror/i);
    await new Promise((r) => setTimeout(r, 20));
    expect(window.__pwned).toBeUndefined();
  });

  test("a plain-text description containing markup is shown as text", async () => {
    const shell = demoShell();
    const t = shell.tasks.find((x) => x.id === 1)!;
    t.description = "<b>not bold</b> <img src=x onerror=\"window.__pwned='text'\">";
    const { panel } = await openTask(shell, 1);
    const description = within(panel).getByTestId("description");
    expect(description.textContent).toBe(t.description);
    expect(description.querySelector("b, img")).toBeNull();
    expect(window.__pwned).toBeUndefined();
  });
});

describe("fields, history and related tasks", () => {
  test("says which state queued actions are expected to bring", async () => {
    const shell = demoShell();
    Object.assign(shell.tasks.find((x) => x.id === 2)!, { state: "in_progress", server_state: "open", pending: 1 });
    const { panel } = await openTask(shell, 2);
    expect(within(panel).getByTestId("expected-state")).toHaveTextContent(
      "Expected In progress once the queued actions are sent; the server still says Open.",
    );
    expect(within(panel).getAllByTestId("pending-marker").length).toBeGreaterThan(0);
  });

  test("shows the task's fields, history and subtasks", async () => {
    const { panel, app } = await openTask(demoShell(), 2);
    const fields = within(panel).getByTestId("task-fields");
    expect(fields).toHaveTextContent("peter.meier");
    expect(fields).toHaveTextContent("Dossier Bauamt 2026-041");
    expect(fields).toHaveTextContent("fd:12345");
    expect(within(panel).getAllByTestId("history-entry")[0]).toHaveTextContent("transition-add-task");

    const related = await within(panel).findByTestId("related-tasks");
    const child = within(related).getByRole("button", { name: "Teilaufgabe: Pläne prüfen" });
    await fireEvent.click(child);
    await waitFor(() => expect(app.detail.openId).toBe(7));
    await waitFor(() => expect(within(screen.getByTestId("task-detail")).getByTestId("task-title")).toHaveTextContent("Teilaufgabe"));
    expect(within(screen.getByTestId("related-tasks")).getByRole("button", { name: "Stellungnahme zum Baugesuch Müller" })).toBeInTheDocument();
  });
});

describe("offered actions", () => {
  test("shows the actions the server offers as buttons", async () => {
    const { panel } = await openTask(demoShell(), 2);
    const buttons = within(panel).getAllByTestId("action-button");
    expect(buttons.map((b) => b.textContent?.replace("…", "").trim())).toEqual(["Akzeptieren", "Neu zuweisen", "Frist ändern"]);
  });

  test("a date parameter (GEVER new_deadline) uses a date picker and is required", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    const { panel } = await openTask(shell, 2);
    await user.click(within(panel).getByRole("button", { name: /Frist ändern/ }));
    const form = within(panel).getByTestId("action-form");
    const date = within(form).getByLabelText(/Neue Frist/);
    expect(date).toHaveAttribute("type", "date");

    await user.click(within(form).getByTestId("action-submit"));
    expect(within(form).getByTestId("field-error")).toHaveTextContent("Required.");
    expect(date).toHaveAttribute("aria-invalid", "true");
    expect(shell.callsOf("queue_op")).toHaveLength(0);

    await fireEvent.input(date, { target: { value: "2026-12-24" } });
    await user.type(within(form).getByLabelText("Kommentar"), "Ferien");
    await user.click(within(form).getByTestId("action-submit"));
    await waitFor(() => expect(shell.callsOf("queue_op")).toHaveLength(1));
    expect(shell.callsOf("queue_op")[0]).toEqual({
      account: "zurich",
      taskId: 2,
      request: {
        op: "transition",
        transition: "task-transition-modify-deadline",
        text: "Ferien",
        params: { new_deadline: "2026-12-24" },
      },
    });
    expect(await screen.findByText("“Frist ändern” queued.")).toBeInTheDocument();
  });

  test("reassigning offers people and groups from the task as suggestions", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    const { panel } = await openTask(shell, 2);
    await user.click(within(panel).getByRole("button", { name: /Neu zuweisen/ }));
    const input = within(panel).getByLabelText(/Auftragnehmer/);
    const list = document.getElementById(input.getAttribute("list")!)!;
    const options = [...list.querySelectorAll("option")].map((o) => o.value);
    expect(options).toEqual(expect.arrayContaining(["peter.meier", "anna.keller", "hans.muster"]));
    await user.type(input, "anna.keller");
    await user.click(within(panel).getByTestId("action-submit"));
    await waitFor(() =>
      expect(shell.callsOf("queue_op")[0]?.["request"]).toEqual({
        op: "transition",
        transition: "task-transition-reassign",
        text: null,
        params: { responsible: "anna.keller" },
      }),
    );
  });

  test("OMFLOW's push checks required form fields and sends fields with their types", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    const { panel } = await openTask(shell, 3);
    await user.click(within(panel).getByRole("button", { name: /推單/ }));
    const form = within(panel).getByTestId("action-form");
    await user.type(within(form).getByLabelText(/金額/), "abc");
    await user.click(within(form).getByTestId("action-submit"));
    const errors = within(form).getAllByTestId("field-error").map((e) => e.textContent);
    expect(errors).toEqual(["Required.", "Enter a number."]);
    expect(within(form).getByLabelText(/審核意見/)).toHaveFocus();
    expect(shell.callsOf("queue_op")).toHaveLength(0);

    await user.type(within(form).getByLabelText(/審核意見/), "同意");
    await user.clear(within(form).getByLabelText(/金額/));
    await user.type(within(form).getByLabelText(/金額/), "1200.5");
    await user.click(within(form).getByTestId("action-submit"));
    await waitFor(() =>
      expect(shell.callsOf("queue_op")[0]?.["request"]).toEqual({
        op: "form_push",
        fields: [
          { id: "FORMITM_1", value: "同意", type: "text" },
          { id: "FORMITM_2", value: 1200.5, type: "number" },
        ],
      }),
    );
  });

  test("OMFLOW's quick actions are queued at once with their labels", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    const { panel } = await openTask(shell, 3);
    await user.click(within(panel).getByRole("button", { name: "退回" }));
    await waitFor(() => expect(shell.callsOf("queue_op")[0]?.["request"]).toEqual({ op: "quick_action", action: "action2" }));
  });

  test("a refused action keeps the form as the user filled it and says why", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    shell.fail("queue_op", { kind: "invalid", message: "Frist ändern needs Neue Frist (new_deadline)" });
    const { panel } = await openTask(shell, 2);
    await user.click(within(panel).getByRole("button", { name: /Frist ändern/ }));
    const form = within(panel).getByTestId("action-form");
    await fireEvent.input(within(form).getByLabelText(/Neue Frist/), { target: { value: "2026-12-24" } });
    await user.type(within(form).getByLabelText("Kommentar"), "Bitte verlängern");
    await user.click(within(form).getByTestId("action-submit"));
    const error = await within(form).findByTestId("error-message");
    expect(error).toHaveTextContent("Not possible");
    expect(error).toHaveTextContent("needs Neue Frist");
    expect(within(form).getByLabelText("Kommentar")).toHaveValue("Bitte verlängern");
    expect(within(form).getByLabelText(/Neue Frist/)).toHaveValue("2026-12-24");
  });

  test("says when the offered actions were never fetched", async () => {
    const shell = demoShell();
    const t = shell.tasks.find((x) => x.id === 1)!;
    t.actions_fetched = null;
    const { panel } = await openTask(shell, 1);
    expect(within(panel).getByText(/have not been fetched yet/)).toBeInTheDocument();
  });
});

describe("comments", () => {
  test("adds a comment, which shows as pending until the server has it", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    const { panel } = await openTask(shell, 2);
    await user.type(within(panel).getByTestId("comment-box"), "Ich schaue es mir an.");
    await user.keyboard("{Control>}{Enter}{/Control}");
    await waitFor(() =>
      expect(shell.callsOf("queue_op")[0]).toEqual({
        account: "zurich",
        taskId: 2,
        request: { op: "comment_add", text: "Ich schaue es mir an." },
      }),
    );
    await waitFor(() => expect(within(panel).getByTestId("comment-box")).toHaveValue(""));
    await waitFor(() =>
      expect(within(panel).getAllByTestId("comment").map((c) => c.querySelector(".comment-text")?.textContent)).toContain(
        "Ich schaue es mir an.",
      ),
    );
    const item = within(panel)
      .getAllByTestId("comment")
      .find((c) => c.textContent?.includes("Ich schaue es mir an."))!;
    expect(within(item).getByTestId("comment-pending")).toHaveTextContent("will be added");
    // Its op is listed with the task's queued actions, where it can be withdrawn.
    expect(within(within(panel).getByTestId("task-ops")).getByText("Ich schaue es mir an.")).toBeInTheDocument();
  });

  test("a comment that cannot be queued keeps its text", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    shell.fail("queue_op", { kind: "storage", message: "disk full" });
    const { panel } = await openTask(shell, 2);
    await user.type(within(panel).getByTestId("comment-box"), "Wichtiger Hinweis");
    await user.click(within(panel).getByTestId("comment-submit"));
    expect(await within(panel).findByText(/disk full/)).toBeInTheDocument();
    expect(within(panel).getByTestId("comment-box")).toHaveValue("Wichtiger Hinweis");
  });

  test("only the user's own comments can be edited and deleted", async () => {
    const { panel } = await openTask(demoShell(), 2);
    const comments = within(panel).getAllByTestId("comment");
    const own = comments.find((c) => c.dataset["commentId"] === "c2")!;
    const other = comments.find((c) => c.dataset["commentId"] === "c1")!;
    expect(within(own).getByTestId("comment-edit")).toBeInTheDocument();
    expect(within(own).getByTestId("comment-delete")).toBeInTheDocument();
    expect(within(other).queryByTestId("comment-edit")).toBeNull();
    expect(within(other).queryByTestId("comment-delete")).toBeNull();
  });

  test("edits the user's own comment", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    const { panel } = await openTask(shell, 2);
    const own = within(panel).getAllByTestId("comment").find((c) => c.dataset["commentId"] === "c2")!;
    await user.click(within(own).getByTestId("comment-edit"));
    const box = within(own).getByTestId("comment-edit-box");
    expect(box).toHaveValue("Mache ich.");
    await user.clear(box);
    await user.type(box, "Mache ich bis Freitag.");
    await user.click(within(own).getByTestId("comment-save"));
    await waitFor(() =>
      expect(shell.callsOf("queue_op")[0]?.["request"]).toEqual({
        op: "comment_edit",
        comment: "c2",
        text: "Mache ich bis Freitag.",
      }),
    );
  });

  test("deletes the user's own comment after confirming", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    const { panel } = await openTask(shell, 2);
    const own = within(panel).getAllByTestId("comment").find((c) => c.dataset["commentId"] === "c2")!;
    await user.click(within(own).getByTestId("comment-delete"));
    expect(shell.callsOf("queue_op")).toHaveLength(0);
    await user.click(within(own).getByTestId("comment-delete-confirm"));
    await waitFor(() =>
      expect(shell.callsOf("queue_op")[0]?.["request"]).toEqual({ op: "comment_delete", comment: "c2" }),
    );
  });

  test("pending changes are marked and can be undone", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    const t = shell.tasks.find((x) => x.id === 2)!;
    const pendingOp = "aaaaaaaa-0000-4000-8000-0000000000ee";
    t.comments = t.comments.map((c) => (c.remote_id === "c2" ? { ...c, pending: { change: "deleted", op_id: pendingOp } } : c));
    shell.ops.push({ ...shell.ops[1]!, op_id: pendingOp, task_id: 2, request: { op: "comment_delete", comment: "c2" }, kind: "comment_delete" });
    const { panel } = await openTask(shell, 2);
    const own = within(panel).getAllByTestId("comment").find((c) => c.dataset["commentId"] === "c2")!;
    expect(within(own).getByTestId("comment-pending")).toHaveTextContent("will be deleted");
    expect(within(own).queryByTestId("comment-edit")).toBeNull();
    await user.click(within(own).getByTestId("comment-undo"));
    await waitFor(() => expect(shell.callsOf("outbox_discard")).toEqual([{ op: pendingOp }]));
  });
});

describe("this task's queued actions", () => {
  test("lists the task's unfinished ops with retry, edit and discard as their state allows", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    const t = shell.tasks.find((x) => x.id === 6)!;
    t.ops = shell.ops.filter((o) => o.task_id === 6);
    const { panel } = await openTask(shell, 6);
    const ops = within(within(panel).getByTestId("task-ops")).getAllByTestId("outbox-item");
    expect(ops).toHaveLength(2);
    const [failed, pending] = ops as [HTMLElement, HTMLElement];
    expect(failed).toHaveTextContent("Failed");
    expect(within(failed).getByTestId("op-error")).toHaveTextContent("bereits von einer anderen Person");
    // The failed transition is named by the action's label.
    expect(failed).toHaveTextContent("Akzeptieren");
    expect(within(pending).queryByTestId("op-retry")).toBeNull();

    await user.click(within(failed).getByTestId("op-retry"));
    await waitFor(() => expect(shell.callsOf("outbox_retry")).toEqual([{ op: "aaaaaaaa-0000-4000-8000-000000000001" }]));
  });
});
