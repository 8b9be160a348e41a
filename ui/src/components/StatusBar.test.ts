import { screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { describe, expect, test } from "vitest";

import { demoShell } from "../test/fixtures";
import { openApp } from "../test/render";

describe("the status bar", () => {
  test("shows each account as online, offline or not reached yet, with its last sync", async () => {
    const shell = demoShell();
    shell.accounts[2]!.online = false;
    shell.accounts[2]!.sync.last_error = "connection refused";
    shell.accounts[3]!.online = null;
    shell.accounts[3]!.sync.last_success = null;
    await openApp(shell);
    const bar = screen.getByTestId("status-bar");
    const item = (name: string) => within(bar).getAllByTestId("status-account").find((e) => e.dataset["account"] === name)!;
    expect(item("zurich")).toHaveAttribute("data-online", "true");
    expect(item("zurich")).toHaveTextContent(/online/);
    expect(item("zurich")).toHaveTextContent(/synced/);
    expect(item("taipei")).toHaveAttribute("data-online", "false");
    expect(item("taipei")).toHaveTextContent(/offline/);
    expect(item("taipei")).toHaveAttribute("title", expect.stringContaining("connection refused"));
    expect(item("osaka")).toHaveTextContent(/never synced/);
  });

  test("shows sync progress from sync-progress events and the new status from sync-status", async () => {
    const shell = demoShell();
    await openApp(shell);
    const status = structuredClone(shell.accounts[1]!);
    status.syncing = true;
    await shell.emit("sync-status", structuredClone(status));
    await shell.emit("sync-progress", { account: "zurich", phase: "pull", done: 120, total: 500 });
    const bar = screen.getByTestId("status-bar");
    const progress = await within(bar).findByTestId("sync-progress");
    expect(progress).toHaveTextContent("Receiving 120 of 500");
    expect(within(progress).getByRole("progressbar")).toHaveAttribute("value", "120");

    // Each event carries its own payload, as the shell sends them.
    await shell.emit("sync-status", { ...status, syncing: false, online: false });
    await waitFor(() => expect(within(bar).queryByTestId("sync-progress")).toBeNull());
    const zurich = within(bar).getAllByTestId("status-account").find((e) => e.dataset["account"] === "zurich")!;
    expect(zurich).toHaveAttribute("data-online", "false");
  });

  test("shows the queue length and opens the outbox from it", async () => {
    const user = userEvent.setup();
    await openApp(demoShell());
    const queue = screen.getByTestId("status-queue");
    expect(queue).toHaveTextContent("2 queued · 1 needs attention");
    await user.click(queue);
    expect(await screen.findByTestId("outbox-panel")).toBeInTheDocument();
  });

  test("Sync now syncs every account", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    await openApp(shell);
    await user.click(screen.getByTestId("sync-now"));
    await waitFor(() => expect(shell.callsOf("sync_now")).toEqual([{ account: null }]));
  });

  test("a sync that cannot start is reported", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    shell.fail("sync_now", { kind: "offline", message: "no network" });
    await openApp(shell);
    await user.click(screen.getByTestId("sync-now"));
    const note = await screen.findByTestId("notification");
    expect(note).toHaveTextContent("Server not reachable");
    expect(note).toHaveTextContent("The sync could not be started: no network");
  });
});
