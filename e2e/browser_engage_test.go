package e2e

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
)

// The browser test's steps about engagement: liking a video on its watch
// page, as its signed-in user and as a visitor, and the home page's
// Trending row.

// likeState is a page's check of the like button: pressed or not, and
// the count it shows.
func likeState(pressed bool, count string) string {
	return `(() => {
		const b = document.getElementById("like-button");
		return b !== null && !b.disabled && b.getAttribute("aria-pressed") === "` + map[bool]string{true: "true", false: "false"}[pressed] + `" &&
			document.getElementById("like-count")?.textContent === ` + jsString(count) + `;
	})()`
}

// browserLike likes the video id on its watch page, takes the like back
// and likes it again, reloading in between; a visitor sees the count and
// is sent to sign in; the home page then shows the video in its Trending
// row.
func browserLike(t *testing.T, tb, visitor *tab, id string) {
	tb.do("open the watch page", chromedp.Navigate(tb.base+"/watch/"+id))
	tb.wait("the like button is there, not pressed", likeState(false, "0 likes"), uiWait)
	tb.do("like the video", chromedp.Click(chromedp.ID("like-button")))
	tb.wait("the button is pressed and counts the like", likeState(true, "1 like"), uiWait)
	tb.screenshot("watch-liked")
	if likes := tb.likes(id); likes.Likes != 1 || !likes.Liked {
		t.Errorf("after the like the API says %+v, want 1, liked", likes)
	}
	if v := tb.videoLikes(id); v != 1 {
		t.Errorf("after the like the video's JSON counts %d likes, want 1", v)
	}

	tb.do("reload the page", chromedp.Reload())
	tb.wait("the like is still there", likeState(true, "1 like"), uiWait)
	tb.do("take the like back", chromedp.Click(chromedp.ID("like-button")))
	tb.wait("the button is released and the count drops", likeState(false, "0 likes"), uiWait)
	if v := tb.videoLikes(id); v != 0 {
		t.Errorf("after the unlike the video's JSON counts %d likes, want 0", v)
	}
	tb.do("like it again", chromedp.Click(chromedp.ID("like-button")))
	tb.wait("liked again", likeState(true, "1 like"), uiWait)

	// A visitor sees the count, and the button asks them to sign in;
	// the API answers them 401.
	visitor.do("the visitor opens the watch page", chromedp.Navigate(visitor.base+"/watch/"+id))
	visitor.wait("the visitor sees the count on a link to sign in", `(() => {
		const b = document.getElementById("like-button");
		return b?.tagName === "A" && b.getAttribute("href").startsWith("/signin?next=") &&
			document.getElementById("like-count")?.textContent === "1 like";
	})()`, uiWait)
	visitor.screenshot("watch-visitor-like")
	if code, body := visitor.fetch(http.MethodPut, "/api/v1/videos/"+id+"/like"); code != http.StatusUnauthorized {
		t.Errorf("a visitor's like = %d %s, want 401", code, body)
	}
	visitor.do("follow the like button", chromedp.Click(chromedp.ID("like-button")))
	visitor.wait("the sign-in page, to come back", `location.pathname === "/signin" && new URLSearchParams(location.search).get("next") === `+jsString("/watch/"+id), uiWait)

	// The like (and the view of the upload step) make the video trend.
	tb.do("open the home page", chromedp.Navigate(tb.base+"/"))
	tb.wait("the Trending row shows the video", `document.querySelector('.trending .grid a[href="/watch/`+id+`"]') !== null && !document.querySelector(".trending").hidden`, uiWait)
	tb.screenshot("home-trending")
}

// likesAnswer is the API's answer about likes.
type likesAnswer struct {
	Likes int64 `json:"likes"`
	Liked bool  `json:"liked"`
}

// likes is how the tab's user stands with the video, as the API says.
func (tb *tab) likes(id string) likesAnswer {
	tb.t.Helper()
	code, body := tb.fetch(http.MethodGet, "/api/v1/videos/"+id+"/like")
	var a likesAnswer
	if code != http.StatusOK || json.Unmarshal(body, &a) != nil {
		tb.t.Fatalf("GET the like of %s from the page = %d %s", id, code, body)
	}
	return a
}

// videoLikes is the count of likes in the video's JSON.
func (tb *tab) videoLikes(id string) int64 {
	tb.t.Helper()
	code, body := tb.fetch(http.MethodGet, "/api/v1/videos/"+id)
	var v struct {
		Likes int64 `json:"likes"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &v) != nil {
		tb.t.Fatalf("GET video %s from the page = %d %s", id, code, body)
	}
	return v.Likes
}
