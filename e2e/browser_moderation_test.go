package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The browser test's step about reports and moderation: a user reports
// the video, a moderator hides it from the queue, a visitor no longer
// finds it on the home page or in search, its owner reads why, an admin
// reads the audit log, and the moderator restores it. Then the same for a
// comment: a user reports it, a moderator hides it from the queue, a
// visitor reads a placeholder in its place with the reply under it still
// there, its author reads why, and the moderator restores it from the
// watch page.

// staffPassword is the password of the moderator and the admin the step
// makes with the command line.
const staffPassword = "a password for the staff"

// makeStaff makes a user with role on the platform, as an operator does
// with `cloudflix admin create-user`.
func (pf *platform) makeStaff(t *testing.T, username, role string) {
	t.Helper()
	cmd := exec.Command(binary, "admin", "create-user", "--username", username, "--email", username+"@example.org", "--role", role)
	cmd.Env = append(os.Environ(), pf.env...)
	cmd.Stdin = strings.NewReader(staffPassword + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("admin create-user %s: %v\n%s", username, err, out)
	}
}

// loadedWithout is a page's check that its list of videos has loaded (a
// card, or the words for none) and that no link matches the selector.
func loadedWithout(selector string) string {
	return `(document.querySelector("main .grid .card") !== null || document.querySelector("main .empty") !== null) &&
		document.querySelector(` + jsString("main "+selector) + `) === null`
}

// signIn signs the tab in as username through the sign-in page.
func (tb *tab) signIn(username, password string) {
	tb.t.Helper()
	tb.do("open the sign-in page", chromedp.Navigate(tb.base+"/signin"))
	tb.wait("the sign-in form", `document.getElementById("signin-login") !== null`, uiWait)
	tb.do("sign in as "+username,
		chromedp.SendKeys(chromedp.ID("signin-login"), username),
		chromedp.SendKeys(chromedp.ID("signin-password"), password+"\n"))
	tb.wait("signed in as "+username, signedInAs(username), uiWait)
}

