// A channel: /@username. The user's profile, their videos (the ready
// public ones, or all of them for the user and moderators) and their
// playlists (the public ones, or all of them for the user and moderators).

import { api, ApiError } from "../api.js";
import { h, date, errorBox, isAbort } from "../dom.js";
import { videoList } from "../cards.js";
import { currentUser, moderates } from "../session.js";
import { channelPlaylists } from "../playlists.js";

const roles = { moderator: "Moderator", admin: "Administrator" };

export default async function channelPage({ main, params, signal, setTitle }) {
  const name = params.username;
  setTitle("@" + name);
  let user;
  try {
    user = await api.user(name, signal);
  } catch (err) {
    if (isAbort(err)) throw err;
    main.append(err instanceof ApiError && err.status === 404
      ? h("div", { class: "notice" },
        h("h1", {}, "This channel doesn't exist"),
        h("p", {}, `Nobody here is called @${name}. `, h("a", { href: "/" }, "See the latest videos"), "."))
      : errorBox("Couldn't load this channel", err));
    return;
  }
  const me = await currentUser().catch(() => null);
  const own = me?.id === user.id;
  main.append(h("header", { class: "channel-head" },
    h("span", { class: "avatar big", "aria-hidden": "true" }, user.username.charAt(0).toUpperCase()),
    h("div", {},
      h("h1", {}, "@" + user.username),
      h("p", { class: "muted" },
        [roles[user.role], `Joined ${date(user.created_at)}`, user.disabled ? "Disabled" : ""].filter(Boolean).join(" · "))),
    own ? h("a", { class: "button", href: "/my/videos" }, "Manage your videos") : null));
  await videoList(main, {
    label: `Videos of @${user.username}`,
    loading: "Loading videos…",
    failure: "Couldn't load the videos",
    empty: () => h("div", { class: "empty" },
      h("p", {}, own || moderates(me) ? "No videos yet." : `@${user.username} has no public videos yet.`)),
    load: async (cursor) => {
      const page = await api.userVideos(user.username, cursor, signal);
      return { items: page.videos, next: page.next_cursor };
    },
  });
  await channelPlaylists(main, user.username, { own, signal });
}
