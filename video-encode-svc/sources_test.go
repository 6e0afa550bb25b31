package encodesvc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/transcode"
)

// fetcher writes a source naming the video and counts its calls.
type fetcher struct {
	calls atomic.Int32
	fail  error
}

func (f *fetcher) fetch(id string) func(context.Context, string) (transcode.Source, error) {
	return func(_ context.Context, path string) (transcode.Source, error) {
		n := f.calls.Add(1)
		if f.fail != nil {
			return transcode.Source{}, f.fail
		}
		if err := os.WriteFile(path, []byte("source of "+id), 0o644); err != nil {
			return transcode.Source{}, err
		}
		return transcode.Source{DurationSeconds: float64(n)}, nil
	}
}

func readSource(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Chunk jobs of one plan taken at once fetch its source once, and each
// gets it at its own path; another video's plan of the same name is
// fetched for itself.
func TestShelfFetchesOncePerPlan(t *testing.T) {
	t.Parallel()
	s := newShelf(filepath.Join(t.TempDir(), "shelf"), time.Minute)
	var f fetcher
	const jobs = 8
	paths := make([]string, jobs)
	errs := make([]error, jobs)
	srcs := make([]transcode.Source, jobs)
	var wg sync.WaitGroup
	for i := range jobs {
		paths[i] = filepath.Join(t.TempDir(), "source")
		wg.Go(func() {
			srcs[i], errs[i] = s.take(t.Context(), "v1", "a1-000000", paths[i], f.fetch("v1"))
		})
	}
	wg.Wait()
	for i := range jobs {
		if errs[i] != nil {
			t.Fatalf("job %d: %v", i, errs[i])
		}
		if got := readSource(t, paths[i]); got != "source of v1" || srcs[i].DurationSeconds != 1 {
			t.Errorf("job %d has %q probed as %+v", i, got, srcs[i])
		}
	}
	if n := f.calls.Load(); n != 1 {
		t.Errorf("the source was fetched %d times", n)
	}

	other := filepath.Join(t.TempDir(), "source")
	if _, err := s.take(t.Context(), "v2", "a1-000000", other, f.fetch("v2")); err != nil {
		t.Fatal(err)
	}
	if got := readSource(t, other); got != "source of v2" || f.calls.Load() != 2 {
		t.Errorf("another video's plan of the same name has %q after %d fetches", got, f.calls.Load())
	}
}

// A source lent by the worker holding the encode is linked, never
// fetched, and no longer offered once taken back.
func TestShelfLendsTheHoldersSource(t *testing.T) {
	t.Parallel()
	s := newShelf(filepath.Join(t.TempDir(), "shelf"), time.Minute)
	held := filepath.Join(t.TempDir(), "source")
	if err := os.WriteFile(held, []byte("the holder's"), 0o644); err != nil {
		t.Fatal(err)
	}
	takeBack := s.lend("v1", "a1-000000", held, transcode.Source{DurationSeconds: 42})
	var f fetcher
	path := filepath.Join(t.TempDir(), "source")
	src, err := s.take(t.Context(), "v1", "a1-000000", path, f.fetch("v1"))
	if err != nil || src.DurationSeconds != 42 || readSource(t, path) != "the holder's" || f.calls.Load() != 0 {
		t.Fatalf("take = %+v, %v; %q after %d fetches", src, err, readSource(t, path), f.calls.Load())
	}
	a, _ := os.Stat(held)
	b, _ := os.Stat(path)
	if !os.SameFile(a, b) {
		t.Error("the lent source was copied, not linked")
	}

	takeBack()
	if err := os.Remove(held); err != nil {
		t.Fatal(err)
	}
	if readSource(t, path) != "the holder's" {
		t.Error("a job's source went with the holder's")
	}
	again := filepath.Join(t.TempDir(), "source")
	if _, err := s.take(t.Context(), "v1", "a1-000000", again, f.fetch("v1")); err != nil || f.calls.Load() != 1 || readSource(t, again) != "source of v1" {
		t.Errorf("after the lender took it back: %v, %d fetches", err, f.calls.Load())
	}
}

// The shelf's own copy goes once unused for the keep time; the jobs'
// links stay, and the next job fetches anew.
func TestShelfForgetsAnUnusedSource(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "shelf")
	s := newShelf(dir, 50*time.Millisecond)
	var f fetcher
	path := filepath.Join(t.TempDir(), "source")
	if _, err := s.take(t.Context(), "v1", "a1-000000", path, f.fetch("v1")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		left, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the shelf still keeps %v", left)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if readSource(t, path) != "source of v1" {
		t.Error("the job's source went with the shelf's copy")
	}
	again := filepath.Join(t.TempDir(), "source")
	if _, err := s.take(t.Context(), "v1", "a1-000000", again, f.fetch("v1")); err != nil || f.calls.Load() != 2 {
		t.Errorf("after the copy went: %v, %d fetches", err, f.calls.Load())
	}
}

// A failed fetch leaves nothing on the shelf: the error is the job's, and
// the next job fetches for itself.
func TestShelfFetchFailure(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "shelf")
	s := newShelf(dir, time.Minute)
	broken := &fetcher{fail: errors.New("storage down")}
	_, err := s.take(t.Context(), "v1", "a1-000000", filepath.Join(t.TempDir(), "source"), broken.fetch("v1"))
	if err == nil || err.Error() != "storage down" {
		t.Fatalf("take = %v", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("a failed fetch left %v", left)
	}
	var f fetcher
	path := filepath.Join(t.TempDir(), "source")
	if _, err := s.take(t.Context(), "v1", "a1-000000", path, f.fetch("v1")); err != nil || readSource(t, path) != "source of v1" {
		t.Errorf("after a failure: %v", err)
	}

	// A job waiting on a fetch that fails fetches for itself.
	started, release := make(chan struct{}), make(chan struct{})
	slow := func(context.Context, string) (transcode.Source, error) {
		close(started)
		<-release
		return transcode.Source{}, fmt.Errorf("lease lost")
	}
	first := make(chan error, 1)
	go func() {
		_, err := s.take(t.Context(), "v1", "a2-000000", filepath.Join(t.TempDir(), "source"), slow)
		first <- err
	}()
	<-started
	second := make(chan error, 1)
	var g fetcher
	go func() {
		_, err := s.take(t.Context(), "v1", "a2-000000", filepath.Join(t.TempDir(), "source"), g.fetch("v1"))
		second <- err
	}()
	close(release)
	if err := <-first; err == nil || err.Error() != "lease lost" {
		t.Errorf("the failing job: %v", err)
	}
	if err := <-second; err != nil || g.calls.Load() != 1 {
		t.Errorf("the job that waited: %v after %d fetches of its own", err, g.calls.Load())
	}
}

// A copy removed under the shelf is fetched anew.
func TestShelfCopyRemoved(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "shelf")
	s := newShelf(dir, time.Minute)
	var f fetcher
	if _, err := s.take(t.Context(), "v1", "a1-000000", filepath.Join(t.TempDir(), "source"), f.fetch("v1")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "source")
	if _, err := s.take(t.Context(), "v1", "a1-000000", path, f.fetch("v1")); err != nil || f.calls.Load() != 2 || readSource(t, path) != "source of v1" {
		t.Errorf("after the copy was removed: %v, %d fetches", err, f.calls.Load())
	}
	// A job whose own folder is missing gets the error, and the shelf
	// keeps its copy.
	if _, err := s.take(t.Context(), "v1", "a1-000000", filepath.Join(t.TempDir(), "gone", "source"), f.fetch("v1")); err == nil {
		t.Error("a source was put in a folder that does not exist")
	}
}
