package router

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/webhook"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
	uploadsvc "github.com/cloudflix/cloudflix/video-upload-svc"
)

// call sends a request as a signed-in browser of actor a would, and
// returns the answer.
func (w *world) call(t *testing.T, a actor, method, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
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

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder, wantStatus int) T {
	t.Helper()
	if rec.Code != wantStatus {
		t.Fatalf("status %d %s, want %d", rec.Code, rec.Body, wantStatus)
	}
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("answer %s: %v", rec.Body, err)
	}
	return v
}

// hookReceiver is a webhook endpoint on loopback that checks each
// delivery's signature with the secret it is told, and keeps the events.
type hookReceiver struct {
	t   *testing.T
	srv *httptest.Server

	mu     sync.Mutex
	secret string
	events []string // "type id"
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{t: t}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if err := webhook.Verify(r.Header.Get(webhook.SignatureHeader), h.secret, body, 5*time.Minute, time.Now()); err != nil {
			t.Errorf("a delivery of %s: %v", r.Header.Get(webhook.EventIDHeader), err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		h.events = append(h.events, r.Header.Get(webhook.EventTypeHeader)+" "+r.Header.Get(webhook.EventIDHeader))
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) setSecret(s string) {
	h.mu.Lock()
	h.secret = s
	h.mu.Unlock()
}

// waitForEvent polls until the receiver has taken an event of type typ.
func (h *hookReceiver) waitForEvent(typ string) {
	h.t.Helper()
	eventually(h.t, "a "+typ+" event", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, e := range h.events {
			if strings.HasPrefix(e, typ+" ") {
				return true
			}
		}
		return false
	})
}

// eventually polls cond until it holds, failing the test after a minute.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(time.Minute)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("waited a minute for %s", what)
		}
	}
}

type webhookAnswer struct {
	Secret  string `json:"secret"`
	Webhook struct {
		ID        string   `json:"id"`
		URL       string   `json:"url"`
		Events    []string `json:"events"`
		AllVideos bool     `json:"all_videos"`
	} `json:"webhook"`
}

type deliveriesAnswer struct {
	Deliveries []struct {
		ID         int64  `json:"id"`
		EventType  string `json:"event_type"`
		State      string `json:"state"`
		Attempts   int    `json:"attempts"`
		LastStatus int    `json:"last_status"`
	} `json:"deliveries"`
	NextCursor *string `json:"next_cursor"`
}

// An owner registers an endpoint, sees its secret once, sends it a test
// event and receives their video's events, signed, through a real sender
// to a real receiver; reads the delivery log; rotates the secret; and
// removes the endpoint. Nobody else finds it.
func TestWebhooksThroughTheAPI(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testWebhooksThroughTheAPI)
}

