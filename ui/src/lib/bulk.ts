/**
 * Acting on many tasks at once: one op per task through `queue_ops`, each
 * queued or refused on its own, with a report naming every task that was
 * not queued and why.
 */
import * as api from "./api";
import type { AppError, QueueItem } from "./app-types";
import type { Action } from "./bindings/Action";
import type { OpRequest } from "./bindings/OpRequest";
import type { TaskDetail } from "./bindings/TaskDetail";
import type { TaskRow } from "./bindings/TaskRow";
import { toAppError } from "./errors";

export type BulkFailure = { task: TaskRow; error: AppError };
export type BulkReport = { total: number; queued: number; failures: BulkFailure[] };

/** One task's part of a bulk action: a request, or why it is left out. */
export type BulkPlan = { task: TaskRow; request: OpRequest } | { task: TaskRow; skip: AppError };

export async function queueEach(plans: BulkPlan[]): Promise<BulkReport> {
  const failures: BulkFailure[] = [];
  const items: QueueItem[] = [];
  const queuedTasks: TaskRow[] = [];
  for (const plan of plans) {
    if ("skip" in plan) failures.push({ task: plan.task, error: plan.skip });
    else {
      items.push({ account: plan.task.account, taskId: plan.task.id, request: plan.request });
      queuedTasks.push(plan.task);
    }
  }
  let queued = 0;
  if (items.length > 0) {
    try {
      const results = await api.queueOps(items);
      results.forEach((result, i) => {
        const task = queuedTasks[i];
        if (!task) return;
        if ("ok" in result) queued++;
        else failures.push({ task, error: result.error });
      });
    } catch (e) {
      const error = toAppError(e);
      for (const task of queuedTasks) failures.push({ task, error });
    }
  }
  return { total: plans.length, queued, failures };
}

/** Reads the details (offered actions) of many tasks, a few at a time. */
export async function detailsFor(
  ids: number[],
  onProgress: (done: number) => void = () => undefined,
  concurrency = 4,
): Promise<Map<number, TaskDetail | AppError>> {
  const out = new Map<number, TaskDetail | AppError>();
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++] as number;
      try {
        out.set(id, await api.taskDetail(id));
      } catch (e) {
        out.set(id, toAppError(e));
      }
      onProgress(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
  return out;
}

export function isDetail(value: TaskDetail | AppError | undefined): value is TaskDetail {
  return value !== undefined && "actions" in value;
}

/** The actions offered on any of the tasks, with how many offer each (by id). */
export function offeredActions(
  details: Iterable<TaskDetail | AppError>,
): { action: Action; count: number }[] {
  const byId = new Map<string, { action: Action; count: number }>();
  for (const d of details) {
    if (!isDetail(d)) continue;
    for (const action of d.actions) {
      const entry = byId.get(action.id);
      if (entry) entry.count++;
      else byId.set(action.id, { action, count: 1 });
    }
  }
  return [...byId.values()];
}
