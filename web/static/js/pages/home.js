// The home page: the latest ready videos, newest first, one request per
// page of cards.

import { api } from "../api.js";
import { h, icon, errorBox } from "../dom.js";
import { grid } from "../cards.js";

export default async function homePage({ main, signal, setTitle }) {
  setTitle("");
  const heading = h("h1", { class: "page-title" }, "Latest videos");
  const loading = h("p", { class: "loading", role: "status" }, "Loading videos…");
  main.append(heading, loading);
  let page;
  try {
    page = await api.listVideos("", signal);
  } catch (err) {
    loading.remove();
    if (err.name === "AbortError") throw err;
    main.append(errorBox("Couldn't load the videos", err));
    return;
  }
  loading.remove();
  if (!page.videos.length) {
    main.append(h("div", { class: "empty" },
      h("p", {}, "No videos yet."),
      h("a", { class: "button primary", href: "/upload" }, icon("upload"), "Upload the first one")));
    return;
  }
  main.append(grid(page.videos, page.next_cursor, async (cursor) => {
    const next = await api.listVideos(cursor, signal);
    return { items: next.videos, next: next.next_cursor };
  }, "Latest videos"));
}
