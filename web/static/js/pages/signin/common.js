// What the sign-in and sign-up pages share.

import { h } from "../../dom.js";

// nextPath is where to go once signed in: the page's ?next=, when it is a
// path of this site, else home.
export function nextPath(url) {
  const next = url.searchParams.get("next") || "";
  return /^\/(?![/\\])/.test(next) ? next : "/";
}

// providerLink leaves for the OpenID provider's sign-in, which comes back
// signed in (or to /signin?error=...).
export function providerLink(provider) {
  return h("div", { class: "provider" },
    h("p", { class: "muted or" }, "or"),
    h("a", { class: "button", href: "/auth/oidc/login", id: "signin-provider" }, `Sign in with ${provider}`));
}
