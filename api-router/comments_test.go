package router

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
	"github.com/cloudflix/cloudflix/internal/video"
)

// The comment routes through the real services: the JSON of a thread, a
// video's comments turned off through PATCH, and a user posting faster
// than the allowance getting 429 with Retry-After.
func TestCommentRoutes(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testCommentRoutes)
}

func testCommentRoutes(t *testing.T, p *platform.Process) {
	w := newWorld(t, p)
	own, fan := w.users[owner], w.users[otherUser]
	v := storetest.ReadyBy(t, w.db, own.ID, video.PrivacyPublic, "Commented")
	_, ownSecret := w.newSession(t, own)
	_, fanSecret := w.newSession(t, fan)
	do := func(secret, method, target, body string) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Origin", "http://example.com")
		if secret != "" {
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: secret})
		}
		rec := httptest.NewRecorder()
		w.edge.ServeHTTP(rec, req)
		return rec
	}

	rec := do(fanSecret, "POST", "/api/v1/videos/"+v.ID+"/comments", `{"body":"  <script>alert(1)</script>  "}`)
	var c commentJSON
	if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &c) != nil {
		t.Fatalf("post: %d %s", rec.Code, rec.Body)
	}
	if c.Body != "<script>alert(1)</script>" || c.Author.Username != fan.Username || c.ParentID != nil || !c.CanEdit {
		t.Fatalf("posted comment = %+v", c)
	}
	rec = do(ownSecret, "POST", "/api/v1/comments/"+c.ID+"/replies", `{"body":"Thanks"}`)
	var reply commentJSON
	if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &reply) != nil || reply.ParentID == nil || *reply.ParentID != c.ID {
		t.Fatalf("reply: %d %s", rec.Code, rec.Body)
	}
	for _, body := range []string{`{"body":"   "}`, `{"text":"x"}`, `{"body":` + strconv.Quote(strings.Repeat("x", video.MaxCommentRunes+1)) + `}`} {
		if rec := do(fanSecret, "POST", "/api/v1/videos/"+v.ID+"/comments", body); rec.Code != http.StatusBadRequest {
			t.Fatalf("post %.40s: %d %s, want 400", body, rec.Code, rec.Body)
		}
	}

	var page commentPageJSON
	rec = do("", "GET", "/api/v1/videos/"+v.ID+"/comments", "")
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &page) != nil {
		t.Fatalf("list: %d %s", rec.Code, rec.Body)
	}
	if page.Total != 2 || len(page.Comments) != 1 || page.Comments[0].Replies != 1 || page.CanPost || page.NextCursor != nil {
		t.Fatalf("a visitor's page = %+v", page)
	}
	rec = do("", "GET", "/api/v1/videos/"+v.ID, "")
	var vj videoJSON
	if json.Unmarshal(rec.Body.Bytes(), &vj) != nil || vj.Comments != 2 || vj.CommentsOff {
		t.Fatalf("the video's JSON: %s", rec.Body)
	}

	// The owner turns comments off: the thread stays, new comments are
	// refused with a clear 409.
	if rec := do(ownSecret, "PATCH", "/api/v1/videos/"+v.ID, `{"comments_off":true}`); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"comments_off":true`) {
		t.Fatalf("turning comments off: %d %s", rec.Code, rec.Body)
	}
	rec = do(fanSecret, "POST", "/api/v1/videos/"+v.ID+"/comments", `{"body":"late"}`)
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), video.ErrCommentsOff.Error()) {
		t.Fatalf("a comment while they are off: %d %s", rec.Code, rec.Body)
	}
	rec = do(fanSecret, "GET", "/api/v1/videos/"+v.ID+"/comments", "")
	if json.Unmarshal(rec.Body.Bytes(), &page) != nil || !page.CommentsOff || page.CanPost || len(page.Comments) != 1 {
		t.Fatalf("the page while they are off = %s", rec.Body)
	}
	if rec := do(ownSecret, "PATCH", "/api/v1/videos/"+v.ID, `{"comments_off":false}`); rec.Code != http.StatusOK {
		t.Fatalf("turning comments on: %d %s", rec.Code, rec.Body)
	}

	// The fan has posted one; the rest of the burst goes through, and the
	// next is refused until the allowance refills.
	for i := 1; i < video.CommentBurst; i++ {
		if rec := do(fanSecret, "POST", "/api/v1/videos/"+v.ID+"/comments", `{"body":"again"}`); rec.Code != http.StatusCreated {
			t.Fatalf("comment %d of the burst: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	rec = do(fanSecret, "POST", "/api/v1/videos/"+v.ID+"/comments", `{"body":"one too many"}`)
	wait, _ := strconv.Atoi(rec.Header().Get("Retry-After"))
	if rec.Code != http.StatusTooManyRequests || wait < 1 || wait > int(video.CommentRefill.Seconds()) {
		t.Fatalf("past the burst: %d, Retry-After %q, %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}

	if rec := do(fanSecret, "PATCH", "/api/v1/comments/"+c.ID, `{"body":"edited"}`); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"edited_at":"`) {
		t.Fatalf("edit: %d %s", rec.Code, rec.Body)
	}
	if rec := do(ownSecret, "DELETE", "/api/v1/comments/"+c.ID, ""); rec.Code != http.StatusNoContent {
		t.Fatalf("the owner removing a thread: %d %s", rec.Code, rec.Body)
	}
	if rec := do("", "GET", "/api/v1/comments/"+reply.ID+"/replies", ""); rec.Code != http.StatusNotFound {
		t.Fatalf("a reply in a removed thread: %d %s", rec.Code, rec.Body)
	}
}
