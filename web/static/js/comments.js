// The comments under a video on the watch page: its threads newest first,
// each with its replies (oldest first) on demand, a box to comment for a
// signed-in viewer, a sign-in link for a visitor, and a notice when the
// owner turned comments off. What a viewer may do with each comment
// (reply, edit, delete) comes from the API with it; moderators hide and
// restore comments here too. Every piece of a comment a person wrote goes
// into the page as text, never as HTML.

import { request } from "./api.js";
import { h, date, isAbort, announce, showMore } from "./dom.js";
import { modal } from "./dialog.js";
import { reportCommentButton, commentModerationButton } from "./report.js";

const enc = encodeURIComponent;
const maxChars = 5000;

const comments = {
  list: (videoID, cursor, signal) =>
    request("GET", `/videos/${enc(videoID)}/comments?limit=20` + (cursor ? `&cursor=${enc(cursor)}` : ""), { signal }),
  replies: (id, cursor, signal) =>
    request("GET", `/comments/${enc(id)}/replies?limit=20` + (cursor ? `&cursor=${enc(cursor)}` : ""), { signal }),
  post: (videoID, body, signal) => request("POST", `/videos/${enc(videoID)}/comments`, { body: { body }, signal }),
  reply: (id, body, signal) => request("POST", `/comments/${enc(id)}/replies`, { body: { body }, signal }),
  edit: (id, body, signal) => request("PATCH", `/comments/${enc(id)}`, { body: { body }, signal }),
  remove: (id, signal) => request("DELETE", `/comments/${enc(id)}`, { signal }),
};

// countWords spells a count of comments.
function countWords(n) {
  return n === 1 ? "1 comment" : `${(n || 0).toLocaleString()} comments`;
}

// commentsSection returns the comments of v as a section for the page,
// and loads them; refresh(v) shows them again after v changed (comments
// turned off or on).
export function commentsSection(v, page) {
  const el = h("section", { class: "comments", id: "comments", "aria-labelledby": "comments-heading" });
  const refresh = (video) => {
    el.replaceChildren();
    load(el, video, page);
  };
  refresh(v);
  return { el, refresh };
}

async function load(el, v, page) {
  const { signal, user } = page;
  const heading = h("h2", { id: "comments-heading" }, countWords(v.comments));
  const composer = h("div", { class: "comment-composer" });
  const list = h("ol", { class: "comment-list", id: "comment-list" });
  const more = h("div", { class: "more", id: "comments-more" });
  const said = h("p", { class: "muted", role: "status" });
  el.append(heading, composer, said, list, more);
  const state = { v, page, heading, said, total: v.comments || 0, canPost: false };

  let first;
  try {
    first = await comments.list(v.id, "", signal);
  } catch (err) {
    if (isAbort(err)) return;
    said.textContent = `Couldn't load the comments. ${err.message}`;
    return;
  }
  state.total = first.total;
  state.canPost = first.can_post;
  heading.textContent = countWords(first.total);
  if (first.comments_off) {
    composer.append(h("p", { class: "notice", id: "comments-off" }, "Comments are turned off for this video."));
  } else if (!user) {
    composer.append(h("p", { id: "comments-signin" },
      h("a", { href: "/signin?next=" + enc(location.pathname) }, "Sign in"), " to comment."));
  } else if (first.can_post) {
    composer.append(commentForm({
      id: "comment-form", label: "Add a comment", submit: "Comment", signal,
      send: (body) => comments.post(v.id, body, signal),
      done: (c) => {
        list.prepend(item(c, state));
        count(state, +1);
        announce("Comment posted.");
      },
    }));
  }
  const addPage = (resp) => {
    for (const c of resp.comments) list.append(item(c, state));
    return resp.next_cursor;
  };
  showMore(more, list, addPage(first), async (cursor) => addPage(await comments.list(v.id, cursor, signal)));
  if (!first.comments.length) said.textContent = first.comments_off ? "" : "No comments yet.";
}

