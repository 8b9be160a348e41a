/**
 * Small DOM actions for keyboard use: focusing a form the user just
 * opened, and key handling on containers (a form, a toolbar region) whose
 * keys come from the fields inside them.
 */
import type { ActionReturn } from "svelte/action";

/** Gives an element the focus when it appears. */
export function focusOnMount(node: HTMLElement): void {
  queueMicrotask(() => node.focus());
}

type KeyHandler = (event: KeyboardEvent) => void;

/** Listens to the keys typed anywhere inside the element. */
export function keys(node: HTMLElement, handler: KeyHandler): ActionReturn<KeyHandler> {
  let current = handler;
  const listener = (event: KeyboardEvent) => current(event);
  node.addEventListener("keydown", listener);
  return {
    update(next) {
      current = next;
    },
    destroy() {
      node.removeEventListener("keydown", listener);
    },
  };
}

/** Ctrl/⌘+Enter inside the form sends it. */
export function submitOnCtrlEnter(event: KeyboardEvent): void {
  if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
  const form = (event.target as HTMLElement | null)?.closest("form");
  if (form) {
    event.preventDefault();
    form.requestSubmit();
  }
}
