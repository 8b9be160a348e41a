import { describe, expect, it } from "vitest";

import { Positions } from "./positions";

describe("Positions", () => {
  it("finds every id of a dense list at its index, in a typed array", () => {
    const ids = Array.from({ length: 100_000 }, (_, i) => 100_000 - i);
    const positions = new Positions(ids);
    expect(positions.isDense).toBe(true);
    ids.forEach((id, i) => expect(positions.get(id)).toBe(i));
  });

  it("answers -1 for ids not in the list, out of range or not ids at all", () => {
    const positions = new Positions([5, 3, 9]);
    expect(positions.isDense).toBe(true);
    for (const id of [0, 1, 4, 10, 1_000_000, -3, 2.5, Number.NaN]) {
      expect(positions.get(id)).toBe(-1);
      expect(positions.has(id)).toBe(false);
    }
    expect(positions.get(9)).toBe(2);
    expect(positions.has(3)).toBe(true);
  });

  it("falls back to a map for sparse ids and still finds each", () => {
    const ids = [7, 40_000_000, 12, 3_000_000_000];
    const positions = new Positions(ids);
    expect(positions.isDense).toBe(false);
    ids.forEach((id, i) => expect(positions.get(id)).toBe(i));
    expect(positions.get(8)).toBe(-1);
  });

  it("handles an empty list", () => {
    const positions = new Positions([]);
    expect(positions.get(0)).toBe(-1);
    expect(positions.get(1)).toBe(-1);
  });
});
