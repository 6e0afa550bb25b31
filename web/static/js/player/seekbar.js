// The seek bar and the time display: where playback is, out of how long.

import { h, duration as fmt } from "../dom.js";

// seekBar makes the bar and the time of video; known is the length the
// API gave, until the video's own is known.
export function seekBar(video, known) {
  const input = h("input", {
    type: "range", min: 0, max: known || 0, step: "any", value: 0,
    "aria-label": "Seek", "aria-valuetext": `0:00 of ${fmt(known)}`,
  });
  const el = h("div", { class: "seek" }, input);
  const time = h("span", { class: "time" }, `0:00 / ${fmt(known)}`);
  // While the bar is dragged it stays where the pointer puts it.
  let dragging = false;
  const sync = () => {
    const d = Number.isFinite(video.duration) ? video.duration : known;
    if (!dragging) input.value = String(video.currentTime);
    input.max = String(d || 0);
    input.setAttribute("aria-valuetext", `${fmt(video.currentTime)} of ${fmt(d)}`);
    time.textContent = `${fmt(video.currentTime)} / ${fmt(d)}`;
  };
  video.addEventListener("timeupdate", sync);
  video.addEventListener("durationchange", sync);
  input.addEventListener("input", () => {
    dragging = true;
    video.currentTime = Number(input.value);
  });
  input.addEventListener("change", () => { dragging = false; });
  return { el, input, time, duration: () => Number(input.max) || known };
}
