package router

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/moderation"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
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

	// An unlisted video's link, shared before the hiding, plays until
	// then, and stops within the edge's memory of what visitors may see.
	unlisted := w.cell(t, otherUser, video.PrivacyUnlisted, false).video
	var shown videoJSON
	rec = w.do(t, otherUser, http.MethodGet, "/api/v1/videos/"+unlisted, "")
	if err := json.Unmarshal(rec.Body.Bytes(), &shown); err != nil || shown.HLSURL == nil {
		t.Fatalf("the unlisted video: %d %s", rec.Code, rec.Body)
	}
	shared := strings.TrimPrefix(*shown.HLSURL, "http://example.com")
	if rec := w.do(t, anonymous, http.MethodGet, shared, ""); rec.Code != http.StatusOK {
		t.Fatalf("the unlisted video's shared link: %d %s", rec.Code, rec.Body)
	}

	rec = w.do(t, moderator, http.MethodPost, "/api/v1/moderation/videos/"+id+"/hide", `{"reason":"spam links"}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("hide: %d %s", rec.Code, rec.Body)
	}
	if rec := w.do(t, moderator, http.MethodPost, "/api/v1/moderation/videos/"+unlisted+"/hide", `{"reason":"spam links"}`); rec.Code != http.StatusOK {
		t.Fatalf("hide the unlisted video: %d %s", rec.Code, rec.Body)
	}
	for deadline := time.Now().Add(3 * publicTTL); ; {
		rec := w.do(t, anonymous, http.MethodGet, shared, "")
		if rec.Code == http.StatusNotFound {
			break
		}
		if rec.Code != http.StatusOK || time.Now().After(deadline) {
			t.Fatalf("the hidden video's shared link: %d, want 404 within %v", rec.Code, publicTTL)
		}
		time.Sleep(100 * time.Millisecond)
	}
	rec = w.do(t, owner, http.MethodGet, "/api/v1/videos/"+unlisted, "")
	if err := json.Unmarshal(rec.Body.Bytes(), &shown); err != nil || shown.HLSURL == nil {
		t.Fatalf("the owner's hidden unlisted video: %d %s", rec.Code, rec.Body)
	}
	if rec := w.do(t, anonymous, http.MethodGet, strings.TrimPrefix(*shown.HLSURL, "http://example.com"), ""); rec.Code != http.StatusOK {
		t.Errorf("the owner's link to the hidden video: %d, want 200", rec.Code)
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
	if len(log.Entries) != 3 || log.Entries[0].Action != "restore" || log.Entries[2].Action != "hide" || log.Entries[2].Target.ID != id ||
		log.Entries[2].Actor.Username != w.users[moderator].Username || log.Entries[2].Resolved != 1 {
		t.Fatalf("audit log = %+v", log.Entries)
	}
}

func TestHiddenComment(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testHiddenComment)
}

// A comment a moderator hid reads as a placeholder (no author, no body)
// to everyone but its author, moderators and admins, who read it with
// why; the counts stay, and restoring shows it again. A reporter over
// the rate is told when to try again.
func testHiddenComment(t *testing.T, p *platform.Process) {
	w := newWorld(t, p)
	c := w.cell(t, otherUser, video.PrivacyPublic, false) // the comment is the other user's
	if rec := w.do(t, owner, http.MethodPost, "/api/v1/reports", `{"kind":"comment","id":"`+c.comment+`","reason":"abuse"}`); rec.Code != http.StatusCreated {
		t.Fatalf("report: %d %s", rec.Code, rec.Body)
	}
	var queue struct {
		Cases []caseJSON `json:"cases"`
	}
	rec := w.do(t, moderator, http.MethodGet, "/api/v1/moderation/reports", "")
	if err := json.Unmarshal(rec.Body.Bytes(), &queue); err != nil || len(queue.Cases) != 1 || queue.Cases[0].Comment == nil ||
		queue.Cases[0].Comment.Hidden {
		t.Fatalf("queue: %d %s; want the comment's case, not hidden", rec.Code, rec.Body)
	}
	if rec := w.do(t, owner, http.MethodPost, "/api/v1/moderation/comments/"+c.comment+"/hide", `{"reason":"insults"}`); rec.Code != http.StatusForbidden {
		t.Fatalf("the video's owner hiding the comment: %d, want 403", rec.Code)
	}
	rec = w.do(t, moderator, http.MethodPost, "/api/v1/moderation/comments/"+c.comment+"/hide", `{"reason":"insults"}`)
	var hidden commentJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &hidden); err != nil || rec.Code != http.StatusOK ||
		!hidden.Hidden || hidden.HiddenReason != "insults" || hidden.Author == nil || hidden.Body != "Another user's comment" {
		t.Fatalf("hide: %d %s", rec.Code, rec.Body)
	}
	if rec := w.do(t, admin, http.MethodPost, "/api/v1/moderation/comments/"+c.comment+"/hide", `{"reason":"again"}`); rec.Code != http.StatusConflict {
		t.Fatalf("hiding a hidden comment: %d, want 409", rec.Code)
	}

	read := func(a actor) commentJSON {
		t.Helper()
		var page commentPageJSON
		rec := w.do(t, a, http.MethodGet, "/api/v1/videos/"+c.video+"/comments", "")
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || len(page.Comments) != 1 || page.Total != 1 {
			t.Fatalf("%s reading the comments: %d %s; want the one comment, counted", a, rec.Code, rec.Body)
		}
		return page.Comments[0]
	}
	for _, a := range []actor{anonymous, owner} {
		got := read(a)
		if !got.Hidden || got.Author != nil || got.Body != "" || got.HiddenReason != "" || got.ID != c.comment {
			t.Errorf("%s reads the hidden comment as %+v; want its placeholder", a, got)
		}
	}
	for _, a := range []actor{otherUser, moderator, admin} {
		got := read(a)
		if !got.Hidden || got.Author == nil || got.Body != "Another user's comment" || got.HiddenReason != "insults" {
			t.Errorf("%s reads the hidden comment as %+v; want it whole, with why", a, got)
		}
	}
	if got := read(otherUser); got.CanEdit || !got.CanDelete {
		t.Errorf("its author may edit %v, delete %v the hidden comment; want delete only", got.CanEdit, got.CanDelete)
	}
	if rec := w.do(t, otherUser, http.MethodPatch, "/api/v1/comments/"+c.comment, `{"body":"nicer"}`); rec.Code != http.StatusConflict {
		t.Errorf("its author editing the hidden comment: %d, want 409", rec.Code)
	}

	if rec := w.do(t, moderator, http.MethodPost, "/api/v1/moderation/comments/"+c.comment+"/restore", `{"reason":"apologized"}`); rec.Code != http.StatusOK {
		t.Fatalf("restore: %d %s", rec.Code, rec.Body)
	}
	if got := read(anonymous); got.Hidden || got.Author == nil || got.Body != "Another user's comment" {
		t.Errorf("a visitor reads the restored comment as %+v", got)
	}

	// Reports count against the reporter's rate, the resolved one too;
	// over it the answer says when the oldest leaves the hour.
	for i := range moderation.DefaultReportRate.Reports - 1 {
		v := storetest.ReadyBy(t, w.db, w.users[otherUser].ID, video.PrivacyPublic, "Reported")
		if rec := w.do(t, owner, http.MethodPost, "/api/v1/reports", `{"kind":"video","id":"`+v.ID+`","reason":"spam"}`); rec.Code != http.StatusCreated {
			t.Fatalf("report %d: %d %s", i+2, rec.Code, rec.Body)
		}
	}
	rec = w.do(t, owner, http.MethodPost, "/api/v1/reports", `{"kind":"video","id":"`+c.video+`","reason":"spam"}`)
	wait, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	if rec.Code != http.StatusTooManyRequests || err != nil || wait < 3500 || wait > 3600 {
		t.Fatalf("a report over the rate: %d, Retry-After %q; want 429 and about an hour", rec.Code, rec.Header().Get("Retry-After"))
	}
}
