import { describe, expect, test } from "vitest";

import { op } from "../test/fake-shell";
import type { OpState } from "./bindings/OpState";
import { canDiscard, canEdit, canRetry, shortId } from "./ops";

describe("what the user may do with an op (docs/decisions/0004-outbox.md)", () => {
  test.each<[OpState, boolean, boolean, boolean]>([
    // state, retry, edit, discard
    ["pending", false, true, true],
    ["sending", false, false, false],
    ["failed", true, true, true],
    ["conflict", true, true, true],
    ["done", false, false, false],
    ["cancelled", false, false, false],
  ])("%s: retry %s, edit %s, discard %s", (state, retry, edit, discard) => {
    const o = op({ request: { op: "comment_add", text: "x" }, state });
    expect([canRetry(o), canEdit(o), canDiscard(o)]).toEqual([retry, edit, discard]);
  });

  test("deletions and new tasks cannot be edited, only discarded", () => {
    expect(canEdit(op({ request: { op: "comment_delete", comment: "c1" } }))).toBe(false);
    const create = op({
      request: {
        op: "create_task",
        title: "t",
        description: "",
        kind: null,
        assignee: null,
        group: null,
        issuer: null,
        deadline: null,
        parent_key: null,
        position: null,
        process: null,
        fields: [],
      },
    });
    expect(canEdit(create)).toBe(false);
    expect(canDiscard(create)).toBe(true);
  });

  test("short ids are the first eight hex digits, as the CLI lists them", () => {
    expect(shortId(op({ request: { op: "comment_add", text: "x" }, op_id: "1a2b3c4d-0000-4000-8000-000000000000" }))).toBe("1a2b3c4d");
  });
});
