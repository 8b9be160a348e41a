import { describe, expect, test } from "vitest";

import { GEVER_ACTIONS, OMFLOW_ACTIONS } from "../test/fixtures";
import { initialValues, needsForm, requestFor, validate, valuesFromRequest } from "./actions";
import type { Action } from "./bindings/Action";

const [accept, reassign, deadline] = GEVER_ACTIONS as [Action, Action, Action];
const [push, approve] = OMFLOW_ACTIONS as [Action, Action];

describe("turning an action and its form into an op", () => {
  test.each([
    ["a transition without parameters", accept, {}, { op: "transition", transition: accept.id, text: null, params: {} }],
    [
      "a transition's `text` parameter becomes its comment",
      deadline,
      { new_deadline: "2026-12-24", text: " bis Weihnachten " },
      { op: "transition", transition: deadline.id, text: "bis Weihnachten", params: { new_deadline: "2026-12-24" } },
    ],
    [
      "an OMFLOW push sends form fields with their wire type, numbers as numbers",
      push,
      { FORMITM_1: "同意", FORMITM_2: "30" },
      { op: "form_push", fields: [{ id: "FORMITM_1", value: "同意", type: "text" }, { id: "FORMITM_2", value: 30, type: "number" }] },
    ],
    ["an empty optional form field is left out", push, { FORMITM_1: "同意", FORMITM_2: " " }, { op: "form_push", fields: [{ id: "FORMITM_1", value: "同意", type: "text" }] }],
    ["an OMFLOW quick action", approve, {}, { op: "quick_action", action: "action1" }],
  ] as const)("%s", (_, action, values, expected) => {
    expect(requestFor(action, { ...values })).toEqual(expected);
  });

  test("a push offered without a form definition takes free fields", () => {
    const bare: Action = { id: "push", label: "推單", to_state: "resolved", params: [] };
    expect(needsForm(bare)).toBe(true);
    expect(requestFor(bare, {}, [{ id: " FORMITM_3 ", value: "ok" }, { id: "", value: "ignored" }])).toEqual({
      op: "form_push",
      fields: [{ id: "FORMITM_3", value: "ok", type: null }],
    });
  });

  test("actions without parameters need no form", () => {
    expect(needsForm(approve)).toBe(false);
    expect(needsForm(accept)).toBe(true);
  });
});

describe("checking a form before queueing", () => {
  test.each([
    ["a missing required field", reassign, { responsible: " " }, { responsible: "required" }],
    ["a filled required field", reassign, { responsible: "anna" }, {}],
    ["an impossible date", deadline, { new_deadline: "2026-02-30" }, { new_deadline: "date" }],
    ["a number that is not one", push, { FORMITM_1: "x", FORMITM_2: "zwölf" }, { FORMITM_2: "number" }],
  ] as const)("%s", (_, action, values, errors) => {
    expect(validate(action, { ...initialValues(action), ...values })).toEqual(errors);
  });

  test("a choice must be one of its options", () => {
    const choice: Action = {
      id: "decide",
      label: "Entscheiden",
      to_state: null,
      params: [{ name: "result", label: "Ergebnis", kind: { type: "choice", options: ["ja", "nein"] }, required: true, sets: null, wire_type: null }],
    };
    expect(validate(choice, { result: "vielleicht" })).toEqual({ result: "choice" });
    expect(validate(choice, { result: "ja" })).toEqual({});
  });
});

describe("editing a queued request", () => {
  test("reads the request's values back into the form", () => {
    expect(
      valuesFromRequest(deadline, { op: "transition", transition: deadline.id, text: "x", params: { new_deadline: "2026-12-24" } }),
    ).toEqual({ new_deadline: "2026-12-24", text: "x" });
    expect(
      valuesFromRequest(push, { op: "form_push", fields: [{ id: "FORMITM_2", value: 30, type: "number" }] }),
    ).toEqual({ FORMITM_1: "", FORMITM_2: "30" });
  });
});
