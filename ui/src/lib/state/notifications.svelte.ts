/**
 * Short messages for the user: what was queued, what failed. Errors stay
 * until dismissed; the rest fade after a while, and in a fast sequence
 * (a bulk action, a burst of sync events) only the newest few stay on
 * screen, so the stack never covers the window.
 */
import type { AppError } from "../app-types";
import { toAppError } from "../errors";

export type Notice = {
  id: number;
  tone: "info" | "success" | "error";
  text: string;
  /** For errors: the command's error kind, shown translated. */
  kind: AppError["kind"] | null;
};

export const FADE_MS = 6000;
/** At most this many messages at once; the oldest non-errors give way. */
export const MAX_SHOWN = 4;

export class Notifications {
  items = $state<Notice[]>([]);
  #next = 1;
  #timers = new Map<number, ReturnType<typeof setTimeout>>();

  #push(tone: Notice["tone"], text: string, kind: Notice["kind"] = null): number {
    const id = this.#next++;
    this.items = [...this.items, { id, tone, text, kind }];
    if (tone !== "error") {
      this.#timers.set(id, setTimeout(() => this.dismiss(id), FADE_MS));
    }
    let excess = this.items.length - MAX_SHOWN;
    for (const old of this.items) {
      if (excess <= 0) break;
      if (old.tone !== "error" && old.id !== id) {
        this.dismiss(old.id);
        excess--;
      }
    }
    return id;
  }

  info(text: string): number {
    return this.#push("info", text);
  }

  success(text: string): number {
    return this.#push("success", text);
  }

  /** Shows a failed command: `context` says what was attempted. */
  error(reason: unknown, context: string): number {
    const error = toAppError(reason);
    const text = error.message ? `${context}: ${error.message}` : context;
    return this.#push("error", text, error.kind);
  }

  dismiss(id: number): void {
    const timer = this.#timers.get(id);
    if (timer) clearTimeout(timer);
    this.#timers.delete(id);
    this.items = this.items.filter((n) => n.id !== id);
  }

  dispose(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}
