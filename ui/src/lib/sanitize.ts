/**
 * The one place server HTML becomes markup: GEVER's `rendered_text`
 * descriptions (`description_format == "html"`). DOMPurify strips scripts,
 * event handlers, forms, styles and anything that could load or run
 * something; links open outside the app.
 */
import DOMPurify from "dompurify";

const purifier = DOMPurify();

purifier.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});

export function sanitizeHtml(html: string): string {
  return purifier.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe", "object", "embed", "img", "video", "audio", "source", "picture", "svg", "math"],
    FORBID_ATTR: ["style", "srcset"],
    ALLOW_DATA_ATTR: false,
  });
}
