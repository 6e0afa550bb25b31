package janitor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/blob"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/videocache"
	"github.com/cloudflix/cloudflix/internal/webhook"
)

// rig is a janitor's backends, as the upload target opens them, with
// local storage's part endpoint served as the router serves it.
type rig struct {
	store   store.Store
	objects blob.Store
	cache   Cache
	parts   string // base URL that local storage's part URLs resolve against
}

func newRig(t testing.TB, p *platform.Process) *rig {
	t.Helper()
	ctx := t.Context()
	db, err := p.Store(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Cache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	objects, parts := platformtest.Storage(t, p)
	return &rig{store: db, objects: objects, cache: videocache.New(c, time.Minute, nil), parts: parts}
}

// janitor is a janitor of the rig's, holding the lease as holder.
func (r *rig) janitor(holder string, set Settings) *Janitor {
	set.Holder = holder
	if set.Interval == 0 {
		set.Interval = time.Hour
	}
	return New(r.store, r.objects, r.cache, set, prometheus.NewRegistry())
}

func pass(t *testing.T, j *Janitor) Report {
	t.Helper()
	rep, err := j.Pass(t.Context())
	if err != nil {
		t.Fatalf("Pass: %v", err)
	}
	if !rep.Ran {
		t.Fatal("the pass did not run: the lease was held by another")
	}
	return rep
}

// upload opens an upload session of one stored part, as CreateUpload and
// a client's first PUT make it, expiring at expires.
func (r *rig) upload(t testing.TB, expires time.Time) video.UploadSession {
	t.Helper()
	s, err := r.openUpload(t.Context(), expires)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (r *rig) openUpload(ctx context.Context, expires time.Time) (video.UploadSession, error) {
	id := uuid.NewString()
	key := video.SourceKey(id)
	uploadID, err := r.objects.CreateMultipart(ctx, key, "video/mp4")
	if err != nil {
		return video.UploadSession{}, err
	}
	part := []byte("the first bytes of a video")
	sess := video.UploadSession{VideoID: id, UploadID: uploadID, ObjectKey: key, SizeBytes: int64(len(part)), PartSize: 5 << 20, ExpiresAt: expires}
	v := video.Video{ID: id, Title: "Upload " + id[:8], SizeBytes: sess.SizeBytes, ContentType: "video/mp4"}
	if err := r.store.CreateVideo(ctx, v, sess); err != nil {
		return video.UploadSession{}, err
	}
	raw, err := r.objects.PresignPart(ctx, key, uploadID, 1, int64(len(part)), time.Minute)
	if err != nil {
		return video.UploadSession{}, err
	}
	code, err := platformtest.PutPart(ctx, r.parts, raw, part)
	if err != nil {
		return video.UploadSession{}, err
	}
	if code != http.StatusOK {
		return video.UploadSession{}, fmt.Errorf("PUT part: %d", code)
	}
	return sess, nil
}

func (r *rig) put(t testing.TB, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if err := r.objects.Put(t.Context(), k, strings.NewReader(k), int64(len(k)), "application/octet-stream"); err != nil {
			t.Fatalf("Put %s: %v", k, err)
		}
	}
}

// present fails the test unless every key is stored (want true) or none
// is (want false).
func (r *rig) present(t *testing.T, want bool, keys ...string) {
	t.Helper()
	for _, k := range keys {
		_, err := r.objects.Stat(t.Context(), k)
		switch {
		case want && err != nil:
			t.Errorf("%s: %v, want it kept", k, err)
		case !want && !errors.Is(err, blob.ErrNotFound):
			t.Errorf("%s: Stat = %v, want it removed", k, err)
		}
	}
}

func TestExpiredUploads(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testExpiredUploads)
}

