// The search results page: /search?q=..., the same cards as the home
// page, paged with the API's next_cursor.

import { api } from "../api.js";
import { h, errorBox } from "../dom.js";
import { grid } from "../cards.js";

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
  const loading = h("p", { class: "loading", role: "status" }, "Searching…");
  main.append(loading);
  let page;
  try {
    page = await api.search(q, "", signal);
  } catch (err) {
    loading.remove();
    if (err.name === "AbortError") throw err;
    main.append(errorBox("The search failed", err));
    return;
  }
  loading.remove();
  if (!page.results.length) {
    main.append(h("div", { class: "empty", role: "status" },
      h("p", {}, `No videos match “${q}”.`),
      h("p", { class: "muted" }, "Check the spelling or try other words.")));
    return;
  }
  main.append(grid(page.results, page.next_cursor, async (cursor) => {
    const next = await api.search(q, cursor, signal);
    return { items: next.results, next: next.next_cursor };
  }, `Results for ${q}`));
}
