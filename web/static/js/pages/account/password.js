// Changing the password, which signs out every other session.

import { api } from "../../api.js";
import { h, errorBox, isAbort, announce } from "../../dom.js";
import { field, input, working, say } from "../../forms.js";

// passwordSection calls changed() once the password is changed.
export function passwordSection(signal, changed) {
  const current = input("password-current", { type: "password", autocomplete: "current-password", required: true });
  const next = input("password-new", { type: "password", autocomplete: "new-password", required: true, minlength: 8 });
  const again = input("password-again", { type: "password", autocomplete: "new-password", required: true, minlength: 8 });
  const submit = h("button", { type: "submit", class: "button" }, "Change password");
  const message = h("div", { class: "form-message" });
  const form = h("form", { class: "account-form" },
    field(current, "Current password"),
    field(next, "New password", "At least 8 characters. Your other sessions are signed out."),
    field(again, "New password again"),
    h("div", { class: "actions" }, submit),
    message);
  again.addEventListener("input", () => again.setCustomValidity(""));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    say(message, null);
    if (next.value !== again.value) {
      again.setCustomValidity("The two new passwords are not the same.");
      again.reportValidity();
      return;
    }
    try {
      await working(submit, "Changing…", () =>
        api.changePassword({ current_password: current.value, new_password: next.value }, signal));
    } catch (err) {
      if (isAbort(err)) return;
      say(message, errorBox("Couldn't change the password", err));
      return;
    }
    form.reset();
    say(message, h("p", { class: "notice ok" }, "Password changed. Your other sessions are signed out."));
    announce("Password changed.");
    changed();
  });
  return h("section", { class: "panel", "aria-labelledby": "password-title" },
    h("h2", { id: "password-title" }, "Password"), form);
}
