// The home page: the latest ready videos, newest first, one request per
// page of cards.

import { api } from "../api.js";
import { h, icon } from "../dom.js";
import { videoList } from "../cards.js";

export default async function homePage({ main, signal, setTitle }) {
  setTitle("");
  main.append(h("h1", { class: "page-title" }, "Latest videos"));
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
