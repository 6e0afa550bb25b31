// The quality menu: Auto, or one of hls.js's levels (the renditions),
// best first. Where the browser plays HLS itself it picks the quality,
// and there is no menu.

import { icon } from "../dom.js";
import { menuButton } from "./menu.js";

const auto = { value: -1, label: "Auto" };

// qualityMenu makes the menu of the player el; it offers levels once
// follow hands it the hls.js instance.
export function qualityMenu(el, signal) {
  let hls = null;
  const menu = menuButton("Quality", icon("settings"), [auto], -1, (level) => {
    if (!hls) return;
    // currentLevel switches now (flushing the buffer ahead); -1 is auto.
    hls.currentLevel = level;
    if (level === -1) hls.nextLevel = -1;
  }, signal);
  return {
    el: menu.el,
    follow(instance, Hls) {
      hls = instance;
      hls.on(Hls.Events.MANIFEST_PARSED, () => {
        menu.setItems([auto,
          ...hls.levels.map((l, i) => ({ value: i, label: levelName(l) }))
            .sort((a, b) => hls.levels[b.value].bitrate - hls.levels[a.value].bitrate)], -1);
      });
      hls.on(Hls.Events.LEVEL_SWITCHED, (_, data) => {
        const name = levelName(hls.levels[data.level]);
        menu.setNote(hls.autoLevelEnabled ? `Auto (${name})` : name);
        el.dataset.level = String(data.level);
      });
      hls.on(Hls.Events.DESTROYING, () => { hls = null; });
    },
    hide() {
      menu.el.hidden = true;
    },
  };
}

function levelName(level) {
  if (!level) return "";
  const short = Math.min(level.width || level.height, level.height || level.width);
  return short ? `${short}p` : `${Math.round(level.bitrate / 1000)} kbps`;
}
