import { fireEvent, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { describe, expect, test } from "vitest";

import { account, FakeShell, task } from "../test/fake-shell";
import { demoShell, GEVER_ACTIONS } from "../test/fixtures";
import { openApp, rowByTitle } from "../test/render";

describe("claim next", () => {
  test("for a Hitachi account queues an allocate with its participant and lane filter", async () => {
    const user = userEvent.setup();
    const shell = new FakeShell({
      accounts: [account(4, "osaka", "hitachi", "tanaka", { participant: "tanaka-p", lane_filter: "Participant='Lane1'", sort: "Priority DESC" })],
      tasks: [task({ id: 1, account: "osaka", account_kind: "hitachi", title: "見積承認", group: "Lane1" })],
    });
    await openApp(shell);
    await user.click(screen.getByTestId("claim-next"));
    await waitFor(() =>
      expect(shell.callsOf("queue_op")).toEqual([
        {
          account: "osaka",
          taskId: null,
          request: { op: "allocate", participant: "tanaka-p", filter: "Participant='Lane1'", sort: "Priority DESC", fetch_count: 10 },
        },
      ]),
    );
    expect(await screen.findByText("Claim queued for osaka.")).toBeInTheDocument();
  });

  test("elsewhere claims the selected unassigned group task through its offered action", async () => {
    const user = userEvent.setup();
    const shell = new FakeShell({
      accounts: [account(2, "zurich", "gever", "hans.muster")],
      tasks: [
        task({ id: 6, account: "zurich", account_kind: "gever", title: "Eingang prüfen", group: "inbox:fa", actions: GEVER_ACTIONS }),
        task({ id: 7, account: "zurich", account_kind: "gever", title: "Eigene Aufgabe", assignee: "hans.muster", actions: GEVER_ACTIONS }),
      ],
    });
    await openApp(shell);
    await fireEvent.click(rowByTitle("Eigene Aufgabe").querySelector(".cell-title")!);
    expect(screen.getByTestId("claim-next")).toBeDisabled();
    await fireEvent.click(rowByTitle("Eingang prüfen").querySelector(".cell-title")!);
    await waitFor(() => expect(screen.getByTestId("claim-next")).toBeEnabled());
    await user.click(screen.getByTestId("claim-next"));
    await waitFor(() =>
      expect(shell.callsOf("queue_op")).toEqual([
        {
          account: "zurich",
          taskId: 6,
          request: { op: "transition", transition: "task-transition-open-in-progress", text: null, params: {} },
        },
      ]),
    );
  });

  test("offers a choice when both a group task and a lane can be claimed", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    await openApp(shell);
    await fireEvent.click(rowByTitle("採購申請：筆記型電腦 ×3").querySelector(".cell-title")!);
    await user.click(screen.getByTestId("claim-next"));
    const menu = screen.getByRole("menu");
    const choices = within(menu).getAllByTestId("claim-choice").map((c) => c.textContent?.trim());
    expect(choices).toEqual(["Claim “採購申請：筆記型電腦 ×3”", "Next from osaka"]);
    await user.click(within(menu).getByText("Next from osaka"));
    await waitFor(() => expect(shell.callsOf("queue_op")[0]).toMatchObject({ account: "osaka", taskId: null }));
  });

  test("says so when the task offers no way to claim it", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    shell.accounts = shell.accounts.filter((a) => a.account.kind !== "hitachi");
    await openApp(shell);
    await fireEvent.click(rowByTitle("採購申請：筆記型電腦 ×3").querySelector(".cell-title")!);
    await user.click(screen.getByTestId("claim-next"));
    const note = await screen.findByTestId("notification");
    expect(note).toHaveTextContent("The server offers no way to claim this task");
    expect(shell.callsOf("queue_op")).toHaveLength(0);
  });
});
