// CloudFlix's browser UI: a small client-side router over its pages
// (home, search results, watch, upload, channels, sign-in and the
// account's pages). It talks to the platform only through the public
// REST API and /media/.

import { setupSearchBox } from "./searchbox.js";
import { setupAccountMenu } from "./session.js";
import { h, errorBox } from "./dom.js";

const main = document.getElementById("main");
const banner = document.getElementById("banner");

// The pages come from the server (web.go), in the shell: the paths it
// answers with 200 are the ones drawn here. A page's module is loaded
// when it is first shown, so that the home page does not wait for the
// player or the uploader.
const pages = JSON.parse(document.getElementById("pages").textContent)
  .map((p) => ({ match: new RegExp(p.match), module: p.module }));

// route returns the page of path and its parameters, or null.
function route(path) {
  for (const p of pages) {
    const m = p.match.exec(path);
    if (!m) continue;
    const params = {};
    for (const [name, value] of Object.entries(m.groups || {})) params[name] = decodeURIComponent(value);
    return { module: p.module, params };
  }
  return null;
}

function notFoundPage(ctx) {
  ctx.setTitle("Page not found");
  ctx.main.append(h("div", { class: "notice" },
    h("h1", { text: "This page doesn't exist" }),
    h("p", {}, "The link may be broken. ", h("a", { href: "/" }, "Go to the home page"), ".")));
}

let current = null; // {controller, leave}
let searchBox;

async function render(focus) {
  current?.controller.abort();
  const controller = new AbortController();
  current = { controller };
  hideBanner();
  const url = new URL(location.href);
  main.replaceChildren();
  searchBox.setQuery(url.pathname === "/search" ? url.searchParams.get("q") || "" : "");
  try {
    const page = route(url.pathname);
    const draw = page ? (await import(page.module)).default : notFoundPage;
    if (controller.signal.aborted) return;
    await draw({
      main,
      url,
      params: page?.params || {},
      signal: controller.signal,
      navigate,
      setTitle: (t) => { document.title = t ? `${t} – CloudFlix` : "CloudFlix"; },
      searchBox,
    });
  } catch (err) {
    if (err?.name === "AbortError" || controller.signal.aborted) return;
    main.replaceChildren(errorBox("Something went wrong", err,
      h("p", {}, h("a", { href: location.pathname + location.search }, "Try again"))));
  }
  if (focus && !controller.signal.aborted) {
    // A new page: move the keyboard and screen readers to its heading.
    const heading = main.querySelector("h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
    } else {
      main.focus({ preventScroll: true });
    }
  }
}

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  window.scrollTo(0, 0);
  render(true);
}

function showBanner(message) {
  banner.textContent = message;
  banner.hidden = false;
}

function hideBanner() {
  banner.hidden = true;
  banner.textContent = "";
}

// Links inside the app change the page without reloading it.
document.addEventListener("click", (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest("a[href]");
  if (!a || a.target || a.hasAttribute("download")) return;
  const url = new URL(a.href, location.href);
  // The UI's pages are the rest: /api/, /media/ and /static/ are files,
  // and /auth/ sends the browser to a sign-in provider.
  if (url.origin !== location.origin || /^\/(api|media|static|auth)\//.test(url.pathname)) return;
  if (url.hash && url.pathname === location.pathname && url.search === location.search) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});

window.addEventListener("popstate", () => render(true));

// A failure no page caught still gets words, never a blank page.
window.addEventListener("error", (e) => {
  if (e.error) showBanner("Something went wrong: " + (e.error.message || e.message));
});
window.addEventListener("unhandledrejection", (e) => {
  const err = e.reason;
  if (err?.name === "AbortError") return;
  showBanner("Something went wrong: " + (err?.message || String(err)));
});

function setupThemeToggle() {
  const button = document.getElementById("theme-toggle");
  const system = matchMedia("(prefers-color-scheme: dark)");
  const isDark = () => {
    const chosen = document.documentElement.dataset.theme;
    return chosen ? chosen === "dark" : system.matches;
  };
  const sync = () => button.setAttribute("aria-pressed", String(isDark()));
  button.addEventListener("click", () => {
    const next = isDark() ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    try {
      localStorage.setItem("cloudflix.theme", next);
    } catch {
      // Not remembered; it still applies to this page.
    }
    sync();
  });
  system.addEventListener("change", sync);
  sync();
}

searchBox = setupSearchBox(navigate);
setupAccountMenu(() => render(false));
setupThemeToggle();
render(false);
