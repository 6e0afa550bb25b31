// My videos: /my/videos. Every video of the signed-in user, in every
// state and privacy, newest first, a page at a time: where each one is
// (uploading, processing and how far, failed and why), and buttons to
// edit or delete it.

import { api } from "../api.js";
import { h, icon, duration, views, age, errorBox, isAbort, sleep, announce, showMore } from "../dom.js";
import { requireUser } from "../forms.js";
import { privacyBadge } from "../privacy.js";
import { editVideo, deleteVideo } from "../videoedit.js";

const pollMs = 2000;

export default async function myVideosPage({ main, signal, setTitle }) {
  setTitle("My videos");
  if (!await requireUser(main, "Sign in to see your videos",
    "My videos lists the videos you uploaded, private ones included, and lets you edit or delete them.")) return;
  main.append(h("div", { class: "page-head" },
    h("h1", { class: "page-title" }, "My videos"),
    h("a", { class: "button primary", href: "/upload" }, icon("upload"), "Upload")));
  const list = h("ul", { class: "rows video-rows", id: "my-videos", "aria-label": "My videos" });
  const more = h("div", { class: "more" });
  const note = h("p", { class: "loading", role: "status" }, "Loading your videos…");
  main.append(note, list, more);

  const load = async (cursor) => {
    const page = await api.myVideos(cursor, signal);
    for (const v of page.videos) list.append(row(v, signal));
    return page.next_cursor;
  };
  try {
    showMore(more, list, await load(""), load);
  } catch (err) {
    if (isAbort(err)) throw err;
    main.append(errorBox("Couldn't load your videos", err));
    return;
  } finally {
    note.remove();
  }
  if (!list.children.length) {
    list.replaceWith(h("div", { class: "empty" },
      h("p", {}, "You haven't uploaded any videos yet."),
      h("a", { class: "button primary", href: "/upload" }, icon("upload"), "Upload your first")));
  }
}

// row is one video: its thumbnail, title, state and the buttons to change
// it. A video on its way to ready is asked about again until it gets
// there.
function row(v, signal) {
  const li = h("li", { class: "row video-row", dataset: { videoId: v.id } });
  const draw = (v) => {
    const link = "/watch/" + encodeURIComponent(v.id);
    const edit = h("button", { type: "button", class: "button", "aria-label": `Edit “${v.title}”`, dataset: { action: "edit" } }, "Edit");
    const del = h("button", { type: "button", class: "button danger-quiet", "aria-label": `Delete “${v.title}”`, dataset: { action: "delete" } }, "Delete");
    edit.addEventListener("click", async () => {
      const after = await editVideo(v, signal);
      if (after) {
        draw(after);
        li.querySelector("[data-action=edit]").focus();
        announce("Saved.");
      }
    });
    del.addEventListener("click", async () => {
      if (!await deleteVideo(v, signal)) return;
      const after = li.nextElementSibling || li.previousElementSibling;
      li.remove();
      (after?.querySelector("a") || document.querySelector("main h1"))?.focus();
      announce(`“${v.title}” was deleted.`);
    });
    li.replaceChildren(
      h("a", { class: "row-thumb", href: link, tabindex: "-1", "aria-hidden": "true" },
        v.thumbnail_url ? h("img", { src: v.thumbnail_url, alt: "", loading: "lazy", width: 160, height: 90 }) : icon("film"),
        v.duration_seconds > 0 ? h("span", { class: "badge" }, duration(v.duration_seconds)) : null),
      h("div", { class: "row-main" },
        h("a", { class: "row-title", href: link, dataset: { action: "watch" } }, v.title),
        privacyBadge(v),
        stateLine(v)),
      h("div", { class: "row-actions" }, edit, del));
  };
  draw(v);
  // A redraw keeps the keyboard on the button it was on.
  follow(v, (now) => {
    const on = li.contains(document.activeElement) ? document.activeElement.dataset.action : null;
    draw(now);
    if (on) li.querySelector(`[data-action=${on}]`)?.focus();
  }, signal);
  return li;
}

function stateLine(v) {
  switch (v.state) {
    case "ready":
      if (v.hidden) {
        return h("div", { class: "state failed" }, "Hidden by a moderator: ", h("span", { class: "hidden-reason", text: v.hidden_reason }));
      }
      return h("div", { class: "muted" }, `${views(v.views)} · uploaded ${age(v.created_at)}`);
    case "failed":
      return h("div", { class: "state failed" }, "Failed: ", v.failure_reason || "the file could not be encoded.");
    case "uploading":
      return h("div", { class: "state" }, "Uploading: not all of the file has arrived yet.");
    case "uploaded":
      return h("div", { class: "state" }, "Waiting to be processed…");
    case "processing": {
      const pct = Math.round((v.progress || 0) * 100);
      return h("div", { class: "state" },
        h("span", {}, `Processing: ${pct}%`),
        h("progress", { max: 1, value: v.progress || 0, "aria-label": `Processing ${v.title}` }));
    }
    default:
      return h("div", { class: "state" }, v.state);
  }
}

// follow asks about v until it is ready or failed, redrawing it each
// time it changes. An upload left unfinished stays as it is: only its
// uploader's page moves it on.
async function follow(v, draw, signal) {
  while (v.state === "uploaded" || v.state === "processing") {
    try {
      await sleep(pollMs, signal);
      const now = await api.video(v.id, signal);
      if (now.state !== v.state || now.progress !== v.progress) draw(now);
      v = now;
    } catch (err) {
      if (isAbort(err)) return;
      // Gone or unreachable: the row stays as it was last seen.
      return;
    }
  }
}
