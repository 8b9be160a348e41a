import { describe, expect, test } from "vitest";

import { sanitizeHtml } from "./sanitize";

describe("sanitizing GEVER's rendered_text", () => {
  test.each([
    ["scripts", "<p>a</p><script>alert(1)</script>", "<p>a</p>"],
    ["event handlers and images", '<p onclick="x()">a</p><img src=x onerror="y()">', "<p>a</p>"],
    ["javascript: links", '<a href="javascript:alert(1)">x</a>', '<a target="_blank" rel="noopener noreferrer">x</a>'],
    ["styles and forms", '<style>*{}</style><form><input></form><b style="color:red">b</b>', "<b>b</b>"],
    ["iframes and svg", '<iframe src="https://evil"></iframe><svg onload="x()"></svg>ok', "ok"],
  ])("removes %s", (_, html, expected) => {
    expect(sanitizeHtml(html)).toBe(expected);
  });

  test("keeps formatting and opens links outside the app", () => {
    expect(sanitizeHtml('<p>Bitte <strong>prüfen</strong>: <a href="https://gever.example.ch/x">Dossier</a></p><ul><li>eins</li></ul>')).toBe(
      '<p>Bitte <strong>prüfen</strong>: <a href="https://gever.example.ch/x" target="_blank" rel="noopener noreferrer">Dossier</a></p><ul><li>eins</li></ul>',
    );
  });
});
