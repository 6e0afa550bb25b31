// The REST API client of the UI. Every failure becomes an ApiError whose
// message a person can read: the API's own error message when it sent
// one, plain words for a server that cannot be reached.

export class ApiError extends Error {
  constructor(message, { status = 0, code = "", network = false } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.network = network;
  }

  // temporary reports whether the same request may succeed later.
  get temporary() {
    return this.network || this.status >= 500 || this.status === 408 || this.status === 429;
  }
}

export const unreachable =
  "Can't reach the CloudFlix server. Check your connection and try again.";

// errorFromResponse reads an error answer: the API's JSON
// {"error":{"code","message"}}, storage's XML <Error>, or just the status.
export async function errorFromResponse(resp) {
  let text = "";
  try {
    text = await resp.text();
  } catch {
    // The body is lost with the connection; the status still says enough.
  }
  let message = "";
  let code = "";
  try {
    const body = JSON.parse(text);
    message = body?.error?.message || "";
    code = body?.error?.code || "";
  } catch {
    const m = /<Message>([^<]*)<\/Message>/.exec(text);
    if (m) message = m[1];
    const c = /<Code>([^<]*)<\/Code>/.exec(text);
    if (c) code = c[1];
  }
  if (!message) {
    message = resp.status >= 500
      ? "The server had a problem (HTTP " + resp.status + "). Please try again in a moment."
      : "The server refused the request (HTTP " + resp.status + ").";
  } else {
    message = message.charAt(0).toUpperCase() + message.slice(1);
  }
  return new ApiError(message, { status: resp.status, code });
}

// request calls the API and returns its decoded JSON (null for 204).
export async function request(method, path, { body, signal } = {}) {
  const init = { method, signal, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch("/api/v1" + path, init);
  } catch (err) {
    if (err?.name === "AbortError") throw err;
    throw new ApiError(unreachable, { network: true });
  }
  if (!resp.ok) throw await errorFromResponse(resp);
  if (resp.status === 204) return null;
  try {
    return await resp.json();
  } catch (err) {
    if (err?.name === "AbortError") throw err;
    throw new ApiError("The server sent an answer the page could not read.", { status: resp.status });
  }
}

const enc = encodeURIComponent;

export const api = {
  listVideos: (cursor, signal, limit = 24) =>
    request("GET", `/videos?limit=${limit}` + (cursor ? `&cursor=${enc(cursor)}` : ""), { signal }),
  video: (id, signal) => request("GET", `/videos/${enc(id)}`, { signal }),
  recordView: (id) => request("POST", `/videos/${enc(id)}/views`),
  search: (q, cursor, signal, limit = 24) =>
    request("GET", `/search?q=${enc(q)}&limit=${limit}` + (cursor ? `&cursor=${enc(cursor)}` : ""), { signal }),
  suggest: (q, signal) => request("GET", `/search/suggest?q=${enc(q)}&limit=8`, { signal }),
  createUpload: (body, signal) => request("POST", "/uploads", { body, signal }),
  upload: (id, signal) => request("GET", `/uploads/${enc(id)}`, { signal }),
  signParts: (id, partNumbers, signal) =>
    request("POST", `/uploads/${enc(id)}/parts/sign`, { body: { part_numbers: partNumbers }, signal }),
  listParts: (id, signal) => request("GET", `/uploads/${enc(id)}/parts`, { signal }),
  completeUpload: (id, signal) => request("POST", `/uploads/${enc(id)}/complete`, { signal }),
};
