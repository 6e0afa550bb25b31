// Package janitor is CloudFlix's cleanup. One replica of an install at a
// time (a lease in the metadata store decides which) makes a pass every
// interval: it aborts expired upload sessions and removes their parts and
// videos, purges sent outbox rows and finished webhook deliveries,
// removes the sources of videos that failed long ago, and finds the
// objects under sources/ and videos/ that no video owns, deleting them
// only when told to.
//
// It must never touch what belongs to a live video or to an upload still
// open, nor an orphan younger than its minimum age: work that has just
// begun may not have written its video yet.
package janitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/cloudflix/cloudflix/internal/blob"
	"github.com/cloudflix/cloudflix/internal/video"
)

// Store is the metadata the janitor reads and changes.
type Store interface {
	TakeLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	ExpiredUploads(ctx context.Context, limit int) ([]video.UploadSession, error)
	DeleteVideo(ctx context.Context, videoID string) (video.Video, error)
	PurgeOutbox(ctx context.Context, sentFor time.Duration, limit int) (int, error)
	PurgeWebhookDeliveries(ctx context.Context, finishedFor time.Duration, limit int) (int, error)
	DropFailedSources(ctx context.Context, failedFor time.Duration, limit int) ([]string, error)
	LiveVideos(ctx context.Context, ids []string) (map[string]bool, error)
}

// Objects is the object storage the janitor cleans.
type Objects interface {
	AbortMultipart(ctx context.Context, key, uploadID string) error
	Delete(ctx context.Context, keys []string) error
	List(ctx context.Context, prefix string, folders bool, fn func(blob.ObjectInfo) error) error
}

// Cache forgets a deleted video's cached info.
type Cache interface {
	Forget(ctx context.Context, ids ...string)
}

// Settings say when the janitor runs and what it removes.
type Settings struct {
	// Holder names this replica in the lease: unique in the install, and
	// the same across restarts where it can be, so that a restarted
	// process need not wait for its own lease to run out.
	Holder string
	// Interval is the time between passes; 0 makes no pass.
	Interval time.Duration
	// OutboxAge: sent encode jobs older than this are purged.
	OutboxAge time.Duration
	// WebhookAge: webhook deliveries finished longer ago than this leave
	// their endpoint's log.
	WebhookAge time.Duration
	// FailedSourceAge: a video failed (and unchanged) this long loses its
	// source.
	FailedSourceAge time.Duration
	// DeleteOrphans deletes the objects no video owns; otherwise they are
	// only counted and logged.
	DeleteOrphans bool
	// OrphanMinAge: an object younger than this is never an orphan.
	OrphanMinAge time.Duration
}

// The lease and the batches of a pass.
const (
	leaseName = "janitor"
	// leaseSlack is how long past an interval the lease lasts: the holder
	// renews it at every pass (and within one), and another replica takes
	// over within an interval and this of the holder's end.
	leaseSlack = time.Minute
	// parallel is how many storage calls a pass makes at once.
	parallel = 8
	// sessionBatch, rowBatch and idBatch bound what one store call reads
	// or changes.
	sessionBatch = 100
	rowBatch     = 1000
	idBatch      = 500
	// deleteBatch is how many keys one Delete takes: S3's most per request.
	deleteBatch = 1000
	// loggedOrphans bounds the lines one pass logs about orphans; the pass's
	// own line counts them all.
	loggedOrphans = 100
)

// Kinds of what a pass removes, as the metrics label them.
const (
	KindExpiredUpload = "expired_upload"
	KindOutboxRow     = "outbox_row"
	KindWebhookRow    = "webhook_delivery"
	KindFailedSource  = "failed_source"
	KindOrphanObject  = "orphan_object"
)

// Janitor makes the passes.
type Janitor struct {
	store   Store
	objects Objects
	cache   Cache
	set     Settings
	now     func() time.Time

	removed     *prometheus.CounterVec
	lastOrphans prometheus.Gauge
	duration    prometheus.Histogram
	lastSuccess prometheus.Gauge
	passes      *prometheus.CounterVec
}