// count moves the heading's count by n.
function count(state, n) {
  state.total = Math.max(0, state.total + n);
  state.heading.textContent = countWords(state.total);
  state.said.textContent = state.total ? "" : "No comments yet.";
}

// commentForm is a box to write a comment in, sent with send(body); done
// gets what the API answered. A refusal (too long, too fast, turned off)
// is said beside the box, and the text stays.
function commentForm({ id, label, submit, signal, send, done, value = "", cancel }) {
  const text = h("textarea", {
    id: id + "-body", name: "body", rows: 3, maxlength: maxChars, required: true, "aria-label": label,
    placeholder: label + "…",
  });
  text.value = value;
  const button = h("button", { type: "submit", class: "button primary", id: id + "-submit" }, submit);
  const said = h("p", { class: "muted", role: "status", id: id + "-said" });
  const actions = h("div", { class: "actions" }, button);
  const form = h("form", { class: "comment-form", id }, text, actions, said);
  if (cancel) {
    const back = h("button", { type: "button", class: "button", id: id + "-cancel" }, "Cancel");
    back.addEventListener("click", cancel);
    actions.prepend(back);
  }
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!text.value.trim()) {
      said.textContent = "Write something first.";
      return;
    }
    button.disabled = true;
    said.textContent = "";
    let c;
    try {
      c = await send(text.value);
    } catch (err) {
      button.disabled = false;
      if (!isAbort(err)) said.textContent = err.message;
      return;
    }
    button.disabled = false;
    text.value = "";
    done(c);
  });
  return form;
}

// item is one comment, with its replies when it starts a thread. A
// comment a moderator hid reads as a placeholder to most (the API sends
// it without author or body) and in the thread's place, so its replies
// still follow; its author and moderators read it whole, marked hidden
// with the moderator's reason.
function item(c, state, thread = null) {
  const { signal } = state.page;
  const body = h("p", { class: "comment-body" });
  const edited = h("span", { class: "comment-edited" });
  const meta = h("p", { class: "comment-meta" });
  const notice = h("p", { class: "comment-hidden-notice", role: "note" });
  const actions = h("div", { class: "comment-actions" });
  const slot = h("div", { class: "comment-slot" });
  const li = h("li", { class: "comment", id: "comment-" + c.id, dataset: { id: c.id } }, meta, notice, body, actions, slot);
  const top = !c.parent_id;
  // A reply to a reply joins its thread: it is posted to the thread's
  // top-level comment and shown at the end of its replies.
  const threadOf = top ? null : thread;

  let replies = null;
  if (top) {
    replies = threadReplies(c, state);
    li.append(replies.el);
  }

  // show puts c in the page as it now is, with what the viewer may do.
  const show = () => {
    const placeholder = c.hidden && !c.author;
    edited.textContent = c.edited_at && !placeholder ? " · edited" : "";
    meta.replaceChildren(
      placeholder
        ? h("span", { class: "comment-author muted" }, "Hidden comment")
        : h("a", { href: "/@" + enc(c.author.username), class: "comment-author" }, "@" + c.author.username),
      " · ", h("time", { datetime: c.created_at }, date(c.created_at)), edited);
    body.textContent = placeholder ? "This comment was hidden by a moderator." : c.body;
    body.classList.toggle("comment-placeholder", placeholder);
    li.classList.toggle("comment-hidden", !!c.hidden);
    li.dataset.hidden = c.hidden ? "true" : "false";
    notice.hidden = !(c.hidden && c.author);
    notice.replaceChildren();
    if (c.hidden && c.author) {
      notice.append("Hidden by a moderator: only its author and moderators see it. The reason given: ",
        h("strong", { class: "comment-hidden-reason", text: c.hidden_reason }));
    }
    actions.replaceChildren(...buttons());
  };

  const buttons = () => {
    const out = [];
    if (state.canPost && !c.hidden) {
      const reply = h("button", { type: "button", class: "button small comment-reply" }, "Reply");
      reply.addEventListener("click", () => {
        if (slot.firstChild) return;
        const form = commentForm({
          id: "reply-" + c.id, label: "Reply to @" + c.author.username, submit: "Reply", signal,
          send: (text) => comments.reply(c.id, text, signal),
          cancel: () => slot.replaceChildren(),
          done: (r) => {
            slot.replaceChildren();
            (top ? replies : threadOf).add(r);
            count(state, +1);
            announce("Reply posted.");
          },
        });
        slot.replaceChildren(form);
        form.querySelector("textarea").focus();
      });
      out.push(reply);
    }
    if (c.can_edit) {
      const edit = h("button", { type: "button", class: "button small comment-edit" }, "Edit");
      edit.addEventListener("click", () => {
        if (slot.firstChild) return;
        body.hidden = true;
        const form = commentForm({
          id: "edit-" + c.id, label: "Edit your comment", submit: "Save", signal, value: c.body,
          send: (text) => comments.edit(c.id, text, signal),
          cancel: () => {
            slot.replaceChildren();
            body.hidden = false;
          },
          done: (after) => {
            c = after;
            body.hidden = false;
            slot.replaceChildren();
            show();
            announce("Comment saved.");
          },
        });
        slot.replaceChildren(form);
        form.querySelector("textarea").focus();
      });
      out.push(edit);
    }
    if (c.can_delete) {
      const remove = h("button", { type: "button", class: "button small danger-quiet comment-delete" }, "Delete");
      remove.addEventListener("click", async () => {
        const gone = await modal({
          id: "delete-comment",
          title: "Delete this comment?",
          body: [h("p", {}, top && c.replies
            ? "The comment and its replies are removed for good."
            : "The comment is removed for good.")],
          submit: "Delete",
          danger: true,
          save: () => comments.remove(c.id, signal),
        });
        if (gone !== true) return;
        li.remove();
        count(state, -(1 + (top ? replies.count() : 0)));
        if (!top) threadOf?.removed();
        announce("Comment deleted.");
      });
      out.push(remove);
    }
    const report = reportCommentButton(c, state.page);
    if (report) out.push(report);
    const moderate = commentModerationButton(c, state.page, (after) => {
      c = after;
      show();
    });
    if (moderate) out.push(moderate);
    return out;
  };

  show();
  return li;
}

