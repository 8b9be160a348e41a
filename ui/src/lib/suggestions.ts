/**
 * Suggestions for user, group and lane pickers. The shell has no directory
 * lookup, so suggestions come from what the replica already shows: the
 * people and groups on the task and on the account's other tasks in view.
 */
import type { Account } from "./bindings/Account";
import type { TaskDetail } from "./bindings/TaskDetail";
import type { TaskRow } from "./bindings/TaskRow";

export function actorSuggestions(
  task: TaskDetail,
  rows: Iterable<TaskRow>,
  account: Account | undefined,
  limit = 200,
): string[] {
  const seen = new Set<string>();
  const add = (name: string | null | undefined) => {
    const trimmed = name?.trim();
    if (trimmed && seen.size < limit) seen.add(trimmed);
  };
  if (account) {
    add(account.user_name);
    const participant = account.settings["participant"];
    if (typeof participant === "string") add(participant);
  }
  add(task.assignee);
  add(task.group);
  add(task.issuer);
  for (const c of task.comments) add(c.author);
  for (const h of task.history) add(h.actor);
  for (const row of rows) {
    if (row.account !== task.account) continue;
    add(row.assignee);
    add(row.group);
    add(row.issuer);
  }
  return [...seen].sort((a, b) => a.localeCompare(b));
}
