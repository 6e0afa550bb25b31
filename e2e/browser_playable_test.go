package e2e

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cloudflix/cloudflix/internal/testenv"
)

// browserPlayable opens the watch page of a long video still encoding: it
// plays from the beginning while a line says how much can be watched, and
// when the video is ready the very same player goes on, at its position,
// with hls.js holding the finished (no longer live) playlists, and gains
// the finished video's poster and storyboard previews.
func browserPlayable(t *testing.T, tb *tab, pf *platform) {
	clip := filepath.Join(t.TempDir(), "growing.mp4")
	testenv.GenerateClip(t, clip, 640, 360, 40, true)
	id := pf.upload(t, clip, "Watched while it encodes")

	tb.do("open the watch page of the video just uploaded", chromedp.Navigate(tb.base+"/watch/"+id),
		chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`))
	tb.wait("it plays while still encoding, saying how much can be watched", `(() => {
		const v = document.querySelector("video");
		return v !== null && v.currentTime > 0.5 && window.cloudflixPlayer?.hls?.levels?.length >= 2 &&
			/can be watched/.test(document.getElementById("encoding-status")?.textContent ?? "");
	})()`, 3*time.Minute)
	tb.screenshot("watch-while-encoding")
	if start := evalJS[float64](tb, `window.cloudflixPlayer.hls.config.startPosition`); start != 0 {
		t.Errorf("hls.js starts at %v, want the beginning", start)
	}
	tb.do("remember the player", chromedp.Evaluate[chromedp.Void](`window.growingPlayer = document.querySelector("video")`))

	tb.wait("the encode ends and the same player goes on with the finished video", `(() => {
		const v = document.querySelector("video");
		const level = window.cloudflixPlayer.hls.levels[window.cloudflixPlayer.hls.currentLevel];
		return window.notReloaded === true && v === window.growingPlayer && v.currentTime > 0.5 &&
			document.getElementById("encoding-status") === null && level?.details?.live === false;
	})()`, 5*time.Minute)
	tb.screenshot("watch-after-encoding")
	tb.wait("the player has the finished video's poster", `/thumb\.jpg/.test(document.querySelector("video").getAttribute("poster") ?? "")`, uiWait)
	tb.do("bring the player into view", chromedp.Evaluate[chromedp.Void](`document.querySelector(".player").scrollIntoView({block: "center"})`))
	rect := evalJS[[]float64](tb, `(() => { const r = document.querySelector(".seek input").getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; })()`)
	tb.do("hover the seek bar", chromedp.MouseEvent(chromedp.MouseMoved, rect[0]+rect[2]*0.4, rect[1]+rect[3]/2))
	tb.wait("the seek bar shows a storyboard thumbnail",
		`(() => { const p = document.querySelector(".seek-preview.on"); return p && p.style.backgroundImage.includes("storyboard.jpg"); })()`, uiWait)
}
