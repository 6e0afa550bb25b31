// The video player of the watch page: HLS through hls.js (loaded only
// here, on first use) or the browser's own HLS where it has no Media
// Source Extensions, with controls of our own: play, seek with storyboard
// thumbnails, volume, speed, quality, fullscreen and keyboard shortcuts.

import { h, icon, duration as fmt } from "./dom.js";
import * as storyboard from "./storyboard.js";

const hlsModule = "/static/vendor/hls.light.min.mjs";
const speeds = [0.5, 0.75, 1, 1.25, 1.5, 2];
const seekStep = 5;
const previewWidth = 176;
const previewHeight = 99;
const idleAfterMs = 2500;

// createPlayer builds the player for a ready video. onFirstPlay runs once,
// when playback first starts. Everything it set up ends with signal.
export function createPlayer(v, { signal, onFirstPlay }) {
  const video = h("video", {
    playsinline: true, preload: "metadata", poster: v.thumbnail_url || null,
    "aria-label": v.title,
  });
  const bigPlay = h("button", { type: "button", class: "big-play", "aria-label": "Play" }, icon("play"));
  const seek = h("input", {
    type: "range", min: 0, max: v.duration_seconds || 0, step: "any", value: 0,
    "aria-label": "Seek", "aria-valuetext": `0:00 of ${fmt(v.duration_seconds)}`,
  });
  const previewTime = h("span");
  const preview = h("div", { class: "seek-preview", "aria-hidden": "true" }, previewTime);
  const seekBox = h("div", { class: "seek" }, seek, preview);
  const playButton = h("button", { type: "button", class: "icon-button", "aria-label": "Play (space)" }, icon("play"));
  const muteButton = h("button", { type: "button", class: "icon-button", "aria-label": "Mute (m)" }, icon("volume"));
  const volume = h("input", { type: "range", class: "volume", min: 0, max: 1, step: 0.05, value: 1, "aria-label": "Volume" });
  const time = h("span", { class: "time" }, `0:00 / ${fmt(v.duration_seconds)}`);
  const speedMenu = menu("Playback speed", icon("speed"),
    speeds.map((s) => ({ value: s, label: s === 1 ? "Normal" : `${s}×` })), 1,
    (s) => { video.playbackRate = s; }, signal);
  const qualityMenu = menu("Quality", icon("settings"), [{ value: -1, label: "Auto" }], -1,
    (level) => setLevel(level), signal);
  const fsButton = h("button", { type: "button", class: "icon-button", "aria-label": "Full screen (f)" }, icon("fullscreen"));

  const controls = h("div", { class: "player-controls" },
    seekBox,
    h("div", { class: "controls-row" },
      playButton, muteButton, volume, time,
      h("span", { class: "spacer" }),
      speedMenu.el, qualityMenu.el, fsButton));
  const el = h("div", { class: "player paused", role: "region", "aria-label": "Video player" },
    video, bigPlay, controls);

  let hls = null;
  let firstPlay = true;
  let seeking = false;

  // Playback.
  const toggle = () => (video.paused || video.ended ? video.play().catch(() => {}) : video.pause());
  bigPlay.addEventListener("click", toggle);
  playButton.addEventListener("click", toggle);
  video.addEventListener("click", toggle);
  video.addEventListener("dblclick", () => toggleFullscreen());
  const syncPlaying = () => {
    const paused = video.paused || video.ended;
    el.classList.toggle("paused", paused);
    playButton.replaceChildren(icon(paused ? "play" : "pause"));
    playButton.setAttribute("aria-label", paused ? "Play (space)" : "Pause (space)");
    bigPlay.setAttribute("aria-label", paused ? "Play" : "Pause");
  };
  video.addEventListener("play", syncPlaying);
  video.addEventListener("pause", syncPlaying);
  video.addEventListener("ended", syncPlaying);
  video.addEventListener("playing", () => {
    if (firstPlay) {
      firstPlay = false;
      onFirstPlay?.();
    }
  });

  // Time and seeking.
  const syncTime = () => {
    const d = Number.isFinite(video.duration) ? video.duration : v.duration_seconds;
    if (!seeking) seek.value = String(video.currentTime);
    seek.max = String(d || 0);
    seek.setAttribute("aria-valuetext", `${fmt(video.currentTime)} of ${fmt(d)}`);
    time.textContent = `${fmt(video.currentTime)} / ${fmt(d)}`;
  };
  video.addEventListener("timeupdate", syncTime);
  video.addEventListener("durationchange", syncTime);
  seek.addEventListener("input", () => {
    seeking = true;
    video.currentTime = Number(seek.value);
  });
  seek.addEventListener("change", () => { seeking = false; });

  // Storyboard thumbnails over the seek bar.
  seekBox.addEventListener("pointermove", async (e) => {
    const rect = seek.getBoundingClientRect();
    const frac = Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width));
    const d = Number(seek.max) || v.duration_seconds;
    const t = frac * d;
    previewTime.textContent = fmt(t);
    if (!v.storyboard_url) return;
    let frames;
    try {
      frames = await storyboard.load(v.storyboard_url);
    } catch {
      return;
    }
    const f = storyboard.at(frames, t);
    if (!f) return;
    storyboard.paint(preview, f, previewWidth, previewHeight);
    const half = preview.offsetWidth / 2;
    const x = Math.min(rect.width - half, Math.max(half, e.clientX - rect.left));
    preview.style.left = `${x}px`;
    preview.classList.add("on");
  });
  seekBox.addEventListener("pointerleave", () => preview.classList.remove("on"));

  // Volume.
  const syncVolume = () => {
    const silent = video.muted || video.volume === 0;
    muteButton.replaceChildren(icon(silent ? "muted" : "volume"));
    muteButton.setAttribute("aria-label", silent ? "Unmute (m)" : "Mute (m)");
    volume.value = String(video.muted ? 0 : video.volume);
  };
  muteButton.addEventListener("click", () => { video.muted = !video.muted; });
  volume.addEventListener("input", () => {
    video.volume = Number(volume.value);
    video.muted = video.volume === 0;
  });
  video.addEventListener("volumechange", syncVolume);

  // Full screen.
  const toggleFullscreen = () => {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else el.requestFullscreen?.().catch(() => {});
  };
  fsButton.addEventListener("click", toggleFullscreen);
  const syncFullscreen = () => {
    const on = document.fullscreenElement === el;
    fsButton.replaceChildren(icon(on ? "exitFullscreen" : "fullscreen"));
    fsButton.setAttribute("aria-label", on ? "Exit full screen (f)" : "Full screen (f)");
  };
  document.addEventListener("fullscreenchange", syncFullscreen, { signal });

  // Controls fade while the video plays and the pointer rests.
  let idleTimer = 0;
  const wake = () => {
    el.classList.remove("idle");
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => el.classList.add("idle"), idleAfterMs);
  };
  el.addEventListener("pointermove", wake);
  el.addEventListener("focusin", wake);

  // Keyboard shortcuts, for the whole page while it shows the player.
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
    const t = e.target;
    if (t.closest?.("input:not([type=range]), textarea, select, [contenteditable], [role=menu]")) return;
    const onControl = t.closest?.("button, a, input[type=range]");
    switch (e.key) {
      case " ":
      case "k":
        if (e.key === " " && onControl && !t.matches("input[type=range]")) return;
        toggle();
        break;
      case "ArrowLeft":
      case "ArrowRight":
        if (t.matches?.("input[type=range]")) return;
        video.currentTime = Math.max(0, Math.min(video.duration || Infinity,
          video.currentTime + (e.key === "ArrowLeft" ? -seekStep : seekStep)));
        break;
      case "ArrowUp":
      case "ArrowDown":
        if (t.matches?.("input[type=range]")) return;
        video.muted = false;
        video.volume = Math.max(0, Math.min(1, video.volume + (e.key === "ArrowUp" ? 0.1 : -0.1)));
        break;
      case "f":
        toggleFullscreen();
        break;
      case "m":
        video.muted = !video.muted;
        break;
      default:
        return;
    }
    e.preventDefault();
    wake();
  }, { signal });

  // Quality: hls.js levels, or the browser's own choice.
  function setLevel(level) {
    if (!hls) return;
    // currentLevel switches now (flushing the buffer ahead); -1 is auto.
    hls.currentLevel = level;
    if (level === -1) hls.nextLevel = -1;
  }

  const failure = h("div", { class: "notice error", role: "alert", hidden: true });
  const fail = (message) => {
    failure.textContent = message;
    failure.hidden = false;
  };

  async function attach() {
    const mse = "MediaSource" in window || "ManagedMediaSource" in window;
    if (mse) {
      let Hls;
      try {
        ({ default: Hls } = await import(hlsModule));
      } catch {
        fail("The video player could not be loaded. Check your connection and reload the page.");
        return;
      }
      if (signal.aborted) return;
      if (Hls.isSupported()) {
        // The ES module build has no inline worker; fMP4 needs no
        // transmuxing, so the main thread does the little there is.
        hls = new Hls({ enableWorker: false, capLevelToPlayerSize: true });
        exposeForInspection(video, hls);
        let recoveries = 0;
        hls.on(Hls.Events.MANIFEST_PARSED, () => {
          qualityMenu.setItems([{ value: -1, label: "Auto" },
            ...hls.levels.map((l, i) => ({ value: i, label: levelName(l) }))
              .sort((a, b) => hls.levels[b.value].bitrate - hls.levels[a.value].bitrate)], -1);
          video.play().catch(() => {});
        });
        hls.on(Hls.Events.LEVEL_SWITCHED, (_, data) => {
          const name = levelName(hls.levels[data.level]);
          qualityMenu.setNote(hls.autoLevelEnabled ? `Auto (${name})` : name);
          el.dataset.level = String(data.level);
        });
        hls.on(Hls.Events.ERROR, (_, data) => {
          if (!data.fatal) return;
          if (recoveries++ < 3) {
            if (data.type === Hls.ErrorTypes.NETWORK_ERROR) return hls.startLoad();
            if (data.type === Hls.ErrorTypes.MEDIA_ERROR) return hls.recoverMediaError();
          }
          fail(data.type === Hls.ErrorTypes.NETWORK_ERROR
            ? "The video stopped loading: the server can't be reached. Reload the page to try again."
            : "This video can't be played in this browser.");
          hls.destroy();
          hls = null;
        });
        hls.loadSource(v.hls_url);
        hls.attachMedia(video);
        return;
      }
    }
    if (video.canPlayType("application/vnd.apple.mpegurl")) {
      // The browser picks the quality itself; there is no menu to offer.
      qualityMenu.el.hidden = true;
      video.src = v.hls_url;
      video.play().catch(() => {});
      return;
    }
    fail("This browser can't play streaming video. Try a recent Firefox, Chrome, Edge or Safari.");
  }

  signal.addEventListener("abort", () => {
    clearTimeout(idleTimer);
    hls?.destroy();
    video.pause();
    video.removeAttribute("src");
    video.load();
  }, { once: true });

  syncVolume();
  attach();
  return h("div", {}, el, failure);
}

