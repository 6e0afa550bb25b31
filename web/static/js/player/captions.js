// The captions menu: Off, or one of the video's caption languages, as the
// master playlist's SUBTITLES group names them. With hls.js they are its
// subtitle tracks; where the browser plays HLS itself, they are the video
// element's text tracks. Without captions there is no menu.

import { icon } from "../dom.js";
import { menuButton } from "./menu.js";

const off = { value: -1, label: "Off" };

// captionsMenu makes the menu for video; it offers languages once follow
// hands it the hls.js instance, or followNative finds text tracks.
export function captionsMenu(el, video, signal) {
  let pick = () => {};
  const menu = menuButton("Captions", icon("captions"), [off], -1, (i) => {
    pick(i);
    el.dataset.captions = String(i);
  }, signal);
  menu.el.hidden = true;
  const offer = (tracks) => {
    menu.setItems([off, ...tracks.map((t, i) => ({ value: i, label: t.name || t.label || t.lang || t.language || `Track ${i + 1}` }))], -1);
    menu.el.hidden = tracks.length === 0;
  };
  return {
    el: menu.el,
    follow(hls, Hls) {
      pick = (i) => {
        hls.subtitleTrack = i;
        hls.subtitleDisplay = i !== -1;
      };
      hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, (_, data) => offer(data.subtitleTracks || []));
      hls.on(Hls.Events.DESTROYING, () => { pick = () => {}; });
    },
    followNative() {
      const subtitles = () => [...video.textTracks].filter((t) => t.kind === "subtitles" || t.kind === "captions");
      pick = (i) => subtitles().forEach((t, j) => { t.mode = j === i ? "showing" : "disabled"; });
      video.textTracks.addEventListener("addtrack", () => offer(subtitles()), { signal });
      video.textTracks.addEventListener("removetrack", () => offer(subtitles()), { signal });
    },
  };
}
