// The watch page: /watch/{id}. A ready video plays; one still encoding
// shows its progress and turns into the player when it is ready, without a
// reload; a failed one says why.

import { api, ApiError } from "../api.js";
import { h, views, date, errorBox, sleep, isAbort, announce } from "../dom.js";
import { createPlayer } from "../player.js";

const pollMs = 1500;

export default async function watchPage({ main, params, signal, setTitle }) {
  const id = params.id;
  setTitle("Watch");
  const slot = h("div", { class: "watch" }, h("p", { class: "loading", role: "status" }, "Loading…"));
  main.append(slot);

  let v;
  try {
    v = await api.video(id, signal);
  } catch (err) {
    if (isAbort(err)) throw err;
    setTitle("Video not available");
    slot.replaceChildren(err instanceof ApiError && err.status === 404
      ? h("div", { class: "notice" },
        h("h1", { text: "This video doesn't exist" }),
        h("p", {}, "It may have been deleted, or the link is wrong. ", h("a", { href: "/" }, "See the latest videos"), "."))
      : errorBox("Couldn't load this video", err));
    return;
  }
  setTitle(v.title);

  if (v.state !== "ready") {
    const status = h("div", { class: "processing", role: "status" });
    slot.replaceChildren(status, info(v));
    v = await waitReady(v, status, signal);
    if (!v) return;
    slot.replaceChildren();
    announce("The video is ready to play.");
  }
  slot.replaceChildren(
    createPlayer(v, {
      signal,
      // One view per page view, once playback has really started.
      onFirstPlay: () => api.recordView(v.id).catch(() => {}),
    }),
    info(v));
}

// waitReady polls the video, showing its progress in status, until it is
// ready (returned) or failed (null, with the reason shown).
async function waitReady(v, status, signal) {
  const bar = h("progress", { max: 1, value: 0, "aria-label": "Encoding progress" });
  const text = h("p");
  const heading = h("h1");
  status.replaceChildren(heading, bar, text);
  let misses = 0;
  for (;;) {
    switch (v.state) {
      case "ready":
        return v;
      case "failed":
        status.className = "notice error";
        status.setAttribute("role", "alert");
        status.replaceChildren(h("h1", { text: "This video could not be processed" }),
          h("p", { text: v.failure_reason || "The file could not be encoded." }));
        return null;
      case "deleted":
        status.className = "notice";
        status.replaceChildren(h("h1", { text: "This video was deleted" }));
        return null;
      case "uploading":
        heading.textContent = "Still uploading";
        text.textContent = "The video will be processed once its upload is finished.";
        bar.removeAttribute("value");
        break;
      case "uploaded":
        heading.textContent = "Waiting to be processed";
        text.textContent = "It will be ready to watch in a moment.";
        bar.removeAttribute("value");
        break;
      default: {
        const pct = Math.round((v.progress || 0) * 100);
        heading.textContent = "Processing";
        text.textContent = `${pct}% encoded. This page turns into the player when the video is ready.`;
        bar.value = v.progress || 0;
      }
    }
    await sleep(pollMs, signal);
    try {
      v = await api.video(v.id, signal);
      misses = 0;
    } catch (err) {
      if (isAbort(err)) throw err;
      // Keep polling through a short outage, and say so.
      text.textContent = `${err.message} Retrying…`;
      if (++misses > 40) throw err;
    }
  }
}

function info(v) {
  const share = location.origin + "/watch/" + encodeURIComponent(v.id);
  const shareInput = h("input", { type: "text", readonly: true, value: share, "aria-label": "Share link", id: "share-link" });
  const copied = h("span", { class: "muted", role: "status" });
  const copy = h("button", { type: "button", class: "button" }, "Copy link");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(share);
    } catch {
      // No clipboard permission (or no secure context): select the text
      // so that the keyboard's copy does it.
      shareInput.focus();
      shareInput.select();
      copied.textContent = "Press Ctrl+C (⌘C) to copy.";
      return;
    }
    copied.textContent = "Link copied.";
  });
  shareInput.addEventListener("focus", () => shareInput.select());
  const stats = [views(v.views), date(v.created_at) && `Uploaded ${date(v.created_at)}`].filter(Boolean).join(" · ");
  return h("section", { class: "video-info", "aria-label": "About this video" },
    h("h1", { text: v.title }),
    h("p", { class: "video-stats" }, stats),
    v.tags?.length
      ? h("ul", { class: "tags", "aria-label": "Tags" },
        v.tags.map((t) => h("li", {}, h("a", { href: "/search?q=" + encodeURIComponent(t) }, "#" + t))))
      : null,
    v.description ? h("p", { class: "description", text: v.description }) : null,
    h("div", { class: "share" }, shareInput, copy, copied));
}
