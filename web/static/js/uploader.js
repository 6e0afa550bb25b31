// The browser side of the upload protocol: the file's bytes go straight
// to object storage in parts, never through CloudFlix's servers.
//
//   POST /uploads                 open a session (the video is created)
//   POST /uploads/{id}/parts/sign presigned PUT URLs, a batch at a time
//   PUT  each part to its URL     4 at a time, each retried with backoff
//   POST /uploads/{id}/complete   the video moves on to encoding
//
// Each URL takes exactly its part's length, and each PUT carries the
// part's Content-MD5, so storage keeps a part only whole: one cut short
// (a closed tab, a lost network) is refused, not kept filled with zeros.
//
// A session is remembered in localStorage under the file's name, size and
// modification time, so choosing the same file again (after a closed tab
// or a lost network) resumes from the parts storage already holds
// (GET /uploads/{id}/parts), which are whole when their size is.

import { api, ApiError, errorFromResponse, unreachable } from "./api.js";
import { sleep } from "./dom.js";
import { contentMD5 } from "./md5.js";

const parallel = 4;
const signBatch = 16;
const maxAttempts = 8;
// A URL that expires within this margin is signed again before use.
const expiryMargin = 60_000;

const storePrefix = "cloudflix.upload:";

export function fileKey(file) {
  return `${storePrefix}${file.name}:${file.size}:${file.lastModified}`;
}

function remembered(file) {
  try {
    return JSON.parse(localStorage.getItem(fileKey(file)) || "null");
  } catch {
    return null;
  }
}

function remember(file, videoID) {
  try {
    localStorage.setItem(fileKey(file), JSON.stringify({ video_id: videoID, at: Date.now() }));
  } catch {
    // Without storage the upload works; it just cannot resume.
  }
}

export function forget(file) {
  try {
    localStorage.removeItem(fileKey(file));
  } catch {
    // Nothing was stored.
  }
}

// contentType is the file's media type, from the browser or else from
// its extension (some systems give none for .mkv or .ts).
const byExtension = {
  mp4: "video/mp4", m4v: "video/mp4", mov: "video/quicktime", webm: "video/webm",
  mkv: "video/x-matroska", avi: "video/x-msvideo", mpg: "video/mpeg", mpeg: "video/mpeg",
  ts: "video/mp2t", m2ts: "video/mp2t", ogv: "video/ogg", "3gp": "video/3gpp", flv: "video/x-flv",
};

export function contentType(file) {
  if (file.type) return file.type;
  const ext = file.name.includes(".") ? file.name.split(".").pop().toLowerCase() : "";
  return byExtension[ext] || "";
}

// looksLikeVideo is the check made before anything is sent; the server
// checks the type again, and the encoder finds out what the bytes are.
export function looksLikeVideo(file) {
  return contentType(file).startsWith("video/");
}

function partRange(n, partSize, size) {
  const start = (n - 1) * partSize;
  return [start, Math.min(size, start + partSize)];
}

// storedBytes is how much of file the parts of resume (from
// findResumable) hold.
export function storedBytes(file, { session, done }) {
  let sum = 0;
  for (const n of done) {
    const [start, end] = partRange(n, session.part_size, file.size);
    sum += end - start;
  }
  return sum;
}

// findResumable returns the remembered session of file and the parts that
// storage already holds in full, or null when there is nothing to resume.
export async function findResumable(file, signal) {
  const saved = remembered(file);
  if (!saved?.video_id) return null;
  let session;
  try {
    session = await api.upload(saved.video_id, signal);
  } catch (err) {
    if (err instanceof ApiError && err.status >= 400 && err.status < 500) {
      // Completed, aborted or expired: nothing to resume.
      forget(file);
      return null;
    }
    throw err;
  }
  if (session.size_bytes !== file.size || session.part_size <= 0) {
    forget(file);
    return null;
  }
  const { parts } = await api.listParts(session.video_id, signal);
  const done = new Set();
  for (const p of parts) {
    const [start, end] = partRange(p.part_number, session.part_size, file.size);
    // A part cut short is sent again; the new one replaces it.
    if (p.part_number >= 1 && p.part_number <= session.part_count && p.size_bytes === end - start) {
      done.add(p.part_number);
    }
  }
  return { session, done };
}

// Upload sends file, resuming when `resume` (from findResumable) is given.
// onProgress gets {sent, total, speed (bytes/s), eta (s), state} as bytes
// go out; state is "sending", "retrying" or "offline".
export class Upload {
  constructor(file, meta, { resume = null, onProgress = () => {}, signal } = {}) {
    this.file = file;
    this.meta = meta;
    this.resume = resume;
    this.onProgress = onProgress;
    // One part failing for good stops the others: what is stored stays
    // for a resume.
    this.stop = new AbortController();
    signal?.addEventListener("abort", () => this.stop.abort(signal.reason), { once: true });
    this.signal = this.stop.signal;
    this.inFlight = new Map(); // part number -> bytes sent so far
    this.stored = 0; // bytes of parts storage holds
    this.samples = []; // [time, sent] for the speed
    this.urls = new Map(); // part number -> {url, expires}
  }

  // run returns the video once the upload is complete.
  async run() {
    const { file, signal } = this;
    signal.throwIfAborted();
    let session;
    let done = new Set();
    if (this.resume) {
      ({ session, done } = this.resume);
    } else {
      session = await api.createUpload({
        title: this.meta.title,
        description: this.meta.description,
        tags: this.meta.tags,
        privacy: this.meta.privacy,
        filename: file.name,
        content_type: contentType(file),
        size_bytes: file.size,
      }, signal);
      remember(file, session.video_id);
    }
    this.videoID = session.video_id;
    this.stored = storedBytes(file, { session, done });
    this.report("sending");
    const todo = [];
    for (let n = 1; n <= session.part_count; n++) {
      if (!done.has(n)) todo.push(n);
    }
    await this.sendParts(session, todo);
    const video = await this.withRetries(() => api.completeUpload(session.video_id, signal));
    forget(file);
    return video;
  }

