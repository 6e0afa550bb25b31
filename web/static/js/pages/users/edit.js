// Changing a user: role, disabled, and quotas (the site's default, no
// limit, or an amount). Only what changed is sent.

import { api } from "../../api.js";
import { h, bytes } from "../../dom.js";
import { field } from "../../forms.js";
import { modal } from "../../dialog.js";

export const roles = { user: "User", moderator: "Moderator", admin: "Administrator" };

// roleSelect chooses a role.
export function roleSelect(id, chosen = "user") {
  return h("select", { id, name: id },
    Object.entries(roles).map(([value, label]) => h("option", { value, selected: value === chosen }, label)));
}

// editUser asks for u's changes and resolves to the changed user, or to
// null. self is whether u is the admin themselves, who may not lower
// their own role or disable themselves.
export async function editUser(u, self, signal) {
  if (!u.quota) {
    // The list of users leaves out quotas; the profile has them.
    try {
      u = await api.user(u.username, signal);
    } catch {
      // The dialog still works; it just cannot say what the quotas are.
    }
  }
  const role = roleSelect("edit-user-role", u.role);
  const disabled = h("input", { type: "checkbox", id: "edit-user-disabled", checked: u.disabled });
  const storage = quotaField("edit-user-storage", "Storage", u.quota?.storage_bytes);
  const daily = quotaField("edit-user-daily", "Uploads in 24 hours", u.quota?.daily_upload_bytes);
  if (self) {
    role.disabled = disabled.disabled = true;
  }
  return modal({
    id: "edit-user",
    title: `Edit ${u.username}`,
    body: [
      field(role, "Role", self ? "You can't lower your own role; another admin can." : null),
      h("div", { class: "field check" }, disabled,
        h("label", { for: disabled.id }, "Disabled"),
        h("span", { class: "hint" }, "A disabled user can't sign in, and their sessions and tokens stop working.")),
      storage.el,
      daily.el,
    ],
    submit: "Save",
    save: async () => {
      const change = {};
      if (role.value !== u.role) change.role = role.value;
      if (disabled.checked !== u.disabled) change.disabled = disabled.checked;
      const s = storage.value();
      if (s !== null) change.storage_quota_bytes = s;
      const d = daily.value();
      if (d !== null) change.daily_upload_quota_bytes = d;
      if (!Object.keys(change).length) return u;
      return api.updateUser(u.id, change, signal);
    },
  });
}

// quotaField chooses a quota: unchanged, the default (0), no limit (-1)
// or an amount in GB. value() is the bytes to send, or null to leave it.
function quotaField(id, label, now) {
  const mode = h("select", { id: id + "-mode" },
    h("option", { value: "keep" }, `Keep (${now === undefined ? "—" : now < 0 ? "no limit" : bytes(now)})`),
    h("option", { value: "default" }, "The site's default"),
    h("option", { value: "none" }, "No limit"),
    h("option", { value: "amount" }, "An amount…"));
  const amount = h("input", { type: "number", id: id + "-gb", min: "0.001", step: "any", inputmode: "decimal", disabled: true, "aria-label": `${label} in GB` });
  mode.addEventListener("change", () => {
    amount.disabled = mode.value !== "amount";
    amount.required = mode.value === "amount";
    if (!amount.disabled) amount.focus();
  });
  return {
    el: h("div", { class: "field" },
      h("label", { for: mode.id }, label),
      h("div", { class: "inline" }, mode, amount, h("span", { class: "muted" }, "GB"))),
    value() {
      switch (mode.value) {
        case "default": return 0;
        case "none": return -1;
        case "amount": return Math.round(Number(amount.value) * 1e9);
        default: return null;
      }
    },
  };
}
