/**
 * The typed front door to the Tauri shell: one function per command and
 * one subscription per event of docs/app-api.md. Nothing else in the UI
 * calls `invoke` or `listen`.
 */
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

import type {
  AccountStatus,
  AccountTest,
  Preferences,
  QueueItem,
  QueueResult,
  SavedView,
  SyncProgress,
  TaskRelated,
} from "./app-types";
import type { AccountSettings } from "./bindings/AccountSettings";
import type { NewAccount } from "./bindings/NewAccount";
import type { Op } from "./bindings/Op";
import type { OpRequest } from "./bindings/OpRequest";
import type { OpState } from "./bindings/OpState";
import type { Page } from "./bindings/Page";
import type { Query } from "./bindings/Query";
import type { TaskDetail } from "./bindings/TaskDetail";
import type { TaskRow } from "./bindings/TaskRow";
import { CommandError, toAppError } from "./errors";

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (reason) {
    throw new CommandError(toAppError(reason), command);
  }
}

// Tasks
export const listTasks = (query: Query) => call<Page>("list_tasks", { query });
export const taskIds = (query: Query) => call<number[]>("task_ids", { query });
export const tasksById = (ids: number[]) => call<TaskRow[]>("tasks_by_id", { ids });
export const taskDetail = (id: number) => call<TaskDetail>("task_detail", { id });
export const taskRelated = (id: number) => call<TaskRelated>("task_related", { id });

// Acting
export const queueOp = (account: string, taskId: number | null, request: OpRequest) =>
  call<Op>("queue_op", { account, taskId, request });
export const queueOps = (items: QueueItem[]) => call<QueueResult[]>("queue_ops", { items });
export const outbox = (states: OpState[]) => call<Op[]>("outbox", { states });
export const outboxRetry = (op: string) => call<Op>("outbox_retry", { op });
export const outboxEdit = (op: string, request: OpRequest) =>
  call<Op>("outbox_edit", { op, request });
export const outboxDiscard = (op: string) => call<Op>("outbox_discard", { op });

// Accounts and sync
export const accounts = () => call<AccountStatus[]>("accounts");
export const accountTest = (account: NewAccount, password: string | null) =>
  call<AccountTest>("account_test", { account, password });
export const accountAdd = (account: NewAccount, password: string | null) =>
  call<AccountStatus>("account_add", { account, password });
export const accountUpdate = (name: string, settings: AccountSettings, password: string | null) =>
  call<AccountStatus>("account_update", { name, settings, password });
export const accountRemove = (name: string, force: boolean) =>
  call<null>("account_remove", { name, force });
export const syncNow = (account: string | null) => call<null>("sync_now", { account });

// Views and preferences
export const views = () => call<SavedView[]>("views");
export const viewSave = (view: SavedView) => call<SavedView[]>("view_save", { view });
export const viewDelete = (id: string) => call<SavedView[]>("view_delete", { id });
export const preferences = () => call<Preferences>("preferences");
/** The task the app was launched to open (`--open-task`), once. */
export const startupTask = () => call<number | null>("startup_task");
export const setPreferences = (preferences: Preferences) =>
  call<Preferences>("set_preferences", { preferences });

// Events
export type ReplicaChanged = { tasks: number[] | null };
export type OutboxChanged = { ops: string[] };
export type OpenTask = { taskId: number };

export type AppEvents = {
  "replica-changed": ReplicaChanged;
  "outbox-changed": OutboxChanged;
  "sync-status": AccountStatus;
  "sync-progress": SyncProgress;
  "open-task": OpenTask;
};

/** Subscribes to one of the shell's events; resolves to the unsubscribe function. */
export function on<E extends keyof AppEvents>(
  event: E,
  handler: (payload: AppEvents[E]) => void,
): Promise<UnlistenFn> {
  return listen<AppEvents[E]>(event, (e) => handler(e.payload));
}
