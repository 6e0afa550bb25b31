// The account's profile and quotas: used of total, with a bar; a quota
// of -1 is unlimited.

import { h, bytes, date } from "../../dom.js";

const roles = { user: "User", moderator: "Moderator", admin: "Administrator" };

export function profileSection(user) {
  const q = user.quota;
  return h("section", { class: "panel", "aria-labelledby": "profile-title" },
    h("h2", { id: "profile-title" }, "Profile"),
    h("dl", { class: "facts" },
      h("dt", {}, "Username"),
      h("dd", {}, h("a", { href: "/@" + encodeURIComponent(user.username) }, "@" + user.username)),
      h("dt", {}, "E-mail"), h("dd", {}, user.email || "—"),
      h("dt", {}, "Role"), h("dd", {}, roles[user.role] || user.role),
      h("dt", {}, "Member since"), h("dd", {}, date(user.created_at))),
    q ? h("div", { class: "quotas" },
      h("h3", {}, "Quotas"),
      quotaBar("quota-storage", "Storage", q.stored_bytes, q.storage_bytes),
      quotaBar("quota-daily", "Uploaded in the last 24 hours", q.uploaded_today_bytes, q.daily_upload_bytes))
      : null);
}

// quotaBar says how much of a quota is used: "1.2 GB of 5.0 GB".
export function quotaBar(id, label, used, total) {
  const unlimited = total < 0;
  const words = unlimited ? `${bytes(used)} (no limit)` : `${bytes(used)} of ${bytes(total)}`;
  const full = !unlimited && used >= total;
  return h("div", { class: "quota", id },
    h("div", { class: "quota-label" }, h("span", { id: id + "-label" }, label), h("span", { class: "quota-words" }, words)),
    unlimited ? null : h("progress", {
      max: Math.max(total, 1), value: Math.min(used, Math.max(total, 1)),
      class: full ? "full" : null, "aria-labelledby": id + "-label", "aria-valuetext": words,
    }));
}
