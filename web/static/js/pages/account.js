// The account page: /account. The signed-in user's profile and quotas,
// their password, the sessions they are signed in with, their API tokens
// and their webhooks. Each part is a section of its own, in account/.

import { api, ApiError } from "../api.js";
import { h, errorBox, isAbort } from "../dom.js";
import { requireUser } from "../forms.js";
import { setUser } from "../session.js";
import { profileSection } from "./account/profile.js";
import { passwordSection } from "./account/password.js";
import { sessionsSection } from "./account/sessions.js";
import { tokensSection } from "./account/tokens.js";
import { webhooksSection } from "../webhooks.js";

const signInFirst = ["Sign in to see your account",
  "Your account page shows your profile, quotas, sessions and API tokens."];

export default async function accountPage({ main, signal, setTitle }) {
  setTitle("Account");
  if (!await requireUser(main, ...signInFirst)) return;
  // Asked again rather than remembered: the quotas change with each upload.
  let user;
  try {
    user = await api.me(signal);
  } catch (err) {
    if (isAbort(err)) throw err;
    if (err instanceof ApiError && err.status === 401) {
      setUser(null);
      await requireUser(main, ...signInFirst);
      return;
    }
    main.append(errorBox("Couldn't load your account", err));
    return;
  }
  const sessions = sessionsSection(signal);
  main.append(h("div", { class: "account-page" },
    h("h1", { class: "page-title" }, "Your account"),
    profileSection(user),
    passwordSection(signal, () => sessions.reload()),
    sessions.el,
    tokensSection(user, signal),
    webhooksSection(user, signal)));
}
