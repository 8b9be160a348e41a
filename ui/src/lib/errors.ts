/**
 * Errors from Tauri commands. Every command rejects with an `AppError`
 * (`{kind, message}`); the IPC layer itself may reject with a bare string
 * (an unknown command, a panic in the shell). `CommandError` carries both
 * forms as one thing the UI can show and branch on.
 */
import type { AppError } from "./app-types";

const KINDS: readonly AppError["kind"][] = [
  "invalid",
  "not_found",
  "conflict",
  "corrupt",
  "storage",
  "auth",
  "offline",
  "remote",
  "keychain",
];

export class CommandError extends Error implements AppError {
  readonly kind: AppError["kind"];
  /** The command that failed, for logs; never shown as the message. */
  readonly command: string;

  constructor(error: AppError, command: string) {
    super(error.message);
    this.name = "CommandError";
    this.kind = error.kind;
    this.command = command;
  }
}

function isAppErrorKind(value: unknown): value is AppError["kind"] {
  return typeof value === "string" && (KINDS as readonly string[]).includes(value);
}

/** Reads whatever a command rejected with as an `AppError`. */
export function toAppError(reason: unknown): AppError {
  if (reason instanceof CommandError) return { kind: reason.kind, message: reason.message };
  if (typeof reason === "object" && reason !== null) {
    const { kind, message } = reason as { kind?: unknown; message?: unknown };
    if (isAppErrorKind(kind)) {
      return { kind, message: typeof message === "string" ? message : "" };
    }
    if (typeof message === "string") return { kind: "storage", message };
  }
  if (typeof reason === "string") return { kind: "storage", message: reason };
  return { kind: "storage", message: String(reason) };
}
