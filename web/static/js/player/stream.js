// The stream: hls.js where the browser has Media Source Extensions (it
// is loaded only here, on first use), else the browser's own HLS. A
// stream that cannot play says why, in words.

import { h } from "../dom.js";

const hlsModule = "/static/vendor/hls.min.mjs";
const maxRecoveries = 3;

// stream plays url in video from startAt seconds, with quality (from
// qualityMenu) following the renditions and captions (from captionsMenu)
// the subtitle tracks, until signal ends it. failure is where it says why
// it cannot play. A video still encoding has growing (EVENT) playlists,
// which hls.js reloads as it would a live stream's: startPosition keeps
// it from starting at the live edge.
export function stream(video, url, quality, captions, signal, startAt = 0) {
  const failure = h("div", { class: "notice error", role: "alert", hidden: true });
  const fail = (message) => {
    failure.textContent = message;
    failure.hidden = false;
  };
  let hls = null;

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
        hls = new Hls({ enableWorker: false, capLevelToPlayerSize: true, startPosition: startAt });
        exposeForInspection(video, hls);
        quality.follow(hls, Hls);
        captions.follow(hls, Hls);
        let recoveries = 0;
        hls.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch(() => {}));
        hls.on(Hls.Events.ERROR, (_, data) => {
          if (!data.fatal) return;
          if (recoveries++ < maxRecoveries) {
            if (data.type === Hls.ErrorTypes.NETWORK_ERROR) return hls.startLoad();
            if (data.type === Hls.ErrorTypes.MEDIA_ERROR) return hls.recoverMediaError();
          }
          fail(data.type === Hls.ErrorTypes.NETWORK_ERROR
            ? "The video stopped loading: the server can't be reached. Reload the page to try again."
            : "This video can't be played in this browser.");
          hls.destroy();
          hls = null;
        });
        hls.loadSource(url);
        hls.attachMedia(video);
        return;
      }
    }
    if (video.canPlayType("application/vnd.apple.mpegurl")) {
      quality.hide();
      captions.followNative();
      video.src = url;
      if (startAt > 0) video.addEventListener("loadedmetadata", () => { video.currentTime = startAt; }, { once: true });
      video.play().catch(() => {});
      return;
    }
    fail("This browser can't play streaming video. Try a recent Firefox, Chrome, Edge or Safari.");
  }

  signal.addEventListener("abort", () => {
    hls?.destroy();
    video.pause();
    video.removeAttribute("src");
    video.load();
  }, { once: true });
  attach();
  return { failure };
}

// exposeForInspection lets a person (or a browser test) look at playback
// from the console: window.cloudflixPlayer.hls.currentLevel and so on.
function exposeForInspection(video, hls) {
  window.cloudflixPlayer = { video, hls };
}
