/**
 * What the user may do with a queued op, following the state machine of
 * docs/decisions/0004-outbox.md: retry a failed or conflicting op; edit or
 * discard one that has not been applied (pending, failed, conflict). An op
 * being sent can do neither: it may already have reached the server.
 */
import type { Op } from "./bindings/Op";
import type { OpState } from "./bindings/OpState";

/** The states the outbox panel shows: everything not finished. */
export const UNFINISHED: OpState[] = ["pending", "sending", "failed", "conflict"];

export function needsAttention(op: Op): boolean {
  return op.state === "failed" || op.state === "conflict";
}

export function canRetry(op: Op): boolean {
  return needsAttention(op);
}

export function canDiscard(op: Op): boolean {
  return op.state === "pending" || needsAttention(op);
}

/**
 * A deletion has nothing to change and a queued new task cannot be edited
 * (the core refuses: discard it and create it again).
 */
export function canEdit(op: Op): boolean {
  if (op.kind === "comment_delete" || op.kind === "create_task") return false;
  return op.state === "pending" || needsAttention(op);
}

/** The first eight characters of the op's UUID, as the CLI lists it. */
export function shortId(op: Op): string {
  return op.op_id.replace(/-/g, "").slice(0, 8);
}
