/**
 * Test data modelled on demo/inbox.json: four accounts (personal, GEVER,
 * OMFLOW, Hitachi) with tasks in English, German, Chinese and Japanese,
 * plus tasks carrying script payloads in their server text.
 */
import type { Action } from "../lib/bindings/Action";
import { account, FakeShell, op, task } from "./fake-shell";

export const XSS_TITLE = `<img src=x onerror="window.__pwned = 'title'">Budget <script>window.__pwned = 'script'</script>`;
export const XSS_COMMENT = `<img src=x onerror="window.__pwned = 'comment'">nice <b>bold</b>`;
export const XSS_HTML = `<p>Bitte <strong>prüfen</strong>.</p><img src=x onerror="window.__pwned = 'description'"><script>window.__pwned = 'desc-script'</script><a href="javascript:window.__pwned='link'">Link</a>`;

export const GEVER_ACTIONS: Action[] = [
  {
    id: "task-transition-open-in-progress",
    label: "Akzeptieren",
    to_state: "in_progress",
    params: [
      { name: "text", label: "Kommentar", kind: { type: "long_text" }, required: false, sets: null, wire_type: null },
    ],
  },
  {
    id: "task-transition-reassign",
    label: "Neu zuweisen",
    to_state: null,
    params: [
      { name: "responsible", label: "Auftragnehmer", kind: { type: "actor" }, required: true, sets: "assignee", wire_type: null },
      { name: "text", label: "Kommentar", kind: { type: "long_text" }, required: false, sets: null, wire_type: null },
    ],
  },
  {
    id: "task-transition-modify-deadline",
    label: "Frist ändern",
    to_state: null,
    params: [
      { name: "new_deadline", label: "Neue Frist", kind: { type: "date" }, required: true, sets: "deadline", wire_type: null },
      { name: "text", label: "Kommentar", kind: { type: "long_text" }, required: false, sets: null, wire_type: null },
    ],
  },
];

export const OMFLOW_ACTIONS: Action[] = [
  {
    id: "push",
    label: "推單",
    to_state: "resolved",
    params: [
      { name: "FORMITM_1", label: "審核意見", kind: { type: "text" }, required: true, sets: null, wire_type: "text" },
      { name: "FORMITM_2", label: "金額", kind: { type: "number" }, required: false, sets: null, wire_type: "number" },
    ],
  },
  { id: "action1", label: "核准", to_state: "closed", params: [] },
  { id: "action2", label: "退回", to_state: "rejected", params: [] },
];

export function demoShell(): FakeShell {
  const accounts = [
    account(1, "personal", "local", "me"),
    account(2, "zurich", "gever", "hans.muster"),
    account(3, "taipei", "omflow", "wang.xiaoming", { time_zone: "Asia/Taipei" }),
    account(4, "osaka", "hitachi", "tanaka", { participant: "tanaka", lane_filter: "Participant='Lane1'" }),
  ];
  const tasks = [
    task({ id: 1, account: "personal", title: "Buy train ticket to Bern", deadline: "2026-11-25", priority: 1, assignee: "me" }),
    task({
      id: 2,
      account: "zurich",
      account_kind: "gever",
      key: "fd:12345",
      title: "Stellungnahme zum Baugesuch Müller",
      status_text: "Offen",
      assignee: "hans.muster",
      issuer: "peter.meier",
      deadline: "2026-11-28",
      priority: 2,
      process: "Dossier Bauamt 2026-041",
      description: XSS_HTML,
      description_format: "html",
      actions: GEVER_ACTIONS,
      comments: [
        { remote_id: "c1", author: "peter.meier", text: "Bitte bis Ende Monat. Danke!", created: "2026-11-20T15:40:00Z", modified: null, pending: null },
        { remote_id: "c2", author: "hans.muster", text: "Mache ich.", created: "2026-11-21T09:00:00Z", modified: null, pending: null },
        { remote_id: "c3", author: "anna.keller", text: XSS_COMMENT, created: "2026-11-21T10:00:00Z", modified: null, pending: null },
      ],
      history: [
        { remote_id: "h1", at: "2026-11-14T09:12:00Z", actor: "peter.meier", action: "transition-add-task", text: "", changes: [] },
      ],
    }),
    task({
      id: 3,
      account: "taipei",
      account_kind: "omflow",
      key: "67d4:1024:FITEM_7",
      title: "審核通過 請款單 #1024",
      status_text: "審核中",
      assignee: "wang.xiaoming",
      process: "請款流程",
      deadline: "2026-11-24",
      priority: 2,
      actions: OMFLOW_ACTIONS,
      comments: [
        { remote_id: "88", author: "林美玲", text: "發票已附上，請協助審核。", created: "2026-11-21T02:10:00Z", modified: null, pending: null },
      ],
    }),
    task({
      id: 4,
      account: "taipei",
      account_kind: "omflow",
      title: "採購申請：筆記型電腦 ×3",
      status_text: "待處理",
      group: "資訊部",
      process: "採購流程",
      deadline: "2026-11-27",
      actions: OMFLOW_ACTIONS,
    }),
    task({
      id: 5,
      account: "osaka",
      account_kind: "hitachi",
      key: "5005:10011",
      title: "作業者実行：請求書確認",
      state: "in_progress",
      status_text: "f",
      assignee: "tanaka",
      group: "Lane1",
      priority: 1,
      process: "案件20261103",
      deadline: "2020-01-10",
    }),
    task({
      id: 6,
      account: "zurich",
      account_kind: "gever",
      key: "fd:12360",
      title: XSS_TITLE,
      status_text: "Offen",
      group: "inbox:fa",
      deadline: "2026-12-01",
      actions: GEVER_ACTIONS,
      pending: 1,
      attention: 1,
    }),
    task({ id: 7, account: "zurich", account_kind: "gever", key: "fd:12361", parent_key: "fd:12345", position: 1, title: "Teilaufgabe: Pläne prüfen" }),
  ];
  const ops = [
    op({
      seq: 1,
      op_id: "aaaaaaaa-0000-4000-8000-000000000001",
      account_id: 2,
      task_id: 6,
      request: { op: "transition", transition: "task-transition-open-in-progress", text: null, params: {} },
      state: "failed",
      attempts: 2,
      last_error: "Die Aufgabe wurde bereits von einer anderen Person übernommen.",
      error_kind: "remote",
    }),
    op({
      seq: 2,
      op_id: "aaaaaaaa-0000-4000-8000-000000000002",
      account_id: 2,
      task_id: 6,
      request: { op: "comment_add", text: "Übernehme ich" },
      state: "pending",
    }),
    op({
      seq: 3,
      op_id: "aaaaaaaa-0000-4000-8000-000000000003",
      account_id: 3,
      task_id: 3,
      request: { op: "quick_action", action: "action1" },
      state: "sending",
      attempts: 1,
    }),
  ];
  return new FakeShell({ tasks, accounts, ops });
}
