package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The browser test's steps about accounts: signing up and in, the account
// page, privacy as the owner and a visitor see it, and deleting.

// The user the browser's tabs are signed in as.
const (
	browserUser     = "alice"
	browserPassword = "correct horse battery staple"
)

// fetch calls the API from the tab's page, as its scripts do: with its
// cookies, and the Origin and Sec-Fetch-Site of the site; never from the
// browser's cache.
func (tb *tab) fetch(method, path string) (int, []byte) {
	tb.t.Helper()
	type answer struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	a := evalJS[answer](tb, `fetch(`+jsString(path)+`, {method: `+jsString(method)+`, cache: "no-store"})
		.then(async (r) => ({status: r.status, body: await r.text()}))`, chromedp.EvalAwaitPromise)
	return a.Status, []byte(a.Body)
}

// browserVideo is what the steps read of a video's JSON.
type browserVideo struct {
	State         string  `json:"state"`
	FailureReason string  `json:"failure_reason"`
	Privacy       string  `json:"privacy"`
	HLSURL        *string `json:"hls_url"`
	Owner         *struct {
		Username string `json:"username"`
	} `json:"owner"`
}

// video is the video id as the tab's user gets it from the API.
func (tb *tab) video(id string) browserVideo {
	tb.t.Helper()
	code, body := tb.fetch(http.MethodGet, "/api/v1/videos/"+id)
	if code != http.StatusOK {
		tb.t.Fatalf("GET video %s from the page = %d %s", id, code, body)
	}
	var v browserVideo
	if err := json.Unmarshal(body, &v); err != nil {
		tb.t.Fatal(err)
	}
	return v
}

// signedInAs is a page's check that the header names user.
func signedInAs(user string) string {
	return `document.getElementById("account-button")?.getAttribute("aria-label").endsWith(` + jsString(": "+user) + `)`
}

// browserSignUp makes the browser's user from the upload page, which asks
// to sign in first; signs out and fails to sign in with a wrong password;
// then signs in, back to the upload page.
func browserSignUp(t *testing.T, tb *tab) {
	tb.do("open the upload page", chromedp.Navigate(tb.base+"/upload"))
	tb.wait("the upload page asks to sign in", `document.getElementById("prompt-signin") !== null && document.getElementById("header-signin") !== null`, uiWait)
	tb.screenshot("upload-signed-out")
	tb.do("follow the header's Sign up", chromedp.Click(chromedp.ID("header-signup")))
	tb.wait("the sign-up form", `location.pathname === "/signup" && document.getElementById("signup-username") !== null`, uiWait)
	tb.do("fill in the sign-up form",
		chromedp.SendKeys(chromedp.ID("signup-username"), browserUser),
		chromedp.SendKeys(chromedp.ID("signup-email"), browserUser+"@example.org"),
		chromedp.SendKeys(chromedp.ID("signup-password"), browserPassword))
	tb.screenshot("signup")
	tb.do("create the account", chromedp.Click(chromedp.ID("signup-submit")))
	tb.wait("back on the upload page, signed in",
		`location.pathname === "/upload" && document.getElementById("upload-title") !== null && `+signedInAs(browserUser), uiWait)
	if code, body := tb.fetch(http.MethodGet, "/api/v1/me"); code != http.StatusOK || !strings.Contains(string(body), `"username":"`+browserUser+`"`) {
		t.Fatalf("GET /api/v1/me after sign-up = %d %s", code, body)
	}

	// With the keyboard: the menu opens on its first item, the arrows
	// move through it.
	tb.do("open the account menu", chromedp.Focus(chromedp.ID("account-button")), chromedp.KeyEvent(kb.Enter))
	tb.wait("the menu opens on its first item", `(() => {
		const m = document.getElementById("account-menu");
		return !m.hidden && document.getElementById("account-button").getAttribute("aria-expanded") === "true" &&
			document.activeElement === m.querySelector("a");
	})()`, uiWait)
	tb.screenshot("account-menu")
	for range 6 {
		if evalJS[bool](tb, `document.activeElement?.id === "sign-out"`) {
			break
		}
		tb.do("move down the menu", chromedp.KeyEvent(kb.ArrowDown))
	}
	tb.do("sign out", chromedp.KeyEvent(kb.Enter))
	tb.wait("signed out, the page asks to sign in again",
		`document.getElementById("header-signin") !== null && document.getElementById("prompt-signin") !== null`, uiWait)
	if code, _ := tb.fetch(http.MethodGet, "/api/v1/me"); code != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/me after sign-out = %d, want 401", code)
	}

	tb.do("go to sign in", chromedp.Click(chromedp.ID("prompt-signin")))
	tb.wait("the sign-in form", `location.pathname === "/signin" && document.getElementById("signin-login") !== null`, uiWait)
	tb.do("sign in with a wrong password",
		chromedp.SendKeys(chromedp.ID("signin-login"), browserUser),
		chromedp.SendKeys(chromedp.ID("signin-password"), "not the password"),
		chromedp.Click(chromedp.ID("signin-submit")))
	tb.wait("the refusal is said in words", `document.querySelector("main [role=alert]")?.textContent.includes("password is wrong")`, uiWait)
	tb.screenshot("signin-refused")
	tb.do("sign in", clear("signin-password"),
		chromedp.SendKeys(chromedp.ID("signin-password"), browserPassword+"\n"))
	tb.wait("back on the upload page, signed in",
		`location.pathname === "/upload" && document.getElementById("upload-title") !== null && `+signedInAs(browserUser), uiWait)
}

