// A playlist: /playlist/{id}. Its videos in order, to play from the start
// or from any of them; its owner moves them up and down and takes them
// out, and the owner and moderators rename it, change who can see it and
// delete it.

import { ApiError } from "../api.js";
import { h, duration, announce, errorBox, isAbort } from "../dom.js";
import { modal } from "../dialog.js";
import { field, input } from "../forms.js";
import { privacies, privacyBadge } from "../privacy.js";
import { currentUser, moderates } from "../session.js";
import { playlistApi, allItems, countWords, watchLink } from "../playlists.js";

export default async function playlistPage({ main, params, signal, setTitle, navigate }) {
  setTitle("Playlist");
  let pl;
  let items;
  const who = currentUser().catch(() => null);
  try {
    [pl, items] = await Promise.all([playlistApi.get(params.id, signal), allItems(params.id, signal)]);
  } catch (err) {
    if (isAbort(err)) throw err;
    setTitle("Playlist not available");
    main.append(err instanceof ApiError && err.status === 404
      ? h("div", { class: "notice" },
        h("h1", {}, "This playlist doesn't exist"),
        h("p", {}, "It may have been deleted, or it is private. ", h("a", { href: "/" }, "See the latest videos"), "."))
      : errorBox("Couldn't load this playlist", err));
    return;
  }
  const user = await who;
  const page = {
    pl, items, signal, navigate, setTitle,
    arranges: user?.id === pl.owner.id,
    edits: user?.id === pl.owner.id || moderates(user),
    head: null, list: h("ol", { class: "playlist-items", id: "playlist-items", "aria-label": "Videos" }),
  };
  page.head = header(page);
  main.append(h("div", { class: "playlist-page" }, page.head, page.list));
  drawItems(page);
}

function header(page) {
  const { pl } = page;
  page.setTitle(pl.title);
  const first = page.items.find((it) => it.video?.state === "ready");
  return h("header", { class: "playlist-head" },
    h("h1", { id: "playlist-title" }, pl.title, privacyBadge(pl)),
    h("p", { class: "muted" },
      h("a", { href: "/@" + encodeURIComponent(pl.owner.username) }, "@" + pl.owner.username),
      " · ", h("span", { id: "playlist-count" }, countWords(pl.item_count))),
    pl.description ? h("p", { class: "description", text: pl.description }) : null,
    h("div", { class: "actions" },
      first ? h("a", { class: "button primary", id: "playlist-play", href: watchLink(first.video_id, pl.id) }, "Play all") : null,
      page.edits ? editTools(page) : null));
}

function redrawHeader(page) {
  const head = header(page);
  page.head.replaceWith(head);
  page.head = head;
}

// drawItems lists the items; the owner gets buttons to move each up or
// down and to take it out.
function drawItems(page) {
  const { items, list } = page;
  if (!items.length) {
    list.replaceChildren(h("li", { class: "empty" },
      page.arranges ? "No videos yet: save one from its page." : "No videos here yet."));
    return;
  }
  list.replaceChildren(...items.map((it, i) => {
    const v = it.video;
    const title = v ? v.title : "A video you can no longer see";
    return h("li", { class: "playlist-item", dataset: { video: it.video_id } },
      h("span", { class: "queue-number" }, String(i + 1)),
      v?.thumbnail_url ? h("img", { src: v.thumbnail_url, alt: "", width: 120, height: 68, loading: "lazy" }) : h("span", { class: "thumb-none" }),
      h("div", { class: "playlist-item-body" },
        v ? h("a", { href: watchLink(it.video_id, page.pl.id), class: "playlist-item-title", text: title })
          : h("span", { class: "muted", text: title }),
        v?.duration_seconds > 0 ? h("span", { class: "muted" }, duration(v.duration_seconds)) : null),
      page.arranges ? arrangeTools(page, it, i, title) : null);
  }));
}

function arrangeTools(page, it, i, title) {
  const last = page.items.length - 1;
  const up = h("button", { type: "button", class: "icon-text", "aria-label": `Move ${title} up`, disabled: i === 0, dataset: { act: "up" } }, "↑");
  const down = h("button", { type: "button", class: "icon-text", "aria-label": `Move ${title} down`, disabled: i === last, dataset: { act: "down" } }, "↓");
  const remove = h("button", { type: "button", class: "button danger-quiet", "aria-label": `Remove ${title}`, dataset: { act: "remove" } }, "Remove");
  up.addEventListener("click", () => move(page, it, i - 1, "up"));
  down.addEventListener("click", () => move(page, it, i + 1, "down"));
  remove.addEventListener("click", () => takeOut(page, it, title));
  return h("div", { class: "arrange", role: "group", "aria-label": `Arrange ${title}` }, up, down, remove);
}

