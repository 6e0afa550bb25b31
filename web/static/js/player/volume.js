// Volume: the mute button and the volume slider.

import { h, icon } from "../dom.js";

export function volumeControls(video) {
  const mute = h("button", { type: "button", class: "icon-button", "aria-label": "Mute (m)" }, icon("volume"));
  const slider = h("input", { type: "range", class: "volume", min: 0, max: 1, step: 0.05, value: 1, "aria-label": "Volume" });
  const sync = () => {
    const silent = video.muted || video.volume === 0;
    mute.replaceChildren(icon(silent ? "muted" : "volume"));
    mute.setAttribute("aria-label", silent ? "Unmute (m)" : "Mute (m)");
    slider.value = String(video.muted ? 0 : video.volume);
  };
  mute.addEventListener("click", () => { video.muted = !video.muted; });
  slider.addEventListener("input", () => {
    video.volume = Number(slider.value);
    video.muted = video.volume === 0;
  });
  video.addEventListener("volumechange", sync);
  sync();
  return { mute, slider };
}