// browserAccount checks the account page: quotas with what the uploads
// used, this session marked, and an API token made (its secret shown
// once, and working), then revoked (and refused).
func browserAccount(t *testing.T, tb *tab, pf *platform) {
	tb.do("open the account page", chromedp.Navigate(tb.base+"/account"))
	tb.wait("the account page is drawn", `document.querySelector("#sessions .row") !== null && document.getElementById("quota-storage") !== null`, uiWait)
	if words := evalJS[string](tb, `document.querySelector("#quota-storage .quota-words").textContent`); !strings.Contains(words, " of ") || strings.HasPrefix(words, "0 bytes") {
		t.Errorf("the storage quota says %q, want the bytes the uploads used of the quota", words)
	}
	if n := evalJS[int](tb, `document.querySelectorAll("#sessions .row.current").length`); n != 1 {
		t.Errorf("%d sessions are marked as this one, want 1", n)
	}

	tb.do("make a token",
		chromedp.SendKeys(chromedp.ID("token-name"), "e2e script"),
		chromedp.Click(chromedp.ID("token-scope-upload")),
		chromedp.Click(chromedp.ID("token-create")))
	tb.wait("the secret is shown once, with a warning", `(() => {
		const box = document.getElementById("token-created");
		return document.getElementById("token-secret")?.value.startsWith("cft_") && box.textContent.includes("only this once");
	})()`, uiWait)
	tb.screenshot("account-token")
	secret := evalJS[string](tb, `document.getElementById("token-secret").value`)
	tb.wait("the new token is listed with its scopes", `[...document.querySelectorAll("#tokens .row")].some((r) =>
		r.textContent.includes("e2e script") && r.textContent.includes("read") && r.textContent.includes("upload"))`, uiWait)
	if code, body := pf.doAs(t, secret, http.MethodGet, "/api/v1/me", ""); code != http.StatusOK || !strings.Contains(string(body), `"username":"`+browserUser+`"`) {
		t.Errorf("GET /api/v1/me with the new token = %d %s", code, body)
	}
	tb.do("done with the secret", chromedp.Click(chromedp.CSS("#token-created button:last-child")))
	tb.wait("the secret is gone from the page", `document.getElementById("token-secret") === null`, uiWait)

	tb.do("revoke the token", chromedp.Click(chromedp.CSS(`#tokens button[aria-label="Revoke token e2e script"]`)))
	tb.wait("revoking asks first", `document.getElementById("revoke-token")?.open === true`, uiWait)
	tb.do("confirm", chromedp.Click(chromedp.ID("revoke-token-submit")))
	tb.wait("the token is no longer listed", `document.getElementById("revoke-token") === null &&
		![...document.querySelectorAll("#tokens .row")].some((r) => r.textContent.includes("e2e script"))`, uiWait)
	if code, _ := pf.doAs(t, secret, http.MethodGet, "/api/v1/me", ""); code != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/me with the revoked token = %d, want 401", code)
	}
	tb.screenshot("account")
}

