// Full screen: the button, and a double click on the picture.

import { h, icon } from "../dom.js";

// fullscreenButton makes the button that puts el in full screen.
export function fullscreenButton(el, video, signal) {
  const button = h("button", { type: "button", class: "icon-button", "aria-label": "Full screen (f)" }, icon("fullscreen"));
  const toggle = () => {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else el.requestFullscreen?.().catch(() => {});
  };
  button.addEventListener("click", toggle);
  video.addEventListener("dblclick", toggle);
  // Escape and the browser's own controls leave full screen too.
  const sync = () => {
    const on = document.fullscreenElement === el;
    button.replaceChildren(icon(on ? "exitFullscreen" : "fullscreen"));
    button.setAttribute("aria-label", on ? "Exit full screen (f)" : "Full screen (f)");
  };
  document.addEventListener("fullscreenchange", sync, { signal });
  return { button, toggle };
}
