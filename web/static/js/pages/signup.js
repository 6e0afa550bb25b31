// The sign-up page: /signup?next=/path&invite=code. The site decides who
// may make an account (GET /api/v1/auth/options): anyone, those with an
// invitation code, or nobody (admins make the accounts).

import { api } from "../api.js";
import { h, errorBox, isAbort } from "../dom.js";
import { field, input, working, say } from "../forms.js";
import { setUser } from "../session.js";
import { providerLink, nextPath } from "./signin/common.js";

export default async function signUpPage({ main, url, signal, navigate, setTitle }) {
  setTitle("Create an account");
  const next = nextPath(url);
  const signInHref = "/signin" + (next !== "/" ? `?next=${encodeURIComponent(next)}` : "");
  const box = h("div", { class: "narrow" }, h("h1", { class: "page-title" }, "Create an account"));
  main.append(box);
  const loading = h("p", { class: "loading", role: "status" }, "Loading…");
  box.append(loading);
  let options;
  try {
    options = await api.signInOptions(signal);
  } catch (err) {
    if (isAbort(err)) throw err;
    box.append(errorBox("Couldn't load the sign-up form", err));
    return;
  } finally {
    loading.remove();
  }
  const alternatives = h("div", { class: "alternatives" },
    options.oidc_provider ? providerLink(options.oidc_provider) : null);
  if (options.sign_up === "closed") {
    box.append(h("div", { class: "notice", id: "signup-closed" },
      h("p", {}, "Sign-up is closed on this site: an administrator makes the accounts. Ask one for an account."),
      h("p", {}, "Already have one? ", h("a", { href: signInHref }, "Sign in"), ".")),
    alternatives);
    return;
  }

  const username = input("signup-username", {
    autocomplete: "username", required: true, minlength: 3, maxlength: 30, autocapitalize: "none", spellcheck: "false",
  });
  const email = input("signup-email", { type: "email", autocomplete: "email", required: true });
  const password = input("signup-password", { type: "password", autocomplete: "new-password", required: true, minlength: 8 });
  const invite = options.sign_up === "invite"
    ? input("signup-invite", { required: true, autocomplete: "off", spellcheck: "false", value: url.searchParams.get("invite") || "" })
    : null;
  const submit = h("button", { type: "submit", class: "button primary", id: "signup-submit" }, "Create account");
  const message = h("div", { class: "form-message" });
  const form = h("form", { class: "account-form" },
    field(username, "Username", "3 to 30 letters a–z, digits, dots, dashes and underscores. It is your channel's address."),
    field(email, "E-mail"),
    field(password, "Password", "At least 8 characters."),
    invite ? field(invite, "Invitation code", "Sign-up here is by invitation: paste the code you were given.") : null,
    h("div", { class: "actions" }, submit),
    message);
  box.append(form, alternatives,
    h("p", { class: "muted" }, "Already have an account? ", h("a", { href: signInHref }, "Sign in"), "."));

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    say(message, null);
    let user;
    try {
      user = await working(submit, "Creating your account…", () => api.signUp({
        username: username.value.trim(),
        email: email.value.trim(),
        password: password.value,
        ...(invite ? { invite: invite.value.trim() } : {}),
      }, signal));
    } catch (err) {
      if (isAbort(err)) return;
      say(message, errorBox("Couldn't create the account", err));
      return;
    }
    setUser(user);
    navigate(next, { replace: true });
  });
}
