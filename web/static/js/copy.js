// A value to copy: a read-only field and a Copy button that puts it on
// the clipboard, or selects it for the keyboard's copy where the page may
// not write the clipboard.

import { h } from "./dom.js";

export function copyField(value, { id, label, button = "Copy" }) {
  const input = h("input", { type: "text", readonly: true, value, "aria-label": label, id, spellcheck: "false" });
  const said = h("span", { class: "muted", role: "status" });
  const copy = h("button", { type: "button", class: "button" }, button);
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      input.focus();
      input.select();
      said.textContent = "Press Ctrl+C (⌘C) to copy.";
      return;
    }
    said.textContent = "Copied.";
  });
  input.addEventListener("focus", () => input.select());
  return h("div", { class: "copy" }, input, copy, said);
}