// browserPrivate makes the video private from its watch page. A visitor
// (a browser context of its own, sharing no cookie) is told it does not
// exist and the API answers them 404, its public media links stop
// working, and it leaves the channel; the owner still plays it, from
// signed /media/s/ links.
func browserPrivate(t *testing.T, browser context.Context, pf *platform, shots, id string) {
	owner := openTab(t, browser, pf.base, shots)
	visitor := openTab(t, browser, pf.base, shots, chromedp.WithNewBrowserContext())

	owner.do("open the watch page", chromedp.Navigate(pf.base+"/watch/"+id))
	owner.wait("the owner's controls are there", `window.cloudflixPlayer?.hls?.levels?.length >= 2 && document.getElementById("video-privacy")?.value === "public"`, uiWait)
	public := owner.video(id)
	if public.Privacy != "public" || public.HLSURL == nil || !strings.Contains(*public.HLSURL, "/media/videos/") {
		t.Fatalf("the uploaded video: privacy %q, hls_url %v; want public, under /media/videos/", public.Privacy, public.HLSURL)
	}
	if public.Owner == nil || public.Owner.Username != browserUser {
		t.Errorf("the uploaded video's owner = %+v, want %s", public.Owner, browserUser)
	}
	visitor.do("the visitor opens the watch page", chromedp.Navigate(pf.base+"/watch/"+id))
	visitor.wait("the visitor sees the public video and its owner",
		`window.cloudflixPlayer?.hls !== undefined && document.getElementById("video-owner")?.textContent === `+jsString("@"+browserUser)+
			` && document.getElementById("video-privacy") === null`, uiWait)

	owner.do("make the video private", chromedp.Evaluate[chromedp.Void](`(() => {
		const s = document.getElementById("video-privacy");
		s.focus();
		s.value = "private";
		s.dispatchEvent(new Event("change", {bubbles: true}));
	})()`))
	owner.wait("the page says it is private and plays from signed links", `(() => {
		const badge = document.querySelector(".video-info h1 .privacy-badge");
		return badge?.textContent === "Private" && document.getElementById("video-privacy")?.value === "private" &&
			window.cloudflixPlayer?.hls?.url?.includes("/media/s/");
	})()`, uiWait)
	private := owner.video(id)
	if private.Privacy != "private" || private.HLSURL == nil || !strings.Contains(*private.HLSURL, "/media/s/") {
		t.Errorf("after the change: privacy %q, hls_url %v; want private, under /media/s/", private.Privacy, private.HLSURL)
	}
	if evalJS[bool](owner, `document.querySelector("video").paused`) {
		owner.do("press play", chromedp.Click(chromedp.CSS(".big-play")))
	}
	owner.wait("the owner plays the private video", `(() => { const v = document.querySelector("video"); return v.currentTime > 1 && v.videoWidth > 0; })()`, 30*time.Second)
	owner.screenshot("watch-private")
	signed := 0
	for _, r := range owner.seen() {
		p := urlPath(r.url)
		if strings.HasPrefix(p, "/media/s/") && r.done && !r.failed {
			signed++
		}
	}
	if signed < 3 {
		t.Errorf("the private video's player fetched %d objects under /media/s/, want its playlists and segments", signed)
	}

	visitor.do("the visitor opens the watch page again", chromedp.Navigate(pf.base+"/watch/"+id))
	visitor.wait("the visitor is told it doesn't exist", `document.querySelector("main").innerText.includes("This video doesn't exist")`, uiWait)
	visitor.screenshot("watch-private-visitor")
	if code, body := visitor.fetch(http.MethodGet, "/api/v1/videos/"+id); code != http.StatusNotFound {
		t.Errorf("the visitor's GET of the private video = %d %s, want 404", code, body)
	}
	if code, body := pf.doAs(t, "", http.MethodGet, "/api/v1/videos/"+id, ""); code != http.StatusNotFound {
		t.Errorf("an anonymous GET of the private video = %d %s, want 404", code, body)
	}
	// The edge remembers for a few seconds that a video is public.
	deadline := time.Now().Add(uiWait)
	for {
		code, _ := visitor.fetch(http.MethodGet, *public.HLSURL)
		if code == http.StatusNotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("the private video's public playlist still answers %d after %v", code, uiWait)
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	visitor.do("the visitor opens the owner's channel", chromedp.Navigate(pf.base+"/@"+browserUser))
	visitor.wait("the channel is drawn", `document.querySelector(".channel-head") !== null && document.querySelector(".grid, .empty") !== null`, uiWait)
	if evalJS[bool](visitor, fmt.Sprintf(`document.querySelector('a[href="/watch/%s"]') !== null`, id)) {
		t.Errorf("the channel shows the private video to a visitor")
	}
	visitor.screenshot("channel-visitor")
}

// browserDelete deletes the video from My videos, reached through the
// header's menu: the first answer to "delete?" is Cancel, the second
// Delete. Then it is gone: from the list, the API and its watch page.
func browserDelete(t *testing.T, tb *tab, id string) {
	row := fmt.Sprintf(`[data-video-id=%q]`, id)
	tb.do("open the home page", chromedp.Navigate(tb.base+"/"))
	tb.wait("signed in", signedInAs(browserUser), uiWait)
	tb.do("open the account menu", chromedp.Click(chromedp.ID("account-button")))
	tb.do("go to My videos", chromedp.Click(chromedp.CSS(`#account-menu a[href="/my/videos"]`)))
	tb.wait("My videos lists the private video", `(() => {
		const r = document.querySelector('`+row+`');
		return location.pathname === "/my/videos" && r && r.querySelector(".privacy-badge")?.textContent === "Private";
	})()`, uiWait)
	tb.wait("and the failed upload with its reason", `[...document.querySelectorAll(".video-row .state.failed")].some((s) => s.textContent.startsWith("Failed: "))`, uiWait)
	tb.screenshot("my-videos")

	tb.do("ask to delete it", chromedp.Click(chromedp.CSS(row+` [data-action=delete]`)))
	tb.wait("it asks first, on Cancel", `document.getElementById("delete-video")?.open === true && document.activeElement?.id === "delete-video-cancel"`, uiWait)
	tb.screenshot("my-videos-delete")
	tb.do("cancel", chromedp.KeyEvent(kb.Enter))
	tb.wait("cancelled, it is still there", `document.getElementById("delete-video") === null && document.querySelector('`+row+`') !== null`, uiWait)
	if code, _ := tb.fetch(http.MethodGet, "/api/v1/videos/"+id); code != http.StatusOK {
		t.Fatalf("after Cancel the video answers %d", code)
	}

	tb.do("ask again", chromedp.Click(chromedp.CSS(row+` [data-action=delete]`)))
	tb.wait("it asks again", `document.getElementById("delete-video")?.open === true`, uiWait)
	tb.do("delete it", chromedp.Click(chromedp.ID("delete-video-submit")))
	tb.wait("it is gone from the list", `document.getElementById("delete-video") === null && document.querySelector('`+row+`') === null`, uiWait)
	if code, body := tb.fetch(http.MethodGet, "/api/v1/videos/"+id); code != http.StatusNotFound {
		t.Errorf("the deleted video answers %d %s, want 404", code, body)
	}
	tb.do("open its watch page", chromedp.Navigate(tb.base+"/watch/"+id))
	tb.wait("the watch page says it doesn't exist", `document.querySelector("main").innerText.includes("This video doesn't exist")`, uiWait)
}