func browserModeration(t *testing.T, browser context.Context, pf *platform, shots, id string) {
	pf.newUser(t, "rita")
	pf.makeStaff(t, "mona", "moderator")
	pf.makeStaff(t, "adam", "admin")
	separate := chromedp.WithNewBrowserContext()
	reporter, moderator := openTab(t, browser, pf.base, shots, separate), openTab(t, browser, pf.base, shots, separate)
	admin, visitor := openTab(t, browser, pf.base, shots, separate), openTab(t, browser, pf.base, shots, separate)
	owner := openTab(t, browser, pf.base, shots)
	watch := pf.base + "/watch/" + id
	link := `a[href="/watch/` + id + `"]`

	reporter.signIn("rita", "password of rita")
	reporter.do("open the watch page", chromedp.Navigate(watch))
	reporter.wait("the Report button", `document.getElementById("report-button")?.tagName === "BUTTON"`, uiWait)
	reporter.do("open the report dialog", chromedp.Click(chromedp.ID("report-button")))
	reporter.wait("the report dialog", `document.getElementById("report-dialog")?.open === true`, uiWait)
	reporter.do("choose a reason and say why",
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById("report-reason"); s.value = "spam"; s.dispatchEvent(new Event("change", {bubbles: true})); })()`),
		chromedp.SendKeys(chromedp.ID("report-note"), "links to a scam"))
	reporter.screenshot("report-dialog")
	reporter.do("send the report", chromedp.Click(chromedp.ID("report-dialog-submit")))
	reporter.wait("the button says it is reported", `document.getElementById("report-dialog") === null && document.getElementById("report-button").textContent === "Reported"`, uiWait)

	moderator.signIn("mona", staffPassword)
	moderator.do("open the moderation queue from the menu", chromedp.Navigate(pf.base+"/moderation"))
	caseRow := `#report-cases li.case[data-id="` + id + `"]`
	moderator.wait("the queue shows the report", `(() => {
		const c = document.querySelector(`+jsString(caseRow)+`);
		return c !== null && c.querySelector(".case-count").textContent === "1 report" &&
			c.innerText.includes("Spam or misleading") && c.innerText.includes("links to a scam") && c.innerText.includes("@rita");
	})()`, uiWait)
	moderator.screenshot("moderation-queue")
	moderator.do("hide the video", chromedp.Click(chromedp.CSS(caseRow+` button[data-action="hide"]`)))
	moderator.wait("the dialog asks why", `document.getElementById("decision-dialog")?.open === true`, uiWait)
	moderator.do("say why and hide it",
		chromedp.SendKeys(chromedp.ID("decision-reason"), "spam links in the description"),
		chromedp.Click(chromedp.ID("decision-dialog-submit")))
	moderator.wait("the case leaves the queue", `document.querySelector(`+jsString(caseRow)+`)?.innerText.includes("is hidden")`, uiWait)

	// A visitor finds it nowhere, and is told it doesn't exist.
	visitor.do("the visitor opens the home page", chromedp.Navigate(pf.base+"/"))
	visitor.wait("the home page lists no hidden video", loadedWithout(link), uiWait)
	visitor.screenshot("home-hidden")
	visitor.do("the visitor searches for it", chromedp.Navigate(pf.base+"/search?q=timelapse"))
	visitor.wait("search does not find it", `location.pathname === "/search" && `+loadedWithout(link), uiWait)
	visitor.do("the visitor opens its watch page", chromedp.Navigate(watch))
	visitor.wait("the visitor is told it doesn't exist", `document.querySelector("main").innerText.includes("This video doesn't exist")`, uiWait)
	if code, body := visitor.fetch(http.MethodGet, "/api/v1/videos/"+id); code != http.StatusNotFound {
		t.Errorf("the visitor's GET of the hidden video = %d %s, want 404", code, body)
	}
	if code, _ := visitor.fetch(http.MethodGet, "/api/v1/search?q=timelapse"); code != http.StatusOK {
		t.Errorf("the visitor's search = %d", code)
	}

	// Its owner sees it, hidden, and why, on its page and in My videos.
	owner.do("the owner opens the watch page", chromedp.Navigate(watch))
	owner.wait("the owner reads why it is hidden", `document.getElementById("hidden-reason")?.textContent === "spam links in the description"`, uiWait)
	owner.screenshot("watch-hidden-owner")
	owner.do("the owner opens My videos", chromedp.Navigate(pf.base+"/my/videos"))
	owner.wait("My videos says it is hidden and why", `document.querySelector("#my-videos .hidden-reason")?.textContent === "spam links in the description"`, uiWait)

	admin.signIn("adam", staffPassword)
	admin.do("open the audit log", chromedp.Navigate(pf.base+"/admin/audit"))
	admin.wait("the audit log shows the hiding", `(() => {
		const r = document.querySelector('#audit-log tr[data-action="hide"][data-target="`+id+`"]');
		return r !== null && r.innerText.includes("@mona") && r.innerText.includes("spam links in the description");
	})()`, uiWait)
	admin.screenshot("audit-log")
	if code, _ := moderator.fetch(http.MethodGet, "/api/v1/admin/audit"); code != http.StatusForbidden {
		t.Errorf("a moderator's read of the audit log = %d, want 403", code)
	}

	// The moderator restores it from its watch page; the visitor sees it
	// on the home page again.
	moderator.do("open the watch page", chromedp.Navigate(watch))
	moderator.wait("the Restore button", `document.getElementById("video-restore") !== null`, uiWait)
	moderator.do("restore the video", chromedp.Click(chromedp.ID("video-restore")))
	moderator.wait("the dialog asks why", `document.getElementById("decision-dialog")?.open === true`, uiWait)
	moderator.do("say why and restore it",
		chromedp.SendKeys(chromedp.ID("decision-reason"), "the links were removed"),
		chromedp.Click(chromedp.ID("decision-dialog-submit")))
	moderator.wait("the video shows again", `document.getElementById("hidden-notice") === null && document.getElementById("video-hide") !== null`, uiWait)
	visitor.do("the visitor opens the home page again", chromedp.Navigate(pf.base+"/"))
	visitor.wait("the home page lists the video again", `document.querySelector(`+jsString(link)+`) !== null`, uiWait)

	browserModerateComment(t, reporter, moderator, visitor, owner, watch, id)
}

