import { describe, expect, test } from "vitest";

import { formatDeadline, formatRelative, isPastDeadline } from "./format";

const now = new Date(2026, 10, 22, 12, 0, 0); // 22 Nov 2026, noon local time

describe("deadlines", () => {
  test("a whole-day deadline is overdue only from the next day on", () => {
    expect(isPastDeadline("2026-11-22", now)).toBe(false);
    expect(isPastDeadline("2026-11-21", now)).toBe(true);
  });

  test("an instant is overdue once it has passed", () => {
    expect(isPastDeadline(new Date(2026, 10, 22, 11, 59).toISOString(), now)).toBe(true);
    expect(isPastDeadline(new Date(2026, 10, 22, 12, 1).toISOString(), now)).toBe(false);
  });

  test.each([
    ["en", "Nov 30, 2026"],
    ["de", "30.11.2026"],
    ["ja", "2026/11/30"],
    ["zh-TW", "2026年11月30日"],
  ])("a day is shown as that calendar day in %s", (locale, text) => {
    expect(formatDeadline(locale, "2026-11-30")).toBe(text);
  });

  test("relative times read naturally", () => {
    expect(formatRelative("en", new Date(now.getTime() - 5 * 60_000).toISOString(), now)).toBe("5 minutes ago");
    expect(formatRelative("de", new Date(now.getTime() - 86_400_000).toISOString(), now)).toBe("gestern");
    expect(formatRelative("ja", new Date(now.getTime() - 2 * 3_600_000).toISOString(), now)).toBe("2 時間前");
  });
});
