/**
 * The inbox: the query being shown, the ordered ids of every match
 * (`task_ids`), a small cache of the rows around what is visible
 * (`tasks_by_id`), and the selection.
 *
 * Only ids are held for all matches (100,000 numbers are cheap); rows are
 * fetched for the visible window plus a margin, in one request per scroll
 * step, and the cache is trimmed back to `ROW_CACHE_LIMIT` rows, keeping
 * the visible ones.
 */
import { SvelteMap } from "svelte/reactivity";

import * as api from "../api";
import type { AppError, SavedView } from "../app-types";
import type { Condition } from "../bindings/Condition";
import type { Query } from "../bindings/Query";
import type { TaskRow } from "../bindings/TaskRow";
import type { Column } from "../bindings/Column";
import { toAppError } from "../errors";
import { DEFAULT_COUNT, MAX_COUNT, sameQuery, toggleSort } from "../query";
import { Positions } from "./positions";

export const ROW_CACHE_LIMIT = 1000;
/** Rows fetched beyond each end of the visible window. */
export const ROW_MARGIN = 40;

export type ClickModifiers = { shift?: boolean; toggle?: boolean };

export class InboxState {
  /** The saved view the query came from (null: none). */
  viewId = $state<string | null>(null);
  conditions = $state.raw<Condition[]>([]);
  exclusions = $state.raw<Condition[]>([]);
  order = $state.raw<string[]>([]);
  search = $state("");

  ids = $state.raw<number[]>([]);
  #positions = new Positions([]);
  loaded = $state(false);
  loading = $state(false);
  error = $state<AppError | null>(null);

  rows = new SvelteMap<number, TaskRow>();
  #inFlight = new Set<number>();
  #window = { start: 0, end: -1 };
  #generation = 0;

  selected = $state.raw<ReadonlySet<number>>(new Set());
  /** The row keyboard commands act on (j/k move it). */
  cursor = $state<number | null>(null);
  #anchor: number | null = null;

  /** The query as the shell takes it. */
  get query(): Query {
    const search = this.search.trim();
    return {
      conditions: this.conditions,
      exclusions: this.exclusions,
      order: this.order,
      start: 0,
      count: DEFAULT_COUNT,
      search: search === "" ? null : search,
    };
  }

  /** The current query differs from its saved view's. */
  isModified(view: SavedView | undefined): boolean {
    return view ? !sameQuery(view.query, this.query) : false;
  }

  /** Filtering or searching narrowed the list (as opposed to an empty replica). */
  get narrowed(): boolean {
    return this.search.trim() !== "" || this.conditions.length > 0 || this.exclusions.length > 0;
  }

  applyView(view: SavedView): Promise<void> {
    this.viewId = view.id;
    this.conditions = view.query.conditions;
    this.exclusions = view.query.exclusions;
    this.order = view.query.order;
    this.search = view.query.search ?? "";
    this.clearSelection();
    return this.reload({ resetRows: true });
  }

  setSearch(text: string): Promise<void> {
    if (text === this.search) return Promise.resolve();
    this.search = text;
    return this.reload();
  }

  sortBy(column: Column): Promise<void> {
    this.order = toggleSort(this.order, column);
    return this.reload();
  }

  addCondition(condition: Condition, exclude = false): Promise<void> {
    if (exclude) this.exclusions = [...this.exclusions, condition];
    else this.conditions = [...this.conditions, condition];
    return this.reload();
  }

  removeCondition(index: number, exclude = false): Promise<void> {
    if (exclude) this.exclusions = this.exclusions.filter((_, i) => i !== index);
    else this.conditions = this.conditions.filter((_, i) => i !== index);
    return this.reload();
  }

  /** Drops every condition (and the search text, unless `keepSearch`). */
  clearFilters(keepSearch = false): Promise<void> {
    this.conditions = [];
    this.exclusions = [];
    if (!keepSearch) this.search = "";
    return this.reload();
  }

