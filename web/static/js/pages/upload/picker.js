// Choosing the file: the file input, or a file dropped on the zone around
// it.

import { h, icon, bytes } from "../../dom.js";

// filePicker calls onChoose(file) with each file chosen; a file input
// that was emptied gives null.
export function filePicker(onChoose) {
  const input = h("input", { type: "file", id: "upload-file", class: "file-input", accept: "video/*" });
  const chosen = h("p", { class: "chosen", "aria-live": "polite" });
  const el = h("div", { class: "dropzone" },
    icon("film"),
    h("p", {}, "Drag and drop a video file here, or"),
    input,
    h("label", { for: "upload-file", class: "button" }, "Choose a file"),
    chosen);
  input.addEventListener("change", () => onChoose(input.files[0] || null));
  // Without preventDefault the browser would open the dropped file itself.
  for (const type of ["dragenter", "dragover"]) {
    el.addEventListener(type, (e) => {
      e.preventDefault();
      el.classList.add("over");
    });
  }
  for (const type of ["dragleave", "drop"]) {
    el.addEventListener(type, () => el.classList.remove("over"));
  }
  el.addEventListener("drop", (e) => {
    e.preventDefault();
    const f = e.dataTransfer?.files?.[0];
    if (f) onChoose(f);
  });
  return {
    el,
    // show names the file to upload, or nothing.
    show(file) {
      chosen.textContent = file ? `${file.name} (${bytes(file.size)})` : "";
    },
    lock(locked) {
      input.disabled = locked;
    },
  };
}
