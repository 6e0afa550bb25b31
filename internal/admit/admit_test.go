package admit

import (
	"sync"
	"testing"
)

func TestPerKey(t *testing.T) {
	p := NewPerKey(2)
	for range 2 {
		if !p.Acquire("a") {
			t.Fatal("refused within the limit")
		}
	}
	if p.Acquire("a") {
		t.Fatal("admitted a third for a key limited to two")
	}
	if !p.Acquire("b") {
		t.Fatal("one key's load refused another's")
	}
	p.Release("a")
	if !p.Acquire("a") {
		t.Fatal("refused after a release")
	}
	p.Release("a")
	p.Release("a")
	p.Release("b")
	if len(p.busy) != 0 {
		t.Fatalf("counts left after every release: %v", p.busy)
	}
}

func TestPerKeyConcurrent(t *testing.T) {
	p := NewPerKey(3)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		in, peak int
	)
	for range 50 {
		wg.Go(func() {
			if !p.Acquire("k") {
				return
			}
			mu.Lock()
			in++
			peak = max(peak, in)
			mu.Unlock()
			mu.Lock()
			in--
			mu.Unlock()
			p.Release("k")
		})
	}
	wg.Wait()
	if peak > 3 {
		t.Fatalf("%d under way at once, limit 3", peak)
	}
	if len(p.busy) != 0 {
		t.Fatalf("counts left: %v", p.busy)
	}
}
