// The sessions the user is signed in with: where and when, this one
// marked; any other can be ended.

import { api } from "../../api.js";
import { h, age, date, errorBox, isAbort, announce } from "../../dom.js";
import { working } from "../../forms.js";

// sessionsSection returns the section and reload(), which lists the
// sessions again.
export function sessionsSection(signal) {
  const list = h("ul", { class: "rows", id: "sessions", "aria-labelledby": "sessions-title" });
  const message = h("div", { class: "form-message" });
  const reload = async () => {
    let resp;
    try {
      resp = await api.sessions(signal);
    } catch (err) {
      if (isAbort(err)) return;
      list.replaceChildren();
      message.replaceChildren(errorBox("Couldn't list your sessions", err));
      return;
    }
    message.replaceChildren();
    const sessions = [...resp.sessions].sort((a, b) => (b.current - a.current) || b.last_seen_at.localeCompare(a.last_seen_at));
    list.replaceChildren(...sessions.map((s) => row(s, signal, message)));
  };
  reload();
  return {
    el: h("section", { class: "panel", "aria-labelledby": "sessions-title" },
      h("h2", { id: "sessions-title" }, "Where you're signed in"),
      list, message),
    reload,
  };
}

function row(s, signal, message) {
  const li = h("li", { class: "row" + (s.current ? " current" : ""), dataset: { sessionId: s.id } },
    h("div", { class: "row-main" },
      h("strong", {}, device(s.user_agent)),
      s.current ? h("span", { class: "tag-current" }, "This device") : null,
      h("div", { class: "muted" }, [
        s.ip,
        `active ${age(s.last_seen_at)}`,
        `signed in ${date(s.created_at)}`,
      ].filter(Boolean).join(" · "))));
  if (!s.current) {
    const end = h("button", { type: "button", class: "button", "aria-label": `Sign out ${device(s.user_agent)}, active ${age(s.last_seen_at)}` }, "Sign out");
    end.addEventListener("click", async () => {
      try {
        await working(end, "Signing out…", () => api.revokeSession(s.id, signal));
      } catch (err) {
        if (!isAbort(err)) message.replaceChildren(errorBox("Couldn't end that session", err));
        return;
      }
      // The focus goes on to the list rather than into nothing.
      const after = li.nextElementSibling || li.previousElementSibling;
      li.remove();
      after?.querySelector("button")?.focus();
      announce("Session ended.");
    });
    li.append(end);
  }
  return li;
}

// device names a browser and system from a user agent: "Firefox on
// Linux"; the user agent itself when it says neither.
export function device(ua) {
  if (!ua) return "Unknown device";
  const browser = [["Edg/", "Edge"], ["OPR/", "Opera"], ["Firefox/", "Firefox"], ["Chrome/", "Chrome"], ["Chromium/", "Chromium"],
    ["Safari/", "Safari"]].find(([mark]) => ua.includes(mark))?.[1];
  const system = [["Android", "Android"], ["iPhone", "iPhone"], ["iPad", "iPad"], ["Windows", "Windows"], ["Mac OS", "macOS"],
    ["CrOS", "ChromeOS"], ["Linux", "Linux"]].find(([mark]) => ua.includes(mark))?.[1];
  if (browser && system) return `${browser} on ${system}`;
  return browser || system || (ua.length > 60 ? ua.slice(0, 57) + "…" : ua);
}
