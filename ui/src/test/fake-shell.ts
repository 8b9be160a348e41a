/**
 * A stand-in for the Tauri shell in component tests: the commands of
 * docs/app-api.md over an in-memory replica, installed with `mockIPC`.
 * It records every call, can be told to fail a command, and emits the
 * shell's events through Tauri's event mock.
 */
import { emit } from "@tauri-apps/api/event";
import { mockIPC } from "@tauri-apps/api/mocks";

import type {
  AccountStatus,
  AppError,
  Preferences,
  QueueItem,
  QueueResult,
  SavedView,
} from "../lib/app-types";
import type { Account } from "../lib/bindings/Account";
import type { AccountKind } from "../lib/bindings/AccountKind";
import type { Condition } from "../lib/bindings/Condition";
import type { Op } from "../lib/bindings/Op";
import type { OpRequest } from "../lib/bindings/OpRequest";
import type { OpState } from "../lib/bindings/OpState";
import type { Query } from "../lib/bindings/Query";
import type { QueryValue } from "../lib/bindings/QueryValue";
import type { TaskDetail } from "../lib/bindings/TaskDetail";
import type { TaskRow } from "../lib/bindings/TaskRow";

export type Call = { cmd: string; args: Record<string, unknown> };

type Handler = (args: Record<string, unknown>) => unknown;

const ROW_FIELDS = [
  "id",
  "account",
  "key",
  "title",
  "state",
  "server_state",
  "status_text",
  "kind",
  "assignee",
  "group",
  "issuer",
  "deadline",
  "priority",
  "created",
  "modified",
  "process",
  "parent_key",
  "position",
  "pending",
  "attention",
  "gone",
  "local_only",
] as const;

export function toRow(task: TaskDetail): TaskRow {
  const row: Partial<Record<(typeof ROW_FIELDS)[number], unknown>> = {};
  for (const field of ROW_FIELDS) row[field] = task[field];
  return row as TaskRow;
}

export function account(
  id: number,
  name: string,
  kind: AccountKind,
  user: string,
  settings: Account["settings"] = {},
): AccountStatus {
  return {
    account: {
      id,
      name,
      kind,
      base_url: kind === "local" ? "" : `https://${name}.example.org`,
      user_name: user,
      settings,
      created_at: "2026-11-01T08:00:00Z",
    },
    capabilities: {
      op_kinds: ["transition", "comment_add", "comment_edit", "comment_delete", "create_task"],
      incremental: true,
      idempotency_keys: kind === "local",
      exhaustive_listing: true,
    },
    sync: {
      watermark: null,
      last_full: null,
      last_success: "2026-11-22T08:00:00Z",
      last_attempt: "2026-11-22T08:00:00Z",
      last_error: null,
      last_error_kind: null,
    },
    online: kind === "local" ? null : true,
    syncing: false,
    queue: 0,
    attention: 0,
  };
}

let nextId = 1;

export function task(fields: Partial<TaskDetail> & Pick<TaskDetail, "title" | "account">): TaskDetail {
  const id = fields.id ?? nextId++;
  return {
    id,
    key: `k${id}`,
    state: "open",
    server_state: fields.state ?? "open",
    status_text: "",
    kind: null,
    assignee: null,
    group: null,
    issuer: null,
    deadline: null,
    priority: null,
    created: "2026-11-20T08:00:00Z",
    modified: "2026-11-21T08:00:00Z",
    process: null,
    parent_key: null,
    position: null,
    pending: 0,
    attention: 0,
    gone: false,
    local_only: false,
    account_kind: "local",
    description: "",
    description_format: "text",
    comments: [],
    history: [],
    actions: [],
    actions_fetched: "2026-11-22T08:00:00Z",
    ops: [],
    payload: null,
    ...fields,
  };
}

export function op(fields: Partial<Op> & Pick<Op, "request">): Op {
  return {
    seq: 1,
    op_id: "11111111-2222-4333-8444-555555555555",
    account_id: 1,
    task_id: null,
    kind: fields.request.op,
    effect: null,
    base: null,
    state: "pending",
    attempts: 0,
    last_error: null,
    error_kind: null,
    not_before: null,
    result: null,
    created_at: "2026-11-22T08:00:00Z",
    updated_at: "2026-11-22T08:00:00Z",
    ...fields,
  };
}

