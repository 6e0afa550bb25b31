// Webhooks, a section of the account page: the endpoints that receive the
// events of the user's videos (an admin's may receive every video's), with
// each one's delivery log, a test event, a new secret and removal. A
// secret is shown once, when it is made.

import { request } from "./api.js";
import { h, age, date, errorBox, isAbort, announce } from "./dom.js";
import { field, input, working, say } from "./forms.js";
import { copyField } from "./copy.js";
import { modal } from "./dialog.js";

const enc = encodeURIComponent;

const hooks = {
  list: (signal) => request("GET", "/webhooks", { signal }),
  create: (body, signal) => request("POST", "/webhooks", { body, signal }),
  remove: (id, signal) => request("DELETE", `/webhooks/${enc(id)}`, { signal }),
  deliveries: (id, signal) => request("GET", `/webhooks/${enc(id)}/deliveries?limit=20`, { signal }),
  test: (id, signal) => request("POST", `/webhooks/${enc(id)}/test`, { signal }),
  rotate: (id, signal) => request("POST", `/webhooks/${enc(id)}/rotate-secret`, { signal }),
};

const events = [
  { value: "video.ready", hint: "A video finished encoding and can be played." },
  { value: "video.failed", hint: "A video could not be encoded; the reason comes with it." },
  { value: "video.deleted", hint: "A video was deleted." },
  { value: "comment.created", hint: "Someone commented on a video." },
];

export function webhooksSection(user, signal) {
  const list = h("ul", { class: "rows", id: "webhooks", "aria-labelledby": "webhooks-title" });
  const listMessage = h("div", { class: "form-message" });
  const reveal = h("div", { id: "webhook-secret" });
  const reload = async () => {
    let resp;
    try {
      resp = await hooks.list(signal);
    } catch (err) {
      if (isAbort(err)) return;
      listMessage.replaceChildren(errorBox("Couldn't list your webhooks", err));
      return;
    }
    listMessage.replaceChildren();
    list.replaceChildren(...resp.webhooks.map((w) => row(w, signal, reveal)));
    if (!resp.webhooks.length) list.append(h("li", { class: "row muted" }, "No webhooks yet."));
  };
  reload();
  return h("section", { class: "panel", "aria-labelledby": "webhooks-title" },
    h("h2", { id: "webhooks-title" }, "Webhooks"),
    h("p", { class: "muted" },
      "CloudFlix sends a signed POST to each endpoint when something happens to your videos, and tries again ",
      "with growing waits until the endpoint answers 2xx. Check the CloudFlix-Signature header with the endpoint's secret."),
    list, listMessage,
    reveal,
    createForm(user, signal, reveal, reload));
}

function createForm(user, signal, reveal, reload) {
  const url = input("webhook-url", { type: "url", required: true, maxlength: 2048, autocomplete: "off",
    placeholder: "https://example.org/cloudflix-events" });
  const boxes = events.map((e) => ({ e, box: h("input", { type: "checkbox", id: `webhook-event-${e.value.replace(".", "-")}`, value: e.value, checked: true }) }));
  const all = user.role === "admin"
    ? h("input", { type: "checkbox", id: "webhook-all-videos" })
    : null;
  const submit = h("button", { type: "submit", class: "button", id: "webhook-create" }, "Add endpoint");
  const message = h("div", { class: "form-message" });
  const form = h("form", { class: "account-form" },
    h("h3", {}, "Add an endpoint"),
    field(url, "URL", "Where the events are sent: http or https, on a public address."),
    h("fieldset", { class: "field choice" }, h("legend", {}, "Events"),
      boxes.map(({ e, box }) => h("div", { class: "choice-option" },
        box, h("label", { for: box.id }, e.value), h("span", { class: "hint" }, e.hint)))),
    all && h("div", { class: "field choice" }, h("div", { class: "choice-option" }, all,
      h("label", { for: all.id }, "Every video"), h("span", { class: "hint" }, "The events of every user's videos, not only yours."))),
    h("div", { class: "actions" }, submit),
    message);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    say(message, null);
    const chosen = boxes.filter(({ box }) => box.checked).map(({ e }) => e.value);
    if (!chosen.length) {
      say(message, errorBox("Choose at least one event", ""));
      return;
    }
    let created;
    try {
      created = await working(submit, "Adding…", () =>
        hooks.create({ url: url.value.trim(), events: chosen, all_videos: !!all?.checked }, signal));
    } catch (err) {
      if (isAbort(err)) return;
      say(message, errorBox("Couldn't add the endpoint", err));
      return;
    }
    form.reset();
    boxes.forEach(({ box }) => { box.checked = true; });
    showSecret(reveal, created, "Endpoint added");
    reload();
  });
  return form;
}

