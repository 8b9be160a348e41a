/**
 * Turning an offered action (`TaskDetail.actions`) and what the user filled
 * into its form into the op the outbox queues:
 *
 * - `push` is OMFLOW's form push: every parameter is a form field
 *   (`FORMITM_n`), sent with its `wire_type`;
 * - `action1` / `action2` are OMFLOW's quick actions;
 * - anything else is a workflow transition; a parameter named `text` is the
 *   transition's comment (`OpRequest.transition.text`), the rest go in
 *   `params`.
 *
 * The same required-field and type checks the core makes when queueing
 * (`outbox::effect::check_params`) run here first, so the user sees them
 * next to the field instead of as an error afterwards.
 */
import type { Action } from "./bindings/Action";
import type { FormValue } from "./bindings/FormValue";
import type { OpRequest } from "./bindings/OpRequest";
import type { ParamSpec } from "./bindings/ParamSpec";
import type { JsonValue } from "./bindings/serde_json/JsonValue";

export const PUSH_ACTION = "push";
export const QUICK_ACTIONS: readonly string[] = ["action1", "action2"];

/** What a form holds for one parameter while the user edits it. */
export type FieldValue = string | boolean | string[];
export type FormValues = Record<string, FieldValue>;
export type FieldError = "required" | "number" | "date" | "choice";

/** A free form field for a push offered without a form definition. */
export type FreeField = { id: string; value: string };

export function isQuickAction(action: Action): boolean {
  return QUICK_ACTIONS.includes(action.id);
}

export function isPush(action: Action): boolean {
  return action.id === PUSH_ACTION;
}

/** Whether choosing the action needs a form before it is queued. */
export function needsForm(action: Action): boolean {
  return action.params.length > 0 || isPush(action);
}

export function initialValues(action: Action): FormValues {
  const values: FormValues = {};
  for (const spec of action.params) {
    switch (spec.kind.type) {
      case "bool":
        values[spec.name] = false;
        break;
      case "actors":
      case "documents":
        values[spec.name] = [];
        break;
      default:
        values[spec.name] = "";
    }
  }
  return values;
}

function isBlank(value: FieldValue | undefined): boolean {
  if (value === undefined) return true;
  if (typeof value === "boolean") return false;
  if (Array.isArray(value)) return value.every((v) => v.trim() === "");
  return value.trim() === "";
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function validDate(text: string): boolean {
  if (!DATE.test(text)) return false;
  const [y, m, d] = text.split("-").map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

function checkField(spec: ParamSpec, value: FieldValue | undefined): FieldError | null {
  if (isBlank(value)) return spec.required ? "required" : null;
  const text = typeof value === "string" ? value.trim() : "";
  switch (spec.kind.type) {
    case "number":
      return Number.isFinite(Number(text)) ? null : "number";
    case "date":
      return validDate(text) ? null : "date";
    case "choice":
      return spec.kind.options.includes(text) ? null : "choice";
    default:
      return null;
  }
}

/** The problems with the form, by parameter name; empty when it can be queued. */
export function validate(action: Action, values: FormValues): Record<string, FieldError> {
  const errors: Record<string, FieldError> = {};
  for (const spec of action.params) {
    const error = checkField(spec, values[spec.name]);
    if (error) errors[spec.name] = error;
  }
  return errors;
}

function toJson(spec: ParamSpec, value: FieldValue): JsonValue {
  if (typeof value === "boolean") return value;
  if (Array.isArray(value)) return value.map((v) => v.trim()).filter((v) => v !== "");
  const text = value.trim();
  if (spec.kind.type === "number") return Number(text);
  return text;
}

/** The op request for `action` with the form's values (validate first). */
export function requestFor(action: Action, values: FormValues, free: FreeField[] = []): OpRequest {
  if (isQuickAction(action)) return { op: "quick_action", action: action.id };
  if (isPush(action)) {
    const fields: FormValue[] = action.params
      .filter((spec) => !isBlank(values[spec.name]))
      .map((spec) => ({
        id: spec.name,
        value: toJson(spec, values[spec.name] as FieldValue),
        type: spec.wire_type,
      }));
    for (const field of free) {
      if (field.id.trim() !== "") fields.push({ id: field.id.trim(), value: field.value, type: null });
    }
    return { op: "form_push", fields };
  }
  let text: string | null = null;
  const params: Record<string, JsonValue> = {};
  for (const spec of action.params) {
    const value = values[spec.name];
    if (value === undefined || isBlank(value)) continue;
    if (spec.name === "text" && typeof value === "string") text = value.trim();
    else params[spec.name] = toJson(spec, value);
  }
  return { op: "transition", transition: action.id, text, params };
}

/** The form values an already queued request had, to edit it. */
export function valuesFromRequest(action: Action, request: OpRequest): FormValues {
  const values = initialValues(action);
  const set = (name: string, value: JsonValue | undefined) => {
    if (value === undefined || value === null) return;
    if (typeof value === "boolean") values[name] = value;
    else if (Array.isArray(value)) values[name] = value.map((v) => String(v));
    else values[name] = String(value);
  };
  if (request.op === "transition") {
    if (request.text !== null) values["text"] = request.text;
    for (const [name, value] of Object.entries(request.params)) set(name, value);
  } else if (request.op === "form_push") {
    for (const field of request.fields) set(field.id, field.value);
  }
  return values;
}
