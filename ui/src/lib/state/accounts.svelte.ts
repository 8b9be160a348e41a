/**
 * The configured accounts with their sync status, kept current by the
 * `sync-status` and `sync-progress` events.
 */
import { SvelteMap } from "svelte/reactivity";

import * as api from "../api";
import type { AccountStatus, SyncProgress } from "../app-types";
import type { Account } from "../bindings/Account";

export class AccountsState {
  list = $state.raw<AccountStatus[]>([]);
  loaded = $state(false);
  /** The latest progress of each account that is syncing. */
  progress = new SvelteMap<string, SyncProgress>();

  async load(): Promise<void> {
    this.list = await api.accounts();
    this.loaded = true;
  }

  /** An account's status changed (`sync-status`), or one was added or updated. */
  apply(status: AccountStatus): void {
    const i = this.list.findIndex((s) => s.account.name === status.account.name);
    this.list = i < 0 ? [...this.list, status] : this.list.with(i, status);
    if (!status.syncing) this.progress.delete(status.account.name);
  }

  remove(name: string): void {
    this.list = this.list.filter((s) => s.account.name !== name);
    this.progress.delete(name);
  }

  applyProgress(progress: SyncProgress): void {
    this.progress.set(progress.account, progress);
  }

  byName(name: string): Account | undefined {
    return this.list.find((s) => s.account.name === name)?.account;
  }

  byId(id: number): Account | undefined {
    return this.list.find((s) => s.account.id === id)?.account;
  }

  /** Accounts that talk to a server (not tasklane's own engine). */
  get servers(): AccountStatus[] {
    return this.list.filter((s) => s.account.kind !== "local");
  }

  get hitachi(): Account[] {
    return this.list.filter((s) => s.account.kind === "hitachi").map((s) => s.account);
  }

  get queue(): number {
    return this.list.reduce((n, s) => n + s.queue, 0);
  }

  get attention(): number {
    return this.list.reduce((n, s) => n + s.attention, 0);
  }
}
