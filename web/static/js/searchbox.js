// The header's search box: a combobox (WAI-ARIA 1.2 pattern) whose
// listbox offers title suggestions while one types. Arrow keys move
// through the suggestions, Enter takes one (or searches what was typed),
// Escape closes the list.

import { api } from "./api.js";
import { h, isAbort } from "./dom.js";

// debounceMs is how long typing must pause before suggestions are asked
// for: one request per pause, not one per key.
const debounceMs = 180;

export function setupSearchBox(navigate) {
  const form = document.getElementById("search-form");
  const input = document.getElementById("search-input");
  const list = document.getElementById("search-suggestions");
  let timer = 0;
  let inflight = null;
  let items = [];
  let active = -1;
  let lastAsked = "";

  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };

  const setActive = (i) => {
    active = i;
    [...list.children].forEach((li, n) => li.setAttribute("aria-selected", n === i ? "true" : "false"));
    if (i >= 0) {
      input.setAttribute("aria-activedescendant", list.children[i].id);
      list.children[i].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  };

  const show = (suggestions) => {
    items = suggestions;
    list.replaceChildren(...suggestions.map((text, i) =>
      h("li", {
        id: `search-suggestion-${i}`, role: "option", "aria-selected": "false",
        onmousedown: (e) => e.preventDefault(), // keep focus in the input
        onclick: () => go(text),
      }, text)));
    active = -1;
    if (suggestions.length) {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    } else {
      close();
    }
  };

  const ask = async () => {
    const q = input.value;
    if (q.trim() === "") {
      show([]);
      return;
    }
    if (q === lastAsked) return;
    lastAsked = q;
    inflight?.abort();
    inflight = new AbortController();
    try {
      const resp = await api.suggest(q, inflight.signal);
      if (input.value === q && document.activeElement === input) show(resp.suggestions || []);
    } catch (err) {
      // Suggestions are a help, not the search: a failure just shows none.
      if (!isAbort(err)) show([]);
    }
  };

  const go = (q) => {
    q = q.trim();
    close();
    if (!q) return;
    input.value = q;
    lastAsked = q;
    navigate("/search?q=" + encodeURIComponent(q));
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(ask, debounceMs);
  });
  input.addEventListener("keydown", (e) => {
    const open = !list.hidden && items.length > 0;
    switch (e.key) {
      case "ArrowDown":
        if (!open) {
          lastAsked = "";
          ask();
        } else {
          setActive((active + 1) % items.length);
        }
        e.preventDefault();
        break;
      case "ArrowUp":
        if (open) {
          setActive(active <= 0 ? items.length - 1 : active - 1);
          e.preventDefault();
        }
        break;
      case "Escape":
        if (open) {
          close();
          e.preventDefault();
        }
        break;
      case "Enter":
        if (open && active >= 0) {
          e.preventDefault();
          go(items[active]);
        }
        break;
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 100));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    clearTimeout(timer);
    inflight?.abort();
    go(input.value);
  });

  // The box shows the query of the results page a person is on.
  return {
    setQuery(q) {
      input.value = q;
      lastAsked = q;
      close();
    },
  };
}
