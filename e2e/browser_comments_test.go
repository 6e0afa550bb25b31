package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
)

// The browser test's step about comments: a signed-in user comments on a
// video, replies, edits and deletes on its watch page; a visitor reads the
// comments with a link to sign in; the video's owner turns comments off
// (the comments stay, new ones are refused) and on again, and removes a
// comment of someone else's.

// commentCount is a page's check of the comments' heading.
func commentCount(words string) string {
	return `document.getElementById("comments-heading")?.textContent === ` + jsString(words)
}

// firstComment is the script of the first top-level comment on the page.
const firstComment = `document.querySelector("#comment-list > li.comment")`

// postJSON sends body as JSON from the tab's page and returns the answer.
func (tb *tab) postJSON(path, body string) (int, []byte) {
	tb.t.Helper()
	type answer struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	a := evalJS[answer](tb, `fetch(`+jsString(path)+`, {method: "POST", headers: {"Content-Type": "application/json"}, body: `+jsString(body)+`})
		.then(async (r) => ({status: r.status, body: await r.text()}))`, chromedp.EvalAwaitPromise)
	return a.Status, []byte(a.Body)
}

// setCommentsOff turns the video's comments off or on through its edit
// form on the watch page of tb, its owner.
func (tb *tab) setCommentsOff(off bool) {
	tb.t.Helper()
	tb.do("open the edit form", chromedp.Click(chromedp.ID("video-edit")))
	tb.wait("the edit form with the comments box", `document.getElementById("edit-comments") !== null`, uiWait)
	if evalJS[bool](tb, `document.getElementById("edit-comments").checked`) == off {
		tb.do("flip Allow comments", chromedp.Click(chromedp.ID("edit-comments")))
	}
	tb.do("save", chromedp.Click(chromedp.ID("edit-video-submit")))
	tb.wait("the form closed", `document.getElementById("edit-video") === null`, uiWait)
}

