package janitor

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
	"github.com/cloudflix/cloudflix/internal/video"
)

var backlog = flag.Int("janitor.backlog", 1000, "items of each kind in BenchmarkBacklog's backlog")

// BenchmarkBacklog times one pass over a backlog of each kind, on both sets
// of backends, and reports what it removed per second: expired upload
// sessions (each with one stored part, and its video), orphan objects (half
// lone sources, half media in folders of ten), sent outbox rows and failed
// videos' sources. Building the backlog is not timed. The README's figures
// come from
//
//	go test -run '^$' -bench Backlog -benchtime 1x -timeout 1h ./internal/janitor -args -janitor.backlog=10000
func BenchmarkBacklog(b *testing.B) {
	n := *backlog
	for _, set := range platformtest.Sets {
		b.Run(string(set)+"/expired-uploads", func(b *testing.B) {
			benchPass(b, set, n, "sessions", func(r *rig) error {
				return parallelN(b.Context(), n, func(ctx context.Context, _ int) error {
					_, err := r.openUpload(ctx, time.Now().Add(-time.Minute))
					return err
				})
			}, func(rep Report) int { return rep.ExpiredUploads })
		})
		b.Run(string(set)+"/orphans", func(b *testing.B) {
			benchPass(b, set, n, "objects", func(r *rig) error {
				folders := make([]string, n/2/10)
				for i := range folders {
					folders[i] = video.VideoPrefix(uuid.NewString())
				}
				return parallelN(b.Context(), n, func(ctx context.Context, i int) error {
					key := video.SourceKey(uuid.NewString())
					if i >= n/2 && len(folders) > 0 {
						key = fmt.Sprintf("%sseg_%05d.m4s", folders[i%len(folders)], i)
					}
					return r.objects.Put(ctx, key, strings.NewReader(key), int64(len(key)), "application/octet-stream")
				})
			}, func(rep Report) int { return rep.OrphanObjects })
		})
		b.Run(string(set)+"/outbox", func(b *testing.B) {
			benchPass(b, set, n, "rows", func(r *rig) error {
				for range n {
					storetest.Uploaded(b, r.store, "Sent")
				}
				for {
					jobs, err := r.store.PendingOutbox(b.Context(), 1000)
					if err != nil || len(jobs) == 0 {
						return err
					}
					ids := make([]int64, len(jobs))
					for i, j := range jobs {
						ids[i] = j.ID
					}
					if err := r.store.MarkOutboxSent(b.Context(), ids); err != nil {
						return err
					}
				}
			}, func(rep Report) int { return rep.OutboxRows })
		})
		b.Run(string(set)+"/failed-sources", func(b *testing.B) {
			benchPass(b, set, n, "sources", func(r *rig) error {
				ids := make([]string, n)
				for i := range ids {
					ids[i] = storetest.Failed(b, r.store, "Broken", "unplayable").ID
				}
				return parallelN(b.Context(), n, func(ctx context.Context, i int) error {
					key := video.SourceKey(ids[i])
					return r.objects.Put(ctx, key, strings.NewReader(key), int64(len(key)), "video/mp4")
				})
			}, func(rep Report) int { return rep.FailedSources })
		})
	}
}

// benchPass builds a backlog of n with fill on fresh backends of set, then
// times one pass that removes everything (orphans too) and reports the
// pass's count per second, in unit.
func benchPass(b *testing.B, set platformtest.Set, n int, unit string, fill func(*rig) error, count func(Report) int) {
	done := 0
	for b.Loop() {
		b.StopTimer()
		r := newRig(b, platformtest.Process(b, set))
		if err := fill(r); err != nil {
			b.Fatal(err)
		}
		j := r.janitor("bench", Settings{DeleteOrphans: true})
		b.Logf("load average before the pass: %s", loadAverage())
		b.StartTimer()
		rep, err := j.Pass(b.Context())
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if got := count(rep); got != n {
			b.Fatalf("the pass removed %d %s, want %d", got, unit, n)
		}
		done += n
		b.StartTimer()
	}
	b.ReportMetric(float64(done)/b.Elapsed().Seconds(), unit+"/s")
}

// parallelN runs fn for 0..n-1, sixteen at a time: building a backlog is
// mostly waiting on the backends.
func parallelN(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i := range n {
		g.Go(func() error { return fn(gctx, i) })
	}
	return g.Wait()
}

// loadAverage is the machine's load over 1, 5 and 15 minutes.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
