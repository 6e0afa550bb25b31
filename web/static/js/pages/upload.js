// The upload page, for a signed-in user, who owns what they upload:
// choose a video (file picker or drag and drop), give it a title,
// description, tags and privacy, and watch it go: upload progress with
// speed and time left, then the encoding progress, then a link to the
// watch page. Choosing a file that was partly uploaded before resumes it.
// Each part of the page is a controller of its own, in upload/; this
// module lays them out and carries the page from one step to the next.

import { h, icon, errorBox, isAbort, announce } from "../dom.js";
import { requireUser } from "../forms.js";
import { Upload, looksLikeVideo } from "../uploader.js";
import { filePicker } from "./upload/picker.js";
import { detailsFields } from "./upload/details.js";
import { resumeOffer } from "./upload/resume.js";
import { progressView, followEncoding } from "./upload/progress.js";

export default async function uploadPage({ main, signal, setTitle }) {
  setTitle("Upload");
  if (!await requireUser(main, "Sign in to upload",
    "Videos belong to the account that uploads them. Sign in, or create an account, to upload one.")) return;
  const submit = h("button", { type: "submit", class: "button primary", id: "upload-submit" }, icon("upload"), h("span", {}, "Upload"));
  const cancel = h("button", { type: "button", class: "button", hidden: true }, "Cancel");
  const message = h("div", {});
  const page = {
    signal,
    picker: filePicker((f) => choose(page, f)),
    offer: resumeOffer(signal),
    details: detailsFields(),
    submit,
    cancel,
    status: h("section", { class: "status", "aria-label": "Upload status", hidden: true }),
    say: (node) => message.replaceChildren(...(node ? [node] : [])),
    file: null, // the file to upload
    resume: null, // its earlier upload, to continue
    run: null, // the upload under way, while there is one
  };
  const form = h("form", { novalidate: true },
    page.picker.el, page.offer.el, page.details.el, h("div", { class: "actions" }, submit, cancel), message);
  main.append(h("div", { class: "upload" },
    h("h1", { class: "page-title" }, "Upload a video"), form, page.status));
  cancel.addEventListener("click", () => page.run?.abort());
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    send(page);
  });
  // Leaving the page mid-upload would stop it: ask first.
  const guard = (e) => {
    if (page.run) {
      e.preventDefault();
      e.returnValue = "";
    }
  };
  window.addEventListener("beforeunload", guard);
  signal.addEventListener("abort", () => window.removeEventListener("beforeunload", guard), { once: true });
}

function choose(page, f) {
  if (page.run) return;
  page.say(null);
  consider(page, f);
}

// consider makes f the file to upload, and finds out whether an earlier
// upload of it can be resumed.
async function consider(page, f) {
  page.resume = null;
  page.offer.hide();
  page.details.lock(false);
  submitLabel(page, "Upload");
  if (!f) return;
  if (!looksLikeVideo(f)) {
    page.file = null;
    page.picker.show(null);
    page.say(errorBox("That is not a video",
      `“${f.name}” is not a video file. Choose a video such as MP4, MOV, WebM or MKV.`));
    return;
  }
  page.file = f;
  page.picker.show(f);
  page.details.nameAfter(f);
  const resume = await page.offer.find(f);
  // Another file may have been chosen meanwhile.
  if (!resume || page.file !== f) return;
  page.resume = resume;
  page.offer.show(f, resume);
  page.details.lock(true);
  submitLabel(page, "Resume upload");
}

function submitLabel(page, text) {
  page.submit.querySelector("span").replaceChildren(text);
}

// send uploads the chosen file, then follows its encoding.
async function send(page) {
  if (page.run) return;
  page.say(null);
  const { file, details, signal } = page;
  if (!file) {
    page.say(errorBox("Choose a video first", "Pick a file with the button above, or drop one on it."));
    return;
  }
  if (!page.resume && !details.meta().title) {
    page.say(errorBox("Give the video a title", ""));
    details.title.focus();
    return;
  }
  const run = new AbortController();
  page.run = run;
  signal.addEventListener("abort", () => run.abort(), { once: true });
  lockForm(page, true);
  details.lock(true);
  const view = progressView(page.status);
  view.uploading(file);
  const up = new Upload(file, details.meta(), { resume: page.resume, signal: run.signal, onProgress: (p) => view.progress(p) });
  let video;
  try {
    video = await up.run();
  } catch (err) {
    page.run = null;
    lockForm(page, false);
    if (signal.aborted) return;
    view.hide();
    page.say(stopped(err, !!up.videoID));
    // The next try resumes what is stored.
    await consider(page, file);
    return;
  }
  page.run = null;
  page.cancel.hidden = true;
  announce("Upload complete. The video is being processed.");
  await followEncoding(video, view, signal);
}

// lockForm keeps the file and the submit button as they are while an
// upload runs, which only Cancel can stop.
function lockForm(page, locked) {
  page.submit.disabled = locked;
  page.picker.lock(locked);
  page.cancel.hidden = !locked;
}

// stopped says why an upload stopped; begun is whether it has a video to
// resume.
function stopped(err, begun) {
  if (isAbort(err)) {
    return h("p", { class: "notice", role: "status" },
      "Upload stopped. Choose the same file again to continue where it stopped.");
  }
  return errorBox(begun ? "The upload stopped" : "The upload could not start", err,
    begun ? h("p", {}, "Press “Resume upload” to continue where it stopped.") : null);
}
