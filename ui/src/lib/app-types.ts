/**
 * The app-level types of the desktop shell (docs/app-api.md, "App-level
 * types"), written out by hand until `src-tauri` generates them into
 * `bindings/` with the same shape.
 */
import type { Account } from "./bindings/Account";
import type { Capabilities } from "./bindings/Capabilities";
import type { Op } from "./bindings/Op";
import type { OpRequest } from "./bindings/OpRequest";
import type { Query } from "./bindings/Query";
import type { SyncState } from "./bindings/SyncState";
import type { TaskRow } from "./bindings/TaskRow";

export type AppError = {
  kind:
    | "invalid"
    | "not_found"
    | "conflict"
    | "corrupt"
    | "storage"
    | "auth"
    | "offline"
    | "remote"
    | "keychain";
  message: string;
};

export type TaskRelated = { parent: TaskRow | null; children: TaskRow[] };

export type QueueItem = { account: string; taskId: number | null; request: OpRequest };
export type QueueResult = { ok: Op } | { error: AppError };

export type AccountStatus = {
  account: Account;
  capabilities: Capabilities | null; // null until the server was reached once
  sync: SyncState; // watermark, last success, last error (+ kind)
  online: boolean | null; // null: not tried yet
  syncing: boolean;
  queue: number; // ops pending or sending
  attention: number; // ops failed or in conflict
};

export type AccountTest = { ok: boolean; message: string; tasks: number | null };

export type SyncProgress = {
  account: string;
  phase: "pull" | "push" | "refresh";
  done: number;
  total: number | null;
};

export type SavedView = { id: string; name: string; query: Query; builtin: boolean };
// Built-in ids: "inbox" (everything not final), "mine-open", "groups-unclaimed",
// "overdue", "needs-attention". Their `name` is a translation key.

export type Preferences = { language: "auto" | "en" | "zh-TW" | "de" | "ja" };
