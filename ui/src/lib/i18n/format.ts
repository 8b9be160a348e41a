/**
 * Dates, times and numbers in the user's language, with `Intl`. Deadlines
 * are either a whole day (`2026-11-30`, shown as that calendar day wherever
 * the user is) or an exact instant (RFC 3339, shown in local time).
 */
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A whole-day deadline as a local calendar date, or null for an instant. */
export function parseDay(text: string): Date | null {
  const m = DAY.exec(text);
  if (!m) return null;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

function parseInstant(text: string): Date | null {
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}

const cache = new Map<string, Intl.DateTimeFormat | Intl.NumberFormat | Intl.RelativeTimeFormat>();

function cached<T extends Intl.DateTimeFormat | Intl.NumberFormat | Intl.RelativeTimeFormat>(
  key: string,
  make: () => T,
): T {
  let f = cache.get(key);
  if (!f) {
    f = make();
    cache.set(key, f);
  }
  return f as T;
}

export function formatDeadline(locale: string, deadline: string): string {
  const day = parseDay(deadline);
  if (day) {
    return cached(`d:${locale}`, () => new Intl.DateTimeFormat(locale, { dateStyle: "medium" })).format(day);
  }
  return formatDateTime(locale, deadline);
}

export function formatDateTime(locale: string, text: string): string {
  const at = parseInstant(text);
  if (!at) return text;
  return cached(
    `dt:${locale}`,
    () => new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }),
  ).format(at);
}

/** "a, b or c" in the user's language, for "is one of" lists. */
export function formatAlternatives(locale: string, items: string[]): string {
  return new Intl.ListFormat(locale, { type: "disjunction" }).format(items);
}

export function formatNumber(locale: string, n: number): string {
  return cached(`n:${locale}`, () => new Intl.NumberFormat(locale)).format(n);
}

/** "5 minutes ago", "in 2 days". */
export function formatRelative(locale: string, text: string, now: Date): string {
  const at = parseInstant(text);
  if (!at) return text;
  const rtf = cached(`r:${locale}`, () => new Intl.RelativeTimeFormat(locale, { numeric: "auto" }));
  const seconds = Math.round((at.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return rtf.format(0, "second");
  if (abs < 45 * 60) return rtf.format(Math.round(seconds / 60), "minute");
  if (abs < 22 * 3600) return rtf.format(Math.round(seconds / 3600), "hour");
  if (abs < 26 * 86400) return rtf.format(Math.round(seconds / 86400), "day");
  return formatDateTime(locale, text);
}

/** Past its deadline: an instant that has passed, or a day before today. */
export function isPastDeadline(deadline: string, now: Date): boolean {
  const day = parseDay(deadline);
  if (day) {
    const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
    return day.getTime() < today.getTime();
  }
  const at = parseInstant(deadline);
  return at !== null && at.getTime() < now.getTime();
}

/** `YYYY-MM-DD` of a local date, for `<input type="date">` and query values. */
export function isoDay(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}
