// The home page: a row of trending videos (what people watched and liked
// lately), then the latest ready videos, newest first; one request per
// page of cards, the two first pages asked at once.

import { api } from "../api.js";
import { h, icon, isAbort } from "../dom.js";
import { card, videoList } from "../cards.js";

// trendingRow is how many trending videos the home page shows: one row
// at the widest layout's six columns, two at four.
const trendingRow = 8;

export default async function homePage({ main, signal, setTitle }) {
  setTitle("");
  main.append(h("h1", { class: "visually-hidden" }, "Videos"));
  const trending = api.trendingVideos("", signal, trendingRow);
  const row = h("section", { class: "trending", "aria-labelledby": "trending-title", hidden: true });
  main.append(row);
  trending.then((page) => {
    if (!page.videos.length) return;
    row.append(
      h("h2", { class: "page-title", id: "trending-title" }, icon("trending"), "Trending"),
      h("ul", { class: "grid", "aria-label": "Trending videos" }, page.videos.map(card)));
    row.hidden = false;
  }, (err) => {
    // The latest videos are the page; a trending row that failed is
    // left out rather than shown as an error.
    if (!isAbort(err)) row.remove();
  });
  main.append(h("h2", { class: "page-title" }, "Latest videos"));
  await videoList(main, {
    label: "Latest videos",
    loading: "Loading videos…",
    failure: "Couldn't load the videos",
    empty: () => h("div", { class: "empty" },
      h("p", {}, "No videos yet."),
      h("a", { class: "button primary", href: "/upload" }, icon("upload"), "Upload the first one")),
    load: async (cursor) => {
      const page = await api.listVideos(cursor, signal);
      return { items: page.videos, next: page.next_cursor };
    },
  });
}
