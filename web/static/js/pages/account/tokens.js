// API tokens: for programs (the cloudflix command, scripts) to act as the
// user, each limited to its scopes. A new token's secret is shown once.

import { api } from "../../api.js";
import { h, age, date, errorBox, isAbort, announce } from "../../dom.js";
import { field, input, working, say } from "../../forms.js";
import { copyField } from "../../copy.js";
import { modal } from "../../dialog.js";
import { moderates } from "../../session.js";

const scopes = [
  { value: "read", label: "Read", hint: "See your videos, private ones included." },
  { value: "upload", label: "Upload", hint: "Upload videos, and edit and delete yours." },
  { value: "admin", label: "Admin", hint: "Use your moderator or administrator rights." },
];

export function tokensSection(user, signal) {
  const list = h("ul", { class: "rows", id: "tokens", "aria-labelledby": "tokens-title" });
  const listMessage = h("div", { class: "form-message" });
  const reveal = h("div", { id: "token-created" });
  const reload = async () => {
    let resp;
    try {
      resp = await api.tokens(signal);
    } catch (err) {
      if (isAbort(err)) return;
      listMessage.replaceChildren(errorBox("Couldn't list your tokens", err));
      return;
    }
    listMessage.replaceChildren();
    list.replaceChildren(...resp.tokens.map((t) => row(t, signal)));
    if (!resp.tokens.length) list.append(h("li", { class: "row muted" }, "No tokens yet."));
  };
  reload();
  return h("section", { class: "panel", "aria-labelledby": "tokens-title" },
    h("h2", { id: "tokens-title" }, "API tokens"),
    h("p", { class: "muted" }, "A token lets a program, such as the cloudflix command, act as you. Give it only the scopes it needs."),
    list, listMessage,
    reveal,
    createForm(user, signal, reveal, reload));
}

function createForm(user, signal, reveal, reload) {
  const name = input("token-name", { required: true, maxlength: 100, autocomplete: "off", placeholder: "e.g. laptop uploads" });
  const boxes = scopes
    .filter((s) => s.value !== "admin" || moderates(user))
    .map((s) => ({ s, box: h("input", { type: "checkbox", id: `token-scope-${s.value}`, value: s.value, checked: s.value === "read" }) }));
  const submit = h("button", { type: "submit", class: "button", id: "token-create" }, "Make token");
  const message = h("div", { class: "form-message" });
  const form = h("form", { class: "account-form" },
    h("h3", {}, "Make a token"),
    field(name, "Name", "What it is for, to know it again in this list."),
    h("fieldset", { class: "field choice" }, h("legend", {}, "Scopes"),
      boxes.map(({ s, box }) => h("div", { class: "choice-option" },
        box, h("label", { for: box.id }, s.label), h("span", { class: "hint" }, s.hint)))),
    h("div", { class: "actions" }, submit),
    message);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    say(message, null);
    const chosen = boxes.filter(({ box }) => box.checked).map(({ s }) => s.value);
    if (!chosen.length) {
      say(message, errorBox("Choose at least one scope", ""));
      return;
    }
    let created;
    try {
      created = await working(submit, "Making…", () => api.createToken({ name: name.value.trim(), scopes: chosen }, signal));
    } catch (err) {
      if (isAbort(err)) return;
      say(message, errorBox("Couldn't make the token", err));
      return;
    }
    form.reset();
    showSecret(reveal, created);
    reload();
  });
  return form;
}

// showSecret shows a new token's secret, the one time it is known.
function showSecret(reveal, { secret, token }) {
  const done = h("button", { type: "button", class: "button" }, "Done");
  const box = h("div", { class: "notice ok secret", role: "region", "aria-labelledby": "token-created-title" },
    h("h3", { id: "token-created-title", tabindex: "-1" }, `Your new token “${token.name}”`),
    h("p", { class: "warning" }, h("strong", {}, "Copy it now: it is shown only this once. "),
      "CloudFlix keeps no copy; if it is lost, make another. Keep it secret: it acts as you."),
    copyField(secret, { id: "token-secret", label: "The new token" }),
    h("div", { class: "actions" }, done));
  done.addEventListener("click", () => {
    reveal.replaceChildren();
    document.getElementById("token-name")?.focus();
  });
  reveal.replaceChildren(box);
  box.querySelector("h3").focus();
  announce("Token made. Copy it now: it is shown only this once.");
}

function row(t, signal) {
  const revoke = h("button", { type: "button", class: "button", "aria-label": `Revoke token ${t.name}` }, "Revoke");
  const li = h("li", { class: "row", dataset: { tokenId: t.id } },
    h("div", { class: "row-main" },
      h("strong", {}, t.name),
      h("span", { class: "scopes" }, t.scopes.map((s) => h("span", { class: "scope" }, s))),
      h("div", { class: "muted" },
        `made ${date(t.created_at)} · ` + (t.last_used_at ? `last used ${age(t.last_used_at)}` : "never used"))),
    revoke);
  revoke.addEventListener("click", async () => {
    const gone = await modal({
      id: "revoke-token",
      title: `Revoke “${t.name}”?`,
      body: [h("p", {}, "Programs using this token stop working at once. This can't be undone.")],
      submit: "Revoke",
      danger: true,
      save: () => api.revokeToken(t.id, signal),
    });
    if (!gone) return;
    const after = li.nextElementSibling || li.previousElementSibling;
    li.remove();
    (after?.querySelector("button") || document.getElementById("token-name"))?.focus();
    announce(`Token ${t.name} revoked.`);
  });
  return li;
}
