/**
 * Claiming work meant for a group or lane.
 *
 * Hitachi CSCIW allocates "the next" ready item of a lane to a participant
 * (`allocate` op, no task: the server picks). The other servers have no
 * "claim next": the user claims one unassigned group task by whichever
 * offered action takes it on — an action named as a claim, GEVER's
 * "accept" (a transition into `in_progress` that needs nothing but an
 * optional comment; accepting a team or inbox task makes the user the
 * responsible), or a reassignment whose one required actor parameter sets
 * the assignee, filled with the user.
 */
import type { Account } from "./bindings/Account";
import type { Action } from "./bindings/Action";
import type { OpRequest } from "./bindings/OpRequest";
import type { TaskRow } from "./bindings/TaskRow";
import { isFinal } from "./query";
import type { FormValues } from "./actions";

/** A task assigned to a group, team or lane and to nobody in it yet. */
export function isGroupWork(row: Pick<TaskRow, "assignee" | "group" | "state">): boolean {
  return !row.assignee && !!row.group && !isFinal(row.state);
}

function settingText(account: Account, name: string): string | null {
  const value = account.settings[name];
  return typeof value === "string" && value.trim() !== "" ? value.trim() : null;
}

/** The `allocate` request for a Hitachi account, from its settings. */
export function allocateRequest(account: Account): OpRequest {
  return {
    op: "allocate",
    participant: settingText(account, "participant"),
    filter: settingText(account, "lane_filter"),
    sort: settingText(account, "sort"),
    fetch_count: 10,
  };
}

/** Who the user is on this server when an action asks for an actor. */
export function selfActor(account: Account): string {
  return settingText(account, "participant") ?? account.user_name;
}

const CLAIM_ID = /claim|allocate|take|assign[-_]?to[-_]?me/i;

function requiredOtherThanText(action: Action) {
  return action.params.filter((p) => p.required && p.name !== "text");
}

/** The offered action that claims the task, with the values to send, if any. */
export function claimAction(
  actions: readonly Action[],
  account: Account,
): { action: Action; values: FormValues } | null {
  const plain = (a: Action) => requiredOtherThanText(a).length === 0;
  const named = actions.find((a) => CLAIM_ID.test(a.id) && plain(a));
  if (named) return { action: named, values: {} };
  const accept = actions.find((a) => a.to_state === "in_progress" && plain(a));
  if (accept) return { action: accept, values: {} };
  const reassign = actions.find((a) => {
    const required = requiredOtherThanText(a);
    return (
      required.length === 1 &&
      required[0]?.kind.type === "actor" &&
      required[0].sets === "assignee"
    );
  });
  if (reassign) {
    const param = requiredOtherThanText(reassign)[0];
    if (param) return { action: reassign, values: { [param.name]: selfActor(account) } };
  }
  return null;
}