// New returns a janitor; reg may be nil.
func New(store Store, objects Objects, cache Cache, set Settings, reg prometheus.Registerer) *Janitor {
	j := &Janitor{store: store, objects: objects, cache: cache, set: set, now: time.Now,
		removed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cloudflix_janitor_removed_total",
			Help: "What the janitor removed, by kind: expired_upload (sessions, with their parts and videos), outbox_row, webhook_delivery, failed_source, orphan_object.",
		}, []string{"kind"}),
		lastOrphans: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cloudflix_janitor_orphan_objects",
			Help: "Objects no video owns that the last pass found (and deleted, unless it was a dry run).",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "cloudflix_janitor_pass_duration_seconds",
			Help:    "Time a janitor pass took, failed passes included.",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 10),
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cloudflix_janitor_last_success_timestamp_seconds",
			Help: "When the last janitor pass of this replica ended without an error, in Unix seconds.",
		}),
		passes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cloudflix_janitor_passes_total",
			Help: "Janitor passes by outcome: done, failed, or skipped (another replica holds the lease).",
		}, []string{"outcome"}),
	}
	for _, k := range []string{KindExpiredUpload, KindOutboxRow, KindWebhookRow, KindFailedSource, KindOrphanObject} {
		j.removed.WithLabelValues(k)
	}
	if reg != nil {
		reg.MustRegister(j.removed, j.lastOrphans, j.duration, j.lastSuccess, j.passes)
	}
	return j
}

