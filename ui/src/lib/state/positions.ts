/**
 * Where each id sits in the inbox's list of every match.
 *
 * Task ids are SQLite row ids: positive and, in practice, dense. A typed
 * array indexed by id (holding index + 1; 0 is "absent") answers in one
 * read and costs 4 bytes per possible id, where a `Map` of 100,000 ids
 * costs about 9 MiB of JavaScript heap (measured in Node) and its
 * construction as much again in garbage. Ids too sparse for that (more
 * than `SPREAD` slots per id) fall back to a `Map`.
 */
const SPREAD = 4;

export class Positions {
  readonly #dense: Int32Array | null;
  readonly #sparse: Map<number, number> | null;

  constructor(ids: readonly number[]) {
    let max = 0;
    let dense = true;
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0) dense = false;
      else if (id > max) max = id;
    }
    if (dense && max <= ids.length * SPREAD + 1024) {
      const slots = new Int32Array(max + 1);
      ids.forEach((id, i) => {
        slots[id] = i + 1;
      });
      this.#dense = slots;
      this.#sparse = null;
    } else {
      const map = new Map<number, number>();
      ids.forEach((id, i) => map.set(id, i));
      this.#dense = null;
      this.#sparse = map;
    }
  }

  /** The id's index in the list, or -1. */
  get(id: number): number {
    if (this.#dense) {
      return Number.isInteger(id) && id >= 0 && id < this.#dense.length ? this.#dense[id]! - 1 : -1;
    }
    return this.#sparse!.get(id) ?? -1;
  }

  has(id: number): boolean {
    return this.get(id) >= 0;
  }

  /** Kept as a typed array (for tests and measurements). */
  get isDense(): boolean {
    return this.#dense !== null;
  }
}
