import { describe, expect, test } from "vitest";

import { operatorsFor, parseValue, sameQuery, sortDirection, toggleSort } from "./query";
import type { Column } from "./bindings/Column";
import type { QueryOp } from "./bindings/QueryOp";

describe("filter values", () => {
  test.each<[Column, QueryOp, string | string[] | boolean, unknown]>([
    ["priority", ">=", "2", { value: 2 }],
    ["priority", "=", "zwei", { error: "number" }],
    ["state", "in", ["open", "planned"], { value: ["open", "planned"] }],
    ["state", "=", "offen", { error: "state" }],
    ["account", "in", "taipei, osaka、zurich", { value: ["taipei", "osaka", "zurich"] }],
    ["title", "contains", " 審核 ", { value: "審核" }],
    ["title", "contains", "  ", { error: "empty" }],
    ["deadline", "<", "today+7", { value: "today+7" }],
    ["pending", "=", true, { value: true }],
  ])("%s %s %j", (column, op, raw, expected) => {
    expect(parseValue(column, op, raw)).toEqual(expected);
  });

  test("each column offers the operators the query accepts for its type", () => {
    expect(operatorsFor("pending")).toEqual(["=", "!="]);
    expect(operatorsFor("state")).toEqual(["=", "!=", "in"]);
    expect(operatorsFor("deadline")).not.toContain("contains");
    expect(operatorsFor("title")).toContain("contains");
  });
});

describe("sorting by a column", () => {
  test("toggles between ascending and descending and keeps other keys after it", () => {
    expect(toggleSort([], "title")).toEqual(["title"]);
    expect(toggleSort(["title"], "title")).toEqual(["-title"]);
    expect(toggleSort(["-title"], "title")).toEqual(["title"]);
    expect(toggleSort(["-priority", "title"], "deadline")).toEqual(["deadline", "-priority", "title"]);
    expect(sortDirection(["-priority"], "priority")).toBe("descending");
    expect(sortDirection(["title", "-priority"], "priority")).toBe("none");
  });
});

test("two queries are the same regardless of paging and surrounding spaces in the search", () => {
  const q = { conditions: [], exclusions: [], order: [], start: 0, count: 50, search: "審核" };
  expect(sameQuery(q, { ...q, start: 100, count: 10, search: " 審核 " })).toBe(true);
  expect(sameQuery(q, { ...q, order: ["title"] })).toBe(false);
});
