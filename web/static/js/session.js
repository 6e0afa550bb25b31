// Who is signed in, as the header and the pages know it. The session is
// an HttpOnly cookie that no script sees: the page asks GET /api/v1/me
// once (401: nobody is signed in), then follows what signing in, up and
// out say. This module also draws the header's account menu; the rest of
// the account UI lives in the pages that need it and loads with them.

import { api, ApiError } from "./api.js";
import { h } from "./dom.js";

let known = null; // a Promise of the user, or of null for nobody
const watchers = new Set();

// currentUser resolves to the signed-in user (the JSON of
// GET /api/v1/me) or to null. Any failure but 401 rejects, and the next
// call asks again.
export function currentUser() {
  if (!known) {
    known = api.me().catch((err) => {
      if (err instanceof ApiError && err.status === 401) return null;
      known = null;
      throw err;
    });
  }
  return known;
}

// setUser records who is signed in now (null: nobody), from a sign-in, a
// sign-up, a sign-out or a fresh GET /api/v1/me.
export function setUser(user) {
  known = Promise.resolve(user);
  for (const fn of watchers) fn(user);
}

export function onUserChange(fn) {
  watchers.add(fn);
}

// moderates reports whether user may edit and delete others' videos and
// see private ones.
export function moderates(user) {
  return user?.role === "moderator" || user?.role === "admin";
}

// here is the path a sign-in should come back to: this page, unless it
// is a sign-in page itself.
function here() {
  const p = location.pathname;
  return p === "/signin" || p === "/signup" ? "/" : p + location.search;
}

// setupAccountMenu draws the header's account area: Sign in and Sign up,
// or the signed-in user's menu. render redraws the page after a sign-out.
export function setupAccountMenu(render) {
  const slot = document.getElementById("account");
  let drawn = new AbortController();
  const draw = (user) => {
    drawn.abort();
    drawn = new AbortController();
    slot.replaceChildren(...(user ? userMenu(user, render, drawn.signal) : signedOut()));
  };
  onUserChange(draw);
  currentUser().then(draw, () => draw(null));
}

function signedOut() {
  // The link says where to come back to when it is followed, not when it
  // was drawn.
  const withNext = (a, path) => a.addEventListener("click", () => {
    a.href = `${path}?next=${encodeURIComponent(here())}`;
  });
  const signIn = h("a", { class: "button", href: "/signin", id: "header-signin" }, "Sign in");
  const signUp = h("a", { class: "button sign-up", href: "/signup", id: "header-signup" }, "Sign up");
  withNext(signIn, "/signin");
  withNext(signUp, "/signup");
  return [signIn, signUp];
}

function userMenu(user, render, signal) {
  const button = h("button", {
    type: "button", class: "account-button", id: "account-button",
    "aria-expanded": "false", "aria-controls": "account-menu", "aria-label": `Account menu: ${user.username}`,
  }, h("span", { class: "avatar", "aria-hidden": "true" }, user.username.charAt(0).toUpperCase()),
  h("span", { class: "account-name", "aria-hidden": "true" }, user.username));
  const status = h("p", { class: "account-menu-status", role: "alert", hidden: true });
  const signOut = h("button", { type: "button", id: "sign-out" }, "Sign out");
  const item = (href, text) => h("li", {}, h("a", { href }, text));
  const menu = h("div", { class: "account-menu", id: "account-menu", hidden: true },
    h("p", { class: "account-menu-who" }, "Signed in as ", h("strong", {}, user.username)),
    h("ul", {},
      item("/@" + encodeURIComponent(user.username), "Your channel"),
      item("/my/videos", "My videos"),
      item("/account", "Account"),
      moderates(user) ? item("/moderation", "Moderation") : null,
      user.role === "admin" ? item("/admin/users", "Users") : null,
      user.role === "admin" ? item("/admin/audit", "Audit log") : null,
      h("li", {}, signOut)),
    status);
  const items = () => [...menu.querySelectorAll("a, button")];
  const open = (focusFirst) => {
    menu.hidden = false;
    button.setAttribute("aria-expanded", "true");
    if (focusFirst) items()[0].focus();
  };
  const close = (refocus) => {
    if (menu.hidden) return;
    menu.hidden = true;
    button.setAttribute("aria-expanded", "false");
    status.hidden = true;
    if (refocus) button.focus();
  };
  button.addEventListener("click", (e) => (menu.hidden ? open(e.detail === 0) : close(false)));
  button.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      open(true);
    }
  });
  menu.addEventListener("keydown", (e) => {
    const list = items();
    const i = list.indexOf(document.activeElement);
    if (e.key === "Escape") {
      e.preventDefault();
      close(true);
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const step = e.key === "ArrowDown" ? 1 : list.length - 1;
      list[(i + step) % list.length].focus();
    }
  });
  menu.addEventListener("click", (e) => {
    if (e.target.closest("a")) close(false);
  });
  // Clicking elsewhere, or tabbing out of it, closes the menu.
  document.addEventListener("click", (e) => {
    if (!button.contains(e.target) && !menu.contains(e.target)) close(false);
  }, { signal });
  menu.addEventListener("focusout", (e) => {
    if (e.relatedTarget && !menu.contains(e.relatedTarget) && e.relatedTarget !== button) close(false);
  });
  signOut.addEventListener("click", async () => {
    signOut.disabled = true;
    try {
      await api.signOut();
    } catch (err) {
      signOut.disabled = false;
      status.textContent = err.message;
      status.hidden = false;
      return;
    }
    setUser(null);
    document.getElementById("header-signin")?.focus();
    render();
  });
  return [button, menu];
}
