// Who may watch a video: its privacy, in words, as a badge and as the
// choice of the upload page and the edit form.

import { h } from "./dom.js";

export const privacies = [
  { value: "public", label: "Public", hint: "Anyone can find and watch it." },
  { value: "unlisted", label: "Unlisted", hint: "Anyone with the link can watch it; it is not listed or searched." },
  { value: "private", label: "Private", hint: "Only you and the site's moderators can watch it." },
];

// privacyBadge marks a video that is not public; a public one gets none.
export function privacyBadge(v) {
  const p = privacies.find((x) => x.value === v.privacy);
  if (!p || p.value === "public") return null;
  return h("span", { class: `privacy-badge ${p.value}`, title: p.hint }, p.label);
}

// privacyChoice is a group of radio buttons named name, with value
// chosen; its value() is the chosen privacy.
export function privacyChoice(name, chosen = "public") {
  const radios = privacies.map((p) => h("input", {
    type: "radio", name, value: p.value, id: `${name}-${p.value}`, checked: p.value === chosen,
    "aria-describedby": `${name}-${p.value}-hint`,
  }));
  const el = h("fieldset", { class: "field choice" },
    h("legend", {}, "Who can watch"),
    privacies.map((p, i) => h("div", { class: "choice-option" },
      radios[i],
      h("label", { for: `${name}-${p.value}` }, p.label),
      h("span", { class: "hint", id: `${name}-${p.value}-hint` }, p.hint))));
  return {
    el,
    value: () => radios.find((r) => r.checked)?.value || "public",
    lock(locked) {
      for (const r of radios) r.disabled = locked;
    },
  };
}
