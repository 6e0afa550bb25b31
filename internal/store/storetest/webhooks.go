package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/webhook"
)

// NewEndpoint adds an endpoint of the user with id owner at url for
// events to s, with secret as its sealed secret.
func NewEndpoint(t testing.TB, s Store, owner string, allVideos bool, url string, secret []byte, events ...webhook.EventType) webhook.Endpoint {
	t.Helper()
	e, err := s.CreateWebhookEndpoint(ctxFor(t), webhook.Endpoint{
		ID: uuid.NewString(), OwnerID: owner, URL: url, Events: events, AllVideos: allVideos, Secret: secret,
	}, webhook.DefaultMaxEndpoints)
	if err != nil {
		t.Fatalf("storetest: create webhook endpoint: %v", err)
	}
	return e
}

// Deliveries is an endpoint's whole delivery log, newest first.
func Deliveries(t testing.TB, s Store, endpointID string) []webhook.Delivery {
	t.Helper()
	ds, err := s.WebhookDeliveries(ctxFor(t), endpointID, 1000, 0)
	if err != nil {
		t.Fatalf("WebhookDeliveries(%s): %v", endpointID, err)
	}
	return ds
}

var allEvents = webhook.EventTypes

func testWebhookEndpoints(t *testing.T, s Store) {
	ctx := ctxFor(t)
	ada := NewUser(t, s, testenv.Name("ada"), auth.RoleUser)
	bob := NewUser(t, s, testenv.Name("bob"), auth.RoleUser)
	e := NewEndpoint(t, s, ada.ID, false, "https://hooks.example.org/a", []byte("sealed-1"), webhook.VideoReady, webhook.VideoFailed)
	if e.OwnerID != ada.ID || e.URL != "https://hooks.example.org/a" || !slices.Equal(e.Events, []webhook.EventType{webhook.VideoReady, webhook.VideoFailed}) ||
		e.AllVideos || string(e.Secret) != "sealed-1" || e.CreatedAt.IsZero() {
		t.Fatalf("created endpoint = %+v", e)
	}
	got, err := s.WebhookEndpoint(ctx, e.ID)
	if err != nil || got.URL != e.URL || !slices.Equal(got.Events, e.Events) || string(got.Secret) != "sealed-1" {
		t.Fatalf("WebhookEndpoint = %+v, %v; want %+v", got, err, e)
	}
	second := NewEndpoint(t, s, ada.ID, false, "https://hooks.example.org/b", []byte("sealed-2"), webhook.VideoDeleted)
	list, err := s.WebhookEndpoints(ctx, ada.ID)
	if err != nil || len(list) != 2 || list[0].ID != e.ID || list[1].ID != second.ID {
		t.Fatalf("WebhookEndpoints(ada) = %+v, %v; want both, oldest first", list, err)
	}
	if list, err := s.WebhookEndpoints(ctx, bob.ID); err != nil || len(list) != 0 {
		t.Fatalf("WebhookEndpoints(bob) = %+v, %v; want none", list, err)
	}

	url := "https://hooks.example.org/moved"
	all := true
	changed, err := s.UpdateWebhookEndpoint(ctx, e.ID, webhook.Change{URL: &url, Events: allEvents, AllVideos: &all})
	if err != nil || changed.URL != url || !slices.Equal(changed.Events, allEvents) || !changed.AllVideos || string(changed.Secret) != "sealed-1" {
		t.Fatalf("UpdateWebhookEndpoint = %+v, %v", changed, err)
	}
	rotated, err := s.UpdateWebhookEndpoint(ctx, e.ID, webhook.Change{Secret: []byte("sealed-3")})
	if err != nil || string(rotated.Secret) != "sealed-3" || rotated.URL != url || !slices.Equal(rotated.Events, allEvents) {
		t.Fatalf("a rotation = %+v, %v; want only the secret changed", rotated, err)
	}

	if err := s.DeleteWebhookEndpoint(ctx, e.ID); err != nil {
		t.Fatalf("DeleteWebhookEndpoint: %v", err)
	}
	_, err = s.WebhookEndpoint(ctx, e.ID)
	wantErr(t, "reading a deleted endpoint", err, video.ErrNotFound)
	wantErr(t, "deleting it again", s.DeleteWebhookEndpoint(ctx, e.ID), video.ErrNotFound)
	_, err = s.UpdateWebhookEndpoint(ctx, e.ID, webhook.Change{URL: &url})
	wantErr(t, "updating it", err, video.ErrNotFound)
	for _, bad := range []string{"", "not-a-uuid", uuid.NewString()} {
		_, err = s.WebhookEndpoint(ctx, bad)
		wantErr(t, fmt.Sprintf("endpoint %q", bad), err, video.ErrNotFound)
		_, err = s.EnqueueWebhookEvent(ctx, bad, webhook.Event{ID: uuid.NewString(), Type: webhook.TestEvent, Payload: []byte("{}")})
		wantErr(t, fmt.Sprintf("a test event to endpoint %q", bad), err, video.ErrNotFound)
	}
	_, err = s.CreateWebhookEndpoint(ctx, webhook.Endpoint{ID: uuid.NewString(), OwnerID: uuid.NewString(), URL: url,
		Events: allEvents, Secret: []byte("s")}, webhook.DefaultMaxEndpoints)
	wantErr(t, "an endpoint of a user who does not exist", err, video.ErrNotFound)
}

