package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/testenv"
)

// putCaption sends a caption file as the owner, as `curl -T` would.
func (pf *platform) putCaption(t *testing.T, id, lang, label, contentType, file string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, pf.base+"/api/v1/videos/"+id+"/captions/"+lang+"?label="+url.QueryEscape(label), strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+pf.token)
	resp, err := pf.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// subtitleTrack is an EXT-X-MEDIA line of a master playlist.
type subtitleTrack map[string]string

// masterCaptions reads the SUBTITLES media of a master playlist, and
// whether every variant names their group.
func masterCaptions(t *testing.T, master string) ([]subtitleTrack, bool) {
	t.Helper()
	var tracks []subtitleTrack
	sc := bufio.NewScanner(strings.NewReader(master))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "#EXT-X-MEDIA:"); ok {
			tracks = append(tracks, subtitleTrack(attributes(rest)))
		}
	}
	variants := parseMaster(t, master)
	all := len(variants) > 0
	for _, v := range variants {
		all = all && v.attrs["SUBTITLES"] == "subs"
	}
	return tracks, all
}

// attributes reads an HLS attribute list: KEY=value or KEY="quoted, value".
func attributes(s string) map[string]string {
	attrs := map[string]string{}
	for s != "" {
		k, v, _ := strings.Cut(s, "=")
		if strings.HasPrefix(v, `"`) {
			end := strings.Index(v[1:], `"`) + 1
			attrs[k] = v[1:end]
			s = strings.TrimPrefix(v[end+1:], ",")
		} else {
			val, r, _ := strings.Cut(v, ",")
			attrs[k] = val
			s = r
		}
	}
	return attrs
}

