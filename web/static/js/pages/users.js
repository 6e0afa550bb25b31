// Users: /admin/users, for administrators. Every account, by username, a
// page at a time; an admin changes a user's role, quotas, or disables
// them, makes users, and makes invitations to sign up.

import { api } from "../api.js";
import { h, bytes, date, errorBox, isAbort, announce, showMore } from "../dom.js";
import { requireUser } from "../forms.js";
import { inviteSection } from "./users/invite.js";
import { createSection } from "./users/create.js";
import { editUser, roles } from "./users/edit.js";

export default async function usersPage({ main, signal, setTitle }) {
  setTitle("Users");
  const me = await requireUser(main, "Sign in to manage users", "Only administrators manage users.");
  if (!me) return;
  if (me.role !== "admin") {
    main.append(h("div", { class: "notice" },
      h("h1", {}, "Only administrators manage users"),
      h("p", {}, "Your account can't see this page. ", h("a", { href: "/" }, "Go to the home page"), ".")));
    return;
  }
  const body = h("tbody", {});
  const more = h("div", { class: "more" });
  const addRow = (u, first) => {
    const tr = row(u, me, signal);
    if (first) body.prepend(tr);
    else body.append(tr);
  };
  main.append(h("div", { class: "users-page" },
    h("h1", { class: "page-title" }, "Users"),
    inviteSection(signal),
    createSection(signal, (u) => addRow(u, true)),
    h("section", { class: "panel", "aria-labelledby": "users-title" },
      h("h2", { id: "users-title" }, "Accounts"),
      h("div", { class: "table-wrap" },
        h("table", { class: "users", id: "users" },
          h("thead", {}, h("tr", {},
            ["User", "E-mail", "Role", "Status", "Storage", "Uploads, 24 h", "Joined", ""].map((t) =>
              h("th", { scope: "col" }, t)))),
          body)),
      more)));

  const load = async (cursor) => {
    const page = await api.users(cursor, signal);
    for (const u of page.users) addRow(u, false);
    return page.next_cursor;
  };
  try {
    showMore(more, body, await load(""), load);
  } catch (err) {
    if (isAbort(err)) throw err;
    more.replaceChildren(errorBox("Couldn't list the users", err));
  }
}

function quota(used, total) {
  return total < 0 ? `${bytes(used)} of no limit` : `${bytes(used)} of ${bytes(total)}`;
}

function row(u, me, signal) {
  const tr = h("tr", { dataset: { userId: u.id } });
  const draw = (u) => {
    const edit = h("button", { type: "button", class: "button small", "aria-label": `Edit ${u.username}` }, "Edit");
    edit.addEventListener("click", async () => {
      const after = await editUser(u, u.id === me.id, signal);
      if (!after) return;
      draw(after);
      tr.querySelector("button").focus();
      announce(`${after.username} saved.`);
    });
    tr.replaceChildren(
      h("th", { scope: "row" }, h("a", { href: "/@" + encodeURIComponent(u.username) }, u.username)),
      h("td", { class: "email" }, u.email || ""),
      h("td", {}, roles[u.role] || u.role),
      h("td", { class: u.disabled ? "disabled" : null }, u.disabled ? "Disabled" : "Active"),
      h("td", {}, u.quota ? quota(u.quota.stored_bytes, u.quota.storage_bytes) : "—"),
      h("td", {}, u.quota ? quota(u.quota.uploaded_today_bytes, u.quota.daily_upload_bytes) : "—"),
      h("td", {}, date(u.created_at)),
      h("td", {}, edit));
  };
  draw(u);
  return tr;
}
