// The watch page: /watch/{id}. A ready video plays; one still encoding
// shows its progress and turns into the player as soon as its start can be
// watched (playable.js), going on into the finished video without a
// reload; a failed one says why. Its owner (and moderators) may change
// who can watch it, edit it and delete it from here.

import { api, ApiError } from "../api.js";
import { h, icon, views, date, errorBox, sleep, isAbort, announce } from "../dom.js";
import { createPlayer } from "../player.js";
import { copyField } from "../copy.js";
import { privacies, privacyBadge } from "../privacy.js";
import { currentUser, moderates } from "../session.js";
import { watchWhileEncoding } from "../playable.js";
import { hiddenNotice, moderationTools, reportButton } from "../report.js";
import { commentsSection } from "../comments.js";
import { saveButton, playBeside } from "../playlists.js";

const pollMs = 1500;

export default async function watchPage({ main, url, params, signal, setTitle, navigate }) {
  const id = params.id;
  setTitle("Watch");
  const slot = h("div", { class: "watch" }, h("p", { class: "loading", role: "status" }, "Loading…"));
  main.append(slot);
  // ?list= plays a playlist in order, shown beside the player.
  const list = url.searchParams.get("list");
  if (list) playBeside({ list, videoId: id, slot, signal, navigate }).catch(() => {});
  const who = currentUser().catch(() => null);

  let v;
  try {
    v = await api.video(id, signal);
  } catch (err) {
    if (isAbort(err)) throw err;
    setTitle("Video not available");
    slot.replaceChildren(err instanceof ApiError && err.status === 404
      ? notFound(await who)
      : errorBox("Couldn't load this video", err));
    return;
  }
  setTitle(v.title);
  const user = await who;
  const page = { slot, signal, navigate, user, player: null, playing: null, about: null, comments: null };

  if (v.state !== "ready") {
    const status = h("div", { class: "processing", role: "status" });
    page.about = info(v, page);
    slot.replaceChildren(status, page.about);
    v = await waitReady(v, status, signal);
    if (!v) return;
    if (v.state !== "ready") {
      announce("The video can be watched while it is being processed.");
      await watchWhileEncoding(page, v, { play, info, pollMs });
      return;
    }
    announce("The video is ready to play.");
  }
  play(page, v);
}

function notFound(user) {
  return h("div", { class: "notice" },
    h("h1", { text: "This video doesn't exist" }),
    h("p", {}, "It may have been deleted, or the link is wrong. ", h("a", { href: "/" }, "See the latest videos"), "."),
    user ? null : h("p", {}, "If it is a private video of yours, ",
      h("a", { href: "/signin?next=" + encodeURIComponent(location.pathname) }, "sign in"), " to watch it."));
}

// play shows the player of v, from startAt seconds, and what is said about
// it. A player of its own ends with the page, or when v's media links
// change.
function play(page, v, startAt = 0) {
  page.playing?.abort();
  const playing = new AbortController();
  page.playing = playing;
  page.signal.addEventListener("abort", () => playing.abort(), { once: true });
  page.about = info(v, page);
  page.comments = commentsSection(v, page);
  page.slot.replaceChildren(
    createPlayer(v, {
      signal: playing.signal,
      startAt,
      // One view per page view, once playback has really started.
      onFirstPlay: () => api.recordView(v.id).catch(() => {}),
    }),
    page.about, page.comments.el);
}

// changed shows v as it is after an edit: a new privacy, or hiding and
// restoring, means new media links, so the player starts again with them.
function changed(page, before, v) {
  if ((v.privacy !== before.privacy || v.hidden !== before.hidden) && v.state === "ready") {
    play(page, v);
  } else {
    const about = info(v, page);
    page.about.replaceWith(about);
    page.about = about;
    if (v.comments_off !== before.comments_off) page.comments?.refresh(v);
  }
}