// Expired sessions lose their parts and videos; open ones keep theirs.
func testExpiredUploads(t *testing.T, p *platform.Process) {
	r := newRig(t, p)
	ctx := t.Context()
	var expired []video.UploadSession
	for range 3 {
		expired = append(expired, r.upload(t, time.Now().Add(-time.Minute)))
	}
	open := r.upload(t, time.Now().Add(time.Hour))
	j := r.janitor("a", Settings{})
	if rep := pass(t, j); rep.ExpiredUploads != len(expired) {
		t.Fatalf("pass aborted %d uploads, want %d", rep.ExpiredUploads, len(expired))
	}
	for _, s := range expired {
		if _, err := r.objects.ListParts(ctx, s.ObjectKey, s.UploadID); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("parts of an expired upload: %v, want the upload gone", err)
		}
		if _, err := r.store.Video(ctx, s.VideoID); !errors.Is(err, video.ErrNotFound) {
			t.Errorf("video of an expired upload: %v, want it deleted", err)
		}
	}
	if ps, err := r.objects.ListParts(ctx, open.ObjectKey, open.UploadID); err != nil || len(ps) != 1 {
		t.Errorf("parts of an open upload = %v, %v; want its part kept", ps, err)
	}
	if v, err := r.store.Video(ctx, open.VideoID); err != nil || v.State != video.StateUploading {
		t.Errorf("video of an open upload = %+v, %v; want it uploading still", v, err)
	}
	if n := testutil.ToFloat64(j.removed.WithLabelValues(KindExpiredUpload)); n != float64(len(expired)) {
		t.Errorf("removed{kind=%s} = %v, want %d", KindExpiredUpload, n, len(expired))
	}
	if rep := pass(t, j); rep.ExpiredUploads != 0 {
		t.Errorf("a second pass aborted %d uploads, want none left", rep.ExpiredUploads)
	}
}

func TestOutboxPurge(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testOutboxPurge)
}

// Sent jobs go once older than the outbox age; unsent ones stay.
func testOutboxPurge(t *testing.T, p *platform.Process) {
	r := newRig(t, p)
	ctx := t.Context()
	for range 3 {
		storetest.Uploaded(t, r.store, "Sent")
	}
	pending, err := r.store.PendingOutbox(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, e := range pending {
		ids = append(ids, e.ID)
	}
	if err := r.store.MarkOutboxSent(ctx, ids); err != nil {
		t.Fatal(err)
	}
	unsent := storetest.Uploaded(t, r.store, "Not sent")
	if rep := pass(t, r.janitor("a", Settings{OutboxAge: time.Hour})); rep.OutboxRows != 0 {
		t.Fatalf("purged %d rows sent within the outbox age, want none", rep.OutboxRows)
	}
	if rep := pass(t, r.janitor("a", Settings{})); rep.OutboxRows != 3 {
		t.Fatalf("purged %d rows, want the 3 sent", rep.OutboxRows)
	}
	if left, err := r.store.PendingOutbox(ctx, 10); err != nil || len(left) != 1 || left[0].VideoID != unsent.ID {
		t.Fatalf("pending outbox after a purge = %+v, %v; want the unsent job", left, err)
	}
}

func TestWebhookPurge(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testWebhookPurge)
}

// Finished webhook deliveries leave the log once older than the webhook
// age; pending ones stay.
func testWebhookPurge(t *testing.T, p *platform.Process) {
	r := newRig(t, p)
	ctx := t.Context()
	owner := storetest.NewUser(t, r.store, "ada-"+uuid.NewString()[:8], auth.RoleUser)
	e := storetest.NewEndpoint(t, r.store, owner.ID, false, "https://hooks.example.org/", []byte("s"), webhook.EventTypes...)
	for range 3 {
		storetest.ReadyBy(t, r.store, owner.ID, video.PrivacyPublic, "Announced")
	}
	ds, err := r.store.ClaimWebhookDeliveries(ctx, "sender", time.Hour, 2)
	if err != nil || len(ds) != 2 {
		t.Fatalf("claimed %d deliveries, %v; want 2", len(ds), err)
	}
	for i, d := range ds {
		a := webhook.Attempt{State: webhook.Delivered, Status: 200}
		if i == 1 {
			a = webhook.Attempt{State: webhook.Failed, Status: 500}
		}
		if err := r.store.RecordWebhookAttempt(ctx, d.ID, "sender", a); err != nil {
			t.Fatal(err)
		}
	}
	if rep := pass(t, r.janitor("a", Settings{WebhookAge: time.Hour})); rep.WebhookRows != 0 {
		t.Fatalf("purged %d deliveries finished within the webhook age, want none", rep.WebhookRows)
	}
	if rep := pass(t, r.janitor("a", Settings{})); rep.WebhookRows != 2 {
		t.Fatalf("purged %d deliveries, want the 2 finished", rep.WebhookRows)
	}
	if left := storetest.Deliveries(t, r.store, e.ID); len(left) != 1 || left[0].State != webhook.Pending {
		t.Fatalf("the log after a purge holds %+v; want the pending delivery", left)
	}
}

