// The sign-in page: /signin?next=/path. A username (or e-mail) and
// password, or the OpenID provider when the site has one; then back to
// where the person was. /signin?error=... says why a sign-in at the
// provider did not work.

import { api } from "../api.js";
import { h, errorBox, isAbort } from "../dom.js";
import { field, input, working, say } from "../forms.js";
import { setUser } from "../session.js";
import { providerLink, nextPath } from "./signin/common.js";

export default async function signInPage({ main, url, signal, navigate, setTitle }) {
  setTitle("Sign in");
  const next = nextPath(url);
  const message = h("div", { class: "form-message" });
  const login = input("signin-login", { autocomplete: "username", required: true, autocapitalize: "none", spellcheck: "false" });
  const password = input("signin-password", { type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "button primary", id: "signin-submit" }, "Sign in");
  const form = h("form", { class: "account-form" },
    field(login, "Username or e-mail"),
    field(password, "Password"),
    h("div", { class: "actions" }, submit),
    message);
  const alternatives = h("div", { class: "alternatives" });
  main.append(h("div", { class: "narrow" },
    h("h1", { class: "page-title" }, "Sign in to CloudFlix"),
    url.searchParams.get("error") ? errorBox("Signing in didn't work", url.searchParams.get("error")) : null,
    form,
    alternatives,
    h("p", { class: "muted" }, "New here? ",
      h("a", { href: "/signup" + (next !== "/" ? `?next=${encodeURIComponent(next)}` : "") }, "Create an account"), ".")));

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    say(message, null);
    let user;
    try {
      user = await working(submit, "Signing in…", () =>
        api.signIn({ login: login.value.trim(), password: password.value }, signal));
    } catch (err) {
      if (isAbort(err)) return;
      say(message, errorBox("Couldn't sign in", err));
      if (err.status === 429 && err.retryAfter > 0) holdOff(submit, err.retryAfter, signal);
      (err.status === 401 ? password : login).focus();
      return;
    }
    setUser(user);
    navigate(next, { replace: true });
  });

  try {
    const options = await api.signInOptions(signal);
    if (options.oidc_provider) alternatives.append(providerLink(options.oidc_provider));
  } catch (err) {
    // The password form works without them.
    if (isAbort(err)) throw err;
  }
}

// holdOff keeps button disabled for the seconds the server asked to wait.
function holdOff(button, seconds, signal) {
  button.disabled = true;
  const t = setTimeout(() => { button.disabled = false; }, seconds * 1000);
  signal.addEventListener("abort", () => clearTimeout(t), { once: true });
}