// Run makes a pass at once and then every interval until ctx ends. A
// failed pass is logged and tried again at the next.
func (j *Janitor) Run(ctx context.Context) error {
	if j.set.Interval <= 0 {
		return nil
	}
	t := time.NewTicker(j.set.Interval)
	defer t.Stop()
	for {
		_, _ = j.Pass(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Report is what one pass did.
type Report struct {
	// Ran is false when another replica held the lease: nothing was done.
	Ran bool
	// ExpiredUploads are the sessions aborted, each with its parts and
	// video.
	ExpiredUploads int
	OutboxRows     int
	// WebhookRows are finished webhook deliveries purged.
	WebhookRows   int
	FailedSources int
	// OrphanObjects and OrphanBytes are what no video owns: deleted, or
	// only found in a dry run.
	OrphanObjects int
	OrphanBytes   int64
	Took          time.Duration
}

// Pass makes one pass when this replica holds the lease, logs one line
// about it and records its metrics.
func (j *Janitor) Pass(ctx context.Context) (Report, error) {
	start := j.now()
	var r Report
	held, err := j.hold(ctx)
	if err == nil && !held {
		j.passes.WithLabelValues("skipped").Inc()
		return r, nil
	}
	r.Ran = true
	if err == nil {
		err = j.pass(ctx, &r)
	}
	r.Took = j.now().Sub(start)
	j.duration.Observe(r.Took.Seconds())
	mode := "dry-run"
	if j.set.DeleteOrphans {
		mode = "delete"
	}
	attrs := []any{"expired_uploads", r.ExpiredUploads, "outbox_rows", r.OutboxRows, "webhook_deliveries", r.WebhookRows,
		"failed_sources", r.FailedSources,
		"orphan_objects", r.OrphanObjects, "orphan_bytes", r.OrphanBytes, "orphan_mode", mode, "took", r.Took.Round(time.Millisecond)}
	if err != nil {
		j.passes.WithLabelValues("failed").Inc()
		if ctx.Err() == nil {
			slog.WarnContext(ctx, "janitor pass failed", append(attrs, "err", err)...)
		}
		return r, err
	}
	j.passes.WithLabelValues("done").Inc()
	j.lastSuccess.Set(float64(j.now().Unix()))
	j.lastOrphans.Set(float64(r.OrphanObjects))
	slog.InfoContext(ctx, "janitor pass", attrs...)
	return r, nil
}

// errLeaseLost ends a pass whose lease another replica took meanwhile.
var errLeaseLost = errors.New("janitor: the lease passed to another replica during the pass")

// hold takes or renews the lease.
func (j *Janitor) hold(ctx context.Context) (bool, error) {
	ok, err := j.store.TakeLease(ctx, leaseName, j.set.Holder, j.set.Interval+leaseSlack)
	if err != nil {
		return false, fmt.Errorf("janitor: lease: %w", err)
	}
	return ok, nil
}

// pass does each kind of cleanup in turn, renewing the lease between
// them so that a long pass keeps it.
func (j *Janitor) pass(ctx context.Context, r *Report) error {
	steps := []func(context.Context, *Report) error{j.expiredUploads, j.outbox, j.webhooks, j.failedSources, j.orphans}
	for i, step := range steps {
		if i > 0 {
			held, err := j.hold(ctx)
			if err != nil {
				return err
			}
			if !held {
				return errLeaseLost
			}
		}
		if err := step(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// expiredUploads aborts every expired session, as AbortUpload does: its
// parts, then its video. A session whose abort fails stays for the next
// pass.
func (j *Janitor) expiredUploads(ctx context.Context, r *Report) error {
	for {
		sessions, err := j.store.ExpiredUploads(ctx, sessionBatch)
		if err != nil {
			return fmt.Errorf("janitor: expired uploads: %w", err)
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(parallel)
		done := make([]bool, len(sessions))
		for i, s := range sessions {
			g.Go(func() error {
				if err := j.abort(gctx, s); err != nil {
					return err
				}
				done[i] = true
				return nil
			})
		}
		err = g.Wait()
		var ids []string
		for i, ok := range done {
			if ok {
				ids = append(ids, sessions[i].VideoID)
			}
		}
		r.ExpiredUploads += len(ids)
		j.removed.WithLabelValues(KindExpiredUpload).Add(float64(len(ids)))
		if len(ids) > 0 {
			j.cache.Forget(ctx, ids...)
		}
		if err != nil {
			return err
		}
		if len(sessions) < sessionBatch {
			return nil
		}
	}
}

func (j *Janitor) abort(ctx context.Context, s video.UploadSession) error {
	if err := j.objects.AbortMultipart(ctx, s.ObjectKey, s.UploadID); err != nil && !errors.Is(err, blob.ErrNotFound) {
		return fmt.Errorf("janitor: abort the upload of %s: %w", s.VideoID, err)
	}
	if _, err := j.store.DeleteVideo(ctx, s.VideoID); err != nil && !errors.Is(err, video.ErrNotFound) {
		return fmt.Errorf("janitor: delete the video of expired upload %s: %w", s.VideoID, err)
	}
	return nil
}

// outbox purges the sent encode jobs older than the outbox age.
func (j *Janitor) outbox(ctx context.Context, r *Report) error {
	for {
		n, err := j.store.PurgeOutbox(ctx, j.set.OutboxAge, rowBatch)
		r.OutboxRows += n
		j.removed.WithLabelValues(KindOutboxRow).Add(float64(n))
		if err != nil {
			return fmt.Errorf("janitor: purge outbox: %w", err)
		}
		if n < rowBatch {
			return nil
		}
	}
}

// webhooks purges the webhook deliveries finished long ago.
func (j *Janitor) webhooks(ctx context.Context, r *Report) error {
	for {
		n, err := j.store.PurgeWebhookDeliveries(ctx, j.set.WebhookAge, rowBatch)
		r.WebhookRows += n
		j.removed.WithLabelValues(KindWebhookRow).Add(float64(n))
		if err != nil {
			return fmt.Errorf("janitor: purge webhook deliveries: %w", err)
		}
		if n < rowBatch {
			return nil
		}
	}
}

// failedSources removes the sources of videos that failed long ago. The
// store records each as gone first, so that nothing encodes it meanwhile;
// a source whose removal fails is an orphan the next passes find.
func (j *Janitor) failedSources(ctx context.Context, r *Report) error {
	for {
		ids, err := j.store.DropFailedSources(ctx, j.set.FailedSourceAge, idBatch)
		if err != nil {
			return fmt.Errorf("janitor: failed sources: %w", err)
		}
		keys := make([]string, len(ids))
		for i, id := range ids {
			keys[i] = video.SourceKey(id)
		}
		if err := j.objects.Delete(ctx, keys); err != nil {
			return fmt.Errorf("janitor: remove failed sources: %w", err)
		}
		r.FailedSources += len(ids)
		j.removed.WithLabelValues(KindFailedSource).Add(float64(len(ids)))
		if len(ids) < idBatch {
			return nil
		}
	}
}