// checkCaptions uploads captions to an unlisted video, finds them in its
// master playlist (signed links and all), fetches their WebVTT, has
// ffprobe read the master with them, and sees them kept through a
// re-encode and gone once deleted.
func checkCaptions(t *testing.T, pf *platform) {
	t.Helper()
	clip := filepath.Join(t.TempDir(), "captioned.mp4")
	testenv.GenerateClip(t, clip, 320, 240, 4, true)
	id := pf.upload(t, clip, "Captioned rehearsal", "--privacy", "unlisted")
	if v, _ := pf.waitSettled(t, id, 3*time.Minute); v.State != "ready" {
		t.Fatalf("captioned clip ended %s: %s", v.State, v.FailureReason)
	}

	srt := "\uFEFF1\r\n00:00:00,500 --> 00:00:03,000\r\nHello from the <i>captions</i>\r\n"
	if code, body := pf.putCaption(t, id, "en", "English", "application/x-subrip", srt); code != http.StatusOK {
		t.Fatalf("PUT SRT captions = %d %s", code, body)
	}
	vtt := "WEBVTT\n\n00:00:00.500 --> 00:00:03.000\nOlá das legendas\n"
	code, body := pf.putCaption(t, id, "PT-br", "Português", "text/vtt", vtt)
	var put struct {
		Language, Label, URL string
	}
	if code != http.StatusOK || json.Unmarshal(body, &put) != nil || put.Language != "pt-BR" || !strings.Contains(put.URL, "/media/s/") {
		t.Fatalf("PUT WebVTT captions = %d %s; want pt-BR with a signed link", code, body)
	}
	bad := "WEBVTT\n\n00:00:05.000 --> 00:00:04.000\nbackwards\n"
	if code, body := pf.putCaption(t, id, "fr", "", "text/vtt", bad); code != http.StatusBadRequest || !strings.Contains(string(body), "line 3") {
		t.Errorf("PUT a cue that ends before it starts = %d %s; want 400 naming line 3", code, body)
	}
	code, body = pf.do(t, "GET", "/api/v1/videos/"+id+"/captions", "")
	var list struct {
		Captions []struct{ Language, Label string } `json:"captions"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &list) != nil || len(list.Captions) != 2 || list.Captions[0].Language != "en" || list.Captions[1].Label != "Português" {
		t.Fatalf("GET captions = %d %s; want en and pt-BR", code, body)
	}

	masterURL := *pf.video(t, id).HLSURL
	wantTracks(t, pf, masterURL, map[string]string{"en": "Hello from the <i>captions</i>", "pt-BR": "Olá das legendas"})

	// A re-encode replaces the renditions and keeps the captions.
	if code, body := pf.do(t, "POST", "/api/v1/videos/"+id+"/reencode", ""); code != http.StatusAccepted {
		t.Fatalf("re-encode = %d %s", code, body)
	}
	if v, _ := pf.waitSettled(t, id, 3*time.Minute); v.State != "ready" {
		t.Fatalf("re-encoded clip ended %s: %s", v.State, v.FailureReason)
	}
	wantTracks(t, pf, masterURL, map[string]string{"en": "Hello from the <i>captions</i>", "pt-BR": "Olá das legendas"})

	if code, body := pf.do(t, "DELETE", "/api/v1/videos/"+id+"/captions/en", ""); code != http.StatusNoContent {
		t.Fatalf("DELETE captions = %d %s", code, body)
	}
	wantTracks(t, pf, masterURL, map[string]string{"pt-BR": "Olá das legendas"})
	gone := strings.Replace(masterURL, "hls/master.m3u8", "captions/en.vtt", 1)
	if code, _ := pf.doAs(t, "", "GET", gone, ""); code != http.StatusNotFound {
		t.Errorf("deleted captions' file: %d, want 404", code)
	}
}

// wantTracks checks that the master playlist at masterURL (a path) names
// exactly the languages of want as its SUBTITLES group, each with a media
// playlist whose one segment is WebVTT holding the text.
func wantTracks(t *testing.T, pf *platform, masterURL string, want map[string]string) {
	t.Helper()
	base, err := url.Parse(pf.base + masterURL)
	if err != nil {
		t.Fatal(err)
	}
	master := get(t, base.String(), "application/vnd.apple.mpegurl")
	tracks, grouped := masterCaptions(t, string(master))
	if len(tracks) != len(want) || !grouped {
		t.Fatalf("master playlist has %d subtitle tracks (every variant in their group: %v), want %d:\n%s", len(tracks), grouped, len(want), master)
	}
	for _, tr := range tracks {
		text, ok := want[tr["LANGUAGE"]]
		if !ok || tr["TYPE"] != "SUBTITLES" || tr["GROUP-ID"] != "subs" || tr["NAME"] == "" || tr["DEFAULT"] != "NO" || tr["AUTOSELECT"] != "YES" {
			t.Fatalf("subtitle track %v is not one of %v", tr, want)
		}
		media, err := base.Parse(tr["URI"])
		if err != nil {
			t.Fatal(err)
		}
		pl := string(get(t, media.String(), "application/vnd.apple.mpegurl"))
		var segment string
		for line := range strings.SplitSeq(pl, "\n") {
			if line != "" && !strings.HasPrefix(line, "#") {
				segment = line
			}
		}
		if !strings.Contains(pl, "#EXT-X-ENDLIST") || segment == "" {
			t.Fatalf("subtitle playlist %s:\n%s", media, pl)
		}
		vttURL, err := media.Parse(segment)
		if err != nil {
			t.Fatal(err)
		}
		if vtt := string(get(t, vttURL.String(), "text/vtt")); !strings.HasPrefix(vtt, "WEBVTT") || !strings.Contains(vtt, text) {
			t.Errorf("captions %s:\n%s\nwant %q", vttURL, vtt, text)
		}
		// ffmpeg's HLS reader plays the subtitle playlist as WebVTT. (The
		// ffmpeg 5.1 of Debian 12 passes over a master playlist's
		// SUBTITLES group: "Can't support the subtitle".)
		out, err := exec.Command("ffmpeg", "-hide_banner", "-v", "error", "-i", media.String(), "-f", "webvtt", "-").CombinedOutput()
		if err != nil || !strings.Contains(string(out), text) {
			t.Errorf("ffmpeg reading %s: %v\n%s", media, err, out)
		}
	}
}
