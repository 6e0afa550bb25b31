// Making a user, with any role, whatever the site's sign-up rule.

import { api } from "../../api.js";
import { h, errorBox, isAbort, announce } from "../../dom.js";
import { field, input, working, say } from "../../forms.js";
import { roleSelect } from "./edit.js";

// createSection calls created(user) with each user made.
export function createSection(signal, created) {
  const username = input("new-user-name", { required: true, minlength: 3, maxlength: 30, autocomplete: "off", autocapitalize: "none", spellcheck: "false" });
  const email = input("new-user-email", { type: "email", required: true, autocomplete: "off" });
  const password = input("new-user-password", { type: "password", required: true, minlength: 8, autocomplete: "new-password" });
  const role = roleSelect("new-user-role");
  const submit = h("button", { type: "submit", class: "button" }, "Add user");
  const message = h("div", { class: "form-message" });
  const form = h("form", { class: "account-form" },
    field(username, "Username"), field(email, "E-mail"),
    field(password, "Password", "At least 8 characters. Give it to them safely; they can change it."),
    field(role, "Role"),
    h("div", { class: "actions" }, submit), message);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    say(message, null);
    let u;
    try {
      u = await working(submit, "Adding…", () => api.createUser({
        username: username.value.trim(), email: email.value.trim(), password: password.value, role: role.value,
      }, signal));
    } catch (err) {
      if (isAbort(err)) return;
      say(message, errorBox("Couldn't add the user", err));
      return;
    }
    form.reset();
    created(u);
    say(message, h("p", { class: "notice ok" }, `${u.username} was added.`));
    announce(`${u.username} was added.`);
  });
  return h("details", { class: "panel" },
    h("summary", {}, h("h2", {}, "Add a user")),
    form);
}
