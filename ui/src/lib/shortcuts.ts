/**
 * The keyboard shortcuts, in one table that both the key handler and the
 * "?" help list use, so the help can never list a key that does nothing.
 */
import type { MessageKey } from "./i18n/index.svelte";

export type Command =
  | "next"
  | "previous"
  | "extendNext"
  | "extendPrevious"
  | "toggleSelect"
  | "selectAll"
  | "open"
  | "search"
  | "action"
  | "comment"
  | "claim"
  | "outbox"
  | "accounts"
  | "sync"
  | "close"
  | "help";

export type Shortcut = { command: Command; keys: string[]; description: MessageKey };

export const SHORTCUTS: Shortcut[] = [
  { command: "next", keys: ["j", "↓"], description: "shortcuts.next" },
  { command: "previous", keys: ["k", "↑"], description: "shortcuts.previous" },
  { command: "extendNext", keys: ["Shift+J", "Shift+↓"], description: "shortcuts.extendNext" },
  { command: "extendPrevious", keys: ["Shift+K", "Shift+↑"], description: "shortcuts.extendPrevious" },
  { command: "toggleSelect", keys: ["x", "Space"], description: "shortcuts.toggleSelect" },
  { command: "selectAll", keys: ["Ctrl/⌘+A"], description: "shortcuts.selectAll" },
  { command: "open", keys: ["Enter", "o"], description: "shortcuts.open" },
  { command: "search", keys: ["/"], description: "shortcuts.search" },
  { command: "action", keys: ["1 … 9"], description: "shortcuts.action" },
  { command: "comment", keys: ["c"], description: "shortcuts.comment" },
  { command: "claim", keys: ["n"], description: "shortcuts.claim" },
  { command: "outbox", keys: ["u"], description: "shortcuts.outbox" },
  { command: "accounts", keys: ["a"], description: "shortcuts.accounts" },
  { command: "sync", keys: ["s"], description: "shortcuts.sync" },
  { command: "close", keys: ["Esc"], description: "shortcuts.close" },
  { command: "help", keys: ["?"], description: "shortcuts.help" },
];

/** Which command a key press means (null: none of ours). */
export function commandFor(event: KeyboardEvent): { command: Command; index?: number } | null {
  const mod = event.ctrlKey || event.metaKey;
  if (event.altKey) return null;
  if (mod) return event.key.toLowerCase() === "a" ? { command: "selectAll" } : null;
  switch (event.key) {
    case "j":
      return { command: "next" };
    case "k":
      return { command: "previous" };
    case "ArrowDown":
      return { command: event.shiftKey ? "extendNext" : "next" };
    case "ArrowUp":
      return { command: event.shiftKey ? "extendPrevious" : "previous" };
    case "J":
      return { command: "extendNext" };
    case "K":
      return { command: "extendPrevious" };
    case "x":
      return { command: "toggleSelect" };
    case "Enter":
    case "o":
      return { command: "open" };
    case "/":
      return { command: "search" };
    case "c":
      return { command: "comment" };
    case "n":
      return { command: "claim" };
    case "u":
      return { command: "outbox" };
    case "a":
      return { command: "accounts" };
    case "s":
      return { command: "sync" };
    case "Escape":
      return { command: "close" };
    case "?":
      return { command: "help" };
  }
  if (/^[1-9]$/.test(event.key)) return { command: "action", index: Number(event.key) - 1 };
  return null;
}

/** Keys typed into a field belong to the field. */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag !== "INPUT") return false;
  const type = (target as HTMLInputElement).type;
  return !["checkbox", "radio", "button", "submit", "reset", "file", "range", "color"].includes(type);
}
