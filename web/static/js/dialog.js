// Modal dialogs: a <dialog> shown with showModal(), which keeps the
// keyboard inside it and closes on Escape, removed once closed.

import { h, errorBox, isAbort } from "./dom.js";

// modal shows a form titled title, with body (nodes) and two buttons:
// Cancel and submit. Submitting runs save(); the dialog closes with its
// result, or stays open saying why it failed. It resolves to that result,
// or to null when the person cancels. danger marks a submit that destroys.
export function modal({ id, title, body = [], submit, danger = false, save }) {
  return new Promise((resolve) => {
    const message = h("div", { class: "dialog-message" });
    const ok = h("button", { type: "submit", class: danger ? "button danger" : "button primary", id: id + "-submit" }, submit);
    const cancel = h("button", { type: "button", class: "button", id: id + "-cancel" }, "Cancel");
    const heading = h("h2", { id: id + "-title" }, title);
    const form = h("form", {}, heading, body, message, h("div", { class: "actions" }, cancel, ok));
    const dialog = h("dialog", { class: "dialog", id, "aria-labelledby": id + "-title" }, form);
    let result = null;
    let busy = false;
    cancel.addEventListener("click", () => dialog.close());
    dialog.addEventListener("cancel", (e) => {
      if (busy) e.preventDefault();
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(result);
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (busy) return;
      busy = true;
      ok.disabled = cancel.disabled = true;
      message.replaceChildren();
      try {
        result = (await save()) ?? true;
      } catch (err) {
        busy = false;
        ok.disabled = cancel.disabled = false;
        if (!isAbort(err)) message.replaceChildren(errorBox(`Couldn't ${submit.toLowerCase()}`, err));
        return;
      }
      busy = false;
      dialog.close();
    });
    document.body.append(dialog);
    dialog.showModal();
    // A destructive question starts on Cancel, so that Enter does no harm.
    (danger ? cancel : form.querySelector("input, textarea, select") || ok).focus();
  });
}