// threadReplies are the replies under the top-level comment c: a button
// shows them a page at a time; a reply posted here is added at the end.
function threadReplies(c, state) {
  const { signal } = state.page;
  let total = c.replies || 0;
  let loaded = false;
  const list = h("ol", { class: "comment-replies" });
  const more = h("div", { class: "more" });
  const toggle = h("button", { type: "button", class: "button small comment-show-replies" });
  const label = () => {
    toggle.textContent = total === 1 ? "View 1 reply" : `View ${total} replies`;
    toggle.hidden = loaded || total === 0;
  };
  const self = {
    el: h("div", { class: "comment-thread" }, toggle, list, more),
    count: () => total,
    add: (r) => {
      total++;
      if (loaded) {
        list.append(item(r, state, self));
        label();
      } else {
        // The thread opens, the new reply among its own.
        label();
        toggle.click();
      }
    },
    removed: () => {
      total = Math.max(0, total - 1);
      label();
    },
  };
  const addPage = (resp) => {
    for (const r of resp.comments) list.append(item(r, state, self));
    return resp.next_cursor;
  };
  toggle.addEventListener("click", async () => {
    toggle.disabled = true;
    let first;
    try {
      first = await comments.replies(c.id, "", signal);
    } catch (err) {
      toggle.disabled = false;
      if (!isAbort(err)) more.replaceChildren(h("p", { class: "notice error", role: "alert", text: err.message }));
      return;
    }
    loaded = true;
    label();
    showMore(more, list, addPage(first), async (cursor) => addPage(await comments.replies(c.id, cursor, signal)));
  });
  label();
  return self;
}
