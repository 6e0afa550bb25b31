// The upload page: choose a video (file picker or drag and drop), give it
// a title, description and tags, and watch it go: upload progress with
// speed and time left, then the encoding progress, then a link to the
// watch page. Choosing a file that was partly uploaded before resumes it.

import { api } from "../api.js";
import { h, icon, bytes, errorBox, sleep, isAbort, announce } from "../dom.js";
import { Upload, findResumable, looksLikeVideo } from "../uploader.js";

const pollMs = 1500;

export default async function uploadPage({ main, signal, setTitle }) {
  setTitle("Upload");
  let file = null;
  let resume = null;
  let busy = false;

  const input = h("input", { type: "file", id: "upload-file", class: "file-input", accept: "video/*" });
  const chosen = h("p", { class: "chosen", "aria-live": "polite" });
  const zone = h("div", { class: "dropzone" },
    icon("film"),
    h("p", {}, "Drag and drop a video file here, or"),
    input,
    h("label", { for: "upload-file", class: "button" }, "Choose a file"),
    chosen);
  const resumeNote = h("p", { class: "notice ok", hidden: true });
  const title = h("input", { type: "text", id: "upload-title", name: "title", required: true, maxlength: 200, autocomplete: "off" });
  const description = h("textarea", { id: "upload-description", name: "description", maxlength: 5000 });
  const tags = h("input", { type: "text", id: "upload-tags", name: "tags", autocomplete: "off", "aria-describedby": "upload-tags-hint" });
  const submit = h("button", { type: "submit", class: "button primary", id: "upload-submit" }, icon("upload"), h("span", {}, "Upload"));
  const cancel = h("button", { type: "button", class: "button", hidden: true }, "Cancel");
  const message = h("div", {});
  const status = h("section", { class: "status", "aria-label": "Upload status", hidden: true });

  const form = h("form", { novalidate: true },
    zone,
    resumeNote,
    h("div", { class: "field" }, h("label", { for: "upload-title" }, "Title"), title),
    h("div", { class: "field" }, h("label", { for: "upload-description" }, "Description"), description),
    h("div", { class: "field" },
      h("label", { for: "upload-tags" }, "Tags"), tags,
      h("span", { class: "hint", id: "upload-tags-hint" }, "Separate tags with commas, e.g. nature, timelapse")),
    h("div", { class: "actions" }, submit, cancel),
    message);
  main.append(h("div", { class: "upload" },
    h("h1", { class: "page-title" }, "Upload a video"), form, status));

  const fields = [title, description, tags];
  const setMessage = (node) => message.replaceChildren(...(node ? [node] : []));
  const submitLabel = (text) => submit.querySelector("span").replaceChildren(text);

  let autoTitle = "";
  async function choose(f) {
    if (busy) return;
    setMessage(null);
    await consider(f);
  }

  // consider makes f the file to upload, and finds out whether an
  // earlier upload of it can be resumed.
  async function consider(f) {
    resume = null;
    resumeNote.hidden = true;
    fields.forEach((el) => { el.disabled = false; });
    submitLabel("Upload");
    if (!f) return;
    if (!looksLikeVideo(f)) {
      file = null;
      chosen.textContent = "";
      setMessage(errorBox("That is not a video",
        `“${f.name}” is not a video file. Choose a video such as MP4, MOV, WebM or MKV.`));
      return;
    }
    file = f;
    chosen.textContent = `${f.name} (${bytes(f.size)})`;
    if (!title.value || title.value === autoTitle) {
      autoTitle = f.name.replace(/\.[^.]+$/, "").replace(/[_-]+/g, " ").trim();
      title.value = autoTitle;
    }
    try {
      resume = await findResumable(f, signal);
    } catch (err) {
      if (isAbort(err)) return;
      // Unknown whether it can resume; a fresh upload still works.
      resume = null;
    }
    if (resume && file === f) {
      const stored = [...resume.done].reduce((sum, n) =>
        sum + Math.min(f.size, n * resume.session.part_size) - (n - 1) * resume.session.part_size, 0);
      resumeNote.textContent = `You started uploading this file before: ${Math.floor((stored / f.size) * 100)}% ` +
        "is already stored. The upload continues from there, with the title and details given then.";
      resumeNote.hidden = false;
      fields.forEach((el) => { el.disabled = true; });
      submitLabel("Resume upload");
    }
  }

  input.addEventListener("change", () => choose(input.files[0] || null));
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (e) => {
      e.preventDefault();
      zone.classList.add("over");
    });
  }
  for (const type of ["dragleave", "drop"]) {
    zone.addEventListener(type, () => zone.classList.remove("over"));
  }
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    const f = e.dataTransfer?.files?.[0];
    if (f) choose(f);
  });

  // Leaving the page mid-upload would stop it: ask first.
  const guard = (e) => {
    if (busy) {
      e.preventDefault();
      e.returnValue = "";
    }
  };
  window.addEventListener("beforeunload", guard);
  signal.addEventListener("abort", () => window.removeEventListener("beforeunload", guard), { once: true });

  let run = null;
  cancel.addEventListener("click", () => run?.abort());

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (busy) return;
    setMessage(null);
    if (!file) {
      setMessage(errorBox("Choose a video first", "Pick a file with the button above, or drop one on it."));
      return;
    }
    if (!resume && !title.value.trim()) {
      setMessage(errorBox("Give the video a title", ""));
      title.focus();
      return;
    }
    busy = true;
    run = new AbortController();
    signal.addEventListener("abort", () => run.abort(), { once: true });
    submit.disabled = true;
    input.disabled = true;
    fields.forEach((el) => { el.disabled = true; });
    cancel.hidden = false;
    const view = progressView(status);
    view.uploading(file);
    const up = new Upload(file, {
      title: title.value.trim(),
      description: description.value.trim(),
      tags: tags.value.split(",").map((t) => t.trim()).filter(Boolean),
    }, { resume, signal: run.signal, onProgress: (p) => view.progress(p) });
    let video;
    try {
      video = await up.run();
    } catch (err) {
      busy = false;
      cancel.hidden = true;
      submit.disabled = false;
      input.disabled = false;
      if (signal.aborted) return;
      if (isAbort(err)) {
        view.hide();
        setMessage(h("p", { class: "notice", role: "status" },
          "Upload stopped. Choose the same file again to continue where it stopped."));
      } else {
        view.hide();
        const resumable = !!up.videoID;
        setMessage(errorBox(resumable ? "The upload stopped" : "The upload could not start", err,
          resumable ? h("p", {}, "Press “Resume upload” to continue where it stopped.") : null));
      }
      // The next try resumes what is stored.
      await consider(file);
      return;
    }
    busy = false;
    cancel.hidden = true;
    announce("Upload complete. The video is being processed.");
    await followEncoding(video, view, signal);
  });
}

// progressView draws the upload and encoding progress in status.
function progressView(status) {
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

async function followEncoding(v, view, signal) {
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
