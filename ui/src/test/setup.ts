/**
 * The test window: jsdom plus what it lacks for this UI (layout sizes for
 * the virtual list, ResizeObserver), a clean Tauri mock and English after
 * every test.
 */
import "@testing-library/jest-dom/vitest";

import { clearMocks } from "@tauri-apps/api/mocks";
import { cleanup } from "@testing-library/svelte";
import { afterEach, beforeAll } from "vitest";

import { i18n } from "../lib/i18n/index.svelte";

/** The height jsdom pretends every element has (it does no layout). */
export const VIEWPORT_HEIGHT = 720;

beforeAll(() => {
  Object.defineProperty(HTMLElement.prototype, "offsetHeight", {
    configurable: true,
    get() {
      return VIEWPORT_HEIGHT;
    },
  });
  Object.defineProperty(HTMLElement.prototype, "offsetWidth", {
    configurable: true,
    get() {
      return 1200;
    },
  });
  if (!("ResizeObserver" in globalThis)) {
    globalThis.ResizeObserver = class {
      observe() {}
      unobserve() {}
      disconnect() {}
    };
  }
  if (!Element.prototype.scrollTo) {
    Element.prototype.scrollTo = function scrollTo(this: Element, options?: ScrollToOptions | number) {
      if (typeof options === "object" && options.top !== undefined) this.scrollTop = options.top;
      this.dispatchEvent(new Event("scroll"));
    } as Element["scrollTo"];
  }
});

afterEach(() => {
  cleanup();
  clearMocks();
  i18n.apply("en");
});
