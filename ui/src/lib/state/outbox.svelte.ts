/** The unfinished ops, in queue order, reloaded on `outbox-changed`. */
import * as api from "../api";
import type { AppError } from "../app-types";
import type { Op } from "../bindings/Op";
import type { OpRequest } from "../bindings/OpRequest";
import { toAppError } from "../errors";
import { UNFINISHED, needsAttention } from "../ops";

export class OutboxState {
  ops = $state.raw<Op[]>([]);
  loaded = $state(false);
  error = $state<AppError | null>(null);
  #generation = 0;

  async load(): Promise<void> {
    const generation = ++this.#generation;
    try {
      const ops = await api.outbox(UNFINISHED);
      if (generation !== this.#generation) return;
      this.ops = ops;
      this.error = null;
    } catch (e) {
      if (generation === this.#generation) this.error = toAppError(e);
    } finally {
      if (generation === this.#generation) this.loaded = true;
    }
  }

  get attention(): Op[] {
    return this.ops.filter(needsAttention);
  }

  get pending(): Op[] {
    return this.ops.filter((op) => op.state === "pending");
  }

  get sending(): Op[] {
    return this.ops.filter((op) => op.state === "sending");
  }

  #replace(op: Op): void {
    const done = op.state === "done" || op.state === "cancelled";
    this.ops = done
      ? this.ops.filter((o) => o.op_id !== op.op_id)
      : this.ops.map((o) => (o.op_id === op.op_id ? op : o));
  }

  async retry(opId: string): Promise<Op> {
    const op = await api.outboxRetry(opId);
    this.#replace(op);
    return op;
  }

  async edit(opId: string, request: OpRequest): Promise<Op> {
    const op = await api.outboxEdit(opId, request);
    this.#replace(op);
    return op;
  }

  async discard(opId: string): Promise<Op> {
    const op = await api.outboxDiscard(opId);
    this.#replace(op);
    return op;
  }
}
