import { screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, test, vi } from "vitest";

import { demoShell } from "../../test/fixtures";
import { openApp, rowByTitle } from "../../test/render";
import { CATALOGS, LOCALES, matchLocale, resolveLocale, type Locale } from "./index.svelte";

type Tree = { [key: string]: string | Tree };

function leaves(tree: Tree, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    if (typeof value === "string") out.set(`${prefix}${key}`, value);
    else for (const [k, v] of leaves(value, `${prefix}${key}.`)) out.set(k, v);
  }
  return out;
}

const base = (key: string) => key.replace(/_(zero|one|two|few|many|other)$/, "");
const variables = (text: string) => [...text.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();

/** Texts that are the same in every language: names, codes, query syntax. */
const SAME_EVERYWHERE = new Set([
  "accountKinds.omflow",
  "accountKinds.gever",
  "accountKinds.hitachi",
  "filters.datePlaceholder",
]);
/** Words German shares with English. */
const SAME_IN: Partial<Record<Locale, Set<string>>> = {
  de: new Set(["status.online", "status.offline"]),
};

const english = leaves(CATALOGS.en as Tree);

describe("the catalogs", () => {
  test.each(LOCALES.filter((l) => l !== "en"))("%s has every message of the English catalog, with the same placeholders", (locale) => {
    const catalog = leaves(CATALOGS[locale] as Tree);
    const keys = (m: Map<string, string>) => [...new Set([...m.keys()].map(base))].sort();
    expect(keys(catalog)).toEqual(keys(english));
    for (const [key, text] of catalog) {
      expect(text.trim(), key).not.toBe("");
      const englishText = english.get(key) ?? english.get(`${base(key)}_other`) ?? "";
      // Plural forms may leave out {{count}} ("一件"), never add unknown placeholders.
      const known = new Set([...variables(englishText), "count"]);
      for (const v of variables(text)) expect(known, `${key} uses {{${v}}}`).toContain(v);
    }
    // Chinese and Japanese have one plural form, German two.
    const plural = [...catalog.keys()].filter((k) => /_(one|other)$/.test(k));
    if (locale === "de") expect(plural.filter((k) => k.endsWith("_one")).length).toBe(plural.length / 2);
    else expect(plural.every((k) => k.endsWith("_other"))).toBe(true);
  });

  test.each(LOCALES.filter((l) => l !== "en"))("%s leaves no English text behind", (locale) => {
    const catalog = leaves(CATALOGS[locale] as Tree);
    const untranslated = [...catalog].filter(
      ([key, text]) =>
        english.get(key) === text &&
        /\p{L}{2,}/u.test(text.replace(/\{\{\w+\}\}/g, "")) &&
        !SAME_EVERYWHERE.has(key) &&
        !SAME_IN[locale]?.has(key),
    );
    expect(untranslated).toEqual([]);
  });
});

describe("choosing the language", () => {
  test("follows the OS language unless the user picked one", () => {
    expect(matchLocale(["de-CH", "en"])).toBe("de");
    expect(matchLocale(["zh-Hant-TW"])).toBe("zh-TW");
    expect(matchLocale(["zh-HK"])).toBe("zh-TW");
    expect(matchLocale(["ja-JP"])).toBe("ja");
    expect(matchLocale(["fr-FR", "ja"])).toBe("ja");
    expect(matchLocale(["fr-FR"])).toBe("en");
    expect(resolveLocale("auto", ["ja-JP"])).toBe("ja");
    expect(resolveLocale("de", ["ja-JP"])).toBe("de");
  });
});

describe("switching the language at runtime", () => {
  afterEach(() => vi.restoreAllMocks());

  test("the picker changes every text, the date format and the document language, and is saved", async () => {
    const user = userEvent.setup();
    const shell = demoShell();
    await openApp(shell);
    expect(screen.getByTestId("sync-now")).toHaveTextContent("Sync now");
    expect(within(rowByTitle("Stellungnahme zum Baugesuch Müller")).getByRole("time")).toHaveTextContent("Nov 28, 2026");

    await user.selectOptions(screen.getByTestId("language-picker"), "ja");
    await waitFor(() => expect(screen.getByTestId("sync-now")).toHaveTextContent("今すぐ同期"));
    expect(document.documentElement.lang).toBe("ja");
    expect(within(rowByTitle("Stellungnahme zum Baugesuch Müller")).getByRole("time")).toHaveTextContent("2026/11/28");
    expect(screen.getByTestId("sort-title")).toHaveTextContent("件名");
    expect(within(rowByTitle("Stellungnahme zum Baugesuch Müller")).getByText("未着手")).toBeInTheDocument();
    expect(shell.callsOf("set_preferences")).toEqual([{ preferences: { language: "ja" } }]);

    await user.selectOptions(screen.getByTestId("language-picker"), "zh-TW");
    await waitFor(() => expect(screen.getByTestId("sync-now")).toHaveTextContent("立即同步"));
    expect(screen.getByTestId("view-inbox")).toHaveTextContent("收件匣");

    await user.selectOptions(screen.getByTestId("language-picker"), "de");
    await waitFor(() => expect(screen.getByTestId("sync-now")).toHaveTextContent("Jetzt synchronisieren"));
    expect(within(rowByTitle("Stellungnahme zum Baugesuch Müller")).getByRole("time")).toHaveTextContent("28.11.2026");
  });

  test("starts in the language the user chose before", async () => {
    const shell = demoShell();
    shell.preferences = { language: "zh-TW" };
    await openApp(shell);
    await waitFor(() => expect(screen.getByTestId("sync-now")).toHaveTextContent("立即同步"));
    expect(screen.getByTestId("language-picker")).toHaveValue("zh-TW");
  });

  test("with 'auto' follows the OS language", async () => {
    vi.spyOn(navigator, "languages", "get").mockReturnValue(["de-CH", "de"]);
    const shell = demoShell();
    shell.preferences = { language: "auto" };
    await openApp(shell);
    await waitFor(() => expect(screen.getByTestId("sync-now")).toHaveTextContent("Jetzt synchronisieren"));
    expect(screen.getByTestId("language-picker")).toHaveValue("auto");
  });
});
