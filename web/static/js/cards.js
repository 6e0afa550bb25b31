// Video cards: the grid item of the home and search pages. A card is drawn
// from the list's own JSON (no request per card); hovering it plays a
// preview from the video's storyboard, fetched on the first hover.

import { h, duration, views, age, errorBox, isAbort, showMore } from "./dom.js";
import { privacyBadge } from "./privacy.js";
import * as storyboard from "./storyboard.js";

// previewStep is how long each storyboard frame shows in a hover preview.
const previewStep = 450;

export function card(v) {
  const preview = h("div", { class: "card-preview", "aria-hidden": "true" });
  const thumb = h("div", { class: "card-thumb" },
    v.thumbnail_url
      ? h("img", { src: v.thumbnail_url, alt: "", loading: "lazy", decoding: "async", width: 320, height: 180 })
      : null,
    preview,
    v.duration_seconds > 0
      ? h("span", { class: "badge", "aria-label": "Duration " + duration(v.duration_seconds) }, duration(v.duration_seconds))
      : null);
  const link = h("a", { href: "/watch/" + encodeURIComponent(v.id) },
    thumb,
    h("div", { class: "card-body" },
      h("h3", { class: "card-title", text: v.title }),
      h("div", { class: "card-meta" }, privacyBadge(v),
        [v.owner && "@" + v.owner.username, views(v.views), age(v.created_at)].filter(Boolean).join(" · "))));
  if (v.storyboard_url) hoverPreview(link, preview, thumb, v.storyboard_url);
  return h("li", { class: "card" }, link);
}

function hoverPreview(target, preview, thumb, url) {
  let timer = 0;
  let active = false;
  const start = async () => {
    active = true;
    let frames;
    try {
      frames = await storyboard.load(url);
    } catch {
      return; // No preview; the thumbnail stays.
    }
    if (!active || !frames.length) return;
    let i = 0;
    const show = () => {
      storyboard.paint(preview, frames[i], thumb.clientWidth, thumb.clientHeight);
      preview.classList.add("on");
      i = (i + 1) % frames.length;
    };
    show();
    clearInterval(timer);
    timer = setInterval(show, previewStep);
  };
  const stop = () => {
    active = false;
    clearInterval(timer);
    preview.classList.remove("on");
  };
  target.addEventListener("pointerenter", start);
  target.addEventListener("pointerleave", stop);
  target.addEventListener("focus", start);
  target.addEventListener("blur", stop);
}

// grid draws a list of cards, with a "more" button when the list has a
// next page; loadMore(cursor) returns the next {items, next} page.
function grid(items, next, loadMore, label) {
  const list = h("ul", { class: "grid", "aria-label": label }, items.map(card));
  const more = h("div", { class: "more" });
  showMore(more, list, next, async (cursor) => {
    const page = await loadMore(cursor);
    for (const v of page.items) list.append(card(v));
    return page.next;
  });
  return h("div", {}, list, more);
}

// videoList draws a list of videos in main, a page at a time: a loading
// note, then the cards, or what is empty() when there are none, or the
// failure in words. load(cursor) returns a page, {items, next}; the first
// page's cursor is "".
export async function videoList(main, { label, loading, failure, empty, load }) {
  const note = h("p", { class: "loading", role: "status" }, loading);
  main.append(note);
  let page;
  try {
    page = await load("");
  } catch (err) {
    if (isAbort(err)) throw err;
    main.append(errorBox(failure, err));
    return;
  } finally {
    note.remove();
  }
  main.append(page.items.length ? grid(page.items, page.next, load, label) : empty());
}
