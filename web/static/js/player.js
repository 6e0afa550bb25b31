// The video player of the watch page: HLS through hls.js (loaded only
// here, on first use) or the browser's own HLS where it has no Media
// Source Extensions, with controls of our own: play, seek with storyboard
// thumbnails, volume, speed, quality, captions, fullscreen and keyboard
// shortcuts.
// Each control is a controller of its own, in player/; this module lays
// them out and hands them what they act on.

import { h } from "./dom.js";
import { playButtons } from "./player/playback.js";
import { seekBar } from "./player/seekbar.js";
import { storyboardPreviews } from "./player/previews.js";
import { volumeControls } from "./player/volume.js";
import { speedMenu } from "./player/speed.js";
import { qualityMenu } from "./player/quality.js";
import { captionsMenu } from "./player/captions.js";
import { fullscreenButton } from "./player/fullscreen.js";
import { keyboardShortcuts } from "./player/shortcuts.js";
import { stream } from "./player/stream.js";

const idleAfterMs = 2500;

// createPlayer builds the player for a playable video (ready, or still
// encoding), starting at startAt seconds. onFirstPlay runs once, when
// playback first starts. Everything it set up ends with signal.
export function createPlayer(v, { signal, onFirstPlay, startAt = 0 }) {
  const video = h("video", {
    playsinline: true, preload: "metadata", poster: v.thumbnail_url || null,
    "aria-label": v.title,
  });
  const el = h("div", {
    class: "player paused", role: "region", "aria-label": "Video player",
    dataset: v.storyboard_url ? { storyboard: v.storyboard_url } : null,
  }, video);
  const play = playButtons(video, el, onFirstPlay);
  const seek = seekBar(video, v.duration_seconds);
  storyboardPreviews(seek, () => el.dataset.storyboard);
  const volume = volumeControls(video);
  const speed = speedMenu(video, signal);
  const quality = qualityMenu(el, signal);
  const captions = captionsMenu(el, video, signal);
  const fullscreen = fullscreenButton(el, video, signal);
  const wake = fadeWhenIdle(el, signal);
  keyboardShortcuts(video, { togglePlay: play.toggle, toggleFullscreen: fullscreen.toggle, wake }, signal);
  el.append(play.big, h("div", { class: "player-controls" },
    seek.el,
    h("div", { class: "controls-row" },
      play.button, volume.mute, volume.slider, seek.time,
      h("span", { class: "spacer" }),
      captions.el, speed.el, quality.el, fullscreen.button)));
  const { failure } = stream(video, v.hls_url, quality, captions, signal, startAt);
  return h("div", {}, el, failure);
}

// completePlayer gives a player that started while v was encoding what
// only the finished video has: its poster and its storyboard previews.
export function completePlayer(root, v) {
  const el = root.querySelector(".player");
  if (!el) return;
  if (v.storyboard_url) el.dataset.storyboard = v.storyboard_url;
  const video = el.querySelector("video");
  if (video && v.thumbnail_url && !video.getAttribute("poster")) video.setAttribute("poster", v.thumbnail_url);
}

// fadeWhenIdle hides the controls while the video plays and the pointer
// rests (app.css: .player.idle). It returns wake, which shows them again.
function fadeWhenIdle(el, signal) {
  let timer = 0;
  const wake = () => {
    el.classList.remove("idle");
    clearTimeout(timer);
    timer = setTimeout(() => el.classList.add("idle"), idleAfterMs);
  };
  el.addEventListener("pointermove", wake);
  el.addEventListener("focusin", wake);
  signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  return wake;
}