function levelName(level) {
  if (!level) return "";
  const short = Math.min(level.width || level.height, level.height || level.width);
  return short ? `${short}p` : `${Math.round(level.bitrate / 1000)} kbps`;
}

// exposeForInspection lets a person (or a browser test) look at playback
// from the console: window.cloudflixPlayer.hls.currentLevel and so on.
function exposeForInspection(video, hls) {
  window.cloudflixPlayer = { video, hls };
}

// menu is a button that opens a menu of radio items (WAI-ARIA menu
// button): arrows move, Enter or Space picks, Escape closes.
function menu(label, buttonIcon, items, selected, onPick, signal) {
  const button = h("button", {
    type: "button", class: "icon-button", "aria-haspopup": "menu", "aria-expanded": "false",
    "aria-label": label,
  }, buttonIcon);
  const list = h("ul", { class: "menu", role: "menu", "aria-label": label, hidden: true });
  const wrap = h("div", { class: "menu-wrap" }, button, list);
  let note = "";
  let current = selected;

  const entries = () => [...list.querySelectorAll("[role=menuitemradio]")];
  const close = (focusButton) => {
    list.hidden = true;
    button.setAttribute("aria-expanded", "false");
    if (focusButton) button.focus();
  };
  const open = () => {
    list.hidden = false;
    button.setAttribute("aria-expanded", "true");
    (entries().find((e) => e.getAttribute("aria-checked") === "true") || entries()[0])?.focus();
  };
  const syncLabel = () => {
    const chosen = entries().find((e) => e.getAttribute("aria-checked") === "true");
    button.setAttribute("aria-label", `${label}: ${note || chosen?.textContent || ""}`);
    button.title = button.getAttribute("aria-label");
  };
  const setItems = (newItems, sel) => {
    current = sel;
    list.replaceChildren(h("li", { class: "menu-label", role: "presentation" }, label),
      ...newItems.map((it) => {
        const li = h("li", {
          role: "menuitemradio", tabindex: "-1", "aria-checked": String(it.value === sel),
          dataset: { value: String(it.value) },
        }, it.label);
        li.addEventListener("click", () => pick(it.value));
        return li;
      }));
    syncLabel();
  };
  const pick = (value) => {
    current = value;
    for (const e of entries()) e.setAttribute("aria-checked", String(e.dataset.value === String(value)));
    note = "";
    syncLabel();
    close(true);
    onPick(value);
  };
  button.addEventListener("click", () => (list.hidden ? open() : close(false)));
  list.addEventListener("keydown", (e) => {
    const all = entries();
    const i = all.indexOf(document.activeElement);
    switch (e.key) {
      case "ArrowDown": all[(i + 1) % all.length].focus(); break;
      case "ArrowUp": all[(i - 1 + all.length) % all.length].focus(); break;
      case "Home": all[0].focus(); break;
      case "End": all[all.length - 1].focus(); break;
      case "Escape": close(true); break;
      case "Tab": close(false); return;
      case "Enter":
      case " ":
        if (i >= 0) pick(Number(all[i].dataset.value));
        break;
      default: return;
    }
    e.preventDefault();
    e.stopPropagation();
  });
  document.addEventListener("pointerdown", (e) => {
    if (!list.hidden && !wrap.contains(e.target)) close(false);
  }, { signal });
  setItems(items, selected);
  return {
    el: wrap,
    setItems,
    // setNote says what "Auto" chose, while Auto is the choice.
    setNote(text) {
      note = current === -1 ? text : "";
      syncLabel();
    },
  };
}