// waitReady polls the video, showing its progress in status, until it is
// playable (returned: ready, or still processing with its start
// published) or failed (null, with the reason shown).
async function waitReady(v, status, signal) {
  const bar = h("progress", { max: 1, value: 0, "aria-label": "Encoding progress" });
  const text = h("p");
  const heading = h("h1");
  status.replaceChildren(heading, bar, text);
  let misses = 0;
  for (;;) {
    if (v.playable) return v;
    switch (v.state) {
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

function info(v, page) {
  const share = location.origin + "/watch/" + encodeURIComponent(v.id);
  const stats = [views(v.views), date(v.created_at) && `Uploaded ${date(v.created_at)}`].filter(Boolean).join(" · ");
  const mine = page.user && (page.user.id === v.owner?.id || moderates(page.user));
  return h("section", { class: "video-info", "aria-label": "About this video" },
    h("h1", {}, v.title, privacyBadge(v)),
    v.owner
      ? h("p", { class: "owner" }, "by ",
        h("a", { href: "/@" + encodeURIComponent(v.owner.username), id: "video-owner" }, "@" + v.owner.username))
      : null,
    hiddenNotice(v),
    h("div", { class: "video-actions" },
      h("p", { class: "video-stats" }, stats),
      v.state === "ready" ? likeButton(v, page) : null,
      v.state === "ready" && page.user ? saveButton(v, page.signal) : null,
      v.state === "ready" ? reportButton(v, page) : null,
      moderationTools(v, page, (after) => changed(page, v, after))),
    mine ? ownerTools(v, page) : null,
    v.tags?.length
      ? h("ul", { class: "tags", "aria-label": "Tags" },
        v.tags.map((t) => h("li", {}, h("a", { href: "/search?q=" + encodeURIComponent(t) }, "#" + t))))
      : null,
    v.description ? h("p", { class: "description", text: v.description }) : null,
    h("div", { class: "share" }, copyField(share, { id: "share-link", label: "Share link", button: "Copy link" })));
}

// likeWords spells a count of likes.
function likeWords(n) {
  return n === 1 ? "1 like" : `${n.toLocaleString()} likes`;
}

// likeButton likes v, or takes the like back. The count comes with the
// video; whether the viewer likes it is asked once, for a signed-in
// viewer only. Someone signed out is sent to sign in first.
function likeButton(v, page) {
  const count = h("span", { class: "like-count", id: "like-count" }, likeWords(v.likes || 0));
  if (!page.user) {
    return h("a", {
      class: "button like", id: "like-button",
      href: "/signin?next=" + encodeURIComponent(location.pathname),
      title: "Sign in to like this video",
    }, icon("heart"), h("span", { class: "visually-hidden" }, "Like"), count);
  }
  const said = h("span", { class: "muted", role: "status" });
  const button = h("button", {
    type: "button", class: "button like", id: "like-button", "aria-pressed": "false", disabled: true,
  }, icon("heart"), h("span", { class: "visually-hidden" }, "Like"), count);
  const show = (likes) => {
    button.setAttribute("aria-pressed", String(likes.liked));
    button.title = likes.liked ? "You like this video; press to take it back" : "Like this video";
    count.textContent = likeWords(likes.likes);
    button.disabled = false;
  };
  api.likes(v.id, page.signal).then(show, (err) => {
    if (!isAbort(err)) said.textContent = err.message;
  });
  button.addEventListener("click", async () => {
    const liked = button.getAttribute("aria-pressed") === "true";
    button.disabled = true;
    said.textContent = "";
    try {
      const likes = await (liked ? api.unlike(v.id, page.signal) : api.like(v.id, page.signal));
      show(likes);
      announce(likes.liked ? "You like this video." : "Like taken back.");
    } catch (err) {
      if (isAbort(err)) return;
      button.disabled = false;
      said.textContent = err.message;
    }
  });
  return h("span", { class: "like-box" }, button, said);
}

// ownerTools change who can watch v, edit it and delete it.
function ownerTools(v, page) {
  const { signal } = page;
  const said = h("span", { class: "muted", role: "status" });
  const privacy = h("select", { id: "video-privacy" },
    privacies.map((p) => h("option", { value: p.value, selected: p.value === v.privacy }, p.label)));
  privacy.addEventListener("change", async () => {
    privacy.disabled = true;
    said.textContent = "Saving…";
    let after;
    try {
      after = await api.updateVideo(v.id, { privacy: privacy.value }, signal);
    } catch (err) {
      if (isAbort(err)) return;
      privacy.disabled = false;
      privacy.value = v.privacy;
      said.textContent = err.message;
      return;
    }
    changed(page, v, after);
    document.getElementById("video-privacy")?.focus();
    announce(`The video is now ${privacies.find((p) => p.value === after.privacy)?.label.toLowerCase()}.`);
  });
  const edit = h("button", { type: "button", class: "button", id: "video-edit" }, "Edit");
  edit.addEventListener("click", async () => {
    const { editVideo } = await import("../videoedit.js");
    const after = await editVideo(v, signal);
    if (after) {
      changed(page, v, after);
      announce("Saved.");
    }
  });
  const remove = h("button", { type: "button", class: "button danger-quiet", id: "video-delete" }, "Delete");
  remove.addEventListener("click", async () => {
    const { deleteVideo } = await import("../videoedit.js");
    if (!await deleteVideo(v, signal)) return;
    announce("The video was deleted.");
    page.navigate(page.user.id === v.owner?.id ? "/my/videos" : "/", { replace: true });
  });
  return h("div", { class: "owner-tools", role: "group", "aria-label": "Manage this video" },
    h("label", { for: "video-privacy" }, "Who can watch"), privacy, edit, remove, said);
}
