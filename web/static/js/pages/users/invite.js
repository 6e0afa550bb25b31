// Invitations: a code for one sign-up, shown once, with the sign-up link
// that carries it.

import { api } from "../../api.js";
import { h, date, errorBox, isAbort, announce } from "../../dom.js";
import { working } from "../../forms.js";
import { copyField } from "../../copy.js";

export function inviteSection(signal) {
  const made = h("div", { id: "invite-made" });
  const button = h("button", { type: "button", class: "button", id: "invite-create" }, "Make an invitation");
  button.addEventListener("click", async () => {
    let invite;
    try {
      invite = await working(button, "Making…", () => api.createInvite(signal));
    } catch (err) {
      if (!isAbort(err)) made.replaceChildren(errorBox("Couldn't make an invitation", err));
      return;
    }
    const link = `${location.origin}/signup?invite=${encodeURIComponent(invite.code)}`;
    made.replaceChildren(h("div", { class: "notice ok secret" },
      h("p", {}, h("strong", {}, "Send this link now: the code is shown only this once. "),
        `It makes one account, until ${date(invite.expires_at)}.`),
      copyField(link, { id: "invite-link", label: "Sign-up link", button: "Copy link" }),
      h("p", { class: "muted" }, "The code alone: ", h("code", { id: "invite-code" }, invite.code))));
    announce("Invitation made. Copy the link now: it is shown only this once.");
  });
  return h("section", { class: "panel", "aria-labelledby": "invite-title" },
    h("h2", { id: "invite-title" }, "Invitations"),
    h("p", { class: "muted" }, "When sign-up is by invitation, each new account needs a code."),
    button, made);
}
