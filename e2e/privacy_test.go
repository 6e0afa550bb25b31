package e2e

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/testenv"
)

// checkPrivacy follows a private video through the platform: only its
// owner sees it, plays it through signed links, and finds it among their
// own videos; nobody finds it in lists or search; made public it is
// everyone's; deleted by its owner (and not by anyone else) it is gone with
// its media.
func checkPrivacy(t *testing.T, pf *platform) {
	t.Helper()
	clip := filepath.Join(t.TempDir(), "secret.mp4")
	testenv.GenerateClip(t, clip, 320, 240, 2, true)
	id := pf.upload(t, clip, "Zanzibar secret rehearsal", "--privacy", "private")
	v, _ := pf.waitSettled(t, id, 3*time.Minute)
	if v.State != "ready" {
		t.Fatalf("private clip ended %s: %s", v.State, v.FailureReason)
	}
	if v.HLSURL == nil || !strings.HasPrefix(*v.HLSURL, "/media/s/") {
		t.Fatalf("the owner's media link of a private video is %v, want a signed one", v.HLSURL)
	}
	checkPlayable(t, pf, v, 240)

	other := pf.otherUser(t)
	for who, token := range map[string]string{"a visitor": "", "another user": other} {
		if code, _ := pf.doAs(t, token, "GET", "/api/v1/videos/"+id, ""); code != http.StatusNotFound {
			t.Errorf("%s reads the private video: %d, want 404", who, code)
		}
	}
	plain := "/media/videos/" + id + "/hls/master.m3u8"
	if code, _ := pf.doAs(t, "", "GET", plain, ""); code != http.StatusNotFound {
		t.Errorf("the private video's media without a signature: %d, want 404", code)
	}
	owner := pf.me(t, pf.token)
	lists := []string{"/api/v1/videos?limit=100", "/api/v1/search?q=zanzibar", "/api/v1/users/" + owner + "/videos"}
	for _, path := range lists {
		if pf.lists(t, "", path, id) {
			t.Errorf("a visitor finds the private video at %s", path)
		}
	}
	if !pf.lists(t, pf.token, "/api/v1/me/videos", id) || !pf.lists(t, pf.token, "/api/v1/users/"+owner+"/videos", id) {
		t.Error("the owner does not find their private video among their own")
	}

	// Made public, it is anyone's, its media plainly served: the edge may
	// remember for a few seconds that it was not.
	if code, body := pf.do(t, "PATCH", "/api/v1/videos/"+id, `{"privacy":"public"}`); code != http.StatusOK {
		t.Fatalf("make it public: %d %s", code, body)
	}
	if code, _ := pf.doAs(t, "", "GET", "/api/v1/videos/"+id, ""); code != http.StatusOK {
		t.Errorf("a visitor reads the public video: %d", code)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _ := pf.doAs(t, "", "GET", plain, "")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the public video's media is still %d", code)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !pf.lists(t, "", "/api/v1/search?q=zanzibar", id) {
		t.Error("a visitor does not find the public video by its title")
	}

	if code, _ := pf.doAs(t, other, "DELETE", "/api/v1/videos/"+id, ""); code != http.StatusForbidden {
		t.Errorf("another user deletes the video: %d, want 403", code)
	}
	if code, body := pf.do(t, "DELETE", "/api/v1/videos/"+id, ""); code != http.StatusNoContent {
		t.Fatalf("the owner deletes the video: %d %s", code, body)
	}
	if code, _ := pf.do(t, "GET", "/api/v1/videos/"+id, ""); code != http.StatusNotFound {
		t.Errorf("the deleted video is still there: %d", code)
	}
	signed := strings.TrimPrefix(*v.HLSURL, pf.base)
	deadline = time.Now().Add(30 * time.Second)
	for {
		code, _ := pf.doAs(t, "", "GET", signed, "")
		if code == http.StatusNotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the deleted video's media is still served: %d", code)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// me is the username of the token's user.
func (pf *platform) me(t *testing.T, token string) string {
	t.Helper()
	code, body := pf.doAs(t, token, "GET", "/api/v1/me", "")
	var u struct {
		Username string `json:"username"`
	}
	if err := json.Unmarshal(body, &u); code != http.StatusOK || err != nil {
		t.Fatalf("GET /api/v1/me = %d %s", code, body)
	}
	return u.Username
}

// lists reports whether the list or search at path, read with token, holds
// the video id.
func (pf *platform) lists(t *testing.T, token, path, id string) bool {
	t.Helper()
	code, body := pf.doAs(t, token, "GET", path, "")
	if code != http.StatusOK {
		t.Fatalf("GET %s = %d %s", path, code, body)
	}
	var page struct {
		Videos []struct {
			ID string `json:"id"`
		} `json:"videos"`
		Results []struct {
			ID string `json:"id"`
		} `json:"results"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	for _, v := range append(page.Videos, page.Results...) {
		if v.ID == id {
			return true
		}
	}
	return false
}
