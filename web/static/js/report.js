// Reports and moderation on the watch page: the Report buttons (of the
// video and of each comment) and their dialog for signed-in viewers, the
// notice that a video is hidden (for its owner and moderators, the only
// ones shown a hidden video), and the Hide and Restore buttons of
// moderators, for the video and for each comment.

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
  reportOnClick(button, { kind: "video", id: v.id }, "this video", page.signal);
  return button;
}

// reportCommentButton offers a signed-in user to report comment c, which
// is not theirs.
export function reportCommentButton(c, page) {
  // A hidden comment is out of the reader's sight already.
  if (!page.user || c.hidden || page.user.id === c.author?.id) return null;
  const button = h("button", { type: "button", class: "button small comment-report" }, "Report");
  reportOnClick(button, { kind: "comment", id: c.id }, "this comment", page.signal);
  return button;
}

function reportOnClick(button, target, what, signal) {
  button.addEventListener("click", async () => {
    const sent = await reportDialog(target, what, signal);
    if (sent) {
      button.textContent = "Reported";
      announce(`Thank you: the moderators will look at ${what}.`);
    }
    button.focus();
  });
}

function reportDialog(target, what, signal) {
  const reason = h("select", { id: "report-reason", required: true },
    h("option", { value: "" }, "Choose a reason…"),
    reasons.map((r) => h("option", { value: r.value }, r.label)));
  const note = h("textarea", { id: "report-note", maxlength: maxNote, rows: 3 });
  return modal({
    id: "report-dialog",
    title: `Report ${what}`,
    body: [
      h("p", { class: "muted" }, "Moderators review reports. Reporting again changes your report."),
      field(reason, "Reason"),
      field(note, "What is wrong (optional)", `At most ${maxNote} characters.`),
    ],
    submit: "Send report",
    save: () => api.report({ ...target, reason: reason.value, note: note.value.trim() }, signal),
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

// commentModerationButton is a moderator's Hide or Restore button for
// comment c; done(after) shows the comment as it is once changed.
export function commentModerationButton(c, page, done) {
  if (!moderates(page.user)) return null;
  const hide = !c.hidden;
  const button = h("button", {
    type: "button", class: hide ? "button small danger-quiet comment-hide" : "button small comment-restore",
  }, hide ? "Hide" : "Restore");
  button.addEventListener("click", async () => {
    const after = await decideComment(c, hide, page.signal);
    if (!after) return;
    done(after);
    announce(hide ? "The comment is hidden." : "The comment is shown again.");
  });
  return button;
}

// decideComment asks a moderator why, then hides or restores comment c
// (as the queue or a comment list has it); it resolves to the comment as
// it now is, or null when nothing was done.
export function decideComment(c, hide, signal) {
  const why = h("textarea", { id: "decision-reason", required: true, maxlength: maxWhy, rows: 3 });
  const by = c.author?.username || c.author_username;
  return modal({
    id: "decision-dialog",
    title: hide ? `Hide the comment by @${by}` : `Restore the comment by @${by}`,
    body: [
      hide ? h("p", { class: "muted" }, "Others see that a comment was hidden here; its replies stay.") : null,
      field(why, hide ? "Reason, shown to the comment's author" : "Reason, kept in the audit log"),
    ],
    submit: hide ? "Hide" : "Restore",
    danger: hide,
    save: () => (hide ? api.hideComment : api.restoreComment)(c.id, why.value.trim(), signal),
  });
}
