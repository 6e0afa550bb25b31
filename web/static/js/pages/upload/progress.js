// The progress of an upload, then of its encoding, then the link to the
// ready video.

import { api } from "../../api.js";
import { h, bytes, sleep, isAbort, announce } from "../../dom.js";

const pollMs = 1500;

// progressView draws the upload and encoding progress in status.
export function progressView(status) {
  const heading = h("h2");
  const bar = h("progress", { max: 1, value: 0, "aria-label": "Upload progress" });
  const numbers = h("div", { class: "numbers" });
  const note = h("p", { class: "muted" });
  const result = h("div");
  status.replaceChildren(heading, bar, numbers, note, result);
  status.hidden = false;
  status.scrollIntoView({ block: "nearest" });
  let lastDraw = 0;
  return {
    hide() { status.hidden = true; },
    uploading(file) {
      heading.textContent = `Uploading ${file.name}`;
      bar.setAttribute("aria-label", "Upload progress");
      bar.value = 0;
      numbers.replaceChildren();
      note.textContent = "Keep this page open until the upload is finished.";
    },
    progress({ sent, total, speed, eta, state }) {
      const now = performance.now();
      // Progress events come by the hundred a second; a few redraws do.
      if (now - lastDraw < 150 && sent < total && state === "sending") return;
      lastDraw = now;
      bar.value = total ? sent / total : 1;
      const pct = total ? Math.floor((sent / total) * 100) : 100;
      numbers.replaceChildren(
        h("span", {}, `${bytes(sent)} of ${bytes(total)} (${pct}%)`),
        h("span", {}, speed > 0 ? `${bytes(Math.round(speed))}/s` : "…"),
        h("span", {}, Number.isFinite(eta) ? `${timeLeft(eta)} left` : ""));
      note.textContent = state === "offline"
        ? "The network is down. The upload continues when it is back."
        : state === "retrying"
          ? "A part failed to send; trying it again…"
          : "Keep this page open until the upload is finished.";
    },
    encoding(v) {
      heading.textContent = v.state === "processing" ? "Processing" : "Upload complete";
      bar.setAttribute("aria-label", "Encoding progress");
      if (v.state === "processing") bar.value = v.progress || 0;
      else bar.removeAttribute("value");
      numbers.replaceChildren(h("span", {}, v.state === "processing"
        ? `${Math.round((v.progress || 0) * 100)}% encoded`
        : "Waiting for the encoder…"));
      note.textContent = "You can leave this page; the video keeps processing.";
    },
    done(v) {
      heading.textContent = "Your video is ready";
      bar.value = 1;
      numbers.replaceChildren();
      note.textContent = "";
      const link = h("a", { class: "button primary", href: "/watch/" + encodeURIComponent(v.id), id: "watch-link" },
        `Watch “${v.title}”`);
      result.replaceChildren(link);
      link.scrollIntoView({ block: "nearest" });
      link.focus({ preventScroll: true });
    },
    failed(v) {
      heading.textContent = "The video could not be processed";
      bar.hidden = true;
      numbers.replaceChildren();
      note.textContent = "";
      result.replaceChildren(h("p", { class: "notice error", role: "alert", text: v.failure_reason || "The file could not be encoded." }));
    },
    trouble(err) {
      note.textContent = `${err.message} Retrying…`;
    },
  };
}

// followEncoding shows v in view until it is ready or failed, polling
// the API while it is encoded.
export async function followEncoding(v, view, signal) {
  for (;;) {
    if (v.state === "ready") {
      view.done(v);
      announce("Your video is ready to watch.");
      return;
    }
    if (v.state === "failed" || v.state === "deleted") {
      view.failed(v);
      announce("The video could not be processed.");
      return;
    }
    view.encoding(v);
    try {
      await sleep(pollMs, signal);
      v = await api.video(v.id, signal);
    } catch (err) {
      if (isAbort(err)) return;
      view.trouble(err);
    }
  }
}

function timeLeft(s) {
  if (s < 60) return `${Math.max(1, Math.round(s))} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}
