// What the account pages' forms share: labelled fields, a button that
// shows it is working, and the prompt to sign in where a page needs a
// signed-in user.

import { h, errorBox } from "./dom.js";
import { currentUser } from "./session.js";

// field lays out control (which has an id) under its label, with an
// optional hint that describes it.
export function field(control, label, hint) {
  let hintEl = null;
  if (hint) {
    hintEl = h("span", { class: "hint", id: control.id + "-hint" }, hint);
    control.setAttribute("aria-describedby", hintEl.id);
  }
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hintEl);
}

// input is a text-like input named and identified id.
export function input(id, attrs = {}) {
  return h("input", { type: "text", id, name: id, ...attrs });
}

// tagList reads comma-separated tags.
export function tagList(text) {
  return text.split(",").map((t) => t.trim()).filter(Boolean);
}

// working disables button and shows busy on it while work runs, and
// returns what work returns.
export async function working(button, busy, work) {
  const label = button.textContent;
  button.disabled = true;
  button.textContent = busy;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}

// say puts one message in slot (an alert for a failure), or clears it.
export function say(slot, node) {
  slot.replaceChildren(...(node ? [node] : []));
}

// requireUser returns the signed-in user; for nobody it draws in main a
// prompt to sign in (or up) and come back, titled title, and returns
// null.
export async function requireUser(main, title, why) {
  let user;
  try {
    user = await currentUser();
  } catch (err) {
    main.append(errorBox("Couldn't tell who is signed in", err));
    return null;
  }
  if (user) return user;
  const next = encodeURIComponent(location.pathname + location.search);
  main.append(h("div", { class: "notice sign-in-needed" },
    h("h1", {}, title),
    h("p", {}, why),
    h("div", { class: "actions" },
      h("a", { class: "button primary", href: `/signin?next=${next}`, id: "prompt-signin" }, "Sign in"),
      h("a", { class: "button", href: `/signup?next=${next}` }, "Create an account"))));
  return null;
}