export const BUILTIN_VIEWS: SavedView[] = [
  {
    id: "inbox",
    name: "views.builtin.inbox",
    builtin: true,
    query: {
      conditions: [],
      exclusions: [{ column: "state", op: "in", value: ["closed", "cancelled", "skipped"] }],
      order: [],
      start: 0,
      count: 50,
      search: null,
    },
  },
  {
    id: "overdue",
    name: "views.builtin.overdue",
    builtin: true,
    query: {
      conditions: [{ column: "deadline", op: "<", value: "today" }],
      exclusions: [],
      order: ["deadline"],
      start: 0,
      count: 50,
      search: null,
    },
  },
];

function fieldOf(t: TaskDetail, column: Condition["column"]): unknown {
  switch (column) {
    case "status":
      return t.status_text;
    case "parent":
      return t.parent_key;
    case "pending":
      return t.pending > 0;
    case "attention":
      return t.attention > 0;
    default:
      return (t as unknown as Record<string, unknown>)[column];
  }
}

function matches(t: TaskDetail, c: Condition): boolean {
  const field = fieldOf(t, c.column);
  const values: QueryValue[] = Array.isArray(c.value) ? c.value : [c.value];
  const v = values[0];
  switch (c.op) {
    case "=":
      return field !== null && field === v;
    case "!=":
      return field !== v;
    case "in":
      return values.includes(field as QueryValue);
    case "contains":
      return typeof field === "string" && field.toLowerCase().includes(String(v).toLowerCase());
    case ">":
      return field !== null && String(field) > String(v);
    case "<":
      return field !== null && String(field) < String(v);
    case ">=":
      return field !== null && String(field) >= String(v);
    case "<=":
      return field !== null && String(field) <= String(v);
  }
}

export class FakeShell {
  tasks: TaskDetail[] = [];
  accounts: AccountStatus[] = [];
  views: SavedView[] = [...BUILTIN_VIEWS];
  ops: Op[] = [];
  preferences: Preferences = { language: "en" };
  /** The task `--open-task` named at launch; answered once. */
  startupTask: number | null = null;
  calls: Call[] = [];
  /** Replaces a command (to fail it, slow it, or answer differently). */
  overrides = new Map<string, Handler>();
  #seq = 100;

  constructor(init: { tasks?: TaskDetail[]; accounts?: AccountStatus[]; ops?: Op[] } = {}) {
    this.tasks = init.tasks ?? [];
    this.accounts = init.accounts ?? [];
    this.ops = init.ops ?? [];
  }

  install(): this {
    mockIPC((cmd, payload) => this.handle(cmd, (payload ?? {}) as Record<string, unknown>), {
      shouldMockEvents: true,
    });
    return this;
  }

  /** Makes a command reject with an AppError. */
  fail(cmd: string, error: AppError): void {
    this.overrides.set(cmd, () => {
      throw error;
    });
  }

  callsOf(cmd: string): Record<string, unknown>[] {
    return this.calls.filter((c) => c.cmd === cmd).map((c) => c.args);
  }

  emit(event: string, payload: unknown): Promise<void> {
    return emit(event, payload);
  }

  query(q: Query): TaskDetail[] {
    const search = q.search?.trim().toLowerCase();
    let rows = this.tasks.filter(
      (t) =>
        q.conditions.every((c) => matches(t, c)) &&
        !q.exclusions.some((c) => matches(t, c)) &&
        (!search ||
          search
            .split(/\s+/)
            .every((term) =>
              [t.title, t.description, ...t.comments.map((c) => c.text)].some((s) =>
                s.toLowerCase().includes(term),
              ),
            )),
    );
    const order = q.order.length > 0 ? q.order : ["deadline"];
    rows = [...rows].sort((a, b) => {
      for (const key of order) {
        const desc = key.startsWith("-");
        const column = (desc ? key.slice(1) : key) as Condition["column"];
        const x = fieldOf(a, column);
        const y = fieldOf(b, column);
        if (x === y) continue;
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        const cmp = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
        return desc ? -cmp : cmp;
      }
      return a.id - b.id;
    });
    return rows;
  }

  queue(item: QueueItem): Op {
    const acct = this.accounts.find((a) => a.account.name === item.account);
    if (!acct) throw { kind: "not_found", message: `no account ${item.account}` } satisfies AppError;
    const request: OpRequest = item.request;
    const made = op({
      seq: ++this.#seq,
      op_id: `00000000-0000-4000-8000-${String(this.#seq).padStart(12, "0")}`,
      account_id: acct.account.id,
      task_id: item.taskId,
      request,
    });
    this.ops.push(made);
    const t = this.tasks.find((x) => x.id === item.taskId);
    if (t) {
      t.pending += 1;
      t.ops = [...t.ops, made];
      if (request.op === "comment_add") {
        t.comments = [
          ...t.comments,
          {
            remote_id: `pending:${made.op_id}`,
            author: acct.account.user_name,
            text: request.text,
            created: made.created_at,
            modified: null,
            pending: { change: "added", op_id: made.op_id },
          },
        ];
      }
    }
    return made;
  }

