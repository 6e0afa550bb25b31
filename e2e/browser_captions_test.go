package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The browser test's step about captions: the owner uploads an SRT file
// in the video's edit dialog, and the player's captions menu then offers
// it and shows its cue over the playing video.

const captionText = "Captions say hello"

func browserCaptions(t *testing.T, tb *tab, id string) {
	srt := filepath.Join(t.TempDir(), "hello.srt")
	if err := os.WriteFile(srt, []byte("1\r\n00:00:00,000 --> 00:01:00,000\r\n"+captionText+"\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tb.do("open the watch page", chromedp.Navigate(tb.base+"/watch/"+id))
	tb.wait("the player has no captions menu yet", `(() => {
		const b = document.querySelector('.player button[aria-label^="Captions"]');
		return window.cloudflixPlayer?.hls?.levels?.length >= 1 && (b === null || b.closest(".menu-wrap").hidden);
	})()`, 30*time.Second)
	tb.do("open the edit dialog", chromedp.Click(chromedp.ID("video-edit")),
		chromedp.WaitVisible(chromedp.ID("caption-file")),
		chromedp.SetUploadFiles(chromedp.CSS("#caption-file"), []string{srt}),
		chromedp.SendKeys(chromedp.ID("caption-language"), "en"),
		chromedp.SendKeys(chromedp.ID("caption-label"), "English"))
	tb.do("upload the captions", chromedp.Click(chromedp.ID("caption-upload")))
	tb.wait("the dialog lists the English captions", `document.querySelector('.caption-list li[data-language="en"]') !== null`, uiWait)
	tb.screenshot("edit-captions")

	// This tab loaded the master playlist before, and may keep it for the
	// minute its Cache-Control allows: it comes back as a viewer who had
	// not, with nothing cached.
	if _, err := chromedp.Call(tb.ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
		t.Fatal(err)
	}
	tb.do("reload the watch page", chromedp.Reload())
	tb.wait("hls.js has the subtitle track", `window.cloudflixPlayer?.hls?.subtitleTracks?.length === 1`, 30*time.Second)
	tb.do("open the captions menu", chromedp.Click(chromedp.CSS(`.player button[aria-label^="Captions"]`)))
	tb.do("pick English", chromedp.Click(chromedp.CSS(`.player .menu[aria-label="Captions"] [role=menuitemradio][data-value="0"]`)))
	if evalJS[bool](tb, `document.querySelector("video").paused`) {
		tb.do("press play", chromedp.Click(chromedp.CSS(".big-play")))
	}
	tb.wait("the cue shows over the video", `[...document.querySelector("video").textTracks].some((t) =>
		t.mode === "showing" && [...(t.activeCues || [])].some((c) => c.text.includes(`+jsString(captionText)+`)))`, 30*time.Second)
	tb.screenshot("watch-captions")
}
