// Playlists in the UI: the API's playlist calls, "Save to playlist" on the
// watch page, the playlist beside the player that plays a playlist in
// order (/watch/{id}?list={playlist}), and the playlists of a channel.

import { request } from "./api.js";
import { h, announce, errorBox, isAbort, showMore } from "./dom.js";
import { modal } from "./dialog.js";
import { field, input } from "./forms.js";
import { privacies, privacyBadge, privacyChoice } from "./privacy.js";

const enc = encodeURIComponent;

// itemsPage is the most items the API gives in one page.
const itemsPage = 200;

const paged = (path, cursor, limit) => `${path}?limit=${limit}` + (cursor ? `&cursor=${enc(cursor)}` : "");

export const playlistApi = {
  create: (body, signal) => request("POST", "/playlists", { body, signal }),
  get: (id, signal) => request("GET", `/playlists/${enc(id)}`, { signal }),
  update: (id, body, signal) => request("PATCH", `/playlists/${enc(id)}`, { body, signal }),
  remove: (id, signal) => request("DELETE", `/playlists/${enc(id)}`, { signal }),
  items: (id, cursor, signal) => request("GET", paged(`/playlists/${enc(id)}/items`, cursor, itemsPage), { signal }),
  add: (id, videoId, signal) => request("POST", `/playlists/${enc(id)}/items`, { body: { video_id: videoId }, signal }),
  take: (id, videoId, signal) => request("DELETE", `/playlists/${enc(id)}/items/${enc(videoId)}`, { signal }),
  move: (id, videoId, position, signal) =>
    request("POST", `/playlists/${enc(id)}/items/${enc(videoId)}/move`, { body: { position }, signal }),
  mine: (cursor, signal) => request("GET", paged("/me/playlists", cursor, 100), { signal }),
  of: (username, cursor, signal) => request("GET", paged(`/users/${enc(username)}/playlists`, cursor, 24), { signal }),
};