func browserComments(t *testing.T, browser context.Context, pf *platform, shots, id string) {
	pf.newUser(t, "cora")
	separate := chromedp.WithNewBrowserContext()
	commenter, visitor := openTab(t, browser, pf.base, shots, separate), openTab(t, browser, pf.base, shots, separate)
	owner := openTab(t, browser, pf.base, shots)
	watch := pf.base + "/watch/" + id

	// Markup in a comment is text, shown as typed.
	const said = "Lovely <b>sunrise</b> & colours"
	commenter.signIn("cora", "password of cora")
	commenter.do("open the watch page", chromedp.Navigate(watch))
	commenter.wait("the comment box", `document.getElementById("comment-form-body") !== null && `+commentCount("0 comments"), uiWait)
	commenter.do("write a comment", chromedp.SendKeys(chromedp.ID("comment-form-body"), said),
		chromedp.Click(chromedp.ID("comment-form-submit")))
	commenter.wait("the comment heads the list, as text", `(() => {
		const c = `+firstComment+`;
		return c?.querySelector(".comment-body")?.textContent === `+jsString(said)+` &&
			c.querySelector(".comment-body b") === null && c.querySelector(".comment-author")?.textContent === "@cora";
	})() && `+commentCount("1 comment"), uiWait)
	cid := evalJS[string](commenter, firstComment+`.dataset.id`)

	commenter.do("reply to it", chromedp.Click(chromedp.CSS(`#comment-`+cid+` .comment-reply`)))
	commenter.wait("the reply box", `document.getElementById("reply-`+cid+`-body") !== null`, uiWait)
	commenter.do("write the reply", chromedp.SendKeys(chromedp.ID("reply-"+cid+"-body"), "And the birds"),
		chromedp.Click(chromedp.ID("reply-"+cid+"-submit")))
	commenter.wait("the reply shows under the comment", `[...document.querySelectorAll("#comment-`+cid+` .comment-replies .comment-body")]
		.some((b) => b.textContent === "And the birds") && `+commentCount("2 comments"), uiWait)

	commenter.do("edit the comment", chromedp.Click(chromedp.CSS(`#comment-`+cid+` > .comment-actions .comment-edit`)))
	commenter.wait("the edit box holds the comment", `document.getElementById("edit-`+cid+`-body")?.value === `+jsString(said), uiWait)
	commenter.do("rewrite it", chromedp.Evaluate[chromedp.Void](`document.getElementById("edit-`+cid+`-body").value = ""`),
		chromedp.SendKeys(chromedp.ID("edit-"+cid+"-body"), "Lovely sunrise, edited"),
		chromedp.Click(chromedp.ID("edit-"+cid+"-submit")))
	commenter.wait("the comment reads as edited", `(() => {
		const c = document.getElementById("comment-`+cid+`");
		return c !== null && c.querySelector(":scope > .comment-body").textContent === "Lovely sunrise, edited" &&
			c.querySelector(":scope > .comment-meta .comment-edited").textContent.includes("edited");
	})()`, uiWait)
	commenter.screenshot("watch-comments")

	// A visitor reads the comments and the reply, may change none, and
	// is offered to sign in.
	visitor.do("the visitor opens the watch page", chromedp.Navigate(watch))
	visitor.wait("the visitor sees the comment and a sign-in link", `(() => {
		const c = `+firstComment+`;
		return c?.querySelector(".comment-body")?.textContent === "Lovely sunrise, edited" &&
			document.querySelector("#comments-signin a")?.getAttribute("href").startsWith("/signin?next=") &&
			document.getElementById("comment-form") === null &&
			document.querySelector(".comment-reply, .comment-edit, .comment-delete") === null;
	})() && `+commentCount("2 comments"), uiWait)
	visitor.do("show the replies", chromedp.Click(chromedp.CSS(`#comment-`+cid+` .comment-show-replies`)))
	visitor.wait("the visitor reads the reply", `document.querySelector("#comment-`+cid+` .comment-replies .comment-body")?.textContent === "And the birds"`, uiWait)
	visitor.screenshot("watch-comments-visitor")
	if code, body := visitor.postJSON("/api/v1/videos/"+id+"/comments", `{"body":"anonymous"}`); code != http.StatusUnauthorized {
		t.Errorf("a visitor's comment = %d %s, want 401", code, body)
	}

	// The commenter deletes the reply.
	commenter.do("delete the reply", chromedp.Click(chromedp.CSS(`#comment-`+cid+` .comment-replies .comment-delete`)))
	commenter.wait("the question", `document.getElementById("delete-comment")?.open === true`, uiWait)
	commenter.do("confirm", chromedp.Click(chromedp.ID("delete-comment-submit")))
	commenter.wait("the reply is gone", `document.querySelector("#comment-`+cid+` .comment-replies .comment") === null && `+commentCount("1 comment"), uiWait)

	// The owner may remove the comment but not edit it; they turn comments
	// off: the comment stays, new ones are refused.
	owner.do("the owner opens the watch page", chromedp.Navigate(watch))
	owner.wait("the owner may delete the comment, not edit it", `(() => {
		const c = document.getElementById("comment-`+cid+`");
		return c !== null && c.querySelector(":scope > .comment-actions .comment-delete") !== null &&
			c.querySelector(":scope > .comment-actions .comment-edit") === null;
	})()`, uiWait)
	owner.setCommentsOff(true)
	owner.wait("the page says comments are off", `document.getElementById("comments-off") !== null && document.getElementById("comment-form") === null`, uiWait)
	if v := owner.commentsOf(id); !v.CommentsOff || v.Comments != 1 {
		t.Errorf("after turning comments off the video's JSON says %+v, want off with 1 comment", v)
	}
	commenter.do("reload", chromedp.Reload())
	commenter.wait("the commenter reads the comment, and that comments are off", `document.getElementById("comments-off") !== null &&
		document.getElementById("comment-form") === null && document.getElementById("comment-`+cid+`") !== null`, uiWait)
	commenter.screenshot("watch-comments-off")
	if code, body := commenter.postJSON("/api/v1/videos/"+id+"/comments", `{"body":"still here?"}`); code != http.StatusConflict {
		t.Errorf("a comment while they are off = %d %s, want 409", code, body)
	}
	owner.setCommentsOff(false)
	owner.wait("the comment box is back", `document.getElementById("comment-form") !== null`, uiWait)

	owner.do("the owner deletes the comment", chromedp.Click(chromedp.CSS(`#comment-`+cid+` > .comment-actions .comment-delete`)))
	owner.wait("the question", `document.getElementById("delete-comment")?.open === true`, uiWait)
	owner.do("confirm", chromedp.Click(chromedp.ID("delete-comment-submit")))
	owner.wait("no comment is left", `document.getElementById("comment-`+cid+`") === null && `+commentCount("0 comments"), uiWait)
	if v := owner.commentsOf(id); v.CommentsOff || v.Comments != 0 {
		t.Errorf("at the end the video's JSON says %+v, want on with no comments", v)
	}
}

// videoComments is what the step reads of a video's JSON.
type videoComments struct {
	Comments    int64 `json:"comments"`
	CommentsOff bool  `json:"comments_off"`
}

// commentsOf is the video's count of comments and whether they are off,
// as the API tells the tab's user.
func (tb *tab) commentsOf(id string) videoComments {
	tb.t.Helper()
	code, body := tb.fetch(http.MethodGet, "/api/v1/videos/"+id)
	var v videoComments
	if code != http.StatusOK || json.Unmarshal(body, &v) != nil {
		tb.t.Fatalf("GET video %s from the page = %d %s", id, code, body)
	}
	return v
}
