// Play and pause: the big button over the picture, the one among the
// controls, and a click on the picture itself.

import { h, icon } from "../dom.js";

// playButtons makes the buttons of el's video. toggle plays a paused
// video and pauses a playing one; onFirstPlay runs when playback first
// starts.
export function playButtons(video, el, onFirstPlay) {
  const big = h("button", { type: "button", class: "big-play", "aria-label": "Play" }, icon("play"));
  const button = h("button", { type: "button", class: "icon-button", "aria-label": "Play (space)" }, icon("play"));
  const toggle = () => (video.paused || video.ended ? video.play().catch(() => {}) : video.pause());
  big.addEventListener("click", toggle);
  button.addEventListener("click", toggle);
  video.addEventListener("click", toggle);
  const sync = () => {
    const paused = video.paused || video.ended;
    el.classList.toggle("paused", paused);
    button.replaceChildren(icon(paused ? "play" : "pause"));
    button.setAttribute("aria-label", paused ? "Play (space)" : "Pause (space)");
    big.setAttribute("aria-label", paused ? "Play" : "Pause");
  };
  for (const type of ["play", "pause", "ended"]) video.addEventListener(type, sync);
  video.addEventListener("playing", () => onFirstPlay?.(), { once: true });
  return { big, button, toggle };
}