  handle(cmd: string, args: Record<string, unknown>): unknown {
    this.calls.push({ cmd, args });
    const override = this.overrides.get(cmd);
    if (override) return override(args);
    switch (cmd) {
      case "list_tasks": {
        const q = args["query"] as Query;
        const all = this.query(q);
        return { total: all.length, start: q.start, tasks: all.slice(q.start, q.start + q.count).map(toRow) };
      }
      case "task_ids":
        return this.query(args["query"] as Query).map((t) => t.id);
      case "tasks_by_id":
        return (args["ids"] as number[]).flatMap((id) => {
          const t = this.tasks.find((x) => x.id === id);
          return t ? [toRow(t)] : [];
        });
      case "task_detail": {
        const t = this.tasks.find((x) => x.id === args["id"]);
        if (!t) throw { kind: "not_found", message: `task ${String(args["id"])} not found` } satisfies AppError;
        return structuredClone(t);
      }
      case "task_related": {
        const t = this.tasks.find((x) => x.id === args["id"]);
        if (!t) throw { kind: "not_found", message: "no such task" } satisfies AppError;
        const parent = this.tasks.find((x) => x.account === t.account && x.key === t.parent_key);
        const children = this.tasks
          .filter((x) => x.account === t.account && x.parent_key === t.key)
          .sort((a, b) => (a.position ?? 0) - (b.position ?? 0));
        return { parent: parent ? toRow(parent) : null, children: children.map(toRow) };
      }
      case "queue_op":
        return this.queue({
          account: args["account"] as string,
          taskId: args["taskId"] as number | null,
          request: args["request"] as OpRequest,
        });
      case "queue_ops":
        return (args["items"] as QueueItem[]).map((item): QueueResult => {
          try {
            return { ok: this.queue(item) };
          } catch (e) {
            return { error: e as AppError };
          }
        });
      case "outbox": {
        const states = args["states"] as OpState[];
        return this.ops.filter((o) => states.length === 0 || states.includes(o.state));
      }
      case "outbox_retry":
      case "outbox_edit":
      case "outbox_discard": {
        const found = this.ops.find((o) => o.op_id === args["op"]);
        if (!found) throw { kind: "not_found", message: "no such op" } satisfies AppError;
        if (cmd === "outbox_retry") Object.assign(found, { state: "pending", last_error: null });
        if (cmd === "outbox_edit") Object.assign(found, { state: "pending", request: args["request"], last_error: null });
        if (cmd === "outbox_discard") found.state = "cancelled";
        return { ...found };
      }
      case "accounts":
        return this.accounts;
      case "account_test":
        return { ok: true, message: "Signed in.", tasks: 42 };
      case "account_add": {
        const na = args["account"] as { name: string; kind: AccountKind; user_name: string; settings: Account["settings"] };
        const status = account(this.accounts.length + 1, na.name, na.kind, na.user_name, na.settings);
        this.accounts.push(status);
        return status;
      }
      case "account_update": {
        const status = this.accounts.find((a) => a.account.name === args["name"]);
        if (!status) throw { kind: "not_found", message: "no such account" } satisfies AppError;
        status.account.settings = args["settings"] as Account["settings"];
        return status;
      }
      case "account_remove":
        this.accounts = this.accounts.filter((a) => a.account.name !== args["name"]);
        return null;
      case "sync_now":
        return null;
      case "views":
        return this.views;
      case "view_save": {
        const view = args["view"] as SavedView;
        this.views = [...this.views.filter((v) => v.id !== view.id), view];
        return this.views;
      }
      case "view_delete":
        this.views = this.views.filter((v) => v.id !== args["id"] || v.builtin);
        return this.views;
      case "preferences":
        return this.preferences;
      case "set_preferences":
        this.preferences = args["preferences"] as Preferences;
        return this.preferences;
      case "startup_task": {
        const id = this.startupTask;
        this.startupTask = null;
        return id;
      }
      default:
        throw { kind: "invalid", message: `unknown command ${cmd}` } satisfies AppError;
    }
  }
}
