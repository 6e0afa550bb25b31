// The video's details: title, description and tags.

import { h } from "../../dom.js";

export function detailsFields() {
  const title = h("input", { type: "text", id: "upload-title", name: "title", required: true, maxlength: 200, autocomplete: "off" });
  const description = h("textarea", { id: "upload-description", name: "description", maxlength: 5000 });
  const tags = h("input", { type: "text", id: "upload-tags", name: "tags", autocomplete: "off", "aria-describedby": "upload-tags-hint" });
  // The title last taken from a file name, which the next file may replace.
  let autoTitle = "";
  return {
    el: [
      h("div", { class: "field" }, h("label", { for: "upload-title" }, "Title"), title),
      h("div", { class: "field" }, h("label", { for: "upload-description" }, "Description"), description),
      h("div", { class: "field" },
        h("label", { for: "upload-tags" }, "Tags"), tags,
        h("span", { class: "hint", id: "upload-tags-hint" }, "Separate tags with commas, e.g. nature, timelapse")),
    ],
    title,
    // nameAfter titles the video after file, unless a person wrote a title.
    nameAfter(file) {
      if (title.value && title.value !== autoTitle) return;
      autoTitle = file.name.replace(/\.[^.]+$/, "").replace(/[_-]+/g, " ").trim();
      title.value = autoTitle;
    },
    lock(locked) {
      for (const el of [title, description, tags]) el.disabled = locked;
    },
    meta() {
      return {
        title: title.value.trim(),
        description: description.value.trim(),
        tags: tags.value.split(",").map((t) => t.trim()).filter(Boolean),
      };
    },
  };
}
