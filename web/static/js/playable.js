// Watching a video while it encodes. The player starts on the growing
// playlists, at the beginning; a line under it says how much can be
// watched so far, from the video's info polled every few seconds. When the
// video is ready the same player goes on: the playlists it reloads are the
// finished ones now, at the same URLs, so nothing is loaded again and the
// position is kept; the poster and storyboard previews come then. Only new media links (the privacy changed meanwhile)
// start the player again, at the same position.

import { api } from "./api.js";
import { h, duration, sleep, isAbort, announce } from "./dom.js";
import { completePlayer } from "./player.js";

const maxMisses = 40;

// watchWhileEncoding plays v (playable, still processing) with play, and
// follows its encode until it ends: ready (page.about redrawn with info),
// or failed or deleted (the player gives way to why).
export async function watchWhileEncoding(page, v, { play, info, pollMs }) {
  play(page, v);
  const bar = h("progress", { max: 1, value: v.progress || 0, "aria-label": "Encoding progress" });
  const text = h("span");
  const status = h("div", { class: "encoding-status", id: "encoding-status", role: "status" }, text, bar);
  page.about.before(status);
  let misses = 0;
  for (;;) {
    text.textContent = `Still being processed: the first ${duration(v.playable_seconds)} of ${duration(v.duration_seconds)} can be watched.`;
    bar.value = v.progress || 0;
    await sleep(pollMs, page.signal);
    let next;
    try {
      next = await api.video(v.id, page.signal);
      misses = 0;
    } catch (err) {
      if (isAbort(err)) throw err;
      if (++misses > maxMisses) throw err;
      continue;
    }
    const at = page.slot.querySelector("video")?.currentTime || 0;
    if (!next.playable && (next.state === "processing" || next.state === "uploaded")) {
      // Another worker started the encode over, with files of its own:
      // wait for its start as for a new video.
      page.navigate(location.pathname, { replace: true });
      return;
    }
    if (!next.playable) {
      // Failed or deleted: what was playing is gone.
      page.playing?.abort();
      status.className = "notice error";
      status.setAttribute("role", "alert");
      status.replaceChildren(next.state === "failed"
        ? h("p", { text: `This video could not be processed: ${next.failure_reason || "the file could not be encoded."}` })
        : h("p", { text: "This video can't be watched for now. Reload the page in a moment." }));
      return;
    }
    if (next.hls_url !== v.hls_url || next.playable_seconds < v.playable_seconds) {
      play(page, next, at);
      page.about.before(status);
    }
    v = next;
    if (v.state === "ready") {
      status.remove();
      completePlayer(page.slot, v);
      const about = info(v, page);
      page.about.replaceWith(about);
      page.about = about;
      announce("The video is fully processed.");
      return;
    }
  }
}
