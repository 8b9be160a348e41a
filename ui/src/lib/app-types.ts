/**
 * The app-level types of the desktop shell (docs/app-api.md, "App-level
 * types"), generated from `src-tauri/src/types.rs` by ts-rs into
 * `bindings/` (a Rust test fails when they are stale). Re-exported here so
 * the UI imports them from one place.
 */
export type { AccountStatus } from "./bindings/AccountStatus";
export type { AccountTest } from "./bindings/AccountTest";
export type { AppError } from "./bindings/AppError";
export type { Preferences } from "./bindings/Preferences";
export type { QueueItem } from "./bindings/QueueItem";
export type { QueueResult } from "./bindings/QueueResult";
export type { SavedView } from "./bindings/SavedView";
export type { SyncProgress } from "./bindings/SyncProgress";
export type { TaskRelated } from "./bindings/TaskRelated";
// Built-in view ids: "inbox" (everything not final), "mine-open",
// "groups-unclaimed", "overdue", "needs-attention". Their `name` is a
// translation key.
