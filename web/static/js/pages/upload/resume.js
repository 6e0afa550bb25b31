// Resuming: a file that was partly uploaded before (in a closed tab, or
// before the network went down) continues where it stopped.

import { h } from "../../dom.js";
import { findResumable, storedBytes } from "../../uploader.js";

// resumeOffer finds the earlier upload of a file, and says in its note
// (el) how much of it is stored.
export function resumeOffer(signal) {
  const el = h("p", { class: "notice ok", hidden: true });
  return {
    el,
    // find returns the upload of file to resume, or null.
    async find(file) {
      try {
        return await findResumable(file, signal);
      } catch {
        // Unknown whether it can resume; a fresh upload still works.
        return null;
      }
    },
    show(file, resume) {
      const pct = Math.floor((storedBytes(file, resume) / file.size) * 100);
      el.textContent = `You started uploading this file before: ${pct}% ` +
        "is already stored. The upload continues from there, with the title and details given then.";
      el.hidden = false;
    },
    hide() {
      el.hidden = true;
    },
  };
}
