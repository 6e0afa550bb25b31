// Package faults holds CloudFlix against its backends failing: a real
// fault-injecting proxy between the platform and each of PostgreSQL, Redis,
// RabbitMQ and S3 takes it down, slows it or cuts its connections mid-way
// while videos are uploaded, encoded and read. Whatever the fault, a client
// gets a success or a 503 with Retry-After in the API's JSON error shape,
// never a 500; no upload or encode job is lost, no video is left stuck,
// and everything works again by itself once the fault ends.
package faults

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/faulttest"
)

// slowBy is the delay each way of a slow backend: more than the cache's
// command timeout, well under a request's.
const slowBy = 300 * time.Millisecond

// lasts is how long each fault is held while the activities run.
const lasts = 3 * time.Second

// outcome is what a client saw while a fault lasted.
type outcome struct {
	read   string // reading a video read before (so cached)
	list   string // the latest videos (always the database)
	media  string // the master playlist of a ready video (object storage)
	upload string // a whole upload: create, sign, PUT the part, complete
	ready  string // the router's /readyz: 200 or 503
}

// want is what a client sees while each fault lasts; the README's table of
// faults is this one. "ok|503" (or "200|503") is a cut connection: some requests get
// through on a fresh connection, the rest are refused. A signed-in read
// needs the session, in the metadata store; media needs only the video's
// cached info and storage.
var want = map[Backend]map[faulttest.Fault]outcome{
	Postgres: {
		faulttest.Down: {read: "503", list: "503", media: "ok", upload: "503", ready: "503"},
		faulttest.Slow: unaffected,
		faulttest.Cut:  {read: "ok|503", list: "ok|503", media: "ok|503", upload: "accepted|503", ready: "200|503"},
	},
	Redis: {
		faulttest.Down: unaffected,
		faulttest.Slow: unaffected,
		faulttest.Cut:  unaffected,
	},
	RabbitMQ: {
		faulttest.Down: unaffected,
		faulttest.Slow: unaffected,
		faulttest.Cut:  unaffected,
	},
	S3: {
		faulttest.Down: {read: "ok", list: "ok", media: "503", upload: "503", ready: "503"},
		faulttest.Slow: unaffected,
		faulttest.Cut:  {read: "ok", list: "ok", media: "ok|503", upload: "accepted|503", ready: "200|503"},
	},
}

// unaffected is a fault that clients do not see: every request succeeds.
var unaffected = outcome{read: "ok", list: "ok", media: "ok", upload: "accepted", ready: "200"}

// matches reports whether what was seen is allowed by w, where "a|b"
// allows a, b, or both seen in turn.
func matches(w, seen string) bool {
	allowed := strings.Split(w, "|")
	for _, part := range strings.Split(seen, " or ") {
		if !slices.Contains(allowed, part) {
			return false
		}
	}
	return true
}

func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("fault matrix")
	}
	t.Parallel()
	for _, backend := range backends {
		for _, fault := range faulttest.Faults {
			t.Run(string(backend)+"/"+string(fault), func(t *testing.T) {
				t.Parallel()
				got := holdFault(t, backend, fault)
				w := want[backend][fault]
				if !matches(w.read, got.read) || !matches(w.list, got.list) || !matches(w.media, got.media) ||
					!matches(w.upload, got.upload) || !matches(w.ready, got.ready) {
					t.Errorf("while %s was %s: %+v; want %+v", backend, fault, got, w)
				}
			})
		}
	}
}

