/**
 * The state of the whole window, shared with components through context,
 * and the wiring of the shell's events to it.
 */
import { getContext, setContext } from "svelte";

import { requestFor } from "../actions";
import * as api from "../api";
import type { Preferences } from "../app-types";
import type { TaskRow } from "../bindings/TaskRow";
import { isDetail, type BulkPlan } from "../bulk";
import { allocateRequest, claimAction } from "../claim";
import { toAppError } from "../errors";
import { i18n } from "../i18n/index.svelte";
import { AccountsState } from "./accounts.svelte";
import { DetailState } from "./detail.svelte";
import { InboxState } from "./inbox.svelte";
import { Notifications } from "./notifications.svelte";
import { OutboxState } from "./outbox.svelte";
import { ViewsState } from "./views.svelte";

/** The side panel next to the inbox. */
export type Panel = "detail" | "outbox" | "accounts" | "new-task";

export class AppState {
  accounts = new AccountsState();
  views = new ViewsState();
  inbox = new InboxState();
  detail = new DetailState();
  outbox = new OutboxState();
  notifications = new Notifications();

  panel = $state<Panel | null>(null);
  helpOpen = $state(false);
  /** The accounts panel should open its "add a server" form. */
  addingAccount = $state(false);
  /** Bumped to ask the comment box to take focus. */
  commentFocus = $state(0);
  /** Bumped to ask the search box to take focus. */
  searchFocus = $state(0);
  ready = $state(false);
  /** Runs the n-th offered action of the open task (set by the detail panel). */
  actionHandler: ((index: number) => void) | null = null;
  /** Runs "claim next" (set by its button). */
  claimHandler: (() => void) | null = null;
  /** A bulk action the keyboard asked for (the bulk bar opens it). */
  bulkRequest = $state<"comment" | "transition" | null>(null);

  /** Loads everything the window shows at start. */
  async start(): Promise<void> {
    const t = i18n.t;
    await Promise.all([
      api
        .preferences()
        .then((p) => i18n.apply(p.language))
        .catch(() => i18n.apply("auto")),
      this.accounts.load().catch((e) => this.notifications.error(e, t("errors.loadAccounts"))),
      this.views.load().catch((e) => this.notifications.error(e, t("errors.loadViews"))),
      this.outbox.load(),
    ]);
    const first = this.views.byId("inbox") ?? this.views.list[0];
    if (first) await this.inbox.applyView(first);
    else await this.inbox.reload();
    this.ready = true;
  }

  async setLanguage(language: Preferences["language"]): Promise<void> {
    i18n.apply(language);
    try {
      const saved = await api.setPreferences({ language });
      if (saved.language !== language) i18n.apply(saved.language);
    } catch (e) {
      this.notifications.error(e, i18n.t("errors.savePreferences"));
    }
  }

  openTask(id: number): Promise<void> {
    this.panel = "detail";
    if (this.inbox.indexOf(id) >= 0) this.inbox.cursor = id;
    return this.detail.open(id);
  }

  openPanel(panel: Panel): void {
    this.panel = panel;
  }

  /** Closes the side panel (Escape). Returns whether there was one. */
  closePanel(): boolean {
    if (this.panel === null) return false;
    if (this.panel === "detail") this.detail.close();
    this.panel = null;
    this.addingAccount = false;
    return true;
  }

  showAddAccount(): void {
    this.addingAccount = true;
    this.panel = "accounts";
  }

  async syncNow(account: string | null = null): Promise<void> {
    try {
      await api.syncNow(account);
    } catch (e) {
      this.notifications.error(e, i18n.t("errors.sync"));
    }
  }

  /** Hitachi: queue an `allocate` for the account's lanes (the server picks the item). */
  async claimNext(accountName: string): Promise<void> {
    const t = i18n.t;
    const account = this.accounts.byName(accountName);
    if (!account) return;
    try {
      await api.queueOp(account.name, null, allocateRequest(account));
      this.notifications.success(t("claim.queued", { account: account.name }));
    } catch (e) {
      this.notifications.error(e, t("claim.failed"));
    }
  }

  /** How each task would be claimed through its offered action (or why not). */
  async claimPlans(rows: TaskRow[]): Promise<BulkPlan[]> {
    const t = i18n.t;
    const plans: BulkPlan[] = [];
    for (const task of rows) {
      const account = this.accounts.byName(task.account);
      const skip = (message: string): BulkPlan => ({ task, skip: { kind: "invalid", message } });
      if (!account) {
        plans.push(skip(t("claim.noAccount")));
        continue;
      }
      let detail;
      try {
        detail = await api.taskDetail(task.id);
      } catch (e) {
        plans.push({ task, skip: toAppError(e) });
        continue;
      }
      const claim = isDetail(detail) ? claimAction(detail.actions, account) : null;
      plans.push(claim ? { task, request: requestFor(claim.action, claim.values) } : skip(t("claim.notOffered")));
    }
    return plans;
  }

  /** Claims one unassigned group task through its offered action. */
  async claimTask(row: TaskRow): Promise<void> {
    const t = i18n.t;
    const [plan] = await this.claimPlans([row]);
    if (!plan) return;
    if ("skip" in plan) {
      this.notifications.error(plan.skip, t("claim.failedTask", { title: row.title }));
      return;
    }
    try {
      await api.queueOp(row.account, row.id, plan.request);
      this.notifications.success(t("claim.queuedTask", { title: row.title }));
      if (this.detail.openId === row.id) void this.detail.load();
    } catch (e) {
      this.notifications.error(e, t("claim.failedTask", { title: row.title }));
    }
  }

  /** Subscribes to the shell's events; returns the unsubscribe function. */
  connect(): () => void {
    const pending = [
      api.on("replica-changed", ({ tasks }) => {
        void this.inbox.refresh(tasks);
        if (this.detail.concerns(tasks)) void this.detail.load();
      }),
      api.on("outbox-changed", () => {
        void this.outbox.load();
        if (this.detail.openId !== null) void this.detail.load();
        void this.accounts.load().catch(() => undefined);
      }),
      api.on("sync-status", (status) => this.accounts.apply(status)),
      api.on("sync-progress", (progress) => this.accounts.applyProgress(progress)),
      api.on("open-task", ({ taskId }) => void this.openTask(taskId)),
    ];
    // Launched to open a task (a notification clicked while the app was
    // closed): a second instance sends `open-task`, the first asks.
    void api
      .startupTask()
      .then((id) => {
        if (id !== null) void this.openTask(id);
      })
      .catch(() => undefined);
    return () => {
      for (const p of pending) void p.then((unlisten) => unlisten()).catch(() => undefined);
      this.notifications.dispose();
    };
  }
}

const KEY = Symbol("tasklane-app");

export function provideApp(app: AppState): AppState {
  return setContext(KEY, app);
}

export function useApp(): AppState {
  const app = getContext<AppState | undefined>(KEY);
  if (!app) throw new Error("useApp() outside <App>: provide an AppState first");
  return app;
}

export const APP_CONTEXT_KEY = KEY;
