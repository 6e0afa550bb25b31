package router

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/video"
)

// do sends a request as a, as a browser would, and returns the answer.
func (w *world) do(t *testing.T, a actor, method, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Origin", "http://example.com")
	if a != anonymous {
		_, secret := w.newSession(t, w.users[a])
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: secret})
	}
	rec := httptest.NewRecorder()
	w.edge.ServeHTTP(rec, req)
	return rec
}

func TestHiddenVideo(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testHiddenVideo)
}

// A video a moderator hid is refused, with its media, to everyone but its
// owner, moderators and admins, who read why; it leaves the lists; and
// restoring it shows it again.
func testHiddenVideo(t *testing.T, p *platform.Process) {
	w := newWorld(t, p)
	c := w.cell(t, otherUser, video.PrivacyPublic, false)
	id := c.video
	if rec := w.do(t, otherUser, http.MethodPost, "/api/v1/reports", `{"kind":"video","id":"`+id+`","reason":"spam","note":"links"}`); rec.Code != http.StatusCreated {
		t.Fatalf("report: %d %s", rec.Code, rec.Body)
	}
	var queue struct {
		Cases []caseJSON `json:"cases"`
	}
	rec := w.do(t, moderator, http.MethodGet, "/api/v1/moderation/reports", "")
	if err := json.Unmarshal(rec.Body.Bytes(), &queue); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("queue: %d %s", rec.Code, rec.Body)
	}
	if len(queue.Cases) != 1 || queue.Cases[0].Video == nil || queue.Cases[0].Video.ID != id || queue.Cases[0].Reasons["spam"] != 1 {
		t.Fatalf("queue = %+v; want the reported video's case", queue.Cases)
	}

	rec = w.do(t, moderator, http.MethodPost, "/api/v1/moderation/videos/"+id+"/hide", `{"reason":"spam links"}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("hide: %d %s", rec.Code, rec.Body)
	}
	for _, a := range []actor{anonymous, otherUser} {
		if rec := w.do(t, a, http.MethodGet, "/api/v1/videos/"+id, ""); rec.Code != http.StatusNotFound {
			t.Errorf("%s reading the hidden video: %d, want 404", a, rec.Code)
		}
	}
	if rec := w.do(t, anonymous, http.MethodGet, "/media/"+video.MasterPlaylistKey(id), ""); rec.Code != http.StatusNotFound {
		t.Errorf("its public media: %d, want 404", rec.Code)
	}
	if rec := w.do(t, otherUser, http.MethodPost, "/api/v1/reports", `{"kind":"video","id":"`+id+`","reason":"spam"}`); rec.Code != http.StatusNotFound {
		t.Errorf("reporting the hidden video: %d, want 404", rec.Code)
	}
	for _, a := range []actor{owner, moderator, admin} {
		rec := w.do(t, a, http.MethodGet, "/api/v1/videos/"+id, "")
		var v videoJSON
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("%s reading the hidden video: %d %s", a, rec.Code, rec.Body)
		}
		if !v.Hidden || v.HiddenReason != "spam links" || v.HLSURL == nil || !strings.Contains(*v.HLSURL, signedPrefix) {
			t.Errorf("%s reads the hidden video as %+v; want it hidden, why, and a signed media link", a, v)
		}
	}
	var list struct {
		Videos []videoJSON `json:"videos"`
	}
	rec = w.do(t, anonymous, http.MethodGet, "/api/v1/videos", "")
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	for _, v := range list.Videos {
		if v.ID == id {
			t.Fatal("the latest list shows the hidden video")
		}
	}

	if rec := w.do(t, moderator, http.MethodPost, "/api/v1/moderation/videos/"+id+"/restore", `{"reason":"appeal upheld"}`); rec.Code != http.StatusOK {
		t.Fatalf("restore: %d %s", rec.Code, rec.Body)
	}
	if rec := w.do(t, anonymous, http.MethodGet, "/api/v1/videos/"+id, ""); rec.Code != http.StatusOK {
		t.Errorf("anonymous reading the restored video: %d, want 200", rec.Code)
	}
	var log struct {
		Entries []auditEntryJSON `json:"entries"`
	}
	rec = w.do(t, admin, http.MethodGet, "/api/v1/admin/audit", "")
	if err := json.Unmarshal(rec.Body.Bytes(), &log); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("audit log: %d %s", rec.Code, rec.Body)
	}
	if len(log.Entries) != 2 || log.Entries[0].Action != "restore" || log.Entries[1].Action != "hide" ||
		log.Entries[1].Actor.Username != w.users[moderator].Username || log.Entries[1].Resolved != 1 {
		t.Fatalf("audit log = %+v", log.Entries)
	}
}