func testWebhooksThroughTheAPI(t *testing.T, p *platform.Process) {
	w := newWorld(t, p)
	rcv := newHookReceiver(t)
	sealer, err := webhook.NewSealer(platformtest.Key.Derive(webhook.KeyPurpose))
	must(t, err)
	ctx, stop := context.WithCancel(t.Context())
	sender := webhook.NewSender(w.db, sealer, webhook.Settings{Worker: "api-test", Interval: 20 * time.Millisecond,
		Policy: webhook.Policy{Allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}}, prometheus.NewRegistry())
	done := make(chan error, 1)
	go func() { done <- sender.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })

	// Refused: events that do not exist, a URL that is not http, every
	// video without admin rights, and nobody signed in.
	for body, want := range map[string]int{
		`{"url":"` + rcv.srv.URL + `","events":["video.exploded"]}`:                   http.StatusBadRequest,
		`{"url":"` + rcv.srv.URL + `","events":[]}`:                                   http.StatusBadRequest,
		`{"url":"ftp://127.0.0.1/","events":["video.ready"]}`:                         http.StatusBadRequest,
		`{"url":"` + rcv.srv.URL + `","events":["video.ready"],"all_videos":true}`:    http.StatusForbidden,
		`{"url":"` + rcv.srv.URL + `","events":["video.ready"],"unknown_field":true}`: http.StatusBadRequest,
	} {
		if rec := w.call(t, owner, "POST", "/api/v1/webhooks", body); rec.Code != want {
			t.Errorf("POST %s: %d %s, want %d", body, rec.Code, rec.Body, want)
		}
	}
	if rec := w.call(t, anonymous, "GET", "/api/v1/webhooks", ""); rec.Code != http.StatusUnauthorized {
		t.Errorf("a visitor's list: %d, want 401", rec.Code)
	}

	created := decode[webhookAnswer](t, w.call(t, owner, "POST", "/api/v1/webhooks",
		`{"url":"`+rcv.srv.URL+`/in","events":["video.deleted","video.ready"]}`), http.StatusCreated)
	if !strings.HasPrefix(created.Secret, "whsec_") || created.Webhook.URL != rcv.srv.URL+"/in" ||
		strings.Join(created.Webhook.Events, ",") != "video.ready,video.deleted" {
		t.Fatalf("created %+v", created)
	}
	rcv.setSecret(created.Secret)
	id := created.Webhook.ID
	if strings.Contains(w.call(t, owner, "GET", "/api/v1/webhooks/"+id, "").Body.String(), created.Secret) ||
		strings.Contains(w.call(t, owner, "GET", "/api/v1/webhooks", "").Body.String(), created.Secret) {
		t.Fatal("the secret is shown again after its creation")
	}
	list := decode[struct {
		Webhooks []struct {
			ID string `json:"id"`
		} `json:"webhooks"`
	}](t, w.call(t, owner, "GET", "/api/v1/webhooks", ""), http.StatusOK)
	if len(list.Webhooks) != 1 || list.Webhooks[0].ID != id {
		t.Fatalf("the owner's list: %+v", list)
	}
	for _, a := range []actor{otherUser, moderator} {
		if rec := w.call(t, a, "GET", "/api/v1/webhooks/"+id, ""); rec.Code != http.StatusNotFound {
			t.Errorf("%s reads the owner's endpoint: %d, want 404", a, rec.Code)
		}
	}

	// The test event and a video's events arrive, signed.
	decode[map[string]any](t, w.call(t, owner, "POST", "/api/v1/webhooks/"+id+"/test", ""), http.StatusAccepted)
	rcv.waitForEvent("webhook.test")
	v := storetest.ReadyBy(t, w.db, w.users[owner].ID, video.PrivacyPrivate, "Announced")
	rcv.waitForEvent("video.ready")

	changed := decode[struct {
		ID     string   `json:"id"`
		URL    string   `json:"url"`
		Events []string `json:"events"`
	}](t, w.call(t, owner, "PATCH", "/api/v1/webhooks/"+id, `{"events":["video.failed"]}`), http.StatusOK)
	if changed.ID != id || changed.URL != created.Webhook.URL || strings.Join(changed.Events, ",") != "video.failed" {
		t.Fatalf("PATCH answered %+v", changed)
	}
	if rec := w.call(t, owner, "PATCH", "/api/v1/webhooks/"+id, `{"url":"http://user:pw@127.0.0.1/"}`); rec.Code != http.StatusBadRequest {
		t.Errorf("PATCH to a URL with credentials: %d, want 400", rec.Code)
	}
	if _, err := w.db.DeleteVideo(t.Context(), v.ID); err != nil {
		t.Fatal(err)
	}

	// A rotated secret signs the next delivery.
	rotated := decode[webhookAnswer](t, w.call(t, owner, "POST", "/api/v1/webhooks/"+id+"/rotate-secret", ""), http.StatusOK)
	if rotated.Secret == created.Secret || !strings.HasPrefix(rotated.Secret, "whsec_") {
		t.Fatalf("rotation gave %q", rotated.Secret)
	}
	rcv.setSecret(rotated.Secret)
	decode[map[string]any](t, w.call(t, owner, "POST", "/api/v1/webhooks/"+id+"/test", ""), http.StatusAccepted)

	// The log, newest first, a page at a time: two test events and the
	// ready video; the deletion came after the endpoint stopped asking
	// for it.
	var log []string
	eventually(t, "three deliveries delivered", func() bool {
		page := decode[deliveriesAnswer](t, w.call(t, owner, "GET", "/api/v1/webhooks/"+id+"/deliveries", ""), http.StatusOK)
		log = log[:0]
		delivered := 0
		for _, d := range page.Deliveries {
			log = append(log, d.EventType)
			if d.State == "delivered" && d.LastStatus == 200 && d.Attempts == 1 {
				delivered++
			}
		}
		return delivered == 3
	})
	if strings.Join(log, ",") != "webhook.test,video.ready,webhook.test" {
		t.Fatalf("the log holds %v", log)
	}
	first := decode[deliveriesAnswer](t, w.call(t, owner, "GET", "/api/v1/webhooks/"+id+"/deliveries?limit=2", ""), http.StatusOK)
	if len(first.Deliveries) != 2 || first.NextCursor == nil {
		t.Fatalf("the first page of two: %+v", first)
	}
	second := decode[deliveriesAnswer](t, w.call(t, owner, "GET", "/api/v1/webhooks/"+id+"/deliveries?limit=2&cursor="+*first.NextCursor, ""), http.StatusOK)
	if len(second.Deliveries) != 1 || second.NextCursor != nil || second.Deliveries[0].EventType != "webhook.test" {
		t.Fatalf("the second page: %+v", second)
	}
	if rec := w.call(t, owner, "GET", "/api/v1/webhooks/"+id+"/deliveries?cursor=nope", ""); rec.Code != http.StatusBadRequest {
		t.Errorf("a bad cursor: %d, want 400", rec.Code)
	}

	if rec := w.call(t, otherUser, "DELETE", "/api/v1/webhooks/"+id, ""); rec.Code != http.StatusNotFound {
		t.Errorf("another user's delete: %d, want 404", rec.Code)
	}
	if rec := w.call(t, owner, "DELETE", "/api/v1/webhooks/"+id, ""); rec.Code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", rec.Code, rec.Body)
	}
	if rec := w.call(t, owner, "GET", "/api/v1/webhooks/"+id, ""); rec.Code != http.StatusNotFound {
		t.Errorf("a deleted endpoint: %d, want 404", rec.Code)
	}

	// An admin's endpoint for every video.
	all := decode[webhookAnswer](t, w.call(t, admin, "POST", "/api/v1/webhooks",
		`{"url":"`+rcv.srv.URL+`/all","events":["video.ready"],"all_videos":true}`), http.StatusCreated)
	if !all.Webhook.AllVideos {
		t.Fatalf("the admin's endpoint: %+v", all)
	}
}

