import { screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { describe, expect, test } from "vitest";

import { demoShell } from "../test/fixtures";
import { op } from "../test/fake-shell";
import { openApp } from "../test/render";

async function openOutbox(shell = demoShell()) {
  const user = userEvent.setup();
  const result = await openApp(shell);
  await user.click(screen.getByTestId("outbox-button"));
  const panel = await screen.findByTestId("outbox-panel");
  return { user, shell, panel, ...result };
}

describe("the outbox panel", () => {
  test("groups ops into needs attention, being sent and waiting, with the failure's reason", async () => {
    const { panel } = await openOutbox();
    const attention = within(panel).getByTestId("outbox-attention");
    const sending = within(panel).getByTestId("outbox-sending");
    const pending = within(panel).getByTestId("outbox-pending");
    expect(within(attention).getAllByTestId("outbox-item")).toHaveLength(1);
    expect(within(attention).getByTestId("op-error")).toHaveTextContent("Die Aufgabe wurde bereits von einer anderen Person übernommen.");
    expect(within(sending).getByTestId("outbox-item")).toHaveTextContent("Quick action");
    expect(within(pending).getByTestId("outbox-item")).toHaveTextContent("Übernehme ich");
    // Each op names its account and task.
    await waitFor(() => expect(within(sending).getByTestId("outbox-item")).toHaveTextContent("審核通過 請款單 #1024"));
    expect(within(sending).getByTestId("outbox-item")).toHaveTextContent("taipei");
  });

  test("offers retry / edit / discard as each state allows", async () => {
    const { panel } = await openOutbox();
    const failed = within(within(panel).getByTestId("outbox-attention")).getByTestId("outbox-item");
    const sending = within(within(panel).getByTestId("outbox-sending")).getByTestId("outbox-item");
    const pending = within(within(panel).getByTestId("outbox-pending")).getByTestId("outbox-item");
    const buttons = (item: HTMLElement) =>
      ["op-retry", "op-edit", "op-discard"].filter((id) => within(item).queryByTestId(id) !== null);
    expect(buttons(failed)).toEqual(["op-retry", "op-edit", "op-discard"]);
    expect(buttons(pending)).toEqual(["op-edit", "op-discard"]);
    expect(buttons(sending)).toEqual([]);
    expect(sending).toHaveTextContent("wait for the server's answer");
  });

  test("retries a failed op", async () => {
    const { panel, user, shell } = await openOutbox();
    const failed = within(within(panel).getByTestId("outbox-attention")).getByTestId("outbox-item");
    await user.click(within(failed).getByTestId("op-retry"));
    await waitFor(() => expect(shell.callsOf("outbox_retry")).toEqual([{ op: "aaaaaaaa-0000-4000-8000-000000000001" }]));
    // It moves to the waiting ops.
    await waitFor(() => expect(within(panel).queryByTestId("outbox-attention")).toBeNull());
    expect(within(within(panel).getByTestId("outbox-pending")).getAllByTestId("outbox-item")).toHaveLength(2);
  });

  test("discards an op after confirming", async () => {
    const { panel, user, shell } = await openOutbox();
    const pending = within(within(panel).getByTestId("outbox-pending")).getByTestId("outbox-item");
    await user.click(within(pending).getByTestId("op-discard"));
    expect(shell.callsOf("outbox_discard")).toHaveLength(0);
    await user.click(within(pending).getByTestId("op-discard-confirm"));
    await waitFor(() => expect(shell.callsOf("outbox_discard")).toEqual([{ op: "aaaaaaaa-0000-4000-8000-000000000002" }]));
    await waitFor(() => expect(within(panel).queryByTestId("outbox-pending")).toBeNull());
  });

  test("edits a queued comment", async () => {
    const { panel, user, shell } = await openOutbox();
    const pending = within(within(panel).getByTestId("outbox-pending")).getByTestId("outbox-item");
    await user.click(within(pending).getByTestId("op-edit"));
    const box = within(pending).getByRole("textbox");
    expect(box).toHaveValue("Übernehme ich");
    await user.clear(box);
    await user.type(box, "Übernehme ich morgen");
    await user.click(within(pending).getByTestId("op-save"));
    await waitFor(() =>
      expect(shell.callsOf("outbox_edit")).toEqual([
        { op: "aaaaaaaa-0000-4000-8000-000000000002", request: { op: "comment_add", text: "Übernehme ich morgen" } },
      ]),
    );
  });

  test("a refused edit keeps the new text and shows why", async () => {
    const { panel, user, shell } = await openOutbox();
    shell.fail("outbox_edit", { kind: "invalid", message: "op 0002 is already sending" });
    const pending = within(within(panel).getByTestId("outbox-pending")).getByTestId("outbox-item");
    await user.click(within(pending).getByTestId("op-edit"));
    const box = within(pending).getByRole("textbox");
    await user.type(box, "!");
    await user.click(within(pending).getByTestId("op-save"));
    expect(await within(pending).findByText(/already sending/)).toBeInTheDocument();
    expect(box).toHaveValue("Übernehme ich!");
  });

  test("reloads when the outbox changes", async () => {
    const { panel, shell } = await openOutbox();
    shell.ops.push(
      op({
        seq: 9,
        op_id: "aaaaaaaa-0000-4000-8000-000000000009",
        account_id: 2,
        task_id: 2,
        request: { op: "comment_add", text: "Neu" },
        state: "conflict",
        last_error: "The task was closed on the server meanwhile.",
      }),
    );
    await shell.emit("outbox-changed", { ops: ["aaaaaaaa-0000-4000-8000-000000000009"] });
    await waitFor(() => expect(within(panel).getByText("The task was closed on the server meanwhile.")).toBeInTheDocument());
    expect(within(within(panel).getByTestId("outbox-attention")).getAllByTestId("outbox-item")).toHaveLength(2);
  });

  test("says when nothing is waiting", async () => {
    const shell = demoShell();
    shell.ops = [];
    const { panel } = await openOutbox(shell);
    expect(within(panel).getByTestId("outbox-empty")).toBeInTheDocument();
  });
});