// holdFault runs the activities against a site while backend suffers
// fault, then heals it and checks that nothing was lost.
func holdFault(t *testing.T, backend Backend, fault faulttest.Fault) outcome {
	s := startSite(t)
	seen, a := s.upload("seen before the fault")
	if a.code != 0 || a.err != nil {
		t.Fatalf("upload before the fault: %v", a)
	}
	master := s.waitVideo(t, seen, 2*time.Minute).HLSURL
	// A second upload completes just before the fault, so its encode runs
	// while the fault lasts.
	encoding, a := s.upload("encoded during the fault")
	if a.code != 0 || a.err != nil {
		t.Fatalf("upload before the fault: %v", a)
	}
	if v, _ := s.video(encoding); v.State == "ready" {
		t.Fatalf("video %s was encoded before the fault began", encoding)
	}

	s.proxies[backend].Inject(fault, slowBy)
	var got outcome
	var during string
	lastTitle := "seen before the fault"
	end := time.Now().Add(lasts)
	for round := 0; time.Now().Before(end) || round == 0; round++ {
		_, read := s.video(seen)
		got.read = merge(got.read, classify(t, "read", read))
		got.list = merge(got.list, classify(t, "list", s.do("GET", "/api/v1/videos", nil)))
		got.media = merge(got.media, classify(t, "media", s.do("GET", master, nil)))
		ready := s.do("GET", "/readyz", nil)
		got.ready = merge(got.ready, strconv.Itoa(ready.code))
		if round == 0 {
			id, up := s.upload("uploaded during the fault")
			during = id
			got.upload = classify(t, "upload", up)
			// An edit whose cache invalidation may be lost with the fault.
			title := "edited during the fault"
			if classify(t, "edit", s.do("PATCH", "/api/v1/videos/"+seen, map[string]string{"title": title})) == "ok" {
				lastTitle = title
			}
		}
	}
	s.proxies[backend].Heal()

	// After: the video read before is read again, the one encoding and
	// the one uploaded during the fault (sent again if it was refused)
	// end ready, and the site is ready.
	deadline := time.Now().Add(time.Minute)
	for {
		v, a := s.video(seen)
		if a.code == http.StatusOK {
			if v.Title != lastTitle {
				t.Fatalf("after the fault the video reads %q, not %q as last edited", v.Title, lastTitle)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the video read before the fault is not read again within a minute of healing")
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.waitVideo(t, encoding, 3*time.Minute)
	if got.upload != "accepted" {
		deadline := time.Now().Add(time.Minute)
		for {
			id, a := s.upload("sent again after the fault")
			if a.code == 0 && a.err == nil {
				during = id
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("an upload is still refused a minute after healing: %v", a)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	s.waitVideo(t, during, 3*time.Minute)
	s.waitReady(t)
	// Three videos, each encoded once: a job redelivered or re-enqueued
	// while the fault lasted did not finish a video twice.
	// The worker counts an encode once the database has it ready, an
	// instant after the API can say so.
	n, deadline := s.encodesFinished(t), time.Now().Add(30*time.Second)
	for n < 3 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		n = s.encodesFinished(t)
	}
	if n != 3 {
		t.Errorf("%d encodes finished ready for 3 videos", n)
	}
	return got
}

// classify checks one answer given while a fault lasted: a success, or a
// 503 with Retry-After and the API's JSON error, never anything else. It
// returns "ok" (or "accepted" for a whole upload), "503", or "storage
// unreachable" when a part could not be sent to storage at all.
func classify(t *testing.T, what string, a answer) string {
	t.Helper()
	switch {
	case a.err != nil && what == "upload" && a.code == 0:
		return "storage unreachable"
	case a.err != nil:
		t.Errorf("%s got no answer: %v", what, a.err)
		return "no answer"
	case what == "upload" && a.code == 0:
		return "accepted"
	case a.code >= 200 && a.code < 300:
		return "ok"
	case a.code == http.StatusServiceUnavailable:
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(a.body, &e); err != nil || e.Error.Code != "unavailable" || e.Error.Message == "" {
			t.Errorf("%s: 503 without the JSON error: %s", what, a.body)
		}
		if n, err := strconv.Atoi(a.retryAfter); err != nil || n <= 0 {
			t.Errorf("%s: 503 with Retry-After %q", what, a.retryAfter)
		}
		return "503"
	default:
		t.Errorf("%s answered %v; want a success or a 503", what, a)
		return fmt.Sprint(a.code)
	}
}

// merge joins the outcomes of several tries of one activity: "ok", "503",
// or "ok or 503" when both were seen.
func merge(a, b string) string {
	switch {
	case a == "" || a == b:
		return b
	case a == "ok or 503" || b == "ok or 503":
		return "ok or 503"
	default:
		return a + " or " + b
	}
}