// Without the operator's allowance an endpoint on loopback, a private
// network or the cloud's metadata address is refused at registration,
// and so is a name that resolves to one.
func TestWebhookRegistrationRefusesPrivateAddresses(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, func(t *testing.T, p *platform.Process) {
		w := newWorld(t, p)
		sealer, err := webhook.NewSealer(platformtest.Key.Derive(webhook.KeyPurpose))
		must(t, err)
		strict := uploadsvc.NewWebhooks(w.db, sealer, webhook.Policy{}, net.DefaultResolver, webhook.DefaultMaxEndpoints, nil)
		ctx := storetest.SignedIn(t.Context(), w.users[owner])
		for _, url := range []string{"http://127.0.0.1:8080/hook", "http://localhost/hook", "http://[::1]/", "http://10.0.0.7/",
			"http://169.254.169.254/latest/meta-data/", "http://100.64.1.1/", "http://0.0.0.0/"} {
			_, err := strict.CreateWebhook(ctx, &pb.CreateWebhookRequest{Url: url, Events: []string{"video.ready"}})
			if status.Code(err) != codes.InvalidArgument {
				t.Errorf("registering %s: %v, want InvalidArgument", url, err)
			}
		}
		if list, err := w.db.WebhookEndpoints(t.Context(), w.users[owner].ID); err != nil || len(list) != 0 {
			t.Fatalf("endpoints stored: %+v, %v; want none", list, err)
		}
	})
}
