/**
 * The UI's languages: English, Traditional Chinese, German and Japanese,
 * with i18next holding the catalogs (plural rules come from
 * `Intl.PluralRules`). The language follows the OS (`navigator.languages`)
 * unless the user picked one (`Preferences.language`), and can change at
 * runtime: `t()` reads the current locale, so every template that calls it
 * re-renders when it changes.
 */
import i18next, { type i18n as I18next } from "i18next";

import type { Preferences } from "../app-types";
import de from "./locales/de.json";
import en from "./locales/en.json";
import ja from "./locales/ja.json";
import zhTW from "./locales/zh-TW.json";
import * as fmt from "./format";

export const LOCALES = ["en", "zh-TW", "de", "ja"] as const;
export type Locale = (typeof LOCALES)[number];

export const CATALOGS: Record<Locale, object> = { en, "zh-TW": zhTW, de, ja };

type StripPlural<K extends string> = K extends `${infer B}_one`
  ? B
  : K extends `${infer B}_other`
    ? B
    : K;
type Leaves<T, P extends string = ""> = {
  [K in keyof T & string]: T[K] extends string ? `${P}${StripPlural<K>}` : Leaves<T[K], `${P}${K}.`>;
}[keyof T & string];

/** Every key of the English catalog (plural forms counted once). */
export type MessageKey = Leaves<typeof en>;

type Values = Record<string, string | number | null | undefined>;

/** Maps OS language tags onto the four catalogs. */
export function matchLocale(tags: readonly string[]): Locale {
  for (const tag of tags) {
    const lower = tag.toLowerCase();
    if (lower.startsWith("zh")) return "zh-TW";
    if (lower.startsWith("de")) return "de";
    if (lower.startsWith("ja")) return "ja";
    if (lower.startsWith("en")) return "en";
  }
  return "en";
}

export function osLanguages(): readonly string[] {
  if (typeof navigator === "undefined") return [];
  return navigator.languages?.length ? navigator.languages : [navigator.language];
}

export function resolveLocale(choice: Preferences["language"], os: readonly string[] = osLanguages()): Locale {
  return choice === "auto" ? matchLocale(os) : choice;
}

class I18n {
  #instance: I18next;
  #locale = $state<Locale>("en");
  /** What the user chose; "auto" follows the OS. */
  choice = $state<Preferences["language"]>("auto");

  constructor() {
    this.#instance = i18next.createInstance();
    void this.#instance.init({
      resources: Object.fromEntries(
        LOCALES.map((l) => [l, { translation: CATALOGS[l] }]),
      ),
      lng: "en",
      fallbackLng: "en",
      initAsync: false,
      returnNull: false,
      // Svelte escapes text; i18next must not escape it a second time.
      interpolation: { escapeValue: false },
    });
  }

  get locale(): Locale {
    return this.#locale;
  }

  /** Switches the language (at once: the catalogs are bundled). */
  apply(choice: Preferences["language"], os: readonly string[] = osLanguages()): Locale {
    const locale = resolveLocale(choice, os);
    this.choice = choice;
    void this.#instance.changeLanguage(locale);
    this.#locale = locale;
    if (typeof document !== "undefined") document.documentElement.lang = locale;
    return locale;
  }

  t = (key: MessageKey, values?: Values): string => {
    // Reading the locale makes callers depend on it.
    const lng = this.#locale;
    return this.#instance.t(key, { ...values, lng });
  };

  /** Translates a key that comes from data (e.g. a built-in view's name), if the catalog has it. */
  tryT = (key: string): string | null => {
    const lng = this.#locale;
    return this.#instance.exists(key, { lng }) ? this.#instance.t(key, { lng }) : null;
  };

  deadline = (text: string) => fmt.formatDeadline(this.#locale, text);
  dateTime = (text: string) => fmt.formatDateTime(this.#locale, text);
  number = (n: number) => fmt.formatNumber(this.#locale, n);
  alternatives = (items: string[]) => fmt.formatAlternatives(this.#locale, items);
  relative = (text: string, now: Date = new Date()) => fmt.formatRelative(this.#locale, text, now);
}

/** The app's one translator (languages are app-wide). */
export const i18n = new I18n();
export const t = i18n.t;
