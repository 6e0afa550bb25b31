// The REST API client of the UI. Every failure becomes an ApiError whose
// message a person can read: the API's own error message when it sent
// one, plain words for a server that cannot be reached.

export class ApiError extends Error {
  constructor(message, { status = 0, code = "", network = false, retryAfter = 0 } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.network = network;
    // retryAfter is how many seconds the server asked to wait (its
    // Retry-After), or 0 when it did not say.
    this.retryAfter = retryAfter;
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
  const retryAfter = retryAfterSeconds(resp.headers.get("Retry-After"));
  if (!message && resp.status === 429) {
    message = "Too many attempts.";
  }
  if (resp.status === 429 && retryAfter > 0) {
    // The wait in the header is the one to trust; the message's own words
    // for it give way to the local time.
    const at = new Date(Date.now() + retryAfter * 1000).toLocaleTimeString();
    message = message.replace(/[\s:;,.]*try again.*$/i, "").replace(/\.?$/, ".") +
      ` Try again in ${waitWords(retryAfter)} (at ${at}).`;
  }
  if (!message) {
    message = resp.status >= 500
      ? "The server had a problem (HTTP " + resp.status + "). Please try again in a moment."
      : "The server refused the request (HTTP " + resp.status + ").";
  } else {
    message = message.charAt(0).toUpperCase() + message.slice(1);
  }
  return new ApiError(message, { status: resp.status, code, retryAfter });
}

// retryAfterSeconds reads a Retry-After header: seconds, or an HTTP date.
function retryAfterSeconds(value) {
  if (!value) return 0;
  if (/^\d+$/.test(value.trim())) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? 0 : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

// waitWords spells a wait: "40 seconds", "3 minutes".
function waitWords(seconds) {
  if (seconds < 90) return seconds === 1 ? "1 second" : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minutes`;
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

const paged = (path, cursor, limit) =>
  `${path}${path.includes("?") ? "&" : "?"}limit=${limit}` + (cursor ? `&cursor=${enc(cursor)}` : "");

export const api = {
  listVideos: (cursor, signal, limit = 24) => request("GET", paged("/videos", cursor, limit), { signal }),
  trendingVideos: (cursor, signal, limit = 12) => request("GET", paged("/videos?sort=trending", cursor, limit), { signal }),
  video: (id, signal) => request("GET", `/videos/${enc(id)}`, { signal }),
  recordView: (id) => request("POST", `/videos/${enc(id)}/views`),
  likes: (id, signal) => request("GET", `/videos/${enc(id)}/like`, { signal }),
  like: (id, signal) => request("PUT", `/videos/${enc(id)}/like`, { signal }),
  unlike: (id, signal) => request("DELETE", `/videos/${enc(id)}/like`, { signal }),
  search: (q, cursor, signal, limit = 24) => request("GET", paged(`/search?q=${enc(q)}`, cursor, limit), { signal }),
  suggest: (q, signal) => request("GET", `/search/suggest?q=${enc(q)}&limit=8`, { signal }),
  createUpload: (body, signal) => request("POST", "/uploads", { body, signal }),
  upload: (id, signal) => request("GET", `/uploads/${enc(id)}`, { signal }),
  signParts: (id, partNumbers, signal) =>
    request("POST", `/uploads/${enc(id)}/parts/sign`, { body: { part_numbers: partNumbers }, signal }),
  listParts: (id, signal) => request("GET", `/uploads/${enc(id)}/parts`, { signal }),
  completeUpload: (id, signal) => request("POST", `/uploads/${enc(id)}/complete`, { signal }),
  updateVideo: (id, body, signal) => request("PATCH", `/videos/${enc(id)}`, { body, signal }),
  deleteVideo: (id, signal) => request("DELETE", `/videos/${enc(id)}`, { signal }),

  signInOptions: (signal) => request("GET", "/auth/options", { signal }),
  signUp: (body, signal) => request("POST", "/auth/signup", { body, signal }),
  signIn: (body, signal) => request("POST", "/auth/signin", { body, signal }),
  signOut: () => request("POST", "/auth/signout"),
  me: (signal) => request("GET", "/me", { signal }),
  changePassword: (body, signal) => request("POST", "/me/password", { body, signal }),
  sessions: (signal) => request("GET", "/me/sessions", { signal }),
  revokeSession: (id, signal) => request("DELETE", `/me/sessions/${enc(id)}`, { signal }),
  tokens: (signal) => request("GET", "/me/tokens", { signal }),
  createToken: (body, signal) => request("POST", "/me/tokens", { body, signal }),
  revokeToken: (id, signal) => request("DELETE", `/me/tokens/${enc(id)}`, { signal }),
  myVideos: (cursor, signal, limit = 24) => request("GET", paged("/me/videos", cursor, limit), { signal }),
  user: (username, signal) => request("GET", `/users/${enc(username)}`, { signal }),
  userVideos: (username, cursor, signal, limit = 24) =>
    request("GET", paged(`/users/${enc(username)}/videos`, cursor, limit), { signal }),

  users: (cursor, signal, limit = 50) => request("GET", paged("/admin/users", cursor, limit), { signal }),
  createUser: (body, signal) => request("POST", "/admin/users", { body, signal }),
  updateUser: (id, body, signal) => request("PATCH", `/admin/users/${enc(id)}`, { body, signal }),
  createInvite: (signal) => request("POST", "/invites", { signal }),

  report: (body, signal) => request("POST", "/reports", { body, signal }),
  reportCases: (cursor, signal, limit = 20) => request("GET", paged("/moderation/reports", cursor, limit), { signal }),
  hideVideo: (id, reason, signal) => request("POST", `/moderation/videos/${enc(id)}/hide`, { body: { reason }, signal }),
  restoreVideo: (id, reason, signal) => request("POST", `/moderation/videos/${enc(id)}/restore`, { body: { reason }, signal }),
  hideComment: (id, reason, signal) => request("POST", `/moderation/comments/${enc(id)}/hide`, { body: { reason }, signal }),
  restoreComment: (id, reason, signal) => request("POST", `/moderation/comments/${enc(id)}/restore`, { body: { reason }, signal }),
  dismissReports: (kind, id, reason, signal) =>
    request("POST", `/moderation/${kind === "comment" ? "comments" : "videos"}/${enc(id)}/dismiss`, { body: { reason }, signal }),
  auditLog: (cursor, signal, limit = 50) => request("GET", paged("/admin/audit", cursor, limit), { signal }),
};