func TestFailedSources(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testFailedSources)
}

// A failed video's source goes once older than the failed source age; the
// video stays failed with its reason; a ready video keeps its source.
func testFailedSources(t *testing.T, p *platform.Process) {
	r := newRig(t, p)
	ctx := t.Context()
	failed := storetest.Failed(t, r.store, "Broken", "not a video: no video stream")
	ready := storetest.Ready(t, r.store, "Fine")
	r.put(t, video.SourceKey(failed.ID), video.SourceKey(ready.ID), video.ThumbnailKey(ready.ID))
	if rep := pass(t, r.janitor("a", Settings{FailedSourceAge: time.Hour})); rep.FailedSources != 0 {
		t.Fatalf("removed %d sources of videos failed within the age, want none", rep.FailedSources)
	}
	r.present(t, true, video.SourceKey(failed.ID))
	if rep := pass(t, r.janitor("a", Settings{})); rep.FailedSources != 1 {
		t.Fatalf("removed %d failed sources, want 1", rep.FailedSources)
	}
	r.present(t, false, video.SourceKey(failed.ID))
	r.present(t, true, video.SourceKey(ready.ID), video.ThumbnailKey(ready.ID))
	v, err := r.store.Video(ctx, failed.ID)
	if err != nil || v.State != video.StateFailed || v.FailureReason != failed.FailureReason {
		t.Fatalf("the failed video after its source went = %+v, %v; want it failed with its reason", v, err)
	}
}

func TestOrphans(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testOrphans)
}