  // sendParts sends the parts numbered in todo, `parallel` of them at
  // once; one that fails for good stops the others.
  async sendParts(session, todo) {
    const { signal } = this;
    let next = 0;
    const worker = async () => {
      while (next < todo.length && !signal.aborted) {
        const n = todo[next++];
        await this.sendPart(session, n, todo.slice(next - 1, next - 1 + signBatch));
      }
    };
    const workers = [];
    for (let i = 0; i < Math.min(parallel, todo.length); i++) workers.push(worker());
    try {
      await Promise.all(workers);
    } catch (err) {
      this.stop.abort();
      throw err;
    }
    signal.throwIfAborted();
  }

  // sendPart PUTs part n, retrying with backoff; batch are the parts
  // that will be needed soon, signed together with n.
  async sendPart(session, n, batch) {
    const [start, end] = partRange(n, session.part_size, this.file.size);
    const blob = this.file.slice(start, end);
    const md5 = await contentMD5(blob);
    for (let attempt = 0; ; attempt++) {
      try {
        const url = await this.urlFor(session.video_id, n, batch);
        await this.put(url, blob, n, md5);
        this.inFlight.delete(n);
        this.stored += end - start;
        this.report("sending");
        return;
      } catch (err) {
        this.inFlight.delete(n);
        const again = (err.temporary ?? true) || err.status === 403;
        if (err.name === "AbortError" || !again || attempt + 1 >= maxAttempts) throw err;
        // Storage's error answers carry no CORS headers, so an expired
        // URL looks like a network failure: sign again to be sure.
        this.urls.delete(n);
        if (!navigator.onLine) {
          this.report("offline");
          await waitOnline(this.signal);
        } else {
          this.report("retrying");
          // A busy server (429) says how long to wait; more parts at once
          // would only be refused again.
          await sleep(Math.max(backoff(attempt), (err.retryAfter || 0) * 1000), this.signal);
        }
      }
    }
  }

  async urlFor(videoID, n, batch) {
    const known = this.urls.get(n);
    if (known && known.expires - Date.now() > expiryMargin) return known.url;
    const wanted = batch.filter((m) => {
      const u = this.urls.get(m);
      return m === n || !u || u.expires - Date.now() <= expiryMargin;
    });
    const { parts } = await api.signParts(videoID, wanted, this.signal);
    for (const p of parts) this.urls.set(p.part_number, { url: p.url, expires: Date.parse(p.expires_at) });
    const got = this.urls.get(n);
    if (!got) throw new ApiError("The server did not sign part " + n + ".", { status: 500 });
    return got.url;
  }

  // put sends one part with XMLHttpRequest, whose upload progress events
  // fetch() does not have, with md5 as its Content-MD5.
  put(url, blob, n, md5) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", url);
      xhr.setRequestHeader("Content-MD5", md5);
      xhr.upload.onprogress = (e) => {
        this.inFlight.set(n, e.loaded);
        this.report("sending");
      };
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) return resolve();
        const resp = new Response(xhr.responseText, { status: xhr.status });
        errorFromResponse(resp).then(reject);
      };
      xhr.onerror = () => reject(new ApiError(unreachable.replace("CloudFlix server", "storage server"), { network: true }));
      xhr.ontimeout = xhr.onerror;
      const onAbort = () => xhr.abort();
      xhr.onabort = () => reject(new DOMException("upload cancelled", "AbortError"));
      this.signal?.addEventListener("abort", onAbort, { once: true });
      xhr.onloadend = () => this.signal?.removeEventListener("abort", onAbort);
      xhr.send(blob);
    });
  }

  // withRetries runs an idempotent call until it succeeds or fails for good.
  async withRetries(call) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        if (err.name === "AbortError" || !err.temporary || attempt + 1 >= maxAttempts) throw err;
        await sleep(backoff(attempt), this.signal);
      }
    }
  }

  report(state) {
    let sent = this.stored;
    for (const b of this.inFlight.values()) sent += b;
    const now = performance.now();
    this.samples.push([now, sent]);
    // Speed over the last few seconds: steady, yet quick to follow a change.
    while (this.samples.length > 2 && now - this.samples[0][0] > 5000) this.samples.shift();
    const [t0, s0] = this.samples[0];
    const speed = now - t0 > 500 ? ((sent - s0) * 1000) / (now - t0) : 0;
    const total = this.file.size;
    const eta = speed > 0 ? (total - sent) / speed : Infinity;
    this.onProgress({ sent, total, speed, eta, state });
  }
}

// backoff is the wait before retry number attempt (0-based): exponential,
// capped, with jitter so that parts that failed together do not retry
// together.
function backoff(attempt) {
  const d = Math.min(15000, 500 * 2 ** attempt);
  return d / 2 + Math.random() * (d / 2);
}

function waitOnline(signal) {
  return new Promise((resolve, reject) => {
    if (navigator.onLine) return resolve();
    const done = () => {
      window.removeEventListener("online", done);
      signal?.removeEventListener("abort", stop);
      resolve();
    };
    const stop = () => {
      window.removeEventListener("online", done);
      reject(new DOMException("aborted", "AbortError"));
    };
    window.addEventListener("online", done);
    signal?.addEventListener("abort", stop, { once: true });
  });
}
