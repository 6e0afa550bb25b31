// The captions of a video in its edit dialog: the languages it has, each
// with a button that deletes it, and a form that uploads a WebVTT or SRT
// file for a language (replacing the one it had). Each acts at once,
// apart from the dialog's Save.

import { ApiError, errorFromResponse, request, unreachable } from "./api.js";
import { h } from "./dom.js";
import { field, input, working } from "./forms.js";

const enc = encodeURIComponent;

// putCaption sends file as it is on disk: the server reads the format.
async function putCaption(id, language, label, file, signal) {
  let resp;
  try {
    resp = await fetch(`/api/v1/videos/${enc(id)}/captions/${enc(language)}?label=${enc(label)}`, {
      method: "PUT", signal, body: file,
      headers: { Accept: "application/json", "Content-Type": file.type || "text/plain" },
    });
  } catch (err) {
    if (err?.name === "AbortError") throw err;
    throw new ApiError(unreachable, { network: true });
  }
  if (!resp.ok) throw await errorFromResponse(resp);
  return resp.json();
}

// captionsEditor is the Captions section of the edit dialog of v.
export function captionsEditor(v, signal) {
  const list = h("ul", { class: "caption-list", "aria-label": "Captions" });
  const status = h("p", { class: "notice error", role: "alert", hidden: true });
  const say = (err) => {
    status.textContent = err ? err.message || String(err) : "";
    status.hidden = !err;
  };
  const file = input("caption-file", { type: "file", accept: ".vtt,.srt,text/vtt,application/x-subrip" });
  const language = input("caption-language", { autocomplete: "off", maxlength: 35, placeholder: "en", spellcheck: "false" });
  const label = input("caption-label", { autocomplete: "off", maxlength: 64, placeholder: "English" });
  const upload = h("button", { type: "button", class: "button", id: "caption-upload" }, "Upload captions");

  const show = (captions) => {
    list.replaceChildren(...captions.map((c) => {
      const remove = h("button", { type: "button", class: "button small", "aria-label": `Delete the ${c.label} captions` }, "Delete");
      remove.addEventListener("click", () => working(remove, "Deleting…", async () => {
        try {
          await request("DELETE", `/videos/${enc(v.id)}/captions/${enc(c.language)}`, { signal });
          say(null);
          await load();
        } catch (err) {
          if (err?.name !== "AbortError") say(err);
        }
      }));
      return h("li", { dataset: { language: c.language } },
        h("a", { href: c.url, target: "_blank", rel: "noopener" }, c.label), ` (${c.language}) `, remove);
    }));
    if (captions.length === 0) list.append(h("li", { class: "hint" }, "No captions yet."));
  };
  const load = async () => {
    try {
      show((await request("GET", `/videos/${enc(v.id)}/captions`, { signal })).captions);
    } catch (err) {
      if (err?.name !== "AbortError") say(err);
    }
  };
  upload.addEventListener("click", () => working(upload, "Uploading…", async () => {
    const f = file.files?.[0];
    if (!f || !language.value.trim()) {
      say(new Error("Choose a WebVTT or SRT file and give its language, like en or pt-BR."));
      return;
    }
    try {
      await putCaption(v.id, language.value.trim(), label.value.trim(), f, signal);
      say(null);
      file.value = "";
      language.value = "";
      label.value = "";
      await load();
    } catch (err) {
      if (err?.name !== "AbortError") say(err);
    }
  }));
  load();
  return h("fieldset", { class: "captions-editor" },
    h("legend", {}, "Captions"),
    list,
    field(file, "Caption file", "WebVTT or SRT, UTF-8, at most 2 MiB."),
    field(language, "Language", "A language tag, like en, fr or pt-BR."),
    field(label, "Label", "What the player's captions menu shows; the language tag when left empty."),
    upload, status);
}
