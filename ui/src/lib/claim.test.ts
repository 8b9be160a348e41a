import { describe, expect, test } from "vitest";

import { GEVER_ACTIONS, OMFLOW_ACTIONS } from "../test/fixtures";
import { account } from "../test/fake-shell";
import type { Action } from "./bindings/Action";
import { allocateRequest, claimAction, isGroupWork } from "./claim";

const gever = account(2, "zurich", "gever", "hans.muster").account;
const hitachi = account(4, "osaka", "hitachi", "tanaka", { participant: "P-17", lane_filter: "Participant='Lane1'", sort: " " }).account;

describe("claiming", () => {
  test("group work is assigned to a group and to nobody in it, and not finished", () => {
    expect(isGroupWork({ assignee: null, group: "inbox:fa", state: "open" })).toBe(true);
    expect(isGroupWork({ assignee: "hans", group: "inbox:fa", state: "open" })).toBe(false);
    expect(isGroupWork({ assignee: null, group: null, state: "open" })).toBe(false);
    expect(isGroupWork({ assignee: null, group: "Lane1", state: "closed" })).toBe(false);
  });

  test("Hitachi allocates with the account's participant and lane filter, leaving blank settings out", () => {
    expect(allocateRequest(hitachi)).toEqual({
      op: "allocate",
      participant: "P-17",
      filter: "Participant='Lane1'",
      sort: null,
      fetch_count: 10,
    });
  });

  test("prefers an action named as a claim, then an accept, then a reassignment to oneself", () => {
    const named: Action = { id: "claim", label: "Claim", to_state: "in_progress", params: [] };
    expect(claimAction([...GEVER_ACTIONS, named], gever)?.action.id).toBe("claim");
    expect(claimAction(GEVER_ACTIONS, gever)).toEqual({ action: GEVER_ACTIONS[0], values: {} });
    const reassignOnly = GEVER_ACTIONS.filter((a) => a.id === "task-transition-reassign");
    expect(claimAction(reassignOnly, gever)).toEqual({ action: reassignOnly[0], values: { responsible: "hans.muster" } });
    expect(claimAction(OMFLOW_ACTIONS, gever)).toBeNull();
  });
});