// move sends it to position to and redraws the list as the server now
// orders it, keeping the keyboard on the same button of the moved video.
async function move(page, it, to, act) {
  try {
    await playlistApi.move(page.pl.id, it.video_id, to, page.signal);
    page.items = await allItems(page.pl.id, page.signal);
  } catch (err) {
    if (!isAbort(err)) announceError(page, err);
    return;
  }
  drawItems(page);
  const row = page.list.querySelector(`li[data-video="${CSS.escape(it.video_id)}"]`);
  const button = row?.querySelector(`button[data-act="${act}"]`);
  (button && !button.disabled ? button : row?.querySelector("button:not([disabled])"))?.focus();
  announce(`Moved to position ${to + 1}.`);
}

async function takeOut(page, it, title) {
  const at = page.items.indexOf(it);
  try {
    await playlistApi.take(page.pl.id, it.video_id, page.signal);
    [page.pl, page.items] = await Promise.all([playlistApi.get(page.pl.id, page.signal), allItems(page.pl.id, page.signal)]);
  } catch (err) {
    if (!isAbort(err)) announceError(page, err);
    return;
  }
  redrawHeader(page);
  drawItems(page);
  const rows = page.list.querySelectorAll("li.playlist-item");
  (rows[Math.min(at, rows.length - 1)]?.querySelector("a, button") || page.head.querySelector("h1"))?.focus();
  announce(`${title} was removed from the playlist.`);
}

function announceError(page, err) {
  const box = errorBox("Couldn't change the playlist", err);
  page.list.before(box);
  setTimeout(() => box.remove(), 8000);
}

// editTools rename the playlist, change who can see it and delete it.
function editTools(page) {
  const { pl, signal } = page;
  const privacy = h("select", { id: "playlist-privacy", "aria-label": "Who can see this playlist" },
    privacies.map((p) => h("option", { value: p.value, selected: p.value === pl.privacy }, p.label)));
  privacy.addEventListener("change", async () => {
    privacy.disabled = true;
    try {
      page.pl = await playlistApi.update(pl.id, { privacy: privacy.value }, signal);
    } catch (err) {
      if (isAbort(err)) return;
      privacy.disabled = false;
      privacy.value = pl.privacy;
      announceError(page, err);
      return;
    }
    redrawHeader(page);
    document.getElementById("playlist-privacy")?.focus();
    announce("Saved.");
  });
  const edit = h("button", { type: "button", class: "button", id: "playlist-edit" }, "Edit");
  edit.addEventListener("click", async () => {
    const title = input("playlist-edit-title", { value: pl.title, maxlength: 150, required: true });
    const description = h("textarea", { id: "playlist-edit-description", rows: 4, maxlength: 5000 });
    description.value = pl.description;
    const after = await modal({
      id: "playlist-edit-dialog", title: "Edit playlist", submit: "Save",
      body: [field(title, "Title"), field(description, "Description")],
      save: () => playlistApi.update(pl.id, { title: title.value, description: description.value }, signal),
    });
    if (!after) return edit.focus();
    page.pl = after;
    redrawHeader(page);
    document.getElementById("playlist-edit")?.focus();
    announce("Saved.");
  });
  const remove = h("button", { type: "button", class: "button danger-quiet", id: "playlist-delete" }, "Delete");
  remove.addEventListener("click", async () => {
    const done = await modal({
      id: "playlist-delete-dialog", title: "Delete this playlist?", submit: "Delete", danger: true,
      body: [h("p", {}, `“${pl.title}” will be deleted. Its videos stay.`)],
      save: () => playlistApi.remove(pl.id, signal),
    });
    if (!done) return remove.focus();
    announce("The playlist was deleted.");
    page.navigate("/@" + encodeURIComponent(pl.owner.username), { replace: true });
  });
  return h("span", { class: "owner-tools", role: "group", "aria-label": "Manage this playlist" }, privacy, edit, remove);
}
