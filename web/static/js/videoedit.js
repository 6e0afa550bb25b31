// Editing and deleting a video, for its owner and moderators: the dialogs
// of My videos and of the watch page.

import { api } from "./api.js";
import { h } from "./dom.js";
import { field, input, tagList } from "./forms.js";
import { modal } from "./dialog.js";
import { privacyChoice } from "./privacy.js";
import { captionsEditor } from "./captions.js";

// editVideo asks for v's new title, description, tags, privacy and whether
// it takes comments, and resolves to the changed video, or to null when
// nothing was saved.
export function editVideo(v, signal) {
  const title = input("edit-title", { required: true, maxlength: 200, autocomplete: "off", value: v.title });
  const description = h("textarea", { id: "edit-description", name: "description", maxlength: 5000 });
  description.value = v.description || "";
  const tags = input("edit-tags", { autocomplete: "off", value: (v.tags || []).join(", ") });
  const privacy = privacyChoice("edit-privacy", v.privacy);
  const allowComments = h("input", { type: "checkbox", id: "edit-comments", name: "comments", checked: !v.comments_off });
  return modal({
    id: "edit-video",
    title: "Edit video",
    body: [
      field(title, "Title"),
      field(description, "Description"),
      field(tags, "Tags", "Separate tags with commas."),
      privacy.el,
      h("div", { class: "field check" }, allowComments,
        h("label", { for: "edit-comments" }, "Allow comments"),
        h("span", { class: "hint" }, "Turned off, the comments already here stay readable and no new ones are taken.")),
      captionsEditor(v, signal),
    ],
    submit: "Save",
    save: () => api.updateVideo(v.id, {
      title: title.value.trim(),
      description: description.value.trim(),
      tags: tagList(tags.value),
      privacy: privacy.value(),
      comments_off: !allowComments.checked,
    }, signal),
  });
}

// deleteVideo asks whether to delete v, and does: it resolves to true
// once v is deleted.
export async function deleteVideo(v, signal) {
  const done = await modal({
    id: "delete-video",
    title: `Delete “${v.title}”?`,
    body: [h("p", {}, "The video, its encodings and its images are removed for good, and its links stop working. This can't be undone.")],
    submit: "Delete",
    danger: true,
    save: () => api.deleteVideo(v.id, signal),
  });
  return done === true;
}
