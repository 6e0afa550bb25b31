// Moderation: /moderation, for moderators and admins. The queue of
// reported content, the one reported last first: each with how many
// reports it has and for what, its newest reports, and the buttons to
// hide the video or the comment (or restore a comment hidden before and
// reported again) or dismiss the reports. Any of them takes the case off
// the queue.

import { api } from "../api.js";
import { h, date, errorBox, isAbort, announce, showMore } from "../dom.js";
import { requireUser } from "../forms.js";
import { modal } from "../dialog.js";
import { moderates } from "../session.js";
import { decide, decideComment, reasonLabel } from "../report.js";

export default async function moderationPage({ main, signal, setTitle }) {
  setTitle("Moderation");
  const me = await requireUser(main, "Sign in to moderate", "The moderation queue is for moderators and admins.");
  if (!me) return;
  if (!moderates(me)) {
    main.append(h("div", { class: "notice" },
      h("h1", {}, "Only moderators see the moderation queue"),
      h("p", {}, "Your account can't see this page. ", h("a", { href: "/" }, "Go to the home page"), ".")));
    return;
  }
  const list = h("ul", { class: "rows cases", id: "report-cases", "aria-label": "Reported content" });
  const more = h("div", { class: "more" });
  main.append(h("h1", { class: "page-title" }, "Moderation"),
    h("p", { class: "muted" }, "Content with open reports, the one reported last first."), list, more);
  const load = async (cursor) => {
    const page = await api.reportCases(cursor, signal);
    for (const c of page.cases) list.append(caseRow(c, signal));
    return page.next_cursor;
  };
  try {
    showMore(more, list, await load(""), load);
  } catch (err) {
    if (isAbort(err)) throw err;
    main.append(errorBox("Couldn't load the queue", err));
    return;
  }
  if (!list.children.length) list.replaceWith(h("p", { class: "empty", id: "queue-empty" }, "Nothing is reported. All clear."));
}

function reportWords(n) {
  return n === 1 ? "1 report" : `${n} reports`;
}

// caseRow is one reported target with its reports and the moderator's
// buttons; acting on it takes it off the list.
function caseRow(c, signal) {
  const li = h("li", { class: "case", dataset: { kind: c.target.kind, id: c.target.id } });
  const said = h("p", { class: "muted", role: "status" });
  const what = c.video
    ? h("a", { href: "/watch/" + encodeURIComponent(c.video.id), class: "case-title" }, c.video.title)
    : c.comment
      ? h("span", { class: "case-title" }, `Comment by @${c.comment.author_username}`,
        c.comment.hidden ? " (hidden)" : "", ": ", h("q", { text: c.comment.body }), " ",
        h("a", { href: `/watch/${encodeURIComponent(c.comment.video_id)}#comment-${encodeURIComponent(c.comment.id)}`, class: "case-link" }, "on its video"))
      : h("span", { class: "case-title muted" }, `A ${c.target.kind} that is gone`);
  const reasons = Object.entries(c.reasons).sort((a, b) => b[1] - a[1])
    .map(([r, n]) => `${reasonLabel(r)} (${n})`).join(", ");
  const done = (message) => {
    announce(message);
    li.replaceChildren(h("p", { class: "muted" }, message));
  };
  const buttons = [];
  if (c.video && !c.video.hidden) {
    const hide = h("button", { type: "button", class: "button danger", dataset: { action: "hide" } }, "Hide");
    hide.addEventListener("click", async () => {
      if (await decide(c.video, true, signal)) done(`“${c.video.title}” is hidden.`);
    });
    buttons.push(hide);
  }
  if (c.comment) {
    const hide = !c.comment.hidden;
    const button = h("button", { type: "button", class: hide ? "button danger" : "button", dataset: { action: hide ? "hide" : "restore" } },
      hide ? "Hide" : "Restore");
    button.addEventListener("click", async () => {
      if (await decideComment(c.comment, hide, signal)) done(hide ? "The comment is hidden." : "The comment is shown again.");
    });
    buttons.push(button);
  }
  const dismiss = h("button", { type: "button", class: "button", dataset: { action: "dismiss" } }, "Dismiss reports");
  dismiss.addEventListener("click", async () => {
    const why = h("input", { type: "text", id: "dismiss-reason", maxlength: 500 });
    const ok = await modal({
      id: "dismiss-dialog",
      title: "Dismiss the reports",
      body: [h("p", {}, `${reportWords(c.reports)} will be closed; the content stays as it is.`),
        h("div", { class: "field" }, h("label", { for: "dismiss-reason" }, "Reason (optional)"), why)],
      submit: "Dismiss",
      save: () => api.dismissReports(c.target.kind, c.target.id, why.value.trim(), signal),
    });
    if (ok) done("Reports dismissed.");
  });
  buttons.push(dismiss);
  li.append(
    h("div", { class: "case-head" }, what,
      h("span", { class: "case-count" }, reportWords(c.reports))),
    h("p", { class: "case-reasons" }, reasons),
    c.video?.owner ? h("p", { class: "muted" }, "by @" + c.video.owner.username) : null,
    h("ul", { class: "case-reports", "aria-label": "Newest reports" },
      c.recent.map((r) => h("li", {},
        h("strong", {}, "@" + r.reporter.username), ` · ${reasonLabel(r.reason)} · ${date(r.updated_at)}`,
        r.note ? h("p", { class: "case-note", text: r.note }) : null))),
    h("div", { class: "actions" }, buttons), said);
  return li;
}
