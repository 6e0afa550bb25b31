// The playback speed menu.

import { icon } from "../dom.js";
import { menuButton } from "./menu.js";

const speeds = [0.5, 0.75, 1, 1.25, 1.5, 2];

export function speedMenu(video, signal) {
  return menuButton("Playback speed", icon("speed"),
    speeds.map((s) => ({ value: s, label: s === 1 ? "Normal" : `${s}×` })), 1,
    (s) => { video.playbackRate = s; }, signal);
}