// Objects no video owns are found, kept in a dry run, deleted when asked,
// and only once old enough; what live videos own is never touched.
func testOrphans(t *testing.T, p *platform.Process) {
	r := newRig(t, p)
	ctx := t.Context()
	// A failed video whose source was dropped, though the object's removal
	// never happened (a crash between the two).
	dropped := storetest.Failed(t, r.store, "Dropped", "unplayable")
	if ids, err := r.store.DropFailedSources(ctx, 0, 10); err != nil || len(ids) != 1 {
		t.Fatalf("DropFailedSources = %v, %v", ids, err)
	}
	ready := storetest.Ready(t, r.store, "Live")
	uploading := r.upload(t, time.Now().Add(time.Hour))
	failed := storetest.Failed(t, r.store, "Broken", "unplayable")
	deleted := storetest.Ready(t, r.store, "Deleted")
	if _, err := r.store.DeleteVideo(ctx, deleted.ID); err != nil {
		t.Fatal(err)
	}
	unknown := uuid.NewString()
	owned := []string{
		video.SourceKey(ready.ID), video.MasterPlaylistKey(ready.ID), video.HLSPrefix(ready.ID) + "720p/seg_00001.m4s",
		video.SourceKey(uploading.VideoID), // a source is written while its video is still uploading
		video.SourceKey(failed.ID), video.ThumbnailKey(failed.ID),
		video.ThumbnailKey(dropped.ID), // the video stays, failed, with its images
	}
	orphans := []string{
		video.SourceKey(deleted.ID), video.ThumbnailKey(deleted.ID), video.HLSPrefix(deleted.ID) + "360p/seg_00001.m4s",
		video.SourceKey(unknown), video.StoryboardKey(unknown),
		"videos/stray.txt", "sources/not-a-video-id", video.SourceKey(ready.ID) + ".old",
		video.SourceKey(dropped.ID),
	}
	r.put(t, append(append([]string{}, owned...), orphans...)...)

	// Failed videos keep their sources here: the orphans alone are under
	// test.
	keepFailed := time.Hour
	// Everything is younger than an hour.
	if rep := pass(t, r.janitor("a", Settings{FailedSourceAge: keepFailed, OrphanMinAge: time.Hour, DeleteOrphans: true})); rep.OrphanObjects != 0 {
		t.Fatalf("found %d orphans younger than the minimum age, want none", rep.OrphanObjects)
	}
	r.present(t, true, orphans...)

	dry := r.janitor("a", Settings{FailedSourceAge: keepFailed})
	rep := pass(t, dry)
	if rep.OrphanObjects != len(orphans) {
		t.Fatalf("a dry run found %d orphans, want %d", rep.OrphanObjects, len(orphans))
	}
	r.present(t, true, orphans...)
	if n := testutil.ToFloat64(dry.lastOrphans); n != float64(len(orphans)) {
		t.Errorf("orphan gauge after a dry run = %v, want %d", n, len(orphans))
	}
	if n := testutil.ToFloat64(dry.removed.WithLabelValues(KindOrphanObject)); n != 0 {
		t.Errorf("a dry run counted %v orphans removed", n)
	}

	del := r.janitor("a", Settings{FailedSourceAge: keepFailed, DeleteOrphans: true})
	if rep := pass(t, del); rep.OrphanObjects != len(orphans) {
		t.Fatalf("deleting found %d orphans, want %d", rep.OrphanObjects, len(orphans))
	}
	r.present(t, false, orphans...)
	r.present(t, true, owned...)
	if n := testutil.ToFloat64(del.removed.WithLabelValues(KindOrphanObject)); n != float64(len(orphans)) {
		t.Errorf("removed{kind=%s} = %v, want %d", KindOrphanObject, n, len(orphans))
	}
	if ps, err := r.objects.ListParts(ctx, uploading.ObjectKey, uploading.UploadID); err != nil || len(ps) != 1 {
		t.Errorf("parts of the open upload = %v, %v; want them kept", ps, err)
	}
	if rep := pass(t, del); rep.OrphanObjects != 0 {
		t.Errorf("a second pass found %d orphans, want none left", rep.OrphanObjects)
	}
}

func TestOneJanitorRuns(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testOneJanitorRuns)
}

// Two replicas' janitors share one store: the one holding the lease runs,
// the other does nothing, and the holder keeps it from pass to pass.
func testOneJanitorRuns(t *testing.T, p *platform.Process) {
	r := newRig(t, p)
	expired := r.upload(t, time.Now().Add(-time.Minute))
	a, b := r.janitor("replica-a", Settings{}), r.janitor("replica-b", Settings{})
	if rep := pass(t, a); rep.ExpiredUploads != 1 {
		t.Fatalf("the first janitor aborted %d uploads, want 1", rep.ExpiredUploads)
	}
	r.upload(t, time.Now().Add(-time.Minute))
	rep, err := b.Pass(t.Context())
	if err != nil || rep.Ran || rep.ExpiredUploads != 0 {
		t.Fatalf("the second janitor's pass = %+v, %v; want it skipped while the first holds the lease", rep, err)
	}
	if n := testutil.ToFloat64(b.passes.WithLabelValues("skipped")); n != 1 {
		t.Errorf("passes{outcome=skipped} = %v, want 1", n)
	}
	if rep := pass(t, a); rep.ExpiredUploads != 1 {
		t.Fatalf("the holder's next pass aborted %d uploads, want the one left", rep.ExpiredUploads)
	}
	if _, err := r.store.Video(t.Context(), expired.VideoID); !errors.Is(err, video.ErrNotFound) {
		t.Errorf("video of the first expired upload: %v, want it deleted", err)
	}
}
