/**
 * What the UI knows about the query language of docs/query.md: the columns
 * with their types, which operators each type takes, how a value typed into
 * the filter bar becomes a `QueryValue`, and how sort keys toggle.
 */
import type { Column } from "./bindings/Column";
import type { Condition } from "./bindings/Condition";
import type { Query } from "./bindings/Query";
import type { QueryOp } from "./bindings/QueryOp";
import type { QueryValue } from "./bindings/QueryValue";
import type { State } from "./bindings/State";

export type ColumnType = "int" | "text" | "state" | "instant" | "deadline" | "flag";

export const COLUMN_TYPES: Record<Column, ColumnType> = {
  id: "int",
  account: "text",
  key: "text",
  title: "text",
  description: "text",
  state: "state",
  server_state: "state",
  status: "text",
  kind: "text",
  assignee: "text",
  group: "text",
  issuer: "text",
  deadline: "deadline",
  priority: "int",
  created: "instant",
  modified: "instant",
  process: "text",
  parent: "text",
  position: "int",
  pending: "flag",
  attention: "flag",
  gone: "flag",
};

export const COLUMNS = Object.keys(COLUMN_TYPES) as Column[];

export const STATES: readonly State[] = [
  "open",
  "in_progress",
  "resolved",
  "closed",
  "cancelled",
  "rejected",
  "planned",
  "skipped",
  "other",
];

/** Work on the task is over (mirrors `State::is_final`). */
export function isFinal(state: State): boolean {
  return state === "closed" || state === "cancelled" || state === "skipped";
}

const ALL_OPS: readonly QueryOp[] = ["=", "!=", ">", "<", ">=", "<=", "in", "contains"];

/** The operators a column accepts (the checks `query::sql` makes). */
export function operatorsFor(column: Column): QueryOp[] {
  switch (COLUMN_TYPES[column]) {
    case "flag":
      return ["=", "!="];
    case "state":
      return ["=", "!=", "in"];
    case "text":
      return [...ALL_OPS];
    case "int":
    case "instant":
    case "deadline":
      return ALL_OPS.filter((op) => op !== "contains");
  }
}

/** Columns results can be ordered by. */
export function isSortable(column: Column): boolean {
  return !["description", "pending", "attention", "gone"].includes(column);
}

/** The most rows one query may return (`query::MAX_COUNT`). */
export const MAX_COUNT = 10_000;
/** Rows per page when a query does not say (`query::DEFAULT_COUNT`). */
export const DEFAULT_COUNT = 50;

export function emptyQuery(): Query {
  return { conditions: [], exclusions: [], order: [], start: 0, count: DEFAULT_COUNT, search: null };
}

export type ValueError = "empty" | "number" | "state";

/**
 * Turns what the user typed for `column op` into a query value: numbers for
 * number columns, yes/no for flags, a list for `in` (comma separated). Dates
 * stay text (`2026-11-30`, `today+7`, `now`): the query checks them.
 */
export function parseValue(
  column: Column,
  op: QueryOp,
  raw: string | string[] | boolean,
): { value: QueryValue } | { error: ValueError } {
  const type = COLUMN_TYPES[column];
  if (type === "flag") return { value: raw === true || raw === "true" };
  const parts = Array.isArray(raw)
    ? raw
    : op === "in"
      ? String(raw).split(/[,、，]/)
      : [String(raw)];
  const items = parts.map((p) => p.trim()).filter((p) => p !== "");
  if (items.length === 0) return { error: "empty" };
  const values: QueryValue[] = [];
  for (const item of items) {
    if (type === "int") {
      if (!/^[+-]?\d+$/.test(item)) return { error: "number" };
      values.push(Number(item));
    } else if (type === "state") {
      if (!(STATES as readonly string[]).includes(item)) return { error: "state" };
      values.push(item);
    } else {
      values.push(item);
    }
  }
  if (op === "in") return { value: values };
  return { value: values[0] as QueryValue };
}

/** A value as the filter bar shows it in a chip; `list` joins the items of `in`. */
export function valueText(
  value: QueryValue,
  describe: (v: string | number | boolean) => string,
  list: (items: string[]) => string = (items) => items.join(", "),
): string {
  if (Array.isArray(value)) return list(value.map((v) => valueText(v, describe, list)));
  return describe(value);
}

export type SortDirection = "ascending" | "descending" | "none";

/** How `order` sorts by `column` (only the most significant key counts as "sorted"). */
export function sortDirection(order: readonly string[], column: Column): SortDirection {
  const first = order[0];
  if (first === column) return "ascending";
  if (first === `-${column}`) return "descending";
  return "none";
}

/** Clicking a column header: sort by it ascending, or flip it if it already leads. */
export function toggleSort(order: readonly string[], column: Column): string[] {
  const direction = sortDirection(order, column);
  const rest = order.filter((key) => key !== column && key !== `-${column}`);
  if (direction === "ascending") return [`-${column}`, ...rest];
  return [column, ...rest];
}

function sameConditions(a: readonly Condition[], b: readonly Condition[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Whether two queries ask for the same rows in the same order (paging aside). */
export function sameQuery(a: Query, b: Query): boolean {
  return (
    sameConditions(a.conditions, b.conditions) &&
    sameConditions(a.exclusions, b.exclusions) &&
    JSON.stringify(a.order) === JSON.stringify(b.order) &&
    (a.search ?? "").trim() === (b.search ?? "").trim()
  );
}
