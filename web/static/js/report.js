// Reports and moderation on the watch page: the Report button and its
// dialog for signed-in viewers, the notice that a video is hidden (for its
// owner and moderators, the only ones shown a hidden video), and the
// Hide and Restore buttons of moderators.

import { api } from "./api.js";
import { h, announce } from "./dom.js";
import { field } from "./forms.js";
import { modal } from "./dialog.js";
import { moderates } from "./session.js";

// reasons are the categories a report is filed under, in the API's words.
export const reasons = [
  { value: "spam", label: "Spam or misleading" },
  { value: "abuse", label: "Harassment or hate" },
  { value: "sexual", label: "Sexual content" },
  { value: "violence", label: "Violence or danger" },
  { value: "copyright", label: "Copyright infringement" },
  { value: "other", label: "Something else" },
];

export const reasonLabel = (value) => reasons.find((r) => r.value === value)?.label || value;

// The bounds the API holds a note and a moderator's reason to.
const maxNote = 1000;
const maxWhy = 500;

// reportButton offers to report v: to sign in for a visitor, a dialog for
// a signed-in viewer. The owner of a video does not report it.
export function reportButton(v, page) {
  if (page.user && page.user.id === v.owner?.id) return null;
  if (!page.user) {
    return h("a", {
      class: "button", id: "report-button", title: "Sign in to report this video",
      href: "/signin?next=" + encodeURIComponent(location.pathname),
    }, "Report");
  }
  const button = h("button", { type: "button", class: "button", id: "report-button" }, "Report");
  button.addEventListener("click", async () => {
    const sent = await reportDialog(v, page.signal);
    if (sent) {
      button.textContent = "Reported";
      announce("Thank you: the moderators will look at this video.");
    }
    button.focus();
  });
  return button;
}

function reportDialog(v, signal) {
  const reason = h("select", { id: "report-reason", required: true },
    h("option", { value: "" }, "Choose a reason…"),
    reasons.map((r) => h("option", { value: r.value }, r.label)));
  const note = h("textarea", { id: "report-note", maxlength: maxNote, rows: 3 });
  return modal({
    id: "report-dialog",
    title: "Report this video",
    body: [
      h("p", { class: "muted" }, "Moderators review reports. Reporting again changes your report."),
      field(reason, "Reason"),
      field(note, "What is wrong (optional)", `At most ${maxNote} characters.`),
    ],
    submit: "Send report",
    save: () => api.report({ kind: "video", id: v.id, reason: reason.value, note: note.value.trim() }, signal),
  });
}

// hiddenNotice tells the owner (or a moderator) of a hidden video that
// others cannot see it, and why.
export function hiddenNotice(v) {
  if (!v.hidden) return null;
  return h("div", { class: "notice error", id: "hidden-notice", role: "status" },
    h("h2", {}, "A moderator hid this video"),
    h("p", {}, "Nobody else can find or watch it. The reason given: ",
      h("strong", { id: "hidden-reason", text: v.hidden_reason })));
}

// moderationTools are a moderator's Hide or Restore button; done(after)
// shows the video as it is once changed.
export function moderationTools(v, page, done) {
  if (!moderates(page.user)) return null;
  const hide = !v.hidden;
  const button = h("button", { type: "button", class: hide ? "button danger" : "button", id: hide ? "video-hide" : "video-restore" },
    hide ? "Hide" : "Restore");
  button.addEventListener("click", async () => {
    const after = await decide(v, hide, page.signal);
    if (!after) return;
    done(after);
    announce(hide ? "The video is hidden." : "The video is shown again.");
  });
  return button;
}

// decide asks a moderator why, then hides or restores v; it resolves to
// the video as it now is, or null when nothing was done.
export function decide(v, hide, signal) {
  const why = h("textarea", { id: "decision-reason", required: true, maxlength: maxWhy, rows: 3 });
  return modal({
    id: "decision-dialog",
    title: hide ? `Hide “${v.title}”` : `Restore “${v.title}”`,
    body: [field(why, hide ? "Reason, shown to the video's owner" : "Reason, kept in the audit log")],
    submit: hide ? "Hide" : "Restore",
    danger: hide,
    save: () => (hide ? api.hideVideo : api.restoreVideo)(v.id, why.value.trim(), signal),
  });
}