  /**
   * Asks for the ids of every match again. Rows already cached stay (their
   * content did not change unless `replica-changed` said so).
   */
  async reload(options: { resetRows?: boolean } = {}): Promise<void> {
    const generation = ++this.#generation;
    this.loading = true;
    // task_ids ignores paging; `count` is kept within what every query accepts.
    const query: Query = { ...this.query, count: MAX_COUNT };
    try {
      const ids = await api.taskIds(query);
      if (generation !== this.#generation) return;
      if (options.resetRows) this.rows.clear();
      this.#setIds(ids);
      this.error = null;
      this.loaded = true;
      this.#fetchWindow();
    } catch (e) {
      if (generation === this.#generation) this.error = toAppError(e);
    } finally {
      if (generation === this.#generation) this.loading = false;
    }
  }

  #setIds(ids: number[]): void {
    this.ids = ids;
    this.#positions = new Positions(ids);
    if (this.selected.size > 0) {
      const kept = new Set([...this.selected].filter((id) => this.#positions.has(id)));
      if (kept.size !== this.selected.size) this.selected = kept;
    }
    if (this.cursor !== null && !this.#positions.has(this.cursor)) {
      this.cursor = ids[0] ?? null;
    }
  }

  indexOf(id: number): number {
    return this.#positions.get(id);
  }

  rowAt(index: number): TaskRow | undefined {
    const id = this.ids[index];
    return id === undefined ? undefined : this.rows.get(id);
  }

  /** The list shows rows `start..=end`; fetch what is missing around them. */
  showWindow(start: number, end: number): void {
    this.#window = { start, end };
    this.#fetchWindow();
  }

  #fetchWindow(): void {
    const from = Math.max(0, this.#window.start - ROW_MARGIN);
    const to = Math.min(this.ids.length - 1, this.#window.end + ROW_MARGIN);
    const missing: number[] = [];
    for (let i = from; i <= to; i++) {
      const id = this.ids[i];
      if (id !== undefined && !this.rows.has(id) && !this.#inFlight.has(id)) missing.push(id);
    }
    if (missing.length > 0) void this.#fetchRows(missing);
  }

  async #fetchRows(ids: number[]): Promise<void> {
    for (const id of ids) this.#inFlight.add(id);
    try {
      const rows = await api.tasksById(ids);
      for (const row of rows) this.rows.set(row.id, row);
      this.#trimCache();
    } catch (e) {
      this.error = toAppError(e);
    } finally {
      for (const id of ids) this.#inFlight.delete(id);
    }
  }

  #trimCache(): void {
    let excess = this.rows.size - ROW_CACHE_LIMIT;
    if (excess <= 0) return;
    const from = this.#window.start - ROW_MARGIN;
    const to = this.#window.end + ROW_MARGIN;
    for (const id of this.rows.keys()) {
      if (excess <= 0) break;
      const i = this.indexOf(id);
      if (i >= from && i <= to) continue;
      this.rows.delete(id);
      excess--;
    }
  }

  /**
   * Tasks changed in the replica (`replica-changed`): their cached rows are
   * stale, and they may have entered or left the query.
   */
  async refresh(changed: number[] | null): Promise<void> {
    const stale = changed === null ? [...this.rows.keys()] : changed.filter((id) => this.rows.has(id));
    // Rows in view are replaced in place (no flash of placeholders);
    // the others are dropped and fetched again if they scroll into view.
    const from = this.#window.start - ROW_MARGIN;
    const to = this.#window.end + ROW_MARGIN;
    const visible: number[] = [];
    for (const id of stale) {
      const i = this.indexOf(id);
      if (i >= from && i <= to) visible.push(id);
      else this.rows.delete(id);
    }
    await Promise.all([this.#refetch(visible), this.reload()]);
  }

  async #refetch(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    try {
      const rows = await api.tasksById(ids);
      const found = new Set(rows.map((r) => r.id));
      for (const row of rows) this.rows.set(row.id, row);
      for (const id of ids) if (!found.has(id)) this.rows.delete(id);
    } catch (e) {
      for (const id of ids) this.rows.delete(id);
      this.error = toAppError(e);
    }
  }

  /** Rows for ids (cached or fetched), for acting on a selection. */
  async rowsFor(ids: number[]): Promise<TaskRow[]> {
    const missing = ids.filter((id) => !this.rows.has(id));
    const fetched = new Map<number, TaskRow>();
    for (let i = 0; i < missing.length; i += 1000) {
      for (const row of await api.tasksById(missing.slice(i, i + 1000))) fetched.set(row.id, row);
    }
    return ids
      .map((id) => this.rows.get(id) ?? fetched.get(id))
      .filter((row): row is TaskRow => row !== undefined);
  }

  // Selection

  isSelected(id: number): boolean {
    return this.selected.has(id);
  }

  /** The selected ids in list order. */
  get selectedIds(): number[] {
    if (this.selected.size === 0) return [];
    if (this.selected.size === this.ids.length) return this.ids;
    return this.ids.filter((id) => this.selected.has(id));
  }

  /** A click on a row: alone, adding/removing (ctrl/cmd), or a range (shift). */
  click(id: number, mods: ClickModifiers = {}): void {
    if (mods.shift && this.#anchor !== null && this.indexOf(this.#anchor) >= 0) {
      const a = this.indexOf(this.#anchor);
      const b = this.indexOf(id);
      const [lo, hi] = a <= b ? [a, b] : [b, a];
      const range = this.ids.slice(lo, hi + 1);
      this.selected = mods.toggle ? new Set([...this.selected, ...range]) : new Set(range);
    } else if (mods.toggle) {
      const next = new Set(this.selected);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      this.selected = next;
      this.#anchor = id;
    } else {
      this.selected = new Set([id]);
      this.#anchor = id;
    }
    this.cursor = id;
  }

  toggle(id: number): void {
    this.click(id, { toggle: true });
  }

  selectAll(): void {
    this.selected = new Set(this.ids);
  }

  clearSelection(): void {
    if (this.selected.size > 0) this.selected = new Set();
  }

  /**
   * Moves the cursor by `delta` rows. A single selection moves with it;
   * with `extend` the selection grows as a range from the anchor.
   */
  move(delta: number, extend = false): number | null {
    if (this.ids.length === 0) return null;
    const current = this.cursor === null ? -1 : this.indexOf(this.cursor);
    const start = current < 0 ? (delta > 0 ? -1 : this.ids.length) : current;
    const next = Math.min(this.ids.length - 1, Math.max(0, start + delta));
    const id = this.ids[next] as number;
    if (extend) this.click(id, { shift: true });
    else {
      this.cursor = id;
      this.#anchor = id;
      // A single selection follows the cursor; a built-up one stays put.
      if (this.selected.size <= 1) this.selected = new Set([id]);
    }
    return id;
  }
}