// showSecret shows an endpoint's signing secret, the one time it is known.
function showSecret(reveal, { secret, webhook }, title) {
  const done = h("button", { type: "button", class: "button" }, "Done");
  const box = h("div", { class: "notice ok secret", role: "region", "aria-labelledby": "webhook-secret-title" },
    h("h3", { id: "webhook-secret-title", tabindex: "-1" }, `${title}: ${webhook.url}`),
    h("p", { class: "warning" }, h("strong", {}, "Copy the signing secret now: it is shown only this once. "),
      "Your endpoint checks each delivery's signature with it."),
    copyField(secret, { id: "webhook-secret-value", label: "The signing secret" }),
    h("div", { class: "actions" }, done));
  done.addEventListener("click", () => {
    reveal.replaceChildren();
    document.getElementById("webhook-url")?.focus();
  });
  reveal.replaceChildren(box);
  box.querySelector("h3").focus();
  announce("Copy the signing secret now: it is shown only this once.");
}

function row(w, signal, reveal) {
  const log = h("div", { class: "webhook-log", hidden: true });
  const toggle = h("button", { type: "button", class: "button", "aria-expanded": "false" }, "Deliveries");
  const test = h("button", { type: "button", class: "button" }, "Send test event");
  const rotate = h("button", { type: "button", class: "button" }, "New secret");
  const remove = h("button", { type: "button", class: "button", "aria-label": `Delete webhook ${w.url}` }, "Delete");
  const status = h("div", { class: "form-message", role: "status" });
  const li = h("li", { class: "row webhook", dataset: { webhookId: w.id } },
    h("div", { class: "row-main" },
      h("strong", { class: "webhook-url" }, w.url),
      h("span", { class: "scopes" }, w.events.map((e) => h("span", { class: "scope" }, e)),
        w.all_videos ? h("span", { class: "scope" }, "every video") : null),
      h("div", { class: "muted" }, `added ${date(w.created_at)}`),
      status, log),
    h("div", { class: "actions" }, toggle, test, rotate, remove));
  // While a delivery is pending, the open log looks again soon after its
  // next attempt is due (every 2 s at most, every minute at least).
  let again = 0;
  const showLog = async () => {
    clearTimeout(again);
    if (signal?.aborted || log.hidden) return;
    let resp;
    try {
      resp = await hooks.deliveries(w.id, signal);
    } catch (err) {
      if (isAbort(err)) return;
      log.replaceChildren(errorBox("Couldn't load the deliveries", err));
      return;
    }
    log.replaceChildren(resp.deliveries.length ? deliveryTable(resp.deliveries) : h("p", { class: "muted" }, "No deliveries yet."));
    const due = resp.deliveries.filter((d) => d.state === "pending").map((d) => Date.parse(d.next_attempt_at || "") || Date.now());
    if (due.length) again = setTimeout(showLog, Math.min(Math.max(Math.min(...due) - Date.now() + 500, 2000), 60000));
  };
  toggle.addEventListener("click", () => {
    const open = log.hidden;
    log.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    if (open) showLog();
  });
  test.addEventListener("click", async () => {
    try {
      await working(test, "Sending…", () => hooks.test(w.id, signal));
    } catch (err) {
      if (isAbort(err)) return;
      say(status, errorBox("Couldn't send a test event", err));
      return;
    }
    say(status, h("p", {}, "A test event is on its way; its delivery shows in the log."));
    log.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
    showLog();
  });
  rotate.addEventListener("click", async () => {
    let rotated = null;
    const ok = await modal({
      id: "rotate-webhook-secret",
      title: "Give this endpoint a new secret?",
      body: [h("p", {}, "Deliveries are signed with the new secret from now on; the old one signs nothing more.")],
      submit: "Make a new secret",
      save: async () => { rotated = await hooks.rotate(w.id, signal); },
    });
    if (ok && rotated) showSecret(reveal, rotated, "New secret");
  });
  remove.addEventListener("click", async () => {
    const gone = await modal({
      id: "delete-webhook",
      title: "Delete this endpoint?",
      body: [h("p", {}, `${w.url} receives no more events, and its delivery log goes with it.`)],
      submit: "Delete",
      danger: true,
      save: () => hooks.remove(w.id, signal),
    });
    if (!gone) return;
    const after = li.nextElementSibling || li.previousElementSibling;
    li.remove();
    (after?.querySelector("button") || document.getElementById("webhook-url"))?.focus();
    announce("Webhook deleted.");
  });
  return li;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "short", timeStyle: "medium" });

// timeOf is a moment to the second, as a retry is scheduled.
function timeOf(iso) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? "" : timeFormat.format(t);
}

function deliveryTable(deliveries) {
  return h("table", { class: "webhook-deliveries" },
    h("thead", {}, h("tr", {}, ["Event", "State", "Status", "Time", "Attempts", "Next try", "Error"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, deliveries.map((d) => h("tr", { dataset: { state: d.state } },
      h("td", {}, d.event_type, h("div", { class: "muted" }, age(d.created_at))),
      h("td", {}, d.state),
      h("td", {}, d.last_status ? String(d.last_status) : "–"),
      h("td", {}, d.attempts ? `${Math.round(d.last_latency_ms)} ms` : "–"),
      h("td", {}, String(d.attempts)),
      h("td", {}, d.state === "pending" && d.next_attempt_at ? timeOf(d.next_attempt_at) : "–"),
      h("td", { class: "webhook-error" }, d.last_error || "")))));
}
