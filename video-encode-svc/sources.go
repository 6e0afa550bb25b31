package encodesvc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cloudflix/cloudflix/internal/transcode"
)

// shelf keeps the sources of the chunked encodes this process takes part
// in, fetched and probed once per plan, so that every chunk job it runs of
// the same video starts from a hard link to that copy rather than a
// download of its own: the worker holding an encode lends its source, and
// the first chunk job of a plan held elsewhere fetches one that the shelf
// keeps until no job of the plan has used it for a while. A job's link
// stays readable whatever becomes of the shelf's copy.
type shelf struct {
	dir  string        // where the shelf's own copies go
	keep time.Duration // how long an unused copy of its own is kept

	mu    sync.Mutex
	plans map[string]*shelved
}

// shelved is the source of one plan, or its fetch under way.
type shelved struct {
	ready chan struct{} // closed once path and src are set, or err
	path  string
	src   transcode.Source
	err   error
	timer *time.Timer // removes a copy of the shelf's own once it goes unused; nil for a lent one
}

// shelfKey names a plan on the shelf: plan names are unique within one
// video only.
func shelfKey(id, plan string) string { return id + "-" + plan }

func newShelf(dir string, keep time.Duration) *shelf {
	return &shelf{dir: dir, keep: keep, plans: map[string]*shelved{}}
}

// lend shelves the source at path, probed as src, for the chunk jobs of
// video id's plan until the returned function is called; the file stays
// the lender's.
func (s *shelf) lend(id, plan, path string, src transcode.Source) (takeBack func()) {
	plan = shelfKey(id, plan)
	e := &shelved{ready: make(chan struct{}), path: path, src: src}
	close(e.ready)
	s.mu.Lock()
	s.plans[plan] = e
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.plans[plan] == e {
			delete(s.plans, plan)
		}
	}
}

// take puts the source of video id's plan at path and returns its
// probe. fetch downloads the source to the path it is given and probes
// it; it runs at most once at a time per plan, and again only once a copy
// has gone unused for the shelf's keep time (or could not be linked).
func (s *shelf) take(ctx context.Context, id, plan, path string, fetch func(ctx context.Context, path string) (transcode.Source, error)) (transcode.Source, error) {
	plan = shelfKey(id, plan)
	for {
		s.mu.Lock()
		e, ok := s.plans[plan]
		if !ok {
			e = &shelved{ready: make(chan struct{})}
			s.plans[plan] = e
		}
		s.mu.Unlock()
		if !ok {
			s.fill(ctx, plan, e, fetch)
		}
		select {
		case <-e.ready:
		case <-ctx.Done():
			return transcode.Source{}, ctx.Err()
		}
		if e.err != nil {
			if !ok {
				return transcode.Source{}, e.err
			}
			// Another job's fetch failed, perhaps for a reason of its own
			// (its lease lost): this one tries for itself.
			continue
		}
		s.mu.Lock()
		current := s.plans[plan] == e
		if current {
			err := os.Link(e.path, path)
			if err == nil {
				if e.timer != nil {
					e.timer.Reset(s.keep)
				}
				s.mu.Unlock()
				return e.src, nil
			}
			if _, serr := os.Stat(e.path); errors.Is(serr, fs.ErrNotExist) {
				// The copy was removed under the shelf (a work folder
				// cleaned): it is fetched anew.
				delete(s.plans, plan)
				s.mu.Unlock()
				continue
			}
			// A copy that cannot be linked (a work folder on another
			// file system) is fetched again, for this job alone.
			s.mu.Unlock()
			return fetch(ctx, path)
		}
		s.mu.Unlock()
		// The copy went away (lent back, or unused too long) between the
		// look and the link: look again.
	}
}

// fill fetches the source of plan into a copy of the shelf's own and
// makes it e, ready to link, or takes e off the shelf when the fetch
// fails.
func (s *shelf) fill(ctx context.Context, plan string, e *shelved, fetch func(ctx context.Context, path string) (transcode.Source, error)) {
	dir, err := s.folder(plan)
	var src transcode.Source
	if err == nil {
		src, err = fetch(ctx, filepath.Join(dir, "source"))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer close(e.ready)
	if err != nil {
		e.err = err
		delete(s.plans, plan)
		if dir != "" {
			_ = os.RemoveAll(dir)
		}
		return
	}
	e.path, e.src = filepath.Join(dir, "source"), src
	e.timer = time.AfterFunc(s.keep, func() {
		s.mu.Lock()
		if s.plans[plan] == e {
			delete(s.plans, plan)
		}
		s.mu.Unlock()
		_ = os.RemoveAll(dir)
	})
}

// folder makes a folder of the shelf's own for a copy of plan's source.
func (s *shelf) folder(plan string) (string, error) {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return "", fmt.Errorf("work dir: %w", err)
	}
	dir, err := os.MkdirTemp(s.dir, "source-"+plan+"-")
	if err != nil {
		return "", fmt.Errorf("work dir: %w", err)
	}
	return dir, nil
}