func testWebhookEndpointBound(t *testing.T, s Store) {
	ctx := ctxFor(t)
	ada := NewUser(t, s, testenv.Name("ada"), auth.RoleUser)
	const bound = 3
	var wg sync.WaitGroup
	errs := make([]error, 2*bound)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = s.CreateWebhookEndpoint(ctx, webhook.Endpoint{ID: uuid.NewString(), OwnerID: ada.ID,
				URL: fmt.Sprintf("https://hooks.example.org/%d", i), Events: allEvents, Secret: []byte("s")}, bound)
		})
	}
	wg.Wait()
	created := 0
	for _, err := range errs {
		switch {
		case err == nil:
			created++
		case !errors.Is(err, webhook.ErrTooManyEndpoints):
			t.Fatalf("a creation past the bound: %v, want ErrTooManyEndpoints", err)
		}
	}
	if list, err := s.WebhookEndpoints(ctx, ada.ID); created != bound || err != nil || len(list) != bound {
		t.Fatalf("%d of %d creations at once succeeded and %d endpoints are stored (%v); want %d", created, len(errs), len(list), err, bound)
	}
}

// eventOf reads a delivery's body as its receiver does.
func eventOf(t *testing.T, d webhook.Delivery) (id, typ, videoID string, state video.State) {
	t.Helper()
	var body struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		Data struct {
			Video struct {
				ID    string      `json:"id"`
				State video.State `json:"state"`
			} `json:"video"`
		} `json:"data"`
	}
	if err := json.Unmarshal(d.Payload, &body); err != nil {
		t.Fatalf("delivery %d's body %q: %v", d.ID, d.Payload, err)
	}
	return body.ID, body.Type, body.Data.Video.ID, body.Data.Video.State
}

