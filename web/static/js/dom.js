// Small helpers to build DOM nodes and to say things in words. Text always
// goes in as text nodes, never as HTML, so a title cannot inject markup.

// h builds an element: h("a", {href: "/", class: "x", onclick: fn}, child, ...).
// Attributes whose value is null, undefined or false are left out.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElementNS(
    tag === "svg" || tag === "path" || tag === "circle" || tag === "rect"
      ? "http://www.w3.org/2000/svg" : "http://www.w3.org/1999/xhtml",
    tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key === "text") {
      el.textContent = value;
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// icon draws one of the UI's line icons (24x24 paths).
const iconPaths = {
  play: "M8 5.5v13l11-6.5z",
  pause: "M7 5h3.5v14H7zM13.5 5H17v14h-3.5z",
  volume: "M4 9.5h3.5L12 5.5v13l-4.5-4H4zM15.5 8.5a5 5 0 0 1 0 7M18 6a8.5 8.5 0 0 1 0 12",
  muted: "M4 9.5h3.5L12 5.5v13l-4.5-4H4zM16 9.5l5 5M21 9.5l-5 5",
  fullscreen: "M4 9V4h5M15 4h5v5M20 15v5h-5M9 20H4v-5",
  exitFullscreen: "M9 4v5H4M20 9h-5V4M15 20v-5h5M4 15h5v5",
  settings: "M12 8.5a3.5 3.5 0 1 0 0 7 3.5 3.5 0 0 0 0-7zM19.4 13.5l1.6 1.2-2 3.4-1.9-.7a7.5 7.5 0 0 1-2 1.2l-.3 2h-4l-.3-2a7.5 7.5 0 0 1-2-1.2l-1.9.7-2-3.4 1.6-1.2a7.6 7.6 0 0 1 0-2.9L3 9.3l2-3.4 1.9.7a7.5 7.5 0 0 1 2-1.2l.3-2h4l.3 2a7.5 7.5 0 0 1 2 1.2l1.9-.7 2 3.4-1.6 1.2a7.6 7.6 0 0 1 0 2.9z",
  speed: "M12 13l4-5M4.5 17a8.5 8.5 0 1 1 15 0",
  captions: "M3 5.5h18v13H3zM10.5 10a2.5 2.5 0 1 0 0 4M17 10a2.5 2.5 0 1 0 0 4",
  upload: "M12 16V4m0 0-5 5m5-5 5 5M5 20h14",
  film: "M4 5h16v14H4zM8 5v14M16 5v14M4 9h4M4 15h4M16 9h4M16 15h4",
  heart: "M12 20s-7.5-4.6-7.5-10.2A4.3 4.3 0 0 1 12 7.2a4.3 4.3 0 0 1 7.5 2.6C19.5 15.4 12 20 12 20z",
  trending: "M3 17l6-6 4 4 8-8M15 7h6v6",
};

export function icon(name) {
  const filled = name === "play" || name === "pause";
  return h("svg", { viewBox: "0 0 24 24", "aria-hidden": "true" },
    h("path", {
      d: iconPaths[name],
      fill: filled ? "currentColor" : "none",
      stroke: filled ? "none" : "currentColor",
      "stroke-width": "2", "stroke-linecap": "round", "stroke-linejoin": "round",
    }));
}

// duration spells seconds as a player does: 0:07, 12:03, 1:02:03.
export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return hh > 0 ? `${hh}:${String(mm).padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });

export function views(n) {
  n = n || 0;
  return n === 1 ? "1 view" : `${compact.format(n)} views`;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const units = [
  ["year", 365 * 24 * 3600], ["month", 30 * 24 * 3600], ["week", 7 * 24 * 3600],
  ["day", 24 * 3600], ["hour", 3600], ["minute", 60],
];

// age says how long ago a time was: "3 days ago", "just now".
export function age(iso, now = Date.now()) {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "";
  const secs = Math.round((now - then) / 1000);
  for (const [unit, size] of units) {
    if (Math.abs(secs) >= size) return relative.format(-Math.floor(secs / size), unit);
  }
  return "just now";
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

export function date(iso) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? "" : dateFormat.format(t);
}

// bytes spells a size: 12.3 MB.
export function bytes(n) {
  const units = ["bytes", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
}

// announce tells screen readers about a change that is not a focus move.
export function announce(message) {
  const el = document.getElementById("announcer");
  if (!el) return;
  el.textContent = "";
  // A fresh text node after a tick makes the same message read again.
  setTimeout(() => { el.textContent = message; }, 30);
}

// errorBox is how a page shows a failure: a heading and the message.
export function errorBox(title, err, ...extra) {
  const message = err instanceof Error ? err.message : String(err || "");
  return h("div", { class: "notice error", role: "alert" },
    h("h2", { text: title }), message ? h("p", { text: message }) : null, ...extra);
}

// showMore offers the next page of list in box: a "Show more" button while
// there is a next page (cursor), which appends it with addPage(cursor),
// which returns the cursor after it. The keyboard goes on where the new
// items start.
export function showMore(box, list, cursor, addPage) {
  box.replaceChildren();
  if (!cursor) return;
  const button = h("button", { type: "button", class: "button" }, "Show more");
  button.addEventListener("click", async () => {
    button.disabled = true;
    button.textContent = "Loading…";
    const first = list.children.length;
    let next;
    try {
      next = await addPage(cursor);
    } catch (err) {
      if (isAbort(err)) return;
      button.disabled = false;
      button.textContent = "Show more";
      box.replaceChildren(button, h("p", { class: "notice error", role: "alert", text: err.message }));
      return;
    }
    showMore(box, list, next, addPage);
    list.children[first]?.querySelector("a:not([tabindex='-1']), button")?.focus();
  });
  box.append(button);
}

// sleep waits ms, or rejects with an AbortError when signal aborts.
export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new DOMException("aborted", "AbortError"));
    const t = setTimeout(() => { signal?.removeEventListener("abort", onAbort); resolve(); }, ms);
    function onAbort() {
      clearTimeout(t);
      reject(signal.reason ?? new DOMException("aborted", "AbortError"));
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export function isAbort(err) {
  return err?.name === "AbortError";
}
