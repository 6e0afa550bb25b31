package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The browser test's steps about playlists: saving two videos to a new
// playlist from their watch pages, moving one up with the keyboard on the
// playlist's page, and playing the playlist in order, the second video
// starting by itself when the first ends.

// playlistOrder is the ids of a playlist's videos in order, as the API
// gives them to the tab's user.
func (tb *tab) playlistOrder(id string) []string {
	tb.t.Helper()
	code, body := tb.fetch(http.MethodGet, "/api/v1/playlists/"+id+"/items")
	var page struct {
		Items []struct {
			VideoID string `json:"video_id"`
		} `json:"items"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &page) != nil {
		tb.t.Fatalf("GET the items of playlist %s from the page = %d %s", id, code, body)
	}
	var ids []string
	for _, it := range page.Items {
		ids = append(ids, it.VideoID)
	}
	return ids
}

// myPlaylist is the id of the tab's user's playlist titled title.
func (tb *tab) myPlaylist(title string) string {
	tb.t.Helper()
	code, body := tb.fetch(http.MethodGet, "/api/v1/me/playlists")
	var page struct {
		Playlists []struct {
			ID        string `json:"id"`
			Title     string `json:"title"`
			ItemCount int    `json:"item_count"`
		} `json:"playlists"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &page) != nil {
		tb.t.Fatalf("GET /api/v1/me/playlists from the page = %d %s", code, body)
	}
	for _, pl := range page.Playlists {
		if pl.Title == title {
			return pl.ID
		}
	}
	tb.t.Fatalf("the user has no playlist %q: %s", title, body)
	return ""
}

// browserPlaylists makes a playlist of the video first (the upload step's)
// and a second one uploaded here from clip, reorders it, and plays it.
func browserPlaylists(t *testing.T, tb *tab, pf *platform, clip, first string) {
	second := pf.upload(t, clip, "Evening harbour")
	if v, _ := pf.waitSettled(t, second, 4*time.Minute); v.State != "ready" {
		t.Fatalf("the second video is %s (%q), want ready", v.State, v.FailureReason)
	}

	tb.do("open the first video", chromedp.Navigate(tb.base+"/watch/"+first))
	tb.wait("the Save button is there", `document.getElementById("save-to-playlist") !== null`, uiWait)
	tb.do("open the save dialog", chromedp.Click(chromedp.ID("save-to-playlist")))
	tb.wait("the dialog lists no playlist yet", `document.getElementById("save-list")?.textContent.includes("no playlists yet")`, uiWait)
	tb.do("name a new playlist", chromedp.SendKeys(chromedp.ID("new-playlist-title"), "Road trip"))
	tb.screenshot("playlist-save-new")
	tb.do("create it with the video", chromedp.Click(chromedp.ID("save-dialog-submit")))
	tb.wait("the dialog closes", `document.getElementById("save-dialog") === null`, uiWait)
	list := tb.myPlaylist("Road trip")

	tb.do("open the second video", chromedp.Navigate(tb.base+"/watch/"+second))
	tb.wait("the Save button is there", `document.getElementById("save-to-playlist") !== null`, uiWait)
	tb.do("open the save dialog", chromedp.Click(chromedp.ID("save-to-playlist")))
	tb.wait("the dialog offers the playlist", `document.querySelector('#save-list button[aria-label="Save to Road trip"]') !== null`, uiWait)
	tb.do("add the video to it", chromedp.Click(chromedp.CSS(`#save-list button[aria-label="Save to Road trip"]`)))
	tb.wait("the dialog says it is saved", `document.getElementById("save-status")?.textContent === "Saved to Road trip."`, uiWait)
	tb.do("close the dialog", chromedp.Click(chromedp.ID("save-dialog-cancel")))
	if got := tb.playlistOrder(list); !slices.Equal(got, []string{first, second}) {
		t.Fatalf("the playlist holds %v, want %v", got, []string{first, second})
	}

	// Reorder with the keyboard: the second video's "up" button.
	tb.do("open the playlist", chromedp.Navigate(tb.base+"/playlist/"+list))
	tb.wait("the playlist shows its two videos", `document.querySelectorAll("#playlist-items li.playlist-item").length === 2 &&
		document.getElementById("playlist-count")?.textContent === "2 videos"`, uiWait)
	tb.do("focus the second video's up button", chromedp.Focus(chromedp.CSS(`#playlist-items li[data-video="`+second+`"] button[data-act="up"]`)))
	tb.do("press Enter", chromedp.KeyEvent(kb.Enter))
	tb.wait("the second video is first, and keeps the keyboard", `(() => {
		const rows = [...document.querySelectorAll("#playlist-items li.playlist-item")].map((li) => li.dataset.video);
		return rows.join() === `+jsString(second+","+first)+` && document.activeElement?.closest("li")?.dataset.video === `+jsString(second)+`;
	})()`, uiWait)
	tb.screenshot("playlist-page")
	if got := tb.playlistOrder(list); !slices.Equal(got, []string{second, first}) {
		t.Fatalf("after the move the playlist holds %v, want %v", got, []string{second, first})
	}

	// Play it: the video now first plays; at its end the next starts by
	// itself and the address follows. A click brought the page, so the
	// player may start by itself and reach the end alone: either is fine,
	// and the seek near its end only hastens it.
	onFirst := `location.pathname === "/watch/` + first + `" && new URLSearchParams(location.search).get("list") === ` + jsString(list) +
		` && document.querySelector('#playlist-panel a[aria-current="true"]')?.dataset.video === ` + jsString(first)
	tb.do("play all", chromedp.Click(chromedp.ID("playlist-play")))
	tb.wait("the watch page plays the playlist, its first video marked", `(location.pathname === "/watch/`+second+`" &&
		new URLSearchParams(location.search).get("list") === `+jsString(list)+` &&
		document.querySelector('#playlist-panel a[aria-current="true"]')?.dataset.video === `+jsString(second)+` &&
		document.querySelector("video")?.readyState >= 1) || (`+onFirst+`)`, uiWait)
	tb.screenshot("playlist-watch")
	tb.do("play it from near its end", chromedp.Evaluate[chromedp.Void](`(() => {
		if (location.pathname !== "/watch/`+second+`") return;
		const v = document.querySelector("video");
		v.currentTime = Math.max(0, v.duration - 0.7);
		v.play().catch(() => {});
	})()`))
	tb.wait("the next video's page comes, marked in the playlist", onFirst, 30*time.Second)
	tb.wait("the next video starts by itself", `(() => {
		const v = document.querySelector("video");
		return v !== null && !v.paused && v.currentTime > 0.5 && document.querySelector(".video-info h1")?.textContent.startsWith("Mountain sunrise");
	})()`, 30*time.Second)
	tb.screenshot("playlist-next")

	// The channel lists the playlist.
	tb.do("open the channel", chromedp.Navigate(tb.base+"/@"+browserUser))
	tb.wait("the channel lists the playlist with its count", `(() => {
		const a = document.querySelector('#channel-playlists a[href="/playlist/`+list+`"]');
		return a !== null && a.textContent.includes("Road trip") && a.textContent.includes("2 videos");
	})()`, uiWait)
}