// wantEvents checks an endpoint's log, newest first, by event type and
// video, and that each delivery's body is its event.
func wantEvents(t *testing.T, s Store, e webhook.Endpoint, want ...string) []webhook.Delivery {
	t.Helper()
	ds := Deliveries(t, s, e.ID)
	var got []string
	for _, d := range ds {
		id, typ, videoID, _ := eventOf(t, d)
		if id != d.EventID || typ != string(d.EventType) || videoID != d.VideoID || d.State != webhook.Pending || d.Attempts != 0 {
			t.Fatalf("delivery %+v has the body of event %s, %s of %s", d, id, typ, videoID)
		}
		got = append(got, typ+" "+d.VideoID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("endpoint %s has deliveries %q, want %q", e.URL, got, want)
	}
	return ds
}

// Each state change that an event announces writes the event to every
// endpoint that asked for it, in its own transaction; a change that does
// not happen writes none.
func testWebhookEventsWithChanges(t *testing.T, s Store) {
	ctx := ctxFor(t)
	ada := NewUser(t, s, testenv.Name("ada"), auth.RoleUser)
	bob := NewUser(t, s, testenv.Name("bob"), auth.RoleUser)
	root := NewUser(t, s, testenv.Name("root"), auth.RoleAdmin)
	adas := NewEndpoint(t, s, ada.ID, false, "https://ada.example.org/all", []byte("s"), allEvents...)
	adaFailures := NewEndpoint(t, s, ada.ID, false, "https://ada.example.org/failed", []byte("s"), webhook.VideoFailed)
	bobs := NewEndpoint(t, s, bob.ID, true, "https://bob.example.org/", []byte("s"), allEvents...) // not an admin
	roots := NewEndpoint(t, s, root.ID, true, "https://root.example.org/", []byte("s"), webhook.VideoReady, webhook.VideoDeleted)

	ready := ReadyBy(t, s, ada.ID, video.PrivacyPrivate, "Ready")
	ds := wantEvents(t, s, adas, "video.ready "+ready.ID)
	if _, _, _, state := eventOf(t, ds[0]); state != video.StateReady {
		t.Fatalf("the video.ready event says the video is %s", state)
	}
	wantEvents(t, s, roots, "video.ready "+ready.ID)
	failed := failed(t, s, draft{title: "Failed", owner: ada.ID}, "not a video")
	wantEvents(t, s, adas, "video.failed "+failed.ID, "video.ready "+ready.ID)
	wantEvents(t, s, adaFailures, "video.failed "+failed.ID)
	wantEvents(t, s, roots, "video.ready "+ready.ID)

	// A worker that lost its lease changes nothing and announces nothing.
	v := UploadedBy(t, s, ada.ID, video.PrivacyPublic, "Lost")
	if _, err := s.ClaimEncode(ctx, v.ID, "w1", longLease); err != nil {
		t.Fatal(err)
	}
	_, err := s.MarkReady(ctx, v.ID, "w2", testEncoded)
	wantErr(t, "MarkReady by a worker without the lease", err, video.ErrLeaseLost)
	_, err = s.MarkFailed(ctx, v.ID, "w2", "no")
	wantErr(t, "MarkFailed by a worker without the lease", err, video.ErrLeaseLost)
	wantEvents(t, s, adas, "video.failed "+failed.ID, "video.ready "+ready.ID)

	if _, err := s.DeleteVideo(ctx, ready.ID); err != nil {
		t.Fatal(err)
	}
	ds = wantEvents(t, s, adas, "video.deleted "+ready.ID, "video.failed "+failed.ID, "video.ready "+ready.ID)
	if _, _, _, state := eventOf(t, ds[0]); state != video.StateDeleted {
		t.Fatalf("the video.deleted event says the video is %s", state)
	}
	_, err = s.DeleteVideo(ctx, ready.ID)
	wantErr(t, "deleting the video again", err, video.ErrNotFound)
	wantEvents(t, s, adas, "video.deleted "+ready.ID, "video.failed "+failed.ID, "video.ready "+ready.ID)
	wantEvents(t, s, roots, "video.deleted "+ready.ID, "video.ready "+ready.ID)
	// Bob's endpoint asks for every video, but Bob is no admin.
	wantEvents(t, s, bobs)

	// Bob's own video reaches his endpoint and the admin's, not Ada's; the
	// admin's endpoint stops receiving others' events once its owner is
	// no longer an admin.
	bobsVideo := ReadyBy(t, s, bob.ID, video.PrivacyPublic, "Bob's")
	wantEvents(t, s, bobs, "video.ready "+bobsVideo.ID)
	wantEvents(t, s, roots, "video.ready "+bobsVideo.ID, "video.deleted "+ready.ID, "video.ready "+ready.ID)
	user := auth.RoleUser
	if _, err := s.UpdateUser(ctx, root.ID, account.Change{Role: &user}); err != nil {
		t.Fatal(err)
	}
	later := ReadyBy(t, s, bob.ID, video.PrivacyPublic, "Later")
	wantEvents(t, s, roots, "video.ready "+bobsVideo.ID, "video.deleted "+ready.ID, "video.ready "+ready.ID)
	wantEvents(t, s, bobs, "video.ready "+later.ID, "video.ready "+bobsVideo.ID)

	// A deleted endpoint takes its log with it.
	if err := s.DeleteWebhookEndpoint(ctx, adas.ID); err != nil {
		t.Fatal(err)
	}
	if ds := Deliveries(t, s, adas.ID); len(ds) != 0 {
		t.Fatalf("a deleted endpoint keeps %d deliveries", len(ds))
	}
}

// claim claims every due delivery for worker.
func claim(t *testing.T, s Store, worker string, lease time.Duration) []webhook.Delivery {
	t.Helper()
	ds, err := s.ClaimWebhookDeliveries(ctxFor(t), worker, lease, 100)
	if err != nil {
		t.Fatalf("ClaimWebhookDeliveries: %v", err)
	}
	return ds
}

func testWebhookClaims(t *testing.T, s Store) {
	ctx := ctxFor(t)
	ada := NewUser(t, s, testenv.Name("ada"), auth.RoleUser)
	e := NewEndpoint(t, s, ada.ID, false, "https://ada.example.org/", []byte("sealed"), allEvents...)
	test, err := webhook.NewTestEvent(e.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	enqueued, err := s.EnqueueWebhookEvent(ctx, e.ID, test)
	if err != nil || enqueued.EventID != test.ID || enqueued.EventType != webhook.TestEvent || enqueued.State != webhook.Pending ||
		string(enqueued.Payload) != string(test.Payload) {
		t.Fatalf("EnqueueWebhookEvent = %+v, %v", enqueued, err)
	}

	ds := claim(t, s, "w1", time.Hour)
	if len(ds) != 1 || ds[0].ID != enqueued.ID || ds[0].URL != e.URL || string(ds[0].Secret) != "sealed" ||
		string(ds[0].Payload) != string(test.Payload) || ds[0].EventID != test.ID {
		t.Fatalf("claimed %+v; want the test event with the endpoint's URL and secret", ds)
	}
	if again := claim(t, s, "w2", time.Hour); len(again) != 0 {
		t.Fatalf("a claimed delivery was claimed again: %+v", again)
	}
	wantErr(t, "a record by a sender that does not hold it",
		s.RecordWebhookAttempt(ctx, enqueued.ID, "w2", webhook.Attempt{State: webhook.Delivered, Status: 200}), video.ErrLeaseLost)

	// A failure waits for its retry.
	err = s.RecordWebhookAttempt(ctx, enqueued.ID, "w1", webhook.Attempt{State: webhook.Pending, Status: 500,
		Latency: 1500 * time.Microsecond, Error: "HTTP 500: boom", RetryAfter: time.Hour})
	if err != nil {
		t.Fatalf("RecordWebhookAttempt: %v", err)
	}
	d := Deliveries(t, s, e.ID)[0]
	if d.State != webhook.Pending || d.Attempts != 1 || d.LastStatus != 500 || d.LastLatency != 1500*time.Microsecond ||
		d.LastError != "HTTP 500: boom" || time.Until(d.NextAttemptAt) < 50*time.Minute {
		t.Fatalf("after a failed attempt the log says %+v; want pending, 1 attempt, retried in an hour", d)
	}
	if again := claim(t, s, "w1", time.Hour); len(again) != 0 {
		t.Fatalf("a delivery was claimed before its retry was due: %+v", again)
	}
	wantErr(t, "a second record of the same claim",
		s.RecordWebhookAttempt(ctx, enqueued.ID, "w1", webhook.Attempt{State: webhook.Delivered, Status: 200}), video.ErrLeaseLost)

	// A second delivery, due at once after a failure, is claimed again; a
	// claim that runs out lets another sender take it, and the first
	// sender's record is refused.
	now, err := webhook.NewTestEvent(e.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.EnqueueWebhookEvent(ctx, e.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	if ds := claim(t, s, "w1", time.Hour); len(ds) != 1 || ds[0].ID != second.ID {
		t.Fatalf("claimed %+v; want the second delivery", ds)
	}
	if err := s.RecordWebhookAttempt(ctx, second.ID, "w1", webhook.Attempt{State: webhook.Pending, Error: "no answer within 10s"}); err != nil {
		t.Fatal(err)
	}
	if ds := claim(t, s, "w1", 0); len(ds) != 1 || ds[0].Attempts != 1 {
		t.Fatalf("claimed %+v; want the second delivery again, after 1 attempt", ds)
	}
	if ds := claim(t, s, "w2", time.Hour); len(ds) != 1 || ds[0].ID != second.ID {
		t.Fatalf("claimed %+v; want the delivery whose claim ran out", ds)
	}
	wantErr(t, "a record by the sender whose claim ran out",
		s.RecordWebhookAttempt(ctx, second.ID, "w1", webhook.Attempt{State: webhook.Delivered, Status: 200}), video.ErrLeaseLost)
	wantErr(t, "a release by the sender whose claim ran out", s.ReleaseWebhookDelivery(ctx, second.ID, "w1"), video.ErrLeaseLost)

	// A release gives it back due at once, with no attempt counted.
	if err := s.ReleaseWebhookDelivery(ctx, second.ID, "w2"); err != nil {
		t.Fatalf("ReleaseWebhookDelivery: %v", err)
	}
	ds = claim(t, s, "w3", time.Hour)
	if len(ds) != 1 || ds[0].ID != second.ID || ds[0].Attempts != 1 {
		t.Fatalf("claimed %+v after a release; want the delivery, still at 1 attempt", ds)
	}
	if err := s.RecordWebhookAttempt(ctx, second.ID, "w3", webhook.Attempt{State: webhook.Delivered, Status: 204, Latency: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	d = Deliveries(t, s, e.ID)[0]
	if d.ID != second.ID || d.State != webhook.Delivered || d.Attempts != 2 || d.LastStatus != 204 || d.LastError != "" || !d.NextAttemptAt.IsZero() {
		t.Fatalf("after delivery the log says %+v", d)
	}
	wantErr(t, "a record of a delivered delivery",
		s.RecordWebhookAttempt(ctx, second.ID, "w3", webhook.Attempt{State: webhook.Failed}), video.ErrLeaseLost)
	if err := s.RecordWebhookAttempt(ctx, second.ID, "w3", webhook.Attempt{State: "sent"}); !video.IsInvalid(err) {
		t.Fatalf("an attempt in state %q: %v, want invalid", "sent", err)
	}
}

// Senders claiming at once never hold the same delivery.
func testConcurrentWebhookClaims(t *testing.T, s Store) {
	ctx := ctxFor(t)
	ada := NewUser(t, s, testenv.Name("ada"), auth.RoleUser)
	e := NewEndpoint(t, s, ada.ID, false, "https://ada.example.org/", []byte("s"), allEvents...)
	const deliveries, senders = 40, 8
	for range deliveries {
		ev, err := webhook.NewTestEvent(e.ID, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.EnqueueWebhookEvent(ctx, e.ID, ev); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu      sync.Mutex
		claimed = map[int64]string{}
		wg      sync.WaitGroup
	)
	for i := range senders {
		worker := fmt.Sprintf("w%d", i)
		wg.Go(func() {
			for {
				ds, err := s.ClaimWebhookDeliveries(ctx, worker, time.Hour, 3)
				if err != nil {
					t.Errorf("%s: ClaimWebhookDeliveries: %v", worker, err)
					return
				}
				if len(ds) == 0 {
					return
				}
				mu.Lock()
				for _, d := range ds {
					if other, ok := claimed[d.ID]; ok {
						t.Errorf("delivery %d claimed by %s and %s", d.ID, other, worker)
					}
					claimed[d.ID] = worker
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(claimed) != deliveries {
		t.Fatalf("%d deliveries claimed, want %d", len(claimed), deliveries)
	}
}

func testWebhookLogPaging(t *testing.T, s Store) {
	ctx := ctxFor(t)
	ada := NewUser(t, s, testenv.Name("ada"), auth.RoleUser)
	e := NewEndpoint(t, s, ada.ID, false, "https://ada.example.org/", []byte("s"), allEvents...)
	var ids []int64
	for range 5 {
		ev, err := webhook.NewTestEvent(e.ID, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		d, err := s.EnqueueWebhookEvent(ctx, e.ID, ev)
		if err != nil {
			t.Fatal(err)
		}
		ids = append([]int64{d.ID}, ids...)
	}
	var got []int64
	var before int64
	for {
		page, err := s.WebhookDeliveries(ctx, e.ID, 2, before)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, d := range page {
			got = append(got, d.ID)
		}
		before = page[len(page)-1].ID
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("pages of the log give %v, want %v (newest first)", got, ids)
	}
}

func testPurgeWebhookDeliveries(t *testing.T, s Store) {
	ctx := ctxFor(t)
	ada := NewUser(t, s, testenv.Name("ada"), auth.RoleUser)
	e := NewEndpoint(t, s, ada.ID, false, "https://ada.example.org/", []byte("s"), allEvents...)
	for range 3 {
		ev, err := webhook.NewTestEvent(e.ID, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.EnqueueWebhookEvent(ctx, e.ID, ev); err != nil {
			t.Fatal(err)
		}
	}
	ds := claim(t, s, "w", time.Hour)
	if len(ds) != 3 {
		t.Fatalf("claimed %d deliveries, want 3", len(ds))
	}
	outcomes := []webhook.Attempt{{State: webhook.Delivered, Status: 200}, {State: webhook.Failed, Status: 500}, {State: webhook.Pending, Status: 500}}
	for i, d := range ds {
		if err := s.RecordWebhookAttempt(ctx, d.ID, "w", outcomes[i]); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.PurgeWebhookDeliveries(ctx, time.Hour, 100); err != nil || n != 0 {
		t.Fatalf("PurgeWebhookDeliveries(1h) = %d, %v; want nothing that young", n, err)
	}
	// Each finished delivery goes, one per call at a limit of one.
	for range 2 {
		if n, err := s.PurgeWebhookDeliveries(ctx, -time.Second, 1); err != nil || n != 1 {
			t.Fatalf("PurgeWebhookDeliveries(limit 1) = %d, %v; want 1", n, err)
		}
	}
	if n, err := s.PurgeWebhookDeliveries(ctx, -time.Second, 100); err != nil || n != 0 {
		t.Fatalf("PurgeWebhookDeliveries = %d, %v; want nothing left to purge", n, err)
	}
	left := Deliveries(t, s, e.ID)
	if len(left) != 1 || left[0].State != webhook.Pending {
		t.Fatalf("after purging, the log holds %+v; want only the pending delivery", left)
	}
}

// A comment writes its comment.created event in its own transaction, to
// the video owner's endpoints that asked for it; a refused comment writes
// none.
func testWebhookCommentEvents(t *testing.T, s Store) {
	ctx := ctxFor(t)
	ada := NewUser(t, s, testenv.Name("ada"), auth.RoleUser)
	bob := NewUser(t, s, testenv.Name("bob"), auth.RoleUser)
	adas := NewEndpoint(t, s, ada.ID, false, "https://ada.example.org/", []byte("s"), webhook.CommentCreated)
	readyOnly := NewEndpoint(t, s, ada.ID, false, "https://ada.example.org/ready", []byte("s"), webhook.VideoReady)
	v := ReadyBy(t, s, ada.ID, video.PrivacyPublic, "Discussed")
	top := AddComment(t, s, v.ID, bob.ID, "", "First!", time.Now())
	reply := AddComment(t, s, v.ID, ada.ID, top.ID, "Thanks", time.Now())
	_, err := s.AddComment(ctx, video.Comment{VideoID: uuid.NewString(), AuthorID: bob.ID, Body: "Nowhere", CreatedAt: time.Now()}, noCommentLimit)
	wantErr(t, "a comment on no video", err, video.ErrNotFound)

	ds := Deliveries(t, s, adas.ID)
	if len(ds) != 2 {
		t.Fatalf("%d comment deliveries, want 2", len(ds))
	}
	for i, want := range []video.Comment{reply, top} {
		var body struct {
			ID   string `json:"id"`
			Type string `json:"type"`
			Data struct {
				Comment struct {
					ID       string `json:"id"`
					VideoID  string `json:"video_id"`
					ParentID string `json:"parent_id"`
					Author   string `json:"author"`
					Body     string `json:"body"`
				} `json:"comment"`
			} `json:"data"`
		}
		if err := json.Unmarshal(ds[i].Payload, &body); err != nil {
			t.Fatal(err)
		}
		c := body.Data.Comment
		if ds[i].EventType != webhook.CommentCreated || ds[i].VideoID != v.ID || body.ID != ds[i].EventID ||
			c.ID != want.ID || c.VideoID != v.ID || c.ParentID != want.ParentID || c.Author != want.AuthorName || c.Body != want.Body {
			t.Fatalf("delivery %d: %+v with body %s; want the comment %+v", i, ds[i], ds[i].Payload, want)
		}
	}
	if ds := Deliveries(t, s, readyOnly.ID); len(ds) != 1 || ds[0].EventType != webhook.VideoReady {
		t.Fatalf("the endpoint for video.ready alone got %+v", ds)
	}
}