// allItems reads a playlist's items whole, page after page (a playlist
// holds at most 5,000).
export async function allItems(id, signal) {
  const items = [];
  let cursor = "";
  do {
    const page = await playlistApi.items(id, cursor, signal);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

// countWords spells a playlist's size.
export function countWords(n) {
  return n === 1 ? "1 video" : `${n.toLocaleString()} videos`;
}

// watchLink is where a video of a playlist plays in order.
export function watchLink(videoId, listId) {
  return `/watch/${enc(videoId)}?list=${enc(listId)}`;
}

// saveButton opens the dialog that saves v to one of the viewer's
// playlists, or to a new one.
export function saveButton(v, signal) {
  const button = h("button", { type: "button", class: "button", id: "save-to-playlist" }, "Save");
  button.title = "Save to a playlist";
  button.addEventListener("click", () => saveDialog(v, signal).finally(() => button.focus()));
  return button;
}

// saveDialog lists the viewer's playlists, each with a button that adds v
// to it, under a form that makes a new one holding v.
async function saveDialog(v, signal) {
  const list = h("ul", { class: "save-list", id: "save-list", "aria-label": "Your playlists" },
    h("li", { class: "muted" }, "Loading your playlists…"));
  const said = h("p", { class: "muted", role: "status", id: "save-status" });
  const title = input("new-playlist-title", { maxlength: 150, autocomplete: "off" });
  const privacy = privacyChoice("new-playlist-privacy", "public");
  const loadLists = async () => {
    const rows = [];
    let cursor = "";
    do {
      const page = await playlistApi.mine(cursor, signal);
      rows.push(...page.playlists);
      cursor = page.next_cursor;
    } while (cursor);
    list.replaceChildren(...(rows.length ? rows.map((pl) => saveRow(pl, v, said, signal))
      : [h("li", { class: "muted" }, "You have no playlists yet.")]));
  };
  loadLists().catch((err) => {
    if (!isAbort(err)) list.replaceChildren(h("li", {}, errorBox("Couldn't load your playlists", err)));
  });
  const made = await modal({
    id: "save-dialog",
    title: "Save to a playlist",
    body: [list, said, h("h3", {}, "New playlist"), field(title, "Title"), privacy.el],
    submit: "Create and save",
    save: async () => {
      const pl = await playlistApi.create({ title: title.value, privacy: privacy.value() }, signal);
      await playlistApi.add(pl.id, v.id, signal);
      return pl;
    },
  });
  if (made) announce(`Saved to the new playlist ${made.title}.`);
}

// saveRow is one of the viewer's playlists in the save dialog.
function saveRow(pl, v, said, signal) {
  const add = h("button", { type: "button", class: "button", "aria-label": `Save to ${pl.title}` }, "Add");
  add.addEventListener("click", async () => {
    add.disabled = true;
    said.textContent = "Saving…";
    try {
      await playlistApi.add(pl.id, v.id, signal);
    } catch (err) {
      if (isAbort(err)) return;
      add.disabled = false;
      said.textContent = err.message;
      return;
    }
    add.textContent = "Saved";
    said.textContent = `Saved to ${pl.title}.`;
  });
  return h("li", {}, h("span", { class: "save-title" }, pl.title, privacyBadge(pl)), add);
}

// autoplayKey marks, for the next watch page, that it was reached by a
// playlist playing on and should start by itself.
const autoplayKey = "cloudflix.playlist.autoplay";

// playBeside shows playlist list beside the watch page's player (slot),
// the video videoId marked, and when a video ends goes on to the next one
// the viewer may see, which starts by itself. Everything ends with
// signal.
export async function playBeside({ list, videoId, slot, signal, navigate }) {
  const panel = h("aside", { class: "playlist-panel", id: "playlist-panel", "aria-label": "Playlist" },
    h("p", { class: "muted", role: "status" }, "Loading the playlist…"));
  const layout = h("div", { class: "watch-with-list" });
  slot.replaceWith(layout);
  layout.append(slot, panel);

  if (sessionStorage.getItem(autoplayKey) === videoId) {
    sessionStorage.removeItem(autoplayKey);
    // Media events do not bubble, but capture reaches the player's video
    // however often the player is made again.
    slot.addEventListener("loadedmetadata", (e) => {
      e.target.play?.().catch(() => {});
    }, { capture: true, once: true, signal });
  }

  let pl;
  let items;
  try {
    [pl, items] = await Promise.all([playlistApi.get(list, signal), allItems(list, signal)]);
  } catch (err) {
    if (isAbort(err)) throw err;
    panel.replaceChildren(errorBox("Couldn't load the playlist", err));
    return;
  }
  const playable = items.filter((it) => it.video);
  const at = playable.findIndex((it) => it.video_id === videoId);
  panel.setAttribute("aria-label", `Playlist: ${pl.title}`);
  panel.replaceChildren(
    h("header", {},
      h("h2", {}, h("a", { href: "/playlist/" + enc(pl.id) }, pl.title), privacyBadge(pl)),
      h("p", { class: "muted" },
        [pl.owner && "@" + pl.owner.username, at >= 0 ? `${at + 1} of ${playable.length}` : countWords(playable.length)]
          .filter(Boolean).join(" · "))),
    h("ol", { class: "playlist-queue" }, playable.map((it, i) => h("li", {
      class: i === at ? "current" : null,
    }, h("a", {
      href: watchLink(it.video_id, pl.id),
      "aria-current": i === at ? "true" : null,
      dataset: { video: it.video_id },
    }, h("span", { class: "queue-number", "aria-hidden": "true" }, i === at ? "▶" : String(i + 1)),
    h("span", { class: "queue-title", text: it.video.title }))))));
  panel.querySelector("li.current")?.scrollIntoView({ block: "nearest" });

  slot.addEventListener("ended", () => {
    const next = playable.slice(at + 1).find((it) => it.video.state === "ready");
    if (!next) {
      announce("That was the last video of the playlist.");
      return;
    }
    sessionStorage.setItem(autoplayKey, next.video_id);
    navigate(watchLink(next.video_id, pl.id));
  }, { capture: true, signal });
}

// channelPlaylists draws a channel's playlists in main: the public ones,
// or all of them for its user and moderators.
export async function channelPlaylists(main, username, { own, signal }) {
  const list = h("ul", { class: "playlist-cards", id: "channel-playlists" });
  const more = h("div", { class: "more" });
  const section = h("section", { class: "channel-playlists", "aria-labelledby": "channel-playlists-title" },
    h("h2", { id: "channel-playlists-title" }, "Playlists"), list, more);
  let page;
  try {
    page = await playlistApi.of(username, "", signal);
  } catch (err) {
    if (isAbort(err)) throw err;
    main.append(errorBox("Couldn't load the playlists", err));
    return;
  }
  if (!page.playlists.length) {
    if (own) {
      list.append(h("li", { class: "muted" }, "No playlists yet: save a video to one from its page."));
      main.append(section);
    }
    return;
  }
  const addPage = (p) => {
    list.append(...p.playlists.map(playlistCard));
    return p.next_cursor;
  };
  showMore(more, list, addPage(page), async (cursor) => addPage(await playlistApi.of(username, cursor, signal)));
  main.append(section);
}

function playlistCard(pl) {
  return h("li", { class: "playlist-card" },
    h("a", { href: "/playlist/" + enc(pl.id) },
      h("span", { class: "playlist-card-title", text: pl.title }),
      h("span", { class: "muted" }, privacyBadge(pl), countWords(pl.item_count))));
}

// privacyLabel is a privacy in words.
export function privacyLabel(p) {
  return privacies.find((x) => x.value === p)?.label || p;
}
