// The video's details: title, description, tags and who can watch it.

import { h } from "../../dom.js";
import { field, input, tagList } from "../../forms.js";
import { privacyChoice } from "../../privacy.js";

export function detailsFields() {
  const title = input("upload-title", { required: true, maxlength: 200, autocomplete: "off" });
  const description = h("textarea", { id: "upload-description", name: "description", maxlength: 5000 });
  const tags = input("upload-tags", { autocomplete: "off" });
  const privacy = privacyChoice("upload-privacy");
  // The title last taken from a file name, which the next file may replace.
  let autoTitle = "";
  return {
    el: [
      field(title, "Title"),
      field(description, "Description"),
      field(tags, "Tags", "Separate tags with commas, e.g. nature, timelapse"),
      privacy.el,
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
      privacy.lock(locked);
    },
    meta() {
      return {
        title: title.value.trim(),
        description: description.value.trim(),
        tags: tagList(tags.value),
        privacy: privacy.value(),
      };
    },
  };
}
