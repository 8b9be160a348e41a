/** The task open in the detail panel, with its parent and subtasks. */
import * as api from "../api";
import type { AppError, TaskRelated } from "../app-types";
import type { TaskDetail } from "../bindings/TaskDetail";
import { toAppError } from "../errors";

export class DetailState {
  openId = $state<number | null>(null);
  task = $state.raw<TaskDetail | null>(null);
  related = $state.raw<TaskRelated | null>(null);
  loading = $state(false);
  error = $state<AppError | null>(null);
  #generation = 0;

  async open(id: number): Promise<void> {
    if (this.openId !== id) {
      this.task = null;
      this.related = null;
    }
    this.openId = id;
    await this.load();
  }

  close(): void {
    this.#generation++;
    this.openId = null;
    this.task = null;
    this.related = null;
    this.error = null;
    this.loading = false;
  }

  /** Reads the open task again (after a change in the replica or the outbox). */
  async load(): Promise<void> {
    const id = this.openId;
    if (id === null) return;
    const generation = ++this.#generation;
    this.loading = true;
    try {
      const [task, related] = await Promise.all([
        api.taskDetail(id),
        api.taskRelated(id).catch(() => null),
      ]);
      if (generation !== this.#generation) return;
      this.task = task;
      this.related = related;
      this.error = null;
    } catch (e) {
      if (generation !== this.#generation) return;
      this.error = toAppError(e);
      if (this.error.kind === "not_found") this.task = null;
    } finally {
      if (generation === this.#generation) this.loading = false;
    }
  }

  /** Whether a change to these tasks concerns the open one (null: any). */
  concerns(tasks: number[] | null): boolean {
    if (this.openId === null) return false;
    if (tasks === null) return true;
    const related = this.related;
    return (
      tasks.includes(this.openId) ||
      (related?.parent != null && tasks.includes(related.parent.id)) ||
      (related?.children.some((c) => tasks.includes(c.id)) ?? false)
    );
  }
}
