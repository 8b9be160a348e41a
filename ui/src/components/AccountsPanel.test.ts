import { fireEvent, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { describe, expect, test } from "vitest";

import { demoShell } from "../test/fixtures";
import { openApp } from "../test/render";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUe0\n-----END CERTIFICATE-----\n";

async function openAddForm(shell = demoShell()) {
  const user = userEvent.setup();
  await openApp(shell);
  await user.click(screen.getByTestId("accounts-button"));
  await user.click(await screen.findByTestId("add-account"));
  const form = await screen.findByTestId("account-form");
  return { user, shell, form };
}

describe("adding an account", () => {
  test("adds an OMFLOW server with its time zone and flow API paths; the password goes with the command only", async () => {
    const { user, shell, form } = await openAddForm();
    await user.click(within(form).getByTestId("account-kind-omflow"));
    await user.type(within(form).getByTestId("account-name"), "kaohsiung");
    await user.type(within(form).getByTestId("account-url"), "https://omflow.example.tw");
    await user.type(within(form).getByTestId("account-user"), "chen.jianguo");
    await user.type(within(form).getByTestId("account-password"), "s3cret!");
    await user.type(within(form).getByTestId("account-time-zone"), "Asia/Taipei");
    await user.click(within(form).getByRole("button", { name: /Add flow/ }));
    await user.type(within(form).getByRole("textbox", { name: "Flow UUID" }), "67d4cf9a-49cd-4341-90da-b899eb0219b1");
    await user.type(within(form).getByRole("textbox", { name: "API path" }), "expense");
    await user.click(within(form).getByTestId("account-save"));

    await waitFor(() => expect(shell.callsOf("account_add")).toHaveLength(1));
    expect(shell.callsOf("account_add")[0]).toEqual({
      account: {
        name: "kaohsiung",
        kind: "omflow",
        base_url: "https://omflow.example.tw",
        user_name: "chen.jianguo",
        settings: { time_zone: "Asia/Taipei", api_paths: { "67d4cf9a49cd434190dab899eb0219b1": "expense" } },
      },
      password: "s3cret!",
    });
    // Saved: the form (and the password in it) is gone, the account listed, its first sync started.
    await waitFor(() => expect(screen.queryByTestId("account-form")).toBeNull());
    expect(screen.getAllByTestId("account-card").map((c) => c.dataset["account"])).toContain("kaohsiung");
    expect(shell.callsOf("sync_now")).toEqual([{ account: "kaohsiung" }]);
    expect(document.body.innerHTML).not.toContain("s3cret!");
    expect(JSON.stringify({ ...localStorage })).not.toContain("s3cret!");
  });

  test("a Hitachi server takes participant, lane filter and claim order", async () => {
    const { user, shell, form } = await openAddForm();
    await user.click(within(form).getByTestId("account-kind-hitachi"));
    await user.type(within(form).getByTestId("account-name"), "nagoya");
    await user.type(within(form).getByTestId("account-url"), "https://csciw.example.jp/csciwws");
    await user.type(within(form).getByTestId("account-user"), "suzuki");
    await user.type(within(form).getByTestId("account-participant"), "suzuki");
    await user.type(within(form).getByTestId("account-lane-filter"), "Participant='Lane2'");
    await user.type(within(form).getByTestId("account-sort"), "Priority DESC");
    await user.click(within(form).getByTestId("account-save"));
    await waitFor(() => expect(shell.callsOf("account_add")).toHaveLength(1));
    expect(shell.callsOf("account_add")[0]?.["account"]).toMatchObject({
      kind: "hitachi",
      settings: { participant: "suzuki", lane_filter: "Participant='Lane2'", sort: "Priority DESC" },
    });
    expect(shell.callsOf("account_add")[0]?.["password"]).toBeNull();
  });

  test("a GEVER server can sign in with a token, lists inboxes, and trusts a pasted CA certificate", async () => {
    const { user, shell, form } = await openAddForm();
    await user.click(within(form).getByTestId("account-kind-gever"));
    await user.type(within(form).getByTestId("account-name"), "bern");
    await user.type(within(form).getByTestId("account-url"), "https://gever.example.ch");
    await user.type(within(form).getByTestId("account-user"), "hans.muster");
    await user.click(within(form).getByLabelText(/Token/));
    await user.type(within(form).getByTestId("account-inboxes"), "fd, inbox:bau");
    await fireEvent.input(within(form).getByTestId("account-ca-cert"), { target: { value: PEM } });
    await user.click(within(form).getByTestId("account-save"));
    await waitFor(() => expect(shell.callsOf("account_add")).toHaveLength(1));
    expect(shell.callsOf("account_add")[0]?.["account"]).toMatchObject({
      kind: "gever",
      settings: { auth: "jwt", ca_cert: PEM.trim(), inboxes: ["fd", "bau"] },
    });
  });

  test("reads a CA certificate from a file", async () => {
    const { user, form } = await openAddForm();
    const file = new File([PEM], "ca.pem", { type: "application/x-pem-file" });
    await user.upload(within(form).getByTestId("account-ca-file"), file);
    await waitFor(() => expect(within(form).getByTestId("account-ca-cert")).toHaveValue(PEM));
  });

  test("checks the address, the user and the certificate before sending", async () => {
    const { user, shell, form } = await openAddForm();
    await user.type(within(form).getByTestId("account-name"), "x");
    await user.type(within(form).getByTestId("account-url"), "omflow.example.tw");
    await fireEvent.input(within(form).getByTestId("account-ca-cert"), { target: { value: "not a cert" } });
    await user.click(within(form).getByTestId("account-save"));
    expect(within(form).getByText(/starting with https:\/\//)).toBeInTheDocument();
    expect(within(form).getByText("Enter your user name on the server.")).toBeInTheDocument();
    expect(within(form).getByText(/does not look like a PEM certificate/)).toBeInTheDocument();
    expect(within(form).getByTestId("account-url")).toHaveFocus();
    expect(shell.callsOf("account_add")).toHaveLength(0);
  });

  test("tests the connection without saving", async () => {
    const { user, shell, form } = await openAddForm();
    await user.type(within(form).getByTestId("account-name"), "tp");
    await user.type(within(form).getByTestId("account-url"), "https://omflow.example.tw");
    await user.type(within(form).getByTestId("account-user"), "wang");
    await user.type(within(form).getByTestId("account-password"), "pw");
    await user.click(within(form).getByTestId("account-test"));
    const result = await within(form).findByTestId("account-test-result");
    expect(result).toHaveTextContent("Connection works.");
    expect(result).toHaveTextContent("42 tasks visible");
    expect(shell.callsOf("account_test")[0]).toMatchObject({ account: { name: "tp", kind: "omflow" }, password: "pw" });
    expect(shell.callsOf("account_add")).toHaveLength(0);
  });

  test("a refused account keeps everything typed and says why", async () => {
    const { user, shell, form } = await openAddForm();
    shell.fail("account_add", { kind: "auth", message: "401 Unauthorized" });
    await user.type(within(form).getByTestId("account-name"), "tp");
    await user.type(within(form).getByTestId("account-url"), "https://omflow.example.tw");
    await user.type(within(form).getByTestId("account-user"), "wang");
    await user.type(within(form).getByTestId("account-password"), "wrong");
    await user.click(within(form).getByTestId("account-save"));
    const error = await within(form).findByTestId("error-message");
    expect(error).toHaveTextContent("Sign-in failed");
    expect(error).toHaveTextContent("401 Unauthorized");
    expect(within(form).getByTestId("account-name")).toHaveValue("tp");
    expect(within(form).getByTestId("account-password")).toHaveValue("wrong");
  });
});

describe("existing accounts", () => {
  test("changes an account's settings, keeping the stored password when none is typed", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    await openApp(shell);
    await user.click(screen.getByTestId("accounts-button"));
    const card = (await screen.findAllByTestId("account-card")).find((c) => c.dataset["account"] === "osaka")!;
    await user.click(within(card).getByTestId("account-edit"));
    const form = await screen.findByTestId("account-form");
    expect(within(form).getByTestId("account-lane-filter")).toHaveValue("Participant='Lane1'");
    await user.clear(within(form).getByTestId("account-lane-filter"));
    await user.type(within(form).getByTestId("account-lane-filter"), "Participant='Lane3'");
    await user.click(within(form).getByTestId("account-save"));
    await waitFor(() =>
      expect(shell.callsOf("account_update")).toEqual([
        { name: "osaka", settings: { participant: "tanaka", lane_filter: "Participant='Lane3'" }, password: null },
      ]),
    );
  });

  test("removing an account with unsent actions warns and forces", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    shell.accounts[1]!.queue = 2;
    await openApp(shell);
    await user.click(screen.getByTestId("accounts-button"));
    const card = (await screen.findAllByTestId("account-card")).find((c) => c.dataset["account"] === "zurich")!;
    await user.click(within(card).getByTestId("account-remove"));
    expect(card).toHaveTextContent("2 actions of this account have not been sent and will be lost");
    await user.click(within(card).getByTestId("account-remove-confirm"));
    await waitFor(() => expect(shell.callsOf("account_remove")).toEqual([{ name: "zurich", force: true }]));
    await waitFor(() =>
      expect(screen.getAllByTestId("account-card").map((c) => c.dataset["account"])).not.toContain("zurich"),
    );
  });

  test("when the shell refuses a removal because of unsent actions, offers to remove anyway", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    shell.overrides.set("account_remove", (args) => {
      if (!args["force"]) throw { kind: "conflict", message: "taipei has 1 unsent action" };
      shell.accounts = shell.accounts.filter((a) => a.account.name !== args["name"]);
      return null;
    });
    await openApp(shell);
    await user.click(screen.getByTestId("accounts-button"));
    const card = () => screen.getAllByTestId("account-card").find((c) => c.dataset["account"] === "taipei")!;
    await user.click(within(card()).getByTestId("account-remove"));
    await user.click(within(card()).getByTestId("account-remove-confirm"));
    expect(await screen.findByText(/taipei has 1 unsent action/)).toBeInTheDocument();
    await user.click(within(card()).getByTestId("account-remove-force"));
    await waitFor(() =>
      expect(shell.callsOf("account_remove")).toEqual([
        { name: "taipei", force: false },
        { name: "taipei", force: true },
      ]),
    );
  });
});
