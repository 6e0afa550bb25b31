// Audit log: /admin/audit, for admins. Every moderator's action, newest
// first, a page at a time: who did what to which content, when and why.
// The log is append-only; nothing here changes it.

import { api } from "../api.js";
import { h, date, errorBox, isAbort, showMore } from "../dom.js";
import { requireUser } from "../forms.js";

const actions = { hide: "Hid", restore: "Restored", dismiss: "Dismissed the reports of" };

export default async function auditPage({ main, signal, setTitle }) {
  setTitle("Audit log");
  const me = await requireUser(main, "Sign in to read the audit log", "The audit log is for admins.");
  if (!me) return;
  if (me.role !== "admin") {
    main.append(h("div", { class: "notice" },
      h("h1", {}, "Only administrators read the audit log"),
      h("p", {}, "Your account can't see this page. ", h("a", { href: "/" }, "Go to the home page"), ".")));
    return;
  }
  const body = h("tbody", {});
  const more = h("div", { class: "more" });
  main.append(h("h1", { class: "page-title" }, "Audit log"),
    h("div", { class: "table-wrap" },
      h("table", { class: "audit", id: "audit-log" },
        h("thead", {}, h("tr", {}, ["When", "Who", "What", "Content", "Why", "Reports"].map((t) => h("th", { scope: "col" }, t)))),
        body)),
    more);
  const load = async (cursor) => {
    const page = await api.auditLog(cursor, signal);
    for (const e of page.entries) body.append(row(e));
    return page.next_cursor;
  };
  try {
    showMore(more, body, await load(""), load);
  } catch (err) {
    if (isAbort(err)) throw err;
    main.append(errorBox("Couldn't load the audit log", err));
  }
}

function row(e) {
  const content = e.target.kind === "video"
    ? h("a", { href: "/watch/" + encodeURIComponent(e.target.id) }, "video " + e.target.id.slice(0, 8))
    : `${e.target.kind} ${e.target.id.slice(0, 8)}`;
  return h("tr", { dataset: { action: e.action, target: e.target.id } },
    h("td", {}, date(e.at)),
    h("td", {}, "@" + e.actor.username),
    h("td", {}, actions[e.action] || e.action),
    h("td", {}, content),
    h("td", { class: "why", text: e.reason }),
    h("td", {}, String(e.resolved)));
}
