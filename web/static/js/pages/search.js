// The search results page: /search?q=..., the same cards as the home
// page, paged with the API's next_cursor.

import { api } from "../api.js";
import { h } from "../dom.js";
import { videoList } from "../cards.js";

export default async function searchPage({ main, url, signal, setTitle }) {
  const q = (url.searchParams.get("q") || "").trim();
  if (!q) {
    setTitle("Search");
    main.append(h("h1", { class: "page-title" }, "Search"),
      h("p", { class: "muted" }, "Type what you are looking for in the search box above."));
    return;
  }
  setTitle(`${q} – Search`);
  main.append(h("h1", { class: "page-title" }, `Results for “${q}”`));
  await videoList(main, {
    label: `Results for ${q}`,
    loading: "Searching…",
    failure: "The search failed",
    empty: () => h("div", { class: "empty", role: "status" },
      h("p", {}, `No videos match “${q}”.`),
      h("p", { class: "muted" }, "Check the spelling or try other words.")),
    load: async (cursor) => {
      const page = await api.search(q, cursor, signal);
      return { items: page.results, next: page.next_cursor };
    },
  });
}
