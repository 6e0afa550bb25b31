package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/cloudflix/cloudflix/internal/video"
)

// concurrently runs fn n times at once and returns the errors.
func concurrently(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// exactlyOne checks that one call succeeded and the others failed with want.
func exactlyOne(t *testing.T, what string, errs []error, want error) {
	t.Helper()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, want):
			t.Fatalf("%s: unexpected error %v", what, err)
		}
	}
	if ok != 1 {
		t.Fatalf("%s: %d of %d calls succeeded, want exactly 1", what, ok, len(errs))
	}
}

func testConcurrentMarkUploaded(t *testing.T, s Store) {
	ctx := ctxFor(t)
	v := create(t, s, draft{title: "Raced"})
	errs := concurrently(12, func(int) error {
		_, err := s.MarkUploaded(ctx, v.ID)
		return err
	})
	exactlyOne(t, "concurrent MarkUploaded", errs, video.ErrWrongState)
	wantState(t, s, v.ID, video.StateUploaded)
	if n := len(outboxFor(t, s, v.ID)); n != 1 {
		t.Fatalf("outbox holds %d jobs after concurrent MarkUploaded, want 1", n)
	}
}

func testConcurrentClaimEncode(t *testing.T, s Store) {
	ctx := ctxFor(t)
	v := uploaded(t, s, draft{title: "Wanted by all"})
	var (
		mu     sync.Mutex
		winner string
	)
	errs := concurrently(8, func(i int) error {
		worker := fmt.Sprintf("w%d", i)
		c, err := s.ClaimEncode(ctx, v.ID, worker, longLease)
		if err == nil {
			mu.Lock()
			winner = worker
			mu.Unlock()
			if c.Attempt != 1 {
				return fmt.Errorf("attempt %d, want 1", c.Attempt)
			}
		}
		return err
	})
	exactlyOne(t, "concurrent ClaimEncode", errs, video.ErrWrongState)
	// Only the winner holds the lease.
	for i := range 8 {
		worker := fmt.Sprintf("w%d", i)
		err := s.RenewLease(ctx, v.ID, worker, longLease)
		if worker == winner && err != nil {
			t.Fatalf("RenewLease by the winner %s: %v", worker, err)
		}
		if worker != winner {
			wantErr(t, "RenewLease by a loser", err, video.ErrLeaseLost)
		}
	}
}

func testConcurrentAddViews(t *testing.T, s Store) {
	ctx := ctxFor(t)
	var vs []video.Video
	for i := range 4 {
		vs = append(vs, ready(t, s, draft{title: fmt.Sprintf("Viral %d", i)}))
	}
	// Every flusher adds to every video at once: none may be lost, none may deadlock.
	errs := concurrently(8, func(int) error {
		counts := map[string]int64{}
		for _, v := range vs {
			counts[v.ID] = 2
		}
		return s.AddViews(ctx, counts)
	})
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent AddViews: %v", err)
		}
	}
	for _, v := range vs {
		if got := get(t, s, v.ID).Views; got != 16 {
			t.Fatalf("views of %q = %d, want 16", v.Title, got)
		}
	}
}
