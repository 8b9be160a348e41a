import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { FADE_MS, MAX_SHOWN, Notifications } from "./notifications.svelte";

describe("Notifications", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("fades messages but keeps errors until dismissed", () => {
    const n = new Notifications();
    n.success("Queued");
    const error = n.error({ kind: "invalid", message: "no such task" }, "Comment");
    vi.advanceTimersByTime(FADE_MS + 1);
    expect(n.items.map((i) => i.id)).toEqual([error]);
    expect(n.items[0]?.text).toBe("Comment: no such task");
    n.dismiss(error);
    expect(n.items).toEqual([]);
    n.dispose();
  });

  it("shows only the newest few in a burst, errors staying", () => {
    const n = new Notifications();
    const error = n.error(new Error("offline"), "Sync");
    for (let i = 0; i < 10; i++) n.info(`queued ${i}`);
    expect(n.items.length).toBe(MAX_SHOWN);
    expect(n.items[0]?.id).toBe(error);
    expect(n.items.slice(1).map((i) => i.text)).toEqual(["queued 7", "queued 8", "queued 9"]);
    n.dispose();
  });
});
