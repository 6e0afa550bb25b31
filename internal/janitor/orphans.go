package janitor

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cloudflix/cloudflix/internal/blob"
	"github.com/cloudflix/cloudflix/internal/video"
)

// What storage holds of a video, and nothing else, lives under these:
// video.SourceKey and video.VideoPrefix start so.
const (
	sourcesPrefix = "sources/"
	mediaPrefix   = "videos/"
)

// orphans finds the objects no video owns, older than the minimum age:
// under sources/, a source whose video is absent, deleted or keeps no
// source; under videos/, the folder of a video absent or deleted (counted
// only when all of it is old enough); and under either, any key CloudFlix
// never writes. It deletes them when the settings say so.
func (j *Janitor) orphans(ctx context.Context, r *Report) error {
	s := &orphanScan{j: j, report: r, cutoff: j.now().Add(-j.set.OrphanMinAge)}
	if err := s.sources(ctx); err != nil {
		return err
	}
	if err := s.media(ctx); err != nil {
		return err
	}
	return s.flush(ctx)
}

// orphanScan is one pass's look for orphans.
type orphanScan struct {
	j      *Janitor
	report *Report
	cutoff time.Time // objects modified after it are too young
	logged int
	doomed []string // keys to delete, in delete mode
}

// sources scans sources/, a batch of objects at a time.
func (s *orphanScan) sources(ctx context.Context) error {
	var batch []blob.ObjectInfo
	check := func() error {
		ids := make([]string, len(batch))
		for i, o := range batch {
			ids[i] = strings.TrimPrefix(o.Key, sourcesPrefix)
		}
		live, err := s.j.store.LiveVideos(ctx, ids)
		if err != nil {
			return fmt.Errorf("janitor: owners of sources: %w", err)
		}
		for i, o := range batch {
			if keeps := live[ids[i]]; keeps || !o.LastModified.Before(s.cutoff) {
				continue
			}
			if err := s.found(ctx, o.Key, []string{o.Key}, o.Size); err != nil {
				return err
			}
		}
		batch = batch[:0]
		return nil
	}
	err := s.j.objects.List(ctx, sourcesPrefix, false, func(o blob.ObjectInfo) error {
		batch = append(batch, o)
		if len(batch) == idBatch {
			return check()
		}
		return nil
	})
	if err == nil {
		err = check()
	}
	if err != nil {
		return fmt.Errorf("janitor: scan %s: %w", sourcesPrefix, err)
	}
	return nil
}

// media scans videos/ a folder (a video id) at a time.
func (s *orphanScan) media(ctx context.Context) error {
	var ids []string
	err := s.j.objects.List(ctx, mediaPrefix, true, func(o blob.ObjectInfo) error {
		id, folder := strings.CutSuffix(strings.TrimPrefix(o.Key, mediaPrefix), "/")
		if !folder {
			// An object right under videos/ is none of a video's.
			if o.LastModified.Before(s.cutoff) {
				return s.found(ctx, o.Key, []string{o.Key}, o.Size)
			}
			return nil
		}
		ids = append(ids, id)
		if len(ids) == idBatch {
			err := s.folders(ctx, ids)
			ids = ids[:0]
			return err
		}
		return nil
	})
	if err == nil {
		err = s.folders(ctx, ids)
	}
	if err != nil {
		return fmt.Errorf("janitor: scan %s: %w", mediaPrefix, err)
	}
	return nil
}

// folder is what one video's folder holds.
type folder struct {
	keys   []string
	bytes  int64
	newest time.Time
}

// folders checks the folders of ids: those of videos not live are listed,
// several at once, and are orphans when all they hold is old enough.
func (s *orphanScan) folders(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	live, err := s.j.store.LiveVideos(ctx, ids)
	if err != nil {
		return fmt.Errorf("janitor: owners of media: %w", err)
	}
	var gone []string
	for _, id := range ids {
		if _, ok := live[id]; !ok {
			gone = append(gone, id)
		}
	}
	held := make([]folder, len(gone))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for i, id := range gone {
		g.Go(func() error {
			f := &held[i]
			return s.j.objects.List(gctx, video.VideoPrefix(id), false, func(o blob.ObjectInfo) error {
				f.keys = append(f.keys, o.Key)
				f.bytes += o.Size
				if o.LastModified.After(f.newest) {
					f.newest = o.LastModified
				}
				return nil
			})
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for i, f := range held {
		if len(f.keys) == 0 || !f.newest.Before(s.cutoff) {
			continue
		}
		if err := s.found(ctx, video.VideoPrefix(gone[i]), f.keys, f.bytes); err != nil {
			return err
		}
	}
	return nil
}

// found counts the orphans keys (what under name) and, in delete mode,
// queues them for deletion.
func (s *orphanScan) found(ctx context.Context, name string, keys []string, bytes int64) error {
	s.report.OrphanObjects += len(keys)
	s.report.OrphanBytes += bytes
	if s.logged < loggedOrphans {
		s.logged++
		msg := "janitor: orphan found (dry run: kept)"
		if s.j.set.DeleteOrphans {
			msg = "janitor: orphan deleted"
		}
		slog.InfoContext(ctx, msg, "key", name, "objects", len(keys), "bytes", bytes)
	}
	if !s.j.set.DeleteOrphans {
		return nil
	}
	s.doomed = append(s.doomed, keys...)
	if len(s.doomed) >= deleteBatch {
		return s.flush(ctx)
	}
	return nil
}

// flush deletes the queued orphans.
func (s *orphanScan) flush(ctx context.Context) error {
	if len(s.doomed) == 0 {
		return nil
	}
	if err := s.j.objects.Delete(ctx, s.doomed); err != nil {
		return fmt.Errorf("janitor: delete orphans: %w", err)
	}
	s.j.removed.WithLabelValues(KindOrphanObject).Add(float64(len(s.doomed)))
	s.doomed = s.doomed[:0]
	return nil
}
