// Storyboard previews over the seek bar: the time under the pointer, and
// the video's frame at that time.

import { h, duration as fmt } from "../dom.js";
import * as storyboard from "../storyboard.js";

const previewWidth = 176;
const previewHeight = 99;

// storyboardPreviews shows previews over seek (from seekBar); url returns
// the video's storyboard, if it has one yet: a video watched while it
// encodes gets its storyboard when the encode ends.
export function storyboardPreviews(seek, url) {
  const time = h("span");
  const preview = h("div", { class: "seek-preview", "aria-hidden": "true" }, time);
  seek.el.append(preview);
  seek.el.addEventListener("pointermove", async (e) => {
    const rect = seek.input.getBoundingClientRect();
    const frac = Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width));
    const t = frac * seek.duration();
    time.textContent = fmt(t);
    const board = url();
    if (!board) return;
    let frames;
    try {
      frames = await storyboard.load(board);
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
  seek.el.addEventListener("pointerleave", () => preview.classList.remove("on"));
}
