package catalogue

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
)

var end = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestSameSeedSameCatalogue(t *testing.T) {
	t.Parallel()
	a := New(7, 50, "", end, time.Minute).Batch(100)
	b := New(7, 50, "", end, time.Minute).Batch(100)
	c := New(8, 50, "", end, time.Minute).Batch(100)
	if len(a) != 50 {
		t.Fatalf("Batch made %d videos of 50", len(a))
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two generators with one seed made different videos")
	}
	if a[0].ID == c[0].ID || a[0].Title == c[0].Title && a[0].Description == c[0].Description {
		t.Fatalf("seeds 7 and 8 made the same first video: %+v", a[0])
	}
}

func TestVideosLookReady(t *testing.T) {
	t.Parallel()
	owner := "0b5a3c0e-4f4e-4c55-9d0e-2f1f5c0d9a11"
	g := New(1, 1000, owner, end, time.Minute)
	vs := g.Batch(1000)
	if _, err := store.ImportedVideos(vs, end); err != nil {
		t.Fatalf("the videos are not what ImportVideos takes: %v", err)
	}
	if g.Left() != 0 {
		t.Fatalf("Left = %d after the last video", g.Left())
	}
	if _, ok := g.Next(); ok {
		t.Fatal("Next made a video past the total")
	}
	for i, v := range vs {
		if v.OwnerID != owner || v.State != video.StateReady || len(v.Renditions) == 0 ||
			v.Height != v.Renditions[0].Height || v.DurationSeconds < 10 || v.SizeBytes <= 0 ||
			v.Title == "" || len(v.Tags) == 0 || !strings.HasSuffix(v.Description, ".") {
			t.Fatalf("video %d does not look ready: %+v", i, v)
		}
		if i > 0 && !v.CreatedAt.After(vs[i-1].CreatedAt) {
			t.Fatalf("video %d is not newer than the one before", i)
		}
	}
	if !vs[len(vs)-1].CreatedAt.Equal(end) {
		t.Fatalf("the last video is created at %v, want %v", vs[len(vs)-1].CreatedAt, end)
	}
}

// Words follow Zipf's law: the most common word is in most videos, a word
// far down the vocabulary in few.
func TestWordsAreZipfDistributed(t *testing.T) {
	t.Parallel()
	vs := New(3, 2000, "", end, time.Minute).Batch(2000)
	with := func(w string) int {
		n := 0
		for _, v := range vs {
			if contains(store.SplitWords(v.Title+" "+strings.Join(v.Tags, " ")+" "+v.Description), w) {
				n++
			}
		}
		return n
	}
	if top := with(Word(0)); top < len(vs)/2 {
		t.Fatalf("the most common word %q is in %d of %d videos, want most", Word(0), top, len(vs))
	}
	if rare := with(Word(5000)); rare > len(vs)/50 {
		t.Fatalf("word 5000 %q is in %d of %d videos, want few", Word(5000), rare, len(vs))
	}
}

func TestVocabularyIsDistinctWords(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for r := range VocabularySize {
		w := Word(r)
		if seen[w] || len(store.SplitWords(w)) != 1 || store.SplitWords(w)[0] != w {
			t.Fatalf("word %d %q is repeated or not one lower-case word", r, w)
		}
		seen[w] = true
	}
}