// browserModerateComment: the owner's comment is reported by the reporter
// and hidden by the moderator from the queue; the visitor reads a
// placeholder, with the reporter's reply under it; the owner, its author,
// reads why; the moderator restores it from the watch page.
func browserModerateComment(t *testing.T, reporter, moderator, visitor, owner *tab, watch, id string) {
	t.Helper()
	code, body := owner.postJSON("/api/v1/videos/"+id+"/comments", `{"body":"Cheap pills at example.com"}`)
	var posted struct {
		ID string `json:"id"`
	}
	if code != http.StatusCreated || json.Unmarshal(body, &posted) != nil {
		t.Fatalf("the owner's comment = %d %s", code, body)
	}
	cid := posted.ID
	if code, body := reporter.postJSON("/api/v1/comments/"+cid+"/replies", `{"body":"Please don't"}`); code != http.StatusCreated {
		t.Fatalf("the reporter's reply = %d %s", code, body)
	}
	comment := `document.getElementById("comment-` + cid + `")`

	reporter.do("open the watch page", chromedp.Navigate(watch))
	reporter.wait("the comment's Report button", comment+`?.querySelector(":scope > .comment-actions .comment-report") != null`, uiWait)
	reporter.do("report the comment", chromedp.Click(chromedp.CSS(`#comment-`+cid+` > .comment-actions .comment-report`)))
	reporter.wait("the report dialog", `document.getElementById("report-dialog")?.open === true`, uiWait)
	reporter.do("choose a reason and send it",
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById("report-reason"); s.value = "spam"; s.dispatchEvent(new Event("change", {bubbles: true})); })()`),
		chromedp.SendKeys(chromedp.ID("report-note"), "selling pills"),
		chromedp.Click(chromedp.ID("report-dialog-submit")))
	reporter.wait("the comment's button says it is reported",
		`document.getElementById("report-dialog") === null && `+comment+`.querySelector(":scope > .comment-actions .comment-report").textContent === "Reported"`, uiWait)

	moderator.do("open the moderation queue", chromedp.Navigate(moderator.base+"/moderation"))
	caseRow := `#report-cases li.case[data-kind="comment"][data-id="` + cid + `"]`
	moderator.wait("the queue shows the comment's report", `(() => {
		const c = document.querySelector(`+jsString(caseRow)+`);
		return c !== null && c.innerText.includes("Cheap pills at example.com") && c.innerText.includes("selling pills") && c.innerText.includes("@rita");
	})()`, uiWait)
	moderator.screenshot("moderation-queue-comment")
	moderator.do("hide the comment", chromedp.Click(chromedp.CSS(caseRow+` button[data-action="hide"]`)))
	moderator.wait("the dialog asks why", `document.getElementById("decision-dialog")?.open === true`, uiWait)
	moderator.do("say why and hide it",
		chromedp.SendKeys(chromedp.ID("decision-reason"), "advertising"),
		chromedp.Click(chromedp.ID("decision-dialog-submit")))
	moderator.wait("the case leaves the queue", `document.querySelector(`+jsString(caseRow)+`)?.innerText.includes("is hidden")`, uiWait)

	// The visitor reads a placeholder in its place, counted, and the
	// reply under it.
	visitor.do("the visitor opens the watch page", chromedp.Navigate(watch))
	visitor.wait("the visitor reads the placeholder", `(() => {
		const c = `+comment+`;
		return c !== null && c.classList.contains("comment-hidden") &&
			c.querySelector(":scope > .comment-body").textContent === "This comment was hidden by a moderator." &&
			c.querySelector(":scope > .comment-meta a.comment-author") === null &&
			!document.getElementById("comments").innerText.includes("Cheap pills");
	})() && `+commentCount("2 comments"), uiWait)
	visitor.do("show the replies", chromedp.Click(chromedp.CSS(`#comment-`+cid+` .comment-show-replies`)))
	visitor.wait("the reply under it still reads", comment+`.querySelector(".comment-replies .comment-body")?.textContent === "Please don't"`, uiWait)
	visitor.screenshot("watch-comment-hidden")

	// Its author reads it, and why, and may no longer edit it.
	owner.do("the owner opens the watch page", chromedp.Navigate(watch))
	owner.wait("the author reads the hidden comment and why", `(() => {
		const c = `+comment+`;
		return c !== null && c.querySelector(":scope > .comment-body").textContent === "Cheap pills at example.com" &&
			c.querySelector(":scope > .comment-hidden-notice .comment-hidden-reason")?.textContent === "advertising" &&
			c.querySelector(":scope > .comment-actions .comment-edit") === null &&
			c.querySelector(":scope > .comment-actions .comment-delete") !== null;
	})()`, uiWait)
	owner.screenshot("watch-comment-hidden-author")

	// The moderator restores it from the watch page; the visitor reads it.
	moderator.do("open the watch page", chromedp.Navigate(watch))
	moderator.wait("the comment's Restore button", comment+`?.querySelector(":scope > .comment-actions .comment-restore") != null`, uiWait)
	moderator.do("restore the comment", chromedp.Click(chromedp.CSS(`#comment-`+cid+` > .comment-actions .comment-restore`)))
	moderator.wait("the dialog asks why", `document.getElementById("decision-dialog")?.open === true`, uiWait)
	moderator.do("say why and restore it",
		chromedp.SendKeys(chromedp.ID("decision-reason"), "the link is gone"),
		chromedp.Click(chromedp.ID("decision-dialog-submit")))
	moderator.wait("the comment shows again, with a Hide button", `(() => {
		const c = `+comment+`;
		return !c.classList.contains("comment-hidden") && c.querySelector(":scope > .comment-actions .comment-hide") !== null;
	})()`, uiWait)
	visitor.do("the visitor reloads", chromedp.Reload())
	visitor.wait("the visitor reads the comment again", comment+`?.querySelector(":scope > .comment-body")?.textContent === "Cheap pills at example.com"`, uiWait)
}
